"""The run configuration: one table of fields, each with its default, range and help text.

`Config`'s fields are the single source of a run's settings: run.py defines its flags from them (`--qupa` stands
for `sampler`, as in the original), `make_config` fills in the values the paper derives from the dataset, struct
and baseline (β, the evaluation batch size, the evaluation interval), and `check_range` holds every numeric range
(integers have a largest accepted value too).
"""
import dataclasses
import math

from dvae_sharp.configs import paper

SAMPLERS = ("pa", "pcd")  # population annealing (the original's `--qupa=True`) and persistent contrastive divergence


class ConfigError(ValueError):
    """A bad choice or value; its message is one line naming the flag and what is allowed."""


def _field(default, help, minimum=None, maximum=None, choices=None, derived=False):
    """A Config field: `minimum` and `maximum` for numbers, `choices` for strings, `derived` when None means "the
    paper's value for this dataset/struct/baseline" (see make_config)."""
    return dataclasses.field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum,
                                                        "choices": choices, "derived": derived})


# Largest accepted integers. They keep every value inside what the code can represent (32-bit seeds, loops traced
# once per iteration) and far above any useful setting: 1000 times the paper's steps, 100 times its samplers.
# The two floats have ranges too, so that every value derived from them stays a finite float32: β from 1e-3 to 80
# (the paper's are 4 to 40; the spike-and-exponential smoothing holds exp(β), finite in float32 below 88.7), the
# base learning rate from 1e-12 to 10 (the paper's is 3e-3).
MAX_STEPS = 10**9
MAX_SEED = 2**31 - 2  # the prior sampler's stream is seeded with seed + 1 as a 32-bit integer


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a run needs, resolved: the user's choices plus the paper's protocol."""
    dataset: str = _field("binarized_mnist", "Dataset (original protocol).", choices=paper.DATASETS)
    struct: str = _field("2-layer-nonlin", "Encoder/decoder structure and latent groups.", choices=paper.STRUCTS)
    baseline: str = _field("dvaes_power", "Smoothing, prior and objective (the paper's column).",
                           choices=paper.BASELINES)
    k: int = _field(1, "Samples per data point in training: ELBO average (DVAE/DVAE++) or IW bound (DVAE#).", 1,
                    10**4)
    sampler: str = _field("pa", "Sampler of the RBM prior: population annealing (pa) or PCD (pcd).", choices=SAMPLERS)
    beta: float = _field(None, "Override the paper's smoothing β for this dataset/struct/baseline.", 1e-3, 80.0,
                         derived=True)
    num_train_iter: int = _field(1000000, "Training steps (original protocol).", 1, MAX_STEPS)
    train_batchsize: int = _field(100, "Training batch size (original protocol).", 1, 10**5)
    eval_batchsize: int = _field(None, "Evaluation batch size; default 1000 (MNIST) or 269 (OMNIGLOT).", 1,
                                 10**5, derived=True)
    eval_iw_samples: int = _field(paper.EVALUATION.final_iw_samples,
                                  "Importance samples per test image in the final evaluation.", 1, 10**6)
    val_iw_samples: int = _field(paper.EVALUATION.val_iw_samples,
                                 "Importance samples per image in the periodic evaluations.", 1, 10**6)
    eval_every: int = _field(None, "Steps between evaluations; default 20000 (10000 for runs of <= 1e5 steps).", 1,
                             MAX_STEPS, derived=True)
    base_lr: float = _field(paper.TRAINING.base_lr, "Base learning rate of the piecewise-constant schedule.",
                            1e-12, 10.0)
    input_size: int = _field(784, "Pixels per image (both datasets: 784).", 784, 784)
    sampler_chains: int = _field(1000, "PCD chains or population-annealing particles for the prior.", 1,
                                 10**5)
    sampler_sweeps: int = _field(40, "Block-Gibbs sweeps of the prior sampler per training step.", 1,
                                 10**4)
    ais_num_betas: int = _field(paper.EVALUATION.ais_num_betas, "AIS inverse temperatures for the evaluation log Z "
                                "(both ends of [0, 1]).", 2, 10**6)
    ais_num_chains: int = _field(paper.EVALUATION.ais_num_chains, "AIS chains for the evaluation log Z.", 2, 10**5)
    seed: int = _field(1, "Seed of every random stream (data order, noise, samplers).", 0, MAX_SEED)
    mean_field_iterations: int = _field(paper.MEAN_FIELD_ITERATIONS,
                                        "Mean-field updates of the DVAE# marginal prior (paper: 5).", 1, 100)

    @property
    def structure(self):
        return paper.STRUCTURES[self.struct]

    @property
    def spec(self):
        return paper.BASELINE_SPECS[self.baseline]

    @property
    def use_iw(self):
        """DVAE# baselines train the importance-weighted bound when k > 1; the others the k-sample ELBO (§3.2)."""
        return self.spec.importance_weighted and self.k > 1

    @property
    def experiment_id(self):
        """`{dataset}/{struct}/{baseline}/{k}`, the original's log sub-directory."""
        return f"{self.dataset}/{self.struct}/{self.baseline}/{self.k}"

    @property
    def lr_boundaries(self):
        return [int(f * self.num_train_iter) for f in paper.TRAINING.lr_boundary_fractions]

    @property
    def lr_values(self):
        return [self.base_lr * f for f in paper.TRAINING.lr_factors]

    @property
    def kl_warmup_steps(self):
        return paper.TRAINING.kl_warmup_fraction * self.num_train_iter

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The Config of a saved config.json or results.json: fields added since get their defaults, and the
        `qupa` of older files becomes `sampler`."""
        values = dict(values)
        if "qupa" in values:
            values.setdefault("sampler", "pa" if values.pop("qupa") else "pcd")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in names})


FIELDS = {field.name: field for field in dataclasses.fields(Config)}
# Run options that are not part of the configuration, with their ranges (summary_every changes no number).
RUN_OPTION_MINIMUM = {"summary_every": 1}
RUN_OPTION_MAXIMUM = {"summary_every": MAX_STEPS}


def _require(condition, message):
    if not condition:
        raise ConfigError(message)


def check_range(name, value):
    """Raises ConfigError (one line naming the flag) if `value` is outside the range of field or option `name`."""
    field = FIELDS.get(name)
    if field is not None and field.metadata["choices"]:
        choices = field.metadata["choices"]
        _require(value in choices, f"--{name}={value!r} is not a valid choice; choose one of: {', '.join(choices)}")
        return
    if field is not None and field.type in ("float", float):
        lowest, highest = field.metadata["minimum"], field.metadata["maximum"]
        _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                 and lowest <= value <= highest, f"--{name}={value} must be a number from {lowest:g} to {highest:g} "
                                                 f"(a finite number > 0 that float32 training can hold)")
        return
    lowest, highest = integer_range(name)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if lowest == highest:
        _require(is_int and value == lowest, f"--{name}={value} must be {lowest}")
    _require(is_int and lowest <= value <= highest,
             f"--{name}={value} must be an integer from {lowest} to {highest} (largest accepted value: {highest})")


def integer_range(name):
    """(smallest, largest) accepted value of the integer field or run option `name`."""
    field = FIELDS.get(name)
    if field is None:
        return RUN_OPTION_MINIMUM[name], RUN_OPTION_MAXIMUM[name]
    return field.metadata["minimum"], field.metadata["maximum"]


def numeric_names():
    """Every integer or float field and run option: the flags whose ranges are checked."""
    return [name for name, field in FIELDS.items() if not field.metadata["choices"]] + list(RUN_OPTION_MINIMUM)


def make_config(**choices):
    """The validated Config of the given field values; a field left out or None takes its default, and a derived
    field the paper's value for this dataset/struct/baseline (never for 0, which is out of range like any other
    bad value). `beta` overrides only β; the evaluation batch size stays the dataset's (the original lost it when
    `--beta` was given, protocol §12 item 1). Raises ConfigError with a one-line message."""
    unknown = sorted(set(choices) - set(FIELDS))
    _require(not unknown, f"unknown configuration field(s): {', '.join(unknown)}")
    values = {name: field.default for name, field in FIELDS.items()}
    values.update({name: value for name, value in choices.items() if value is not None})
    for name in ("dataset", "struct", "baseline", "sampler"):
        check_range(name, values[name])
    derived = {"beta": paper.paper_beta(values["dataset"], values["struct"], values["baseline"]),
               "eval_batchsize": dict(paper.EVALUATION.eval_batch_size)[values["dataset"]],
               "eval_every": paper.default_eval_every(values["num_train_iter"])}
    for name, value in derived.items():
        if values[name] is None:
            values[name] = value
    config = Config(**values)
    validate(config)
    return config


def validate(config):
    """Range checks that need no data; the data-dependent check (eval batch size divides the sets) is in data/."""
    for name in FIELDS:
        check_range(name, getattr(config, name))
