"""The cells of a grid as runs: their run.py flags, their directories, and the runs found on disk.

`reproduce.py` gives each cell the log directory `{log_dir}/seed{seed}/{sampler}`, so run.py writes it to
`{log_dir}/seed{seed}/{sampler}/{dataset}/{struct}/{baseline}/{k}`. Tables do not rely on that layout: they read
every `results.json` / `config.json` below a log directory and match a run to a cell by its configuration, so a
run made by hand (or by `make run`) with the cell's settings counts too.
"""
import dataclasses
import pathlib
from typing import Optional

from dvae_sharp import configs
from dvae_sharp.configs import experiments
from dvae_sharp.dvae.runner import run_files

IGNORED_DIRS = {"hparams", "slurm", "checkpoints", "best"}


def cell_log_dir(cell, log_dir):
    """The `--log_dir` that `reproduce.py` gives run.py for `cell`: `{log_dir}/seed{seed}/{sampler}`."""
    return pathlib.Path(log_dir) / f"seed{cell.seed}" / experiments.SAMPLERS[cell.sampler].log_subdir


def run_dir(cell, log_dir):
    """Where `reproduce.py` puts the run of `cell`."""
    return cell_log_dir(cell, log_dir) / cell.experiment_id


def run_flags(cell, budget, log_dir, data_dir=None):
    """run.py's flags for `cell` under the named budget, in order."""
    sampler = experiments.SAMPLERS[cell.sampler]
    flags = {"dataset": cell.dataset, "struct": cell.struct, "baseline": cell.baseline, "k": cell.k,
             "qupa": sampler.qupa, "seed": cell.seed, "log_dir": cell_log_dir(cell, log_dir),
             **experiments.BUDGETS[budget]}
    if data_dir:
        flags["data_dir"] = data_dir
    return flags


def run_arguments(cell, budget, log_dir, data_dir=None):
    return [f"--{name}={value}" for name, value in run_flags(cell, budget, log_dir, data_dir).items()]


def expected_config(cell, budget):
    """The full configuration run.py resolves for `cell` under `budget` (as in its config.json)."""
    flags = {k: v for k, v in experiments.BUDGETS[budget].items() if k != "summary_every"}
    return configs.make_config(dataset=cell.dataset, struct=cell.struct, baseline=cell.baseline, k=cell.k,
                               sampler=cell.sampler, seed=cell.seed, **flags).to_dict()


@dataclasses.dataclass
class FoundRun:
    """A run directory found on disk: its configuration (defaults filled in), status and results."""
    directory: pathlib.Path
    config: dict
    status: str
    results: Optional[dict] = None
    error: Optional[str] = None


def find_runs(log_dir):
    """Every run below `log_dir`: a directory with results.json or config.json. A corrupt results.json gives a
    run with status `corrupt` and the one-line `error` naming the file."""
    log_dir = pathlib.Path(log_dir)
    if not log_dir.is_dir():
        return []
    directories = sorted({path.parent for name in (run_files.RESULTS_FILE, run_files.CONFIG_FILE)
                          for path in log_dir.rglob(name) if not IGNORED_DIRS & set(path.relative_to(log_dir).parts)})
    return [run for run in map(_read_run, directories) if run is not None]


def _read_run(directory):
    if (directory / run_files.RESULTS_FILE).exists():
        try:
            results = run_files.read_results(directory)
            return FoundRun(directory, _full(results["config"]), run_files.FINISHED, results)
        except run_files.RunFileError as error:
            config = _read_config(directory)
            return FoundRun(directory, _full(config or {}), run_files.CORRUPT, error=str(error))
    config = _read_config(directory)
    return FoundRun(directory, _full(config), run_files.PARTIAL) if config is not None else None


def _full(values):
    """A saved configuration in today's fields (defaults for fields added since, `sampler` for `qupa`)."""
    try:
        return configs.Config.from_dict(values).to_dict()
    except TypeError:
        return dict(values)


def _read_config(directory):
    try:
        return run_files.read_json(directory / run_files.CONFIG_FILE)
    except run_files.RunFileError:
        return None


def _key(config):
    return tuple(sorted(config.items()))


def match_runs(cells, budget, found):
    """{cell: FoundRun or None}; the finished run wins where one cell has several. Raises ValueError naming both
    directories if two finished runs have the cell's configuration."""
    by_config = {}
    for run in found:
        key = _key(run.config)
        previous = by_config.get(key)
        if previous is not None and previous.status == run.status == run_files.FINISHED:
            raise ValueError(f"two finished runs of one configuration: {previous.directory} and {run.directory}")
        if previous is None or run.status == run_files.FINISHED:
            by_config[key] = run
    return {cell: by_config.get(_key(expected_config(cell, budget))) for cell in cells}


def status_of(cell, log_dir):
    """finished / corrupt / partial / missing for the cell's own run directory."""
    return run_files.run_status(run_dir(cell, log_dir))
