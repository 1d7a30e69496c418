"""The runs committed under docs/results, as docs/RESULTS.md reads them.

A study is one budget's directory, `docs/results/{budget}/seed{seed}/{sampler}/…` (the layout `reproduce.py` gives
its cells); its runs are matched to cells by their configuration under that budget. A run that outlives a working
day keeps its resumable state under `docs/results/{budget}/in-progress/` until its `results.json` is committed.
"""
import dataclasses
import functools
import pathlib

from dvae_sharp.configs import experiments, paper
from dvae_sharp.dvae.runner import run_files
from dvae_sharp.grid import runs, tables

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS_ROOT = REPO / "docs" / "results"
SEEDS = (1, 2, 3)
COLUMN = {b: paper.BASELINE_SPECS[b].paper_column for b in paper.BASELINES}
# What each study changes from the paper's protocol, in words (its flags are experiments.BUDGETS[study]).
STUDY_TITLES = {
    "cpu-small": "20000 steps, 100 × 10 sampler",
    "cpu-small-100k": "100000 steps, 100 × 10 sampler",
    "cpu-small-1m": "10⁶ steps, 100 × 10 sampler",
    "cpu-small-paper-sampler": "20000 steps, 1000 × 40 sampler",
    **{f"cpu-small-beta{beta:g}": f"20000 steps, 100 × 10 sampler, β = {beta:g}" for beta in experiments.BETA_PROBE},
}


@functools.lru_cache(maxsize=None)
def _found(study):
    return tuple(runs.find_runs(RESULTS_ROOT / study))


def clear_cache():
    _found.cache_clear()


def matched(set_name, study, seeds=SEEDS):
    """{cell: FoundRun or None} of a set's cells for `seeds` in one study."""
    return runs.match_runs(experiments.EXPERIMENT_SETS[set_name].cells(seeds), study, list(_found(study)))


def entry(study, cell, seeds=SEEDS):
    """The tables.Entry (test NLL over the finished seeds) of `cell` (its seed ignored) in `study`."""
    cells = [dataclasses.replace(cell, seed=seed) for seed in seeds]
    found = runs.match_runs(cells, study, list(_found(study)))
    return tables.entries(found)[cell.without_seed()]


def results(study, cell):
    """The results.json of `cell`'s own seed in `study`, or None while it is not finished."""
    run = runs.match_runs([cell], study, list(_found(study)))[cell]
    return run.results if run is not None and run.status == run_files.FINISHED else None


def run_directory(study, cell):
    run = runs.match_runs([cell], study, list(_found(study)))[cell]
    return None if run is None else run.directory


def provenance(study):
    """{(git commit, tree differed): number of finished runs} and the CPUs of a study's runs."""
    commits, cpus = {}, set()
    for run in _found(study):
        if run.results is not None:
            source = run.results.get("provenance", {})
            key = (source.get("git_commit", "unknown"), bool(source.get("git_dirty")))
            commits[key] = commits.get(key, 0) + 1
            cpus.add(source.get("cpu", "unknown"))
    return commits, sorted(cpus)


def studies():
    """The study directories present under docs/results, in the order of STUDY_TITLES."""
    present = {path.name for path in RESULTS_ROOT.iterdir() if path.is_dir()} if RESULTS_ROOT.is_dir() else set()
    return [study for study in STUDY_TITLES if study in present]
