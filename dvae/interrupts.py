"""Signals that stop a run cleanly: the run saves a checkpoint at the next safe point and then stops.

SIGINT (Ctrl-C), SIGTERM (`kill`, a scheduler stopping a job), SIGUSR1 and SIGUSR2 (a scheduler's warning before a
time limit or a preemption) only record a request; the training loop checks it between steps and the evaluation
between batches of importance samples, so a stop never leaves a half-done step or evaluation in a checkpoint.
A second SIGINT stops at once, without a checkpoint (the previous one stays).
"""
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)


def signal_name(signum):
    return signal.Signals(signum).name


class StopRequested(Exception):
    """Raised at a safe point after a stop signal arrived."""

    def __init__(self, signum):
        super().__init__(signal_name(signum))
        self.signum = signum


class Interrupted(Exception):
    """The run stopped on a signal after saving its state; `exit_status` is the shell's 128 + signal number."""

    def __init__(self, signum, message):
        super().__init__(message)
        self.signum = signum
        self.exit_status = 128 + signum


class StopSignals:
    """Context manager that turns the stop signals into a request checked with `check()`; restores the previous
    handlers on exit (they are kept in `previous`, e.g. for a job scheduler's own handler). Outside the main
    thread, where Python cannot install handlers, it installs none and `check()` never raises."""

    def __init__(self):
        self.signum = None
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum, frame):
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self):
        return self.signum is not None

    def check(self):
        """Raises StopRequested if a stop signal has arrived."""
        if self.signum is not None:
            raise StopRequested(self.signum)


def raise_interrupted(signum, what):
    """Raises Interrupted with the console line of a stop: the signal, `what` happened, how to resume."""
    raise Interrupted(signum, f"Stopped by {signal_name(signum)} {what}. Re-run the same command to resume.")
