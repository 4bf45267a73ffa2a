"""The progress line of long grading runs, on a fake clock."""
import io

from autograder.grading.results import SubmissionResult
from autograder.outputs.progress import Progress, duration


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def results(n, troubled=()):
    return [SubmissionResult(f"s{k}", "02_batch_norm", problems=["bad"] if k in troubled else []) for k in range(n)]


def test_terminal_gets_one_updating_line():
    clock, stream = Clock(), Terminal()
    progress = Progress(stream, clock)
    for k, r in enumerate(results(300, troubled={3, 7})[:37]):
        clock.now += 0.5
        progress.update(r, k + 1, 300)
    # 37 graded in 18.5 s: 2.0/s, 263 left -> ~132 s
    assert stream.getvalue().rsplit("\r", 1)[1] == "graded 37/300 (2 with problems), 2.0/s, ~2 min left\x1b[K"
    assert stream.getvalue().count("\r") == 37 and "\n" not in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_log_gets_a_plain_line_now_and_then_and_at_the_end():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock, every=30)
    for k, r in enumerate(results(10)):
        clock.now += 10
        progress.update(r, k + 1, 10)
    progress.close()
    assert stream.getvalue().splitlines() == ["graded 3/10 (0 with problems), 0.1/s, ~1 min left",
                                              "graded 6/10 (0 with problems), 0.1/s, ~40 s left",
                                              "graded 9/10 (0 with problems), 0.1/s, ~10 s left",
                                              "graded 10/10 (0 with problems), 0.1/s"]


def test_durations_read_naturally():
    assert [duration(s) for s in (0.2, 42, 150, 3 * 3600)] == ["1 s", "42 s", "2 min", "3.0 h"]
