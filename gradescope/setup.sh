#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu, with
# Python 3). It installs the course's locked environment into /autograder/venv, the
# python run_autograder uses. The zip's contents are in /autograder/source.
set -euo pipefail

ROOT="${GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive

# The course is pinned to Python 3.11 (pyproject.toml). Ubuntu 22.04 and 24.04 have it in
# their own archive (python3.11, python3.11-venv); Debian's python keeps ensurepip in the
# -venv package, hence the import test.
if ! command -v python3.11 >/dev/null 2>&1 || ! python3.11 -c "import ensurepip" >/dev/null 2>&1; then
    apt-get update
    if ! apt-get install -y --no-install-recommends python3.11 python3.11-venv; then
        # Older images (Ubuntu 20.04): the deadsnakes PPA builds 3.11 for them.
        apt-get install -y --no-install-recommends software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y --no-install-recommends python3.11 python3.11-venv
    fi
fi

python3.11 -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -c "$SOURCE/requirements.lock" -e "$SOURCE"
"$VENV/bin/python" -m pip show nbgrader >/dev/null
# rfc3987-syntax costs ~3 s on every nbformat import and nothing here needs it (as in the Makefile)
"$VENV/bin/python" -m pip uninstall -y rfc3987-syntax
# Compile once here rather than on every submission.
"$VENV/bin/python" -m compileall -q "$SOURCE/autograder" "$SOURCE/lessonkit" >/dev/null || true
