"""The files of a run directory: their names, atomic writes, checked reads, the run's status and its lock.

No TensorFlow here: `reproduce.py` and the table code read runs through this module without loading it.

A run directory holds `config.json` (written when the run starts), `checkpoints/` (the latest state), `best/` (the
best-validation model), TensorBoard event files, `evaluations.json` (one entry per periodic evaluation),
`results.json` (written once, at the end) and the lock file `run.lock`, locked while a process works on the run.
JSON files are replaced atomically (temporary file, fsync, rename, fsync of the directory), so a reader sees the
old or the new file, never a partial one.
"""
import contextlib
import fcntl
import json
import os
import pathlib
import socket
import tempfile

from dvae_sharp.data.locate import new_file_mode

CONFIG_FILE, RESULTS_FILE, LOCK_FILE = "config.json", "results.json", "run.lock"
EVALUATIONS_FILE = "evaluations.json"  # every periodic evaluation: step, validation and test bounds, AIS log Z
REEVALUATION_FILE = "reevaluation.json"  # the final test again with other sizes (dvae/runner/reevaluation.py)
CHECKPOINT_DIR, BEST_DIR = "checkpoints", "best"
FINISHED, PARTIAL, MISSING, CORRUPT = "finished", "partial", "missing", "corrupt"
RESULTS_KEYS = ("metrics", "config", "final_step")


class RunFileError(Exception):
    """A run file that cannot be read, written or locked; the message is one line naming the file."""


def write_json(path, value):
    """Replaces `path` by the JSON text of `value` atomically; raises RunFileError (e.g. a full disk) and then
    leaves the previous file, if any, in place and no temporary file behind."""
    path = pathlib.Path(path)
    text = json.dumps(value, indent=2, sort_keys=True) + "\n"
    temp_name = None
    try:
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w") as temp_file:
            os.fchmod(temp_file.fileno(), new_file_mode())
            temp_file.write(text)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, path)
        temp_name = None
        _fsync_directory(path.parent)
    except OSError as error:
        raise RunFileError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def _fsync_directory(directory):
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_json(path, required=()):
    """The JSON object in `path`; RunFileError naming the file if it is unreadable, not a JSON object, or lacks
    one of the `required` keys."""
    path = pathlib.Path(path)
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise RunFileError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    except json.JSONDecodeError as error:
        raise RunFileError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); it is corrupt or "
                           f"incomplete") from None
    if not isinstance(value, dict):
        raise RunFileError(f"{path} does not hold a JSON object")
    missing = [key for key in required if key not in value]
    if missing:
        raise RunFileError(f"{path} is incomplete: it lacks {', '.join(missing)}")
    return value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def read_results(directory):
    """The run's results.json, checked for what every reader needs: `metrics` an object with the number
    `test/neg_ll`, `config` an object, `final_step` an integer (RunFileError naming the file otherwise)."""
    path = pathlib.Path(directory) / RESULTS_FILE
    results = read_json(path, required=RESULTS_KEYS)
    metrics = results["metrics"]
    if not isinstance(metrics, dict) or not _is_number(metrics.get("test/neg_ll")):
        raise RunFileError(f"{path} is damaged: its metrics lack the number test/neg_ll")
    if not isinstance(results["config"], dict):
        raise RunFileError(f"{path} is damaged: its config is not a JSON object")
    if not _is_integer(results["final_step"]):
        raise RunFileError(f"{path} is damaged: its final_step is not an integer")
    return results


def read_evaluations(directory):
    """The entries of the run's evaluations.json ([] if it has none yet), each an object with an integer `step`
    and numbers; RunFileError naming the file if it is anything else."""
    path = pathlib.Path(directory) / EVALUATIONS_FILE
    if not path.exists():
        return []
    entries = read_json(path, required=("evaluations",))["evaluations"]
    if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and _is_integer(entry.get("step")) and all(map(_is_number, entry.values()))
            for entry in entries):
        raise RunFileError(f"{path} is damaged: `evaluations` is not a list of entries with an integer step and "
                           f"numbers")
    return entries


def run_status(directory):
    """`finished` (a valid results.json), `corrupt` (an unreadable or incomplete one), `partial` (started, not
    finished) or `missing`."""
    directory = pathlib.Path(directory)
    if (directory / RESULTS_FILE).exists():
        try:
            read_results(directory)
        except RunFileError:
            return CORRUPT
        return FINISHED
    if (directory / CONFIG_FILE).is_file() or (directory / CHECKPOINT_DIR).is_dir():
        return PARTIAL
    return MISSING


def _read_holder(descriptor):
    try:
        return os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "another process"
    except OSError:
        return "another process"


def in_use_message(directory, holder):
    return (f"{directory} is in use by {holder} (lock file {pathlib.Path(directory) / LOCK_FILE}); wait for that "
            f"run to stop or use another --log_dir")


def lock_holder(directory):
    """Who holds the lock of the run directory (the lock file's line), or None if no process does. Changes
    nothing: the lock file is only opened for reading and probed with a shared lock."""
    try:
        descriptor = os.open(pathlib.Path(directory) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _read_holder(descriptor)
    finally:
        os.close(descriptor)
    return None


class RunLock:
    """An exclusive lock on a run directory: a POSIX record lock (`fcntl.lockf`) on the file `run.lock`, which
    names the holder's host and process.

    The operating system releases the lock when its process ends, however it ends (SIGKILL included), so a lock
    left by a dead process is taken over by the next run without any clean-up; the file itself stays. While a live
    process holds it, `acquire` raises RunFileError naming the holder. Use as a context manager.
    """

    def __init__(self, directory):
        self.path = pathlib.Path(directory) / LOCK_FILE
        self._descriptor = None

    def acquire(self):
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise RunFileError(f"cannot create {self.path}: {error.strerror or error}") from None
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(descriptor)
            os.close(descriptor)
            raise RunFileError(in_use_message(self.path.parent, holder)) from None
        # The holder's name is a courtesy: written unbuffered, so a full disk fails here (ignored) and never later.
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._descriptor = descriptor
        return self

    def release(self):
        if self._descriptor is not None:
            with contextlib.suppress(OSError):
                fcntl.lockf(self._descriptor, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
