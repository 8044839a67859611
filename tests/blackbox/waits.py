"""waits.py: the one way the black-box suite waits for anything.

Owns: polling a condition until it holds or a deadline passes, and the
default deadline. Every wait in the suite goes through here (or through a
socket timeout), so no test sleeps a fixed time hoping something happened.
Does not own: what is being waited for.
"""
import time

# Generous enough for a loaded CI machine, short enough to fail fast.
DEFAULT_TIMEOUT = 20.0


class Deadline:
    """A point in time; remaining() is never negative."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


def wait_until(condition, timeout=DEFAULT_TIMEOUT, interval=0.02, what=None):
    """Calls condition() until it returns something truthy; returns that.

    Raises AssertionError naming `what` (a string, or a function that
    returns one, called only then) when the deadline passes.
    """
    deadline = Deadline(timeout)
    while True:
        value = condition()
        if value:
            return value
        if deadline.expired():
            if callable(what):
                what = what()
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what or condition))
        time.sleep(min(interval, deadline.remaining()) or interval)
