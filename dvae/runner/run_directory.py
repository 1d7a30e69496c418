"""A run directory before a run uses it: inspected in full, locked, its checkpoint state files repaired.

`inspect` reads, before any work, everything the directory holds: both checkpoints (every tensor, and the
configuration each records; dvae/runner/checkpoint_files.py), results.json, evaluations.json and config.json
(dvae/runner/run_files.py), and checks that the command may use it (dvae/runner/run_identity.py) and that the best
model the final test needs is there. Each problem is a SetupError of one line naming the file and what to do. It changes
nothing on disk: a run calls it once before loading data, and again once it holds the directory's lock.
"""
import dataclasses
import pathlib
from typing import Optional

from dvae_sharp.dvae.runner import checkpoint_files, run_files, run_identity
from dvae_sharp.dvae.runner.errors import SetupError


def run_dir(log_dir, config):
    """`{log_dir}/{dataset}/{struct}/{baseline}/{k}`; SetupError if a part of it is a file or unusable."""
    directory = log_dir / config.experiment_id
    try:
        for parent in (log_dir, *directory.relative_to(log_dir).parents):
            if (log_dir / parent).exists() and not (log_dir / parent).is_dir():
                raise SetupError(f"--log_dir: {log_dir / parent} exists and is not a directory")
        directory.is_dir()
    except OSError as error:
        raise SetupError(f"--log_dir: cannot use {directory}: {error.strerror or error}") from None
    return directory


@dataclasses.dataclass
class Inspected:
    """What `inspect` found: the checkpoints in force (None where there is none), the run files, and the record
    that config.json is to be written again from when it is missing (None otherwise)."""
    run_dir: pathlib.Path
    latest: Optional[checkpoint_files.Found]
    best: Optional[checkpoint_files.Found]
    files: run_identity.RunFiles
    config_source: Optional[str]

    def repair_state_files(self):
        """Writes again the checkpoint state files that are missing, empty or unreadable beside complete
        checkpoints, and removes those beside none; returns the console lines that say so."""
        lines = []
        for found, name in ((self.latest, run_files.CHECKPOINT_DIR), (self.best, run_files.BEST_DIR)):
            if found is not None and found.state_problem is not None:
                lines.append(checkpoint_files.recover(found))
            elif found is None:
                lines.append(checkpoint_files.remove_unusable_state_file(self.run_dir / name))
        return [line for line in lines if line]


def inspect(directory, config, resume=True, locked=False) -> Inspected:
    """Reads and checks every file of the run directory against the command's `config` (see the module
    docstring). Unless this process holds the lock (`locked`), a problem found while another process holds it is
    reported as that lock: the other process may be writing."""
    try:
        latest = checkpoint_files.inspect(directory / run_files.CHECKPOINT_DIR, "latest")
        best = checkpoint_files.inspect(directory / run_files.BEST_DIR, "best")
        files = run_identity.read_run_files(directory, [(f.name, f.config) for f in (latest, best) if f])
        config_source = run_identity.check(files, config, resume)
        if files.results is None:
            _check_best_model(directory, latest, best)
    except (checkpoint_files.CheckpointError, run_identity.IdentityError, SetupError) as error:
        holder = None if locked else run_files.lock_holder(directory)
        raise SetupError(run_files.in_use_message(directory, holder) if holder else str(error)) from None
    return Inspected(directory, latest, best, files, config_source)


def _check_best_model(directory, latest, best):
    """The best model the final test needs is there: a latest checkpoint that records a best step has the best
    checkpoint of that step (or a later one) beside it, and a best checkpoint is never trained over from step 0."""
    if best is not None and latest is None:
        raise SetupError(f"{directory} holds a best-model checkpoint but no latest checkpoint to resume from; move "
                         f"{directory / run_files.BEST_DIR} away to train this run again from step 0")
    recorded = latest.best_step if latest is not None and latest.best_step is not None else -1
    if recorded >= 0 and (best is None or best.step < recorded):
        held = f"holds {best.name}" if best is not None else "holds no checkpoint"
        raise SetupError(f"{directory / run_files.BEST_DIR} {held}, but checkpoint {latest.name} records the best "
                         f"model at step {recorded}, which the final test needs; move {directory} away to train "
                         f"this run again from step 0")


def lock(directory):
    """Creates the run directory if needed and locks it (run_files.RunLock); SetupError if it cannot."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return run_files.RunLock(directory).acquire()
    except OSError as error:
        raise SetupError(f"cannot create the run directory {directory}: {error.strerror or error}") from None
    except run_files.RunFileError as error:
        raise SetupError(str(error)) from None


def write_config(directory, config, config_source=None):
    """Writes config.json if it is missing: a new run's, or one written again from the record `config_source`
    (said on the console)."""
    path = directory / run_files.CONFIG_FILE
    if path.exists():
        return
    try:
        run_files.write_json(path, config.to_dict())
    except run_files.RunFileError as error:
        raise SetupError(str(error)) from None
    if config_source:
        print(f"{path} was missing; written again from the configuration recorded in {config_source}", flush=True)
