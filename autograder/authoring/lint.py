"""Rules a master's test cells follow, so that what nbgrader would run is what the grader judges.

The course's `grade` never executes test cells: it judges each item by its `Item` (visible
cases, in `autograder/checks/`) and its hidden cases (in `autograder/judge/`). A test cell
may therefore hold only its one-line docstring, the visible `check(...)` call and the
hidden `hidden_check(...)` call, both for the cell's own grade_id and the item's functions.
An extra assert written into a master would be run by plain `nbgrader autograde` and
ignored by `grade`: `release` refuses it, naming the cell (hidden cases belong in
`autograder/judge/<lesson>.py`).
"""
import ast

HIDDEN_IMPORT = "from autograder.hidden import hidden_check"


def problems_in_test_cell(source, grade_id, functions):
    """What in a test cell's source breaks the rule above (empty when it follows it).

    Parameters
    ----------
    source : str, the cell's source in the master (hidden-test markers included)
    grade_id : str, the cell's nbgrader grade_id
    functions : tuple of str, the functions the item takes (`checks.Item.functions`)

    Returns
    -------
    problems : list of str
    """
    try:
        body = ast.parse(source).body
    except SyntaxError as exc:
        return [f"does not parse (line {exc.lineno}: {exc.msg})"]
    problems, calls = [], []
    for k, node in enumerate(body):
        if k == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            continue
        if ast.unparse(node) == HIDDEN_IMPORT:
            continue
        call = node.value if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else None
        name = call.func.id if call is not None and isinstance(call.func, ast.Name) else None
        if name not in ("check", "hidden_check"):
            problems.append(f"line {node.lineno} `{ast.unparse(node)[:60]}` is neither check(...) nor "
                            "hidden_check(...): the grader would ignore it (hidden cases belong in "
                            "autograder/judge/<lesson>.py)")
            continue
        calls.append(name)
        wanted = f"{name}({grade_id!r}, {', '.join(functions)})"
        if ast.unparse(call) != wanted:
            problems.append(f"line {node.lineno} should read {wanted}")
    for name in ("check", "hidden_check"):
        if calls.count(name) != 1:
            problems.append(f"should call {name}(...) exactly once (it calls it {calls.count(name)} times)")
    return problems


def master_problems(lesson):
    """Every test cell of a lesson's master that breaks the rule, as 'grade_id: problem' lines."""
    from autograder import checks
    from autograder.worker.cells import cell_source, nbgrader_meta
    from autograder.worker.notebook import Master
    problems = []
    for cell in Master(lesson).cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        gid = meta.get("grade_id")
        item = checks.items().get(gid)
        if item is None:
            problems.append(f"{lesson}/{gid}: no check item of that name in autograder/checks/")
            continue
        problems += [f"{lesson}/{gid}: {p}" for p in problems_in_test_cell(cell_source(cell), gid, item.functions)]
    return problems
