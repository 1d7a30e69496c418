"""The paper's experiment grids and the training budgets of `reproduce.py`, as data.

A cell of a grid is one run of `run.py`: a dataset, struct, baseline, k, prior sampler and seed (the seeds come
from `reproduce.py --seeds`). Each experiment set also names how its table is laid out: the cell fields that make
a row and the field whose values are the columns; the seeds of a cell are averaged in its table entry.
"""
import dataclasses
import itertools

from dvae_sharp.configs import paper


@dataclasses.dataclass(frozen=True)
class Sampler:
    """A sampler of the RBM prior: its `--qupa` value, its log sub-directory and its name in tables."""
    qupa: bool
    log_subdir: str
    title: str


SAMPLERS = {
    "pa": Sampler(qupa=True, log_subdir="pa", title="population annealing"),
    "pcd": Sampler(qupa=False, log_subdir="pcd", title="PCD"),
}


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One run; `experiment_id` is run.py's directory for it below its `--log_dir`."""
    dataset: str
    struct: str
    baseline: str
    k: int
    sampler: str
    seed: int = 1

    @property
    def experiment_id(self):
        return f"{self.dataset}/{self.struct}/{self.baseline}/{self.k}"

    @property
    def name(self):
        return f"seed{self.seed}/{self.sampler}/{self.experiment_id}"

    def without_seed(self):
        return dataclasses.replace(self, seed=1)


@dataclasses.dataclass(frozen=True)
class Grid:
    """The Cartesian product of its choices, iterated with the table's row order (dataset, struct, k) outermost."""
    datasets: tuple
    structs: tuple
    baselines: tuple
    ks: tuple
    samplers: tuple

    def cells(self, seeds=(1,)):
        for dataset, struct, k, baseline, sampler, seed in itertools.product(
                self.datasets, self.structs, self.ks, self.baselines, self.samplers, seeds):
            yield Cell(dataset, struct, baseline, k, sampler, seed)


@dataclasses.dataclass(frozen=True)
class ExperimentSet:
    """Grids whose cells form one table: `row_fields` give a row, `column_field` the column. `paired`: the columns
    differ only in the prior sampler, so a row's runs of one seed share initialisation and data order and are
    compared seed by seed (grid.statistics)."""
    title: str
    grids: tuple
    row_fields: tuple
    column_field: str
    paired: bool = False

    def cells(self, seeds=(1,)):
        """All cells in table order (the seeds of a cell together), each once."""
        return list(dict.fromkeys(cell for grid in self.grids for cell in grid.cells(seeds)))


DVAE_SHARP_BASELINES = tuple(b for b in paper.BASELINES if paper.BASELINE_SPECS[b].importance_weighted)
TREND_BASELINES = ("dvae_spike_exp", "dvaepp_power", "dvaes_power")
BASELINE_TABLE = dict(row_fields=("dataset", "struct", "k"), column_field="baseline")
MNIST_LIN = dict(datasets=("binarized_mnist",), structs=("1-layer-lin",))
NONLINEAR_STRUCTS = ("1-layer-nonlin", "2-layer-nonlin", "4-layer-nonlin")
BETA_PROBE_BASELINES = ("dvae_spike_exp", "dvaes_power")

EXPERIMENT_SETS = {
    "table1": ExperimentSet(
        title="Table 1: DVAE, DVAE++ and DVAE# trained with population annealing",
        grids=(Grid(paper.DATASETS, paper.STRUCTS, paper.BASELINES, (1, 5, 25), ("pa",)),),
        **BASELINE_TABLE),
    "table2": ExperimentSet(
        title="Table 2: population annealing versus PCD for sampling the RBM prior",
        grids=(Grid(paper.DATASETS, paper.STRUCTS, ("dvaes_power",), (1,), ("pa", "pcd")),),
        row_fields=("dataset", "struct", "baseline", "k"), column_field="sampler", paired=True),
    "mnist-lin-row": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin: all baselines at k = 1 and DVAE# at k = 5",
        grids=(Grid(("binarized_mnist",), ("1-layer-lin",), paper.BASELINES, (1,), ("pa",)),
               Grid(("binarized_mnist",), ("1-layer-lin",), DVAE_SHARP_BASELINES, (5,), ("pa",))),
        **BASELINE_TABLE),
    "mnist-lin-study": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin: all baselines at k = 1 and k = 5, population annealing",
        grids=(Grid(**MNIST_LIN, baselines=paper.BASELINES, ks=(1, 5), samplers=("pa",)),), **BASELINE_TABLE),
    "mnist-lin-samplers": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin, k = 1: population annealing versus PCD for every baseline",
        grids=(Grid(**MNIST_LIN, baselines=paper.BASELINES, ks=(1,), samplers=("pa", "pcd")),),
        row_fields=("dataset", "struct", "baseline", "k"), column_field="sampler", paired=True),
    "mnist-lin-trend": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin, k = 5: DVAE, DVAE++ (power) and DVAE# (power)",
        grids=(Grid(**MNIST_LIN, baselines=TREND_BASELINES, ks=(5,), samplers=("pa",)),), **BASELINE_TABLE),
    "mnist-nonlin-trend": ExperimentSet(
        title="Binarized MNIST, nonlinear structures, k = 5: DVAE, DVAE++ (power) and DVAE# (power)",
        grids=(Grid(("binarized_mnist",), NONLINEAR_STRUCTS, TREND_BASELINES, (5,), ("pa",)),), **BASELINE_TABLE),
    "mnist-lin-beta": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin, k = 5: DVAE (spike-exp) and DVAE# (power) for the β probe",
        grids=(Grid(**MNIST_LIN, baselines=BETA_PROBE_BASELINES, ks=(5,), samplers=("pa",)),), **BASELINE_TABLE),
}

# run.py flag overrides per budget. `paper` passes none: run.py's defaults are the paper's protocol.
BUDGETS = {
    "paper": {},
    "cpu-small": {
        "num_train_iter": 20000,
        "sampler_chains": 100,
        "sampler_sweeps": 10,
        "ais_num_betas": 300,
        "ais_num_chains": 256,
        "eval_every": 5000,
        "val_iw_samples": 20,
        "eval_iw_samples": 1000,
        "summary_every": 1000,
    },
}
# The budget trend: five times the training of cpu-small, and cpu-small with the paper's sampler.
BUDGETS["cpu-small-100k"] = {**BUDGETS["cpu-small"], "num_train_iter": 100000}
BUDGETS["cpu-small-paper-sampler"] = {**BUDGETS["cpu-small"], "sampler_chains": 1000, "sampler_sweeps": 40}
# The paper's training length (10⁶ steps, evaluation every 20000) with the cpu-small sampler and evaluation sizes.
BUDGETS["cpu-small-1m"] = {**BUDGETS["cpu-small"], "num_train_iter": 1000000, "eval_every": 20000}
# The β probe: cpu-small with the smoothing β set instead of the paper's table (chosen there for 10⁶ steps).
BETA_PROBE = (10.0, 20.0)
BUDGETS.update({f"cpu-small-beta{beta:g}": {**BUDGETS["cpu-small"], "beta": beta} for beta in BETA_PROBE})
# A run of under a minute per cell, to check a grid's whole path (launcher, runs, tables) before a real budget.
BUDGETS["smoke"] = {"num_train_iter": 1000, "sampler_chains": 16, "sampler_sweeps": 2, "ais_num_betas": 20,
                    "ais_num_chains": 16, "eval_every": 500, "val_iw_samples": 2, "eval_iw_samples": 5,
                    "summary_every": 100}

# The cell fields that reproduce.py can select on (`--dataset=a,b` etc.).
FILTERS = ("dataset", "struct", "baseline", "k", "sampler")
