"""Which configuration a run directory holds, and whether a command may use it.

A run directory records its configuration in up to four places: the latest checkpoint and the best-model
checkpoint (each stores the configuration it was trained with, so a checkpoint cannot be taken for another
configuration's), `results.json` (written at the end) and `config.json` (a readable copy, written at the start).
The checkpoints and results.json are the run's state and result themselves, so they decide:

- every recorded configuration must equal the command's, else the command is refused with one line naming the
  differing fields and where they are recorded;
- a config.json that differs from them was edited: refused, with the remedy (delete it to have it written again);
- a missing config.json is written again from their record; if nothing else records the configuration of what
  the directory holds (checkpoints of earlier versions, evaluations, TensorBoard events), the command is refused.

Nothing here reads TensorFlow: the checkpoints' records come in as `(name, configuration)` pairs.
"""
import dataclasses
import json
import pathlib
from typing import Optional

from dvae_sharp import configs
from dvae_sharp.dvae.runner import run_files


class IdentityError(Exception):
    """A run directory that the command may not use; one line naming the file and what to do."""


def config_text(config: configs.Config) -> str:
    """The configuration as the JSON text a checkpoint stores."""
    return json.dumps(config.to_dict(), sort_keys=True)


def differences(values, config: configs.Config):
    """`field: recorded -> command` for every field where the recorded configuration `values` differs from
    `config`; fields added since `values` was written take their defaults."""
    try:
        recorded = configs.Config.from_dict(values).to_dict()
    except (TypeError, ValueError):
        return ["(not a configuration)"]
    return [f"{name}: {recorded.get(name)!r} -> {value!r}" for name, value in config.to_dict().items()
            if recorded.get(name) != value]


@dataclasses.dataclass
class RunFiles:
    """What a run directory holds: config.json (None if missing), results.json (None if missing), the periodic
    evaluations, the configurations recorded in its checkpoints as (name, configuration or None), and whether it
    holds TensorBoard events. `config_error` is the one-line error of an unreadable config.json."""
    run_dir: pathlib.Path
    config_json: Optional[dict]
    results: Optional[dict]
    evaluations: list
    checkpoints: list
    has_events: bool
    config_error: Optional[str] = None


def read_run_files(run_dir, checkpoints=()) -> RunFiles:
    """Reads and checks results.json, evaluations.json and config.json of `run_dir`; IdentityError (one line
    naming the file and what to do) for a damaged one."""
    run_dir = pathlib.Path(run_dir)
    results = evaluations = None
    try:
        results = run_files.read_results(run_dir) if (run_dir / run_files.RESULTS_FILE).exists() else None
    except run_files.RunFileError as error:
        raise IdentityError(f"{error}; delete it to redo the final evaluation") from None
    try:
        evaluations = run_files.read_evaluations(run_dir)
    except run_files.RunFileError as error:
        raise IdentityError(f"{error}; move it away to go on without its entries (TensorBoard holds them too)") \
            from None
    config_json, config_error = None, None
    if (run_dir / run_files.CONFIG_FILE).exists() or (run_dir / run_files.CONFIG_FILE).is_symlink():
        try:
            config_json = run_files.read_json(run_dir / run_files.CONFIG_FILE)
        except run_files.RunFileError as error:
            config_error = str(error)
    return RunFiles(run_dir, config_json, results, evaluations, list(checkpoints),
                    any(run_dir.glob("events.out.tfevents.*")), config_error)


def check(files: RunFiles, config: configs.Config, resume=True):
    """Raises IdentityError unless the command's `config` may use the run directory; returns the source of the
    configuration record that config.json should be written again from, or None."""
    run_dir, config_path = files.run_dir, files.run_dir / run_files.CONFIG_FILE
    records = [(f"checkpoint {name}", values) for name, values in files.checkpoints if values is not None]
    if files.results is not None:
        records.insert(0, (run_files.RESULTS_FILE, files.results["config"]))
    for source, values in records:
        changed = differences(values, config)
        if changed:
            raise IdentityError(f"{run_dir} holds a run with a different configuration ({', '.join(changed)}; "
                                f"recorded in {source}); use another --log_dir")
    if files.config_error is not None:
        remedy = (f"delete it to have it written again from {records[0][0]}" if records else
                  f"move {run_dir} away or use another --log_dir")
        raise IdentityError(f"{files.config_error}; {remedy}")
    if files.config_json is not None:
        changed = differences(files.config_json, config)
        if changed and records:
            raise IdentityError(f"{config_path} differs from the configuration recorded in {records[0][0]} "
                                f"({', '.join(changed)}): it was edited; delete it to have it written again")
        if changed:
            raise IdentityError(f"{run_dir} holds a run with a different configuration ({', '.join(changed)}); "
                                f"use another --log_dir")
    unrecorded = _unrecorded(files)
    if files.config_json is None and not records and unrecorded:
        raise IdentityError(f"{config_path} is missing, and nothing else in {run_dir} records the configuration "
                            f"of its {', '.join(unrecorded)}; move {run_dir} away or use another --log_dir")
    if not resume and (files.config_json is not None or records or unrecorded):
        raise IdentityError(f"{run_dir} already holds this run; pass --resume to continue it or use another "
                            f"--log_dir")
    return records[0][0] if files.config_json is None and records else None


def _unrecorded(files):
    """What the directory holds that belongs to some configuration without saying which."""
    held = [f"checkpoint {name}" for name, values in files.checkpoints if values is None]
    if files.evaluations:
        held.append(run_files.EVALUATIONS_FILE)
    if files.has_events:
        held.append("TensorBoard events")
    return held
