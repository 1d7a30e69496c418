"""One function turns the command-line choices into the full, validated run configuration."""
import dataclasses
import math

from configs import paper


class ConfigError(ValueError):
    """A bad choice or value; its message is one line naming the flag and what is allowed."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a run needs, resolved: the user's choices plus the paper's protocol."""
    dataset: str = "binarized_mnist"
    struct: str = "2-layer-nonlin"
    baseline: str = "dvaes_power"
    k: int = 1
    qupa: bool = True
    beta: float = 0.0
    num_train_iter: int = 1000000
    train_batchsize: int = 100
    eval_batchsize: int = 1000
    eval_iw_samples: int = 4000
    val_iw_samples: int = 100
    eval_every: int = 20000
    base_lr: float = 3e-3
    input_size: int = 784
    sampler_chains: int = 1000
    sampler_sweeps: int = 40
    ais_num_betas: int = 1000
    ais_num_chains: int = 1024
    seed: int = 1
    mean_field_iterations: int = paper.MEAN_FIELD_ITERATIONS

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


def _require(condition, message):
    if not condition:
        raise ConfigError(message)


def _check_choice(flag, value, choices):
    _require(value in choices, f"--{flag}={value!r} is not a valid choice; choose one of: {', '.join(choices)}")


# The range of every numeric flag, in one table: integers with their smallest allowed value, and floats that must be
# finite and positive. Every flag is checked before anything is written.
INTEGER_MINIMUM = {
    "k": 1, "num_train_iter": 1, "train_batchsize": 1, "eval_batchsize": 1, "eval_iw_samples": 1,
    "val_iw_samples": 1, "eval_every": 1, "sampler_chains": 1, "sampler_sweeps": 1,
    "ais_num_betas": 2,   # both ends of the inverse-temperature path [0, 1]
    "ais_num_chains": 2,  # a standard error needs two chains
    "seed": 0, "mean_field_iterations": 1, "summary_every": 1, "input_size": 784,
}
INTEGER_MAXIMUM = {"input_size": 784}  # both datasets have 28 × 28 pixels
POSITIVE_FLOATS = ("beta", "base_lr")


def check_range(name, value):
    """Raises ConfigError (one line naming the flag) if `value` is outside the range of flag `name`."""
    if name in POSITIVE_FLOATS:
        _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                 and value > 0, f"--{name}={value} must be a finite number > 0")
        return
    lowest, highest = INTEGER_MINIMUM[name], INTEGER_MAXIMUM.get(name)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if highest is not None and highest == lowest:
        _require(is_int and value == lowest, f"--{name}={value} must be {lowest}")
    _require(is_int and value >= lowest, f"--{name}={value} must be an integer >= {lowest}")


def make_config(dataset="binarized_mnist", struct="2-layer-nonlin", baseline="dvaes_power", k=1, qupa=True,
                beta=None, num_train_iter=1000000, train_batchsize=100, eval_batchsize=None,
                eval_iw_samples=None, val_iw_samples=None, eval_every=None, base_lr=3e-3, input_size=784,
                sampler_chains=1000, sampler_sweeps=40, ais_num_betas=None, ais_num_chains=None, seed=1,
                mean_field_iterations=paper.MEAN_FIELD_ITERATIONS):
    """Validates the choices and fills in the paper's values for everything left as None (never for 0, which is
    out of range like any other bad value).

    `beta` overrides only β; the evaluation batch size stays the dataset's (the original lost it when
    `--beta` was given, protocol §12 item 1). Raises ConfigError with a one-line message.
    """
    _check_choice("dataset", dataset, paper.DATASETS)
    _check_choice("struct", struct, paper.STRUCTS)
    _check_choice("baseline", baseline, paper.BASELINES)
    evaluation = paper.EVALUATION

    def given(value, default):
        return default if value is None else value
    config = Config(
        dataset=dataset, struct=struct, baseline=baseline, k=k, qupa=bool(qupa),
        beta=given(beta, paper.paper_beta(dataset, struct, baseline)),
        num_train_iter=num_train_iter, train_batchsize=train_batchsize,
        eval_batchsize=given(eval_batchsize, dict(evaluation.eval_batch_size)[dataset]),
        eval_iw_samples=given(eval_iw_samples, evaluation.final_iw_samples),
        val_iw_samples=given(val_iw_samples, evaluation.val_iw_samples),
        eval_every=given(eval_every, paper.default_eval_every(num_train_iter)),
        base_lr=base_lr, input_size=input_size, sampler_chains=sampler_chains, sampler_sweeps=sampler_sweeps,
        ais_num_betas=given(ais_num_betas, evaluation.ais_num_betas),
        ais_num_chains=given(ais_num_chains, evaluation.ais_num_chains), seed=seed,
        mean_field_iterations=mean_field_iterations)
    validate(config)
    return config


def validate(config):
    """Range checks that need no data; the data-dependent check (eval batch size divides the sets) is in data/."""
    for field in dataclasses.fields(config):
        if field.name in INTEGER_MINIMUM or field.name in POSITIVE_FLOATS:
            check_range(field.name, getattr(config, field.name))
