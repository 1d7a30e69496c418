"""A checkpoint directory (`checkpoints/` or `best/`) as files, checked before a run does any work.

TensorFlow writes checkpoint N of a directory as `{prefix}-N.index` and `{prefix}-N.data-*` and then names it in
the state file `checkpoint`; a run restores the checkpoint the state file names. `inspect` reads the state file
and the checkpoint it names, every tensor of it, and what the checkpoint records: the configuration it was trained
with (`run_config`, a JSON string stored since checkpoints record it; see dvae/runner/run_identity.py) and the step of
the best validation model so far.

A state file that is missing, empty or unreadable while complete checkpoints lie beside it is not taken for "no
checkpoint" (TensorFlow would start from step 0): the newest complete checkpoint is in force, `recover` writes the
state file again, and the run says so on the console.
"""
import dataclasses
import json
import pathlib
import re
import time
from typing import Optional

import tensorflow as tf
from google.protobuf import text_format
from tensorflow.python.checkpoint import checkpoint_management
from tensorflow.python.training import checkpoint_state_pb2

from dvae_sharp.dvae.runner.errors import first_line

STATE_FILE = "checkpoint"
CONFIG_VARIABLE = "run_config"


def variable_key(name):
    """The key in a checkpoint file of the variable that the checkpoint holds as attribute `name`."""
    return f"{name}/.ATTRIBUTES/VARIABLE_VALUE"


CONFIG_KEY, BEST_STEP_KEY = variable_key(CONFIG_VARIABLE), variable_key("best_step")


class CheckpointError(Exception):
    """A checkpoint that cannot be read or written; one line."""


@dataclasses.dataclass
class Found:
    """The checkpoint in force in `directory`: its path prefix and step, the configuration it records (None for
    checkpoints written before they recorded it), the best step it records, and why the state file must be
    written again (None when it is sound)."""
    directory: pathlib.Path
    path: str
    step: int
    config: Optional[dict]
    best_step: Optional[int]
    state_problem: Optional[str] = None
    complete: tuple = ()

    @property
    def name(self):
        """`checkpoints/latest-40`: the checkpoint relative to its run directory."""
        return f"{self.directory.name}/{pathlib.Path(self.path).name}"


def complete_checkpoints(directory, prefix):
    """{step: path prefix} of the checkpoints in `directory` whose index and data files are both there."""
    found = {}
    for index in pathlib.Path(directory).glob(f"{prefix}-*.index"):
        match = re.fullmatch(rf"{re.escape(prefix)}-(\d+)\.index", index.name)
        if match and list(index.parent.glob(f"{prefix}-{match.group(1)}.data-*")):
            found[int(match.group(1))] = str(index.with_suffix(""))
    return dict(sorted(found.items()))


def _named_in_state_file(directory):
    """(path named by the state file or None, problem or None): problem is `missing`, `empty` or `unreadable`."""
    state_file = directory / STATE_FILE
    if not state_file.exists():
        return None, "missing"
    try:
        state = text_format.Parse(state_file.read_text(), checkpoint_state_pb2.CheckpointState())
    except (OSError, UnicodeDecodeError, text_format.ParseError):
        return None, "unreadable"
    if not state.model_checkpoint_path:
        return None, "empty"
    path = pathlib.Path(state.model_checkpoint_path)
    return str(path if path.is_absolute() else directory / path), None


def inspect(directory, prefix) -> Optional[Found]:
    """The checkpoint in force in `directory`, read in full, or None if there is none (a state file alone, with no
    checkpoint beside it, is no checkpoint). Raises CheckpointError (one line) if it cannot be read."""
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"{directory} is not a directory; move it away")
    if not directory.exists():
        return None
    complete = complete_checkpoints(directory, prefix)
    path, problem = _named_in_state_file(directory)
    if path is not None and not pathlib.Path(path + ".index").exists() and complete:
        path, problem = None, f"names {pathlib.Path(path).name}, which is not there"
    if path is None:
        if not complete:
            return None
        path = complete[max(complete)]
    match = re.search(r"-(\d+)$", path)
    reader = _reader(path, directory)
    return Found(directory, path, int(match.group(1)) if match else -1, _recorded_config(reader, path),
                 _recorded_best_step(reader), problem, tuple(complete.values()))


def _reader(path, directory):
    """A reader of the checkpoint at `path`, after reading every tensor of it once."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, OSError, IndexError, KeyError, RuntimeError) as error:
        raise unreadable(path, error) from None
    return reader


def unreadable(path, error):
    """The CheckpointError of a checkpoint that cannot be read: the run can only start again from step 0."""
    return CheckpointError(f"checkpoint {path} cannot be read ({first_line(error)}); move "
                           f"{pathlib.Path(path).parent.parent} away to train this run again from step 0")


def _recorded_config(reader, path):
    if not reader.has_tensor(CONFIG_KEY):
        return None
    try:
        values = json.loads(reader.get_tensor(CONFIG_KEY))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, dict):
        raise unreadable(path, ValueError("its configuration is not a JSON object"))
    return values


def _recorded_best_step(reader):
    return int(reader.get_tensor(BEST_STEP_KEY)) if reader.has_tensor(BEST_STEP_KEY) else None


def recover(found: Found):
    """Writes the state file of `found.directory` again, naming `found.path` and every complete checkpoint (the
    older ones are then deleted at the next save, as usual); returns the console line that says so."""
    now = time.time()
    try:
        checkpoint_management.update_checkpoint_state_internal(
            str(found.directory), found.path, all_model_checkpoint_paths=list(found.complete),
            save_relative_paths=True, all_model_checkpoint_timestamps=[now] * len(found.complete),
            last_preserved_timestamp=now - 1)
    except (tf.errors.OpError, OSError) as error:
        raise CheckpointError(f"cannot write {found.directory / STATE_FILE} ({first_line(error)})") from None
    problem = _PROBLEMS.get(found.state_problem, found.state_problem)
    return (f"The checkpoint state file {found.directory / STATE_FILE} {problem}; written again from the checkpoint "
            f"files: {found.name} (step {found.step}) is in force")


_PROBLEMS = {"missing": "was missing", "empty": "was empty", "unreadable": "was unreadable"}


def remove_unusable_state_file(directory):
    """Deletes the state file of a directory that holds no checkpoint if it names none (empty or unreadable: on an
    empty one TensorFlow refuses to start); returns the console line that says so, or None."""
    state_file = pathlib.Path(directory) / STATE_FILE
    if not state_file.is_file() or _named_in_state_file(state_file.parent)[1] is None:
        return None
    state_file.unlink()
    return f"Removed {state_file}: it named no checkpoint, and no checkpoint lies beside it"
