"""The paper's experiment grids and the training budgets of `reproduce.py`, as data.

A cell of a grid is one run of `run.py`: a dataset, struct, baseline, k and prior sampler. Each experiment set
also names how its table is laid out: the cell fields that make a row and the field whose values are the columns.
"""
import dataclasses
import itertools

from configs import paper


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
    """One run; `experiment_id` is the run's directory below `{log_dir}/{sampler}`."""
    dataset: str
    struct: str
    baseline: str
    k: int
    sampler: str

    @property
    def experiment_id(self):
        return f"{self.dataset}/{self.struct}/{self.baseline}/{self.k}"


@dataclasses.dataclass(frozen=True)
class Grid:
    """The Cartesian product of its choices, iterated with the table's row order (dataset, struct, k) outermost."""
    datasets: tuple
    structs: tuple
    baselines: tuple
    ks: tuple
    samplers: tuple

    def cells(self):
        for dataset, struct, k, baseline, sampler in itertools.product(
                self.datasets, self.structs, self.ks, self.baselines, self.samplers):
            yield Cell(dataset, struct, baseline, k, sampler)


@dataclasses.dataclass(frozen=True)
class ExperimentSet:
    """Grids whose cells form one table: `row_fields` give a row, `column_field` the column."""
    title: str
    grids: tuple
    row_fields: tuple
    column_field: str

    def cells(self):
        """All cells in table order, each once."""
        return list(dict.fromkeys(cell for grid in self.grids for cell in grid.cells()))


DVAE_SHARP_BASELINES = tuple(b for b in paper.BASELINES if paper.BASELINE_SPECS[b].importance_weighted)
BASELINE_TABLE = dict(row_fields=("dataset", "struct", "k"), column_field="baseline")

EXPERIMENT_SETS = {
    "table1": ExperimentSet(
        title="Table 1: DVAE, DVAE++ and DVAE# trained with population annealing",
        grids=(Grid(paper.DATASETS, paper.STRUCTS, paper.BASELINES, (1, 5, 25), ("pa",)),),
        **BASELINE_TABLE),
    "table2": ExperimentSet(
        title="Table 2: population annealing versus PCD for sampling the RBM prior",
        grids=(Grid(paper.DATASETS, paper.STRUCTS, ("dvaes_power",), (1,), ("pa", "pcd")),),
        row_fields=("dataset", "struct", "baseline", "k"), column_field="sampler"),
    "mnist-lin-row": ExperimentSet(
        title="Binarized MNIST, 1-layer-lin: all baselines at k = 1 and DVAE# at k = 5",
        grids=(Grid(("binarized_mnist",), ("1-layer-lin",), paper.BASELINES, (1,), ("pa",)),
               Grid(("binarized_mnist",), ("1-layer-lin",), DVAE_SHARP_BASELINES, (5,), ("pa",))),
        **BASELINE_TABLE),
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

# The cell fields that reproduce.py can select on (`--dataset=a,b` etc.).
FILTERS = ("dataset", "struct", "baseline", "k")
