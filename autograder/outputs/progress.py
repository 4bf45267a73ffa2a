"""The progress line of a grading run: "graded 37/300 (2 with problems), 2.1/s, ~2 min left".

On a terminal the line is rewritten in place as each submission is graded; elsewhere (a log
file, CI) a plain line is printed every `every` seconds and at the end.
"""
import sys
import time


class Progress:
    """Call `update(result, done, total)` as each submission is graded, `close()` at the end.

    Parameters
    ----------
    stream : text stream, stderr by default; a terminal gets the updating line
    clock : callable returning seconds (monotonic); the rate is measured from construction
    every : float, seconds between plain lines when `stream` is not a terminal
    """

    def __init__(self, stream=None, clock=time.monotonic, every=30.0):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.clock, self.every = clock, every
        self.start = self.last = clock()
        self.troubled = 0
        self.line = None

    def update(self, result, done, total):
        self.troubled += bool(result.problems or result.incidents)
        now = self.clock()
        self.line = line(done, total, self.troubled, now - self.start)
        if self.tty:
            self.stream.write("\r" + self.line + "\x1b[K")
        elif now - self.last >= self.every or done == total:
            self.stream.write(self.line + "\n")
            self.last = now
        self.stream.flush()

    def close(self):
        """End the updating line, so that what is printed next starts on its own line."""
        if self.tty and self.line is not None:
            self.stream.write("\n")
            self.stream.flush()


def line(done, total, troubled, elapsed):
    """'graded 37/300 (2 with problems), 2.1/s, ~2 min left'."""
    rate = done / elapsed if elapsed > 0 else 0.0
    text = f"graded {done}/{total} ({troubled} with problems), {rate:.1f}/s"
    if done < total and rate > 0:
        text += f", ~{duration((total - done) / rate)} left"
    return text


def duration(seconds):
    """'40 s', '2 min', '1.5 h'."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
