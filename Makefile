# Training deep networks well: a graded notebook course.
# The flow: solutions/ (masters) -> notebooks/ (release) -> submissions -> grades.
# `make help` lists the targets.

SHELL := /bin/bash
# The newest Python that runs among those pyproject.toml's requires-python allows (3.11 to 3.13); PYTHON=... to choose
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do $$p -c '' 2>/dev/null && command -v $$p && break; done)
PYTHON := $(PYTHON)
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
PY := $(VENV)/bin/python
# nbgrader's submitted folder (c.CourseDirectory.submitted_directory): where `nbgrader collect` leaves a class,
# and where the demo's sample class goes, so the formgrader counts it
SUBMISSIONS ?= build/submitted
OUT ?= build/grades
# FORCE=1 lets release and bundle replace notebooks that hold a student's work, grade regrade unchanged submissions,
# and clean delete what it otherwise keeps (grades set by hand in the gradebook, collected submissions)
FORCE_FLAG := $(if $(filter 1,$(FORCE)),--force,)

.DEFAULT_GOAL := help

# What the instructor's venv holds: the students' dependencies, the cluster and PostgreSQL extras and the
# test group (pyproject.toml). Dependency groups (PEP 735) need pip 25.1+; the venv's own pip is the
# Python's ensurepip (23.2 on 3.11), so `venv` and `lock` upgrade pip from PyPI to this pin first.
PIP := pip==26.3
EVERYTHING := -e '.[cluster,postgresql]' --group test
# What requirements.lock pins: EVERYTHING and the `hub` extra, which `make hub` installs on demand
LOCKED := $(EVERYTHING:postgresql]'=postgresql,hub]')
# Stops with a clear message unless $(PYTHON) is one that pyproject.toml's requires-python (">=3.A,<3.B") allows.
define CHECK_PYTHON
import re, sys
low, high = map(int, re.search(r'requires-python = ">=3\.(\d+),<3\.(\d+)"', open("pyproject.toml").read()).groups())
if sys.version_info[0] != 3 or not low <= sys.version_info[1] < high:
    sys.exit(f"Python 3.{low} to 3.{high - 1} is required; {sys.executable} is {sys.version.split()[0]} (set PYTHON=...)")
endef
export CHECK_PYTHON
.PHONY: help venv demo release sample-class grade figures work lab lab-instructor hub bundle gradescope selfcheck system-packages test bench mutation lock clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c "$$CHECK_PYTHON"
	$(PYTHON) -m venv $(VENV)
	@# -qq: errors only (pip 26 shows setuptools' build warnings under --quiet)
	$(PY) -m pip install -qq --disable-pip-version-check $(PIP)
	$(PY) -m pip install -qq --disable-pip-version-check -c requirements.lock $(EVERYTHING)
	$(PY) -m pip show nbgrader >/dev/null
	@# rfc3987-syntax costs ~3 s on every nbformat import and nothing here needs it
	$(PY) -m pip uninstall --quiet -y rfc3987-syntax
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned dependencies (done on demand by every target)

demo: $(VENV)/.installed release sample-class ## set up, release the notebooks, grade the sample class, print the grade table
	@# exit status 3 = graded, and some submissions had problems (the sample class has broken ones on purpose)
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(OUT) || [ $$? -eq 3 ]

release: $(VENV)/.installed ## solutions/ -> notebooks/ (nbgrader generate_assignment); refuses to replace a notebook holding answers (FORCE=1 discards them)
	$(PY) -m autograder release $(FORCE_FLAG)

sample-class: $(VENV)/.installed ## the sample class (correct, mistaken, broken submissions) in build/submitted, as nbgrader collect leaves one; never over other submissions
	$(PY) -m autograder sample-class $(SUBMISSIONS)

grade: $(VENV)/.installed ## grade a class: make grade [SUBMISSIONS=dir/<student>/<lesson>/lesson.ipynb, default build/submitted] [OUT=build/grades] [FORCE=1: regrade all]
	@# exit status 3 = graded, and some submissions had problems (named in the output and the summary): a result, not a failure
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(OUT) $(FORCE_FLAG) || [ $$? -eq 3 ]

figures: $(VENV)/.installed ## redraw every figure the lessons show into solutions/<lesson>/figures/ (`make release` copies them on)
	$(PY) -m autograder figures

work: $(VENV)/.installed ## work/: your copies of notebooks/, made once (a copy holding answers is never replaced)
	$(PY) -m autograder workspace

lab: work ## JupyterLab as a student sees it: the lessons and nbgrader's Validate button, no instructor tools or folders
	$(PY) -m autograder lab work

# JupyterHub is the `hub` extra (pinned in requirements.lock, not in `make venv`), for `make hub` and tests/system/test_hub.py;
# configurable-http-proxy comes from npm when the hub is prepared
$(VENV)/.hub-installed: $(VENV)/.installed
	$(PY) -m pip install -qq --disable-pip-version-check -c requirements.lock -e '.[hub]'
	$(PY) -m pip uninstall --quiet -y rfc3987-syntax
	touch $@

hub: $(VENV)/.hub-installed ## JupyterHub on 127.0.0.1 with sample students and an instructor as system users (root) [HUB_PORT=8000]
	$(PY) -m autograder hub --port $(or $(HUB_PORT),8000)

lab-instructor: $(VENV)/.installed ## JupyterLab with every nbgrader tool (Formgrader, Create Assignment) on the whole course
	$(PY) -m autograder lab --instructor

selfcheck: $(VENV)/.installed ## check a notebook before submitting: make selfcheck NB=work/02_batch_norm/lesson.ipynb
	$(PY) -m autograder selfcheck $(NB)

bundle: $(VENV)/.installed ## what students receive (lessons, figures, shared code, visible checks) in build/student-bundle; refuses to replace one a student worked in
	$(PY) -m autograder bundle $(FORCE_FLAG)

gradescope: $(VENV)/.installed ## Gradescope autograder zips, one per lesson (a Gradescope assignment each) in build/gradescope/<lesson>/ [LESSON=02_batch_norm: build/gradescope/autograder.zip]
	$(PY) -m autograder gradescope $(if $(LESSON),--lesson $(LESSON),)

# Debian packages the tests need: chromium (tests/system/test_browser.py) and postgresql (tests/system/test_postgresql.py);
# `make bench` needs postgresql alone (SYSTEM_PACKAGES=postgresql).
SYSTEM_PACKAGES ?= chromium postgresql
system-packages: ## Debian's chromium and postgresql for the tests (apt-get as root; otherwise those tests skip, saying why)
	@missing=""; wanted=" $(SYSTEM_PACKAGES) "; \
	[[ $$wanted != *" chromium "* || -x /usr/bin/chromium ]] || missing="$$missing chromium"; \
	[[ $$wanted != *" postgresql "* ]] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "note:$$missing missing, so what needs them is skipped; install with: sudo apt-get install$$missing"; \
	fi

# Two pytest sessions side by side (tests/conftest.py's --part): the one grading classes keeps both cores busy,
# the other (servers, browsers, unit tests) mostly waits; tests/run_in_two_parts.py prints its output at the end.
test: $(VENV)/.installed $(VENV)/.hub-installed system-packages ## everything CI proves (installs the Debian packages and JupyterHub its tests need first)
	$(PY) tests/run_in_two_parts.py

.PHONY: test-fast
test-fast: $(VENV)/.installed ## the quick loop: every test but the system ones (browser, PostgreSQL, Dask, installs) and the slow ones (markers in pyproject.toml)
	$(PY) -m pytest -q -m "not system and not slow"

bench: $(VENV)/.installed ## time the master notebooks, grading (ours vs plain nbgrader autograde) and the gradebook (SQLite vs PostgreSQL)
	@$(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES=postgresql
	$(PY) -m autograder bench

# cosmic-ray is a dev tool: the `mutation` extra of pyproject.toml, never in requirements.lock or the bundle
mutation: $(VENV)/.installed ## mutation testing of checks/ and judge/ with cosmic-ray, a seeded sample [MUTANTS=40]; slow, not part of `make test`
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[mutation]'
	$(PY) -m autograder mutation --mutants $(or $(MUTANTS),40)

# Pins the first patch release of every allowed Python installs too (Debian 12 ships 3.11.2): soupsieve 3 and later
# need 3.11.5 (tests/unit/test_dependencies.py names any other pin that would stop them)
LOCK_FLOOR := 'soupsieve<3'
lock: ## re-resolve requirements.lock from pyproject.toml in a fresh environment (one lock for every Python allowed: tests/unit/authoring/test_release.py installs it on each found)
	@$(PYTHON) -c "$$CHECK_PYTHON"
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet $(PIP) && build/lockenv/bin/pip install --quiet $(LOCKED) $(LOCK_FLOOR)
	build/lockenv/bin/pip uninstall --quiet -y rfc3987-syntax
	build/lockenv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

# What `rm -rf build` would lose that nothing makes again: a bundle a student works in, the gradebook (manual
# grades, comments, extensions set in nbgrader) and collected submissions. Checked only when one of them is there,
# so make clean stays instant otherwise; without .venv they cannot be checked, so make clean refuses.
KEPT_BY_CLEAN := build/student-bundle build/gradebook.db build/submitted
clean: ## remove build/; refuses while it holds grades set by hand, real submissions or a student's bundle work (FORCE=1 removes them)
	@if [ -z "$(FORCE_FLAG)" ] && [ -n "$$(ls -d $(KEPT_BY_CLEAN) 2>/dev/null)" ]; then \
	  [ -x $(PY) ] || { echo "make clean refused: $$(ls -d $(KEPT_BY_CLEAN) 2>/dev/null | xargs) cannot be checked without $(VENV) (make venv); \`make clean FORCE=1\` deletes them unchecked." >&2; exit 1; }; \
	  $(PY) -m autograder guard build/student-bundle --gradebook build/gradebook.db --submitted build/submitted --target 'make clean'; \
	fi
	rm -rf build

distclean: clean ## also remove .venv
	rm -rf $(VENV)
