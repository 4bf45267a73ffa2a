"""The worker: runs one submission's code and reports plain data. Never judges.

Started by `runner` as ``python -I -S sandbox.py FD`` from the read-only public copy of
the grader. It reads its plan (JSON) from standard input, confines itself
(`isolation.confine`) when asked, executes the planned cells in an IPython shell, then
calls the student's functions on each case and writes one JSON line per event to file
descriptor FD, a pipe the grader created:

    {"event": "isolation", "level": ...}     (see isolation.py)
    {"event": "cell_start", "id": ...}       {"event": "cell_end", "id": ..., "error": ...}
    {"event": "case_start", "key": ...}      {"event": "case_end", "key": ..., "record": ...}
    {"event": "done"}

in that order, each planned cell and case once (the grader ends a worker that says anything
else: `runner.Conversation`).

Standard output and error go to another pipe of the grader's. The worker opens no file
of the grader's and writes none but in its own working folder.
"""
import json
import os
import sys


def main(fd):
    plan = json.load(sys.stdin)
    sys.path[:0] = plan["sys_path"]
    channel = os.fdopen(int(fd), "w", buffering=1)

    def emit(**event):
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    if plan.get("isolation"):
        from autograder.worker.isolation import confine
        emit(event="isolation", level=confine(**plan["isolation"]))

    from IPython.core.interactiveshell import InteractiveShell

    from autograder import checks
    from autograder.worker import wire

    # automagic off: scan.py checks the cell as IPython's input transformation leaves it; with
    # automagic a one-line cell such as `sx(id)` would run as the shell magic %sx instead
    shell = InteractiveShell.instance(colors="nocolor", xmode="Minimal", automagic=False)
    shell.enable_gui = lambda gui=None: None  # `%matplotlib inline` needs no GUI here
    for cell in plan["cells"]:
        emit(event="cell_start", id=cell["id"])
        result = shell.run_cell(cell["source"], store_history=False)
        error = result.error_before_exec or result.error_in_exec
        emit(event="cell_end", id=cell["id"],
             error=None if error is None else f"{type(error).__name__}: {str(error)[:300]}")
    items = checks.items()
    for job in plan["jobs"]:
        emit(event="case_start", key=job["key"])
        item = items[job["grade_id"]]
        functions = [shell.user_ns.get(name) for name in item.functions]
        missing = [name for name, fn in zip(item.functions, functions) if not callable(fn)]
        if missing:
            record = {"error": f"NameError: {', '.join(missing)} is not defined"}
        else:
            inputs = {k: wire.decode(v) for k, v in job["inputs"].items()}
            record = checks.collect(item, functions, inputs)
        emit(event="case_end", key=job["key"], record=record)
    sys.stdout.flush()
    sys.stderr.flush()
    emit(event="done")


if __name__ == "__main__":
    main(sys.argv[1])
