""""Predict before you run" questions: a graded prediction is an item whose answer is one of a
few choices, judged against the reference's choice (never written in this code)."""
from autograder.checks.item import ANSWER, Failure, Item
from autograder.worker import wire

#: The choices of a prediction about how a quantity changes with depth.
TRENDS = ("grows", "shrinks", "stays")


def _ask(predict):
    return predict()


def prediction_item(grade_id, function, question, choices=TRENDS, hint=None):
    """A graded prediction: `function()` returns one of `choices`, judged against the
    reference's choice (`ANSWER`, from `known_outputs.json`; never written in this code).

    Parameters
    ----------
    grade_id, function : str
        The test cell's grade_id and the answer cell's function (no arguments).
    question : str
        What is predicted, as the message names it ("the gradient norm at the first layer").
    choices : tuple of str
    hint : str, optional
        The misconception behind a wrong prediction, the same whichever wrong choice was
        made (a hint per choice would tell the right one by what it leaves out).

    Returns
    -------
    item : Item
    """
    def properties(inputs, value):
        listed = ", ".join(repr(c) for c in choices)
        if type(value) is not str or value.strip().lower() not in choices:
            got = repr(value) if isinstance(value, str) else wire.type_name(value)
            raise Failure(f"{function}() should return one of {listed} (a str), got {got}")
        if value.strip().lower() != inputs[ANSWER]:
            raise Failure(f"the prediction {value.strip().lower()!r} for {question} is not what the experiment "
                          "below measures: run it and find the number that decides", hint)
    return Item(grade_id=grade_id, functions=[function], run=_ask, properties=properties,
                visible_cases=lambda: [("your prediction", {})],
                project=lambda value: value.strip().lower() if isinstance(value, str) else value, reference_answer=True)
