"""Signals that stop a run cleanly: the run saves a checkpoint at the next safe point and then stops.

SIGINT (Ctrl-C), SIGTERM (`kill`, a scheduler stopping a job), SIGUSR1 and SIGUSR2 (a scheduler's warning before a
time limit or a preemption) only record a request; the training loop checks it between steps and the evaluation
between batches of importance samples, so a stop never leaves a half-done step or evaluation in a checkpoint.
A second SIGINT stops at once, without a checkpoint (the previous one stays).

Before training starts (start-up: flags, TensorFlow, data, model, restore) there is nothing to save, and every file
written so far is complete (they are written atomically), so `StopAtOnce` turns the same signals into `Stopped`,
raised where the program is; the program then ends with one line and the same exit status, 128 + the signal.
An exception that a library raises from that `Stopped` (an extension module's import wraps it in an ImportError)
is turned back into it (`surface_stop`).
"""
import contextlib
import signal
import sys
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


class Stopped(SystemExit):
    """A stop signal during start-up, raised at once by the handler of `stop_at_once` after it printed the stop's
    one line: a SystemExit with the exit status 128 + the signal, so that it ends the program wherever it is raised
    (even while modules are imported) and no `except Exception` mistakes it for a failure."""

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum
        self.exit_status = 128 + signum


_STATE = {"complete": False, "signum": None}


def run_complete():
    """Marks the run as complete (results.json written or found): a stop signal outside training is then ignored,
    since there is nothing left to stop and the program is about to end with status 0."""
    _STATE["complete"] = True


def check_stopped():
    """Raises `Stopped` again if a stop signal arrived and its exception was lost: CPython drops an exception that
    a signal handler raises while it compiles a module (on import, when no .pyc is written). Called between the
    phases of start-up."""
    if _STATE["signum"] is not None and not _STATE["complete"]:
        raise Stopped(_STATE["signum"])


def surface_stop(error):
    """Raises `Stopped` in place of `error` (an Exception) if a stop signal arrived during start-up: a library may
    catch the `Stopped` its handler raised and raise an exception of its own from it (a C++ extension module's import
    turns it into `ImportError: initialization failed`), which must not end the program as a failure."""
    if isinstance(error, Exception):
        check_stopped()


@contextlib.contextmanager
def surfacing_stops():
    """Context manager: `surface_stop` for the exceptions that leave it."""
    try:
        yield
    except Exception as error:
        surface_stop(error)
        raise


RUN_STOP = "during start-up, before any training; re-run the same command to start or resume the run."
REPRODUCE_STOP = "with every file written so far complete; re-run the same command to go on."


def _stop_handler(what):
    def handler(signum, frame):
        if _STATE["complete"]:
            return
        if _STATE["signum"] is None:
            _STATE["signum"] = signum
            print(f"Stopped by {signal_name(signum)} {what}", file=sys.stderr, flush=True)
        raise Stopped(_STATE["signum"])
    return handler


def stop_at_once(what=RUN_STOP):
    """Installs a handler of the stop signals that prints `Stopped by SIGNAL {what}` and raises `Stopped`, for the
    rest of the process (main thread only); returns the previous handlers."""
    handler = _stop_handler(what)
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


class StopAtOnce:
    """Context manager: while it is active, a stop signal raises `Stopped` at once (a `StopSignals` inside it takes
    over until it exits), and an exception that leaves it after a stop signal becomes `Stopped` (`surface_stop`);
    the previous handlers come back on exit. Outside the main thread it does nothing."""

    def __init__(self):
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = stop_at_once()
        return self

    def __exit__(self, exc_type, error, traceback):
        try:
            surface_stop(error)
        finally:
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
            _STATE.update(complete=False, signum=None)  # the stop, if any, has ended this run


def raise_interrupted(signum, what):
    """Raises Interrupted with the console line of a stop: the signal, `what` happened, how to resume."""
    raise Interrupted(signum, f"Stopped by {signal_name(signum)} {what}. Re-run the same command to resume.")
