"""``make test``: pytest's two parts (``--part``, tests/conftest.py) side by side, the ``rest`` part's output kept in
``build/test-rest.log`` and printed once both have ended; exits 0 only if both passed.

``python tests/run_in_two_parts.py [--rest-log=PATH] [PYTEST_ARGS ...]`` (the pytest arguments go to both parts). Both pytests are
children of this process in the terminal's process group, so Ctrl-C reaches each of them and each runs its
teardown (servers stopped, system users removed); this process lets Ctrl-C pass and waits for both, and a
SIGTERM it receives is passed on to them as a Ctrl-C. None outlives it.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "build" / "test-rest.log"
PARTS = ("grading", "rest")


def main(args):
    log_path = LOG
    if args and args[0].startswith("--rest-log="):
        log_path, args = Path(args[0].split("=", 1)[1]), args[1:]
    log_path.parent.mkdir(exist_ok=True)
    print(f"pytest --part=rest runs beside this one; its output follows at the end ({os.path.relpath(log_path)})",
          flush=True)
    procs = {}
    with open(log_path, "w") as log:
        # a handler, not SIG_IGN, which the pytests would inherit and keep: Ctrl-C has to reach them
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: [p.send_signal(signal.SIGINT) for p in procs.values()])
        for part in reversed(PARTS):  # the rest first: it writes to its log only
            out = log if part == "rest" else None
            procs[part] = subprocess.Popen([sys.executable, "-m", "pytest", "-q", f"--part={part}", *args],
                                           cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None)
        statuses = {part: procs[part].wait() for part in PARTS}
    print("\n==== pytest --part=rest (the system and unit tests not in --part=grading) ====", flush=True)
    sys.stdout.write(log_path.read_text(errors="replace"))
    print("; ".join(f"pytest --part={part}: exit {statuses[part]}" for part in PARTS))
    return 0 if all(status == 0 for status in statuses.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
