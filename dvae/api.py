"""A trained run from Python: `load_run(run_dir)` gives its model, ready to sample, score, encode and reconstruct.

    import dvae_sharp
    run = dvae_sharp.load_run("logs/make-run/binarized_mnist/1-layer-lin/dvaes_power/1")
    images = run.sample(100, seed=1).means                    # [100, 784] pixel probabilities of p(x|z), z ~ p(z)
    scores = run.log_likelihood(run.dataset.test, seed=1)    # log p̂(x) per image, as the run's final test
    print(scores.nll, "±", scores.nll_stderr, "against", run.results["metrics"]["test/neg_ll"])

The model is the discrete one the run was evaluated as, p(z) p(x|z) with the RBM prior p(z) = e^{−E(z)}/Z, and
log Z is the run's own estimate: for the best model of a finished run the AIS value of its final test, as
results.json reports it (the checkpoint holds the AIS value of the periodic evaluation that saved it); otherwise the
value stored with the checkpoint. `export(path)` writes a SavedModel that needs only TensorFlow (dvae/export.py).
"""
import dataclasses
import pathlib
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp import data
from dvae_sharp.dvae.model import evaluation, discrete_vae as model_lib, priors
from dvae_sharp.dvae.runner import run_files

CHECKPOINTS = {"best": run_files.BEST_DIR, "latest": run_files.CHECKPOINT_DIR}  # which model -> its directory


class LoadError(Exception):
    """A run directory that cannot be loaded; one line naming what is missing or unreadable."""


class PriorSamples(NamedTuple):
    """Binary latents z [N, n] drawn from the RBM prior and the pixel probabilities σ(decoder(z)) [N, 784]."""
    z: np.ndarray
    means: np.ndarray


class Encoding(NamedTuple):
    """q(z = 1 | x) per unit [N, n] and one binary sample z ~ q(z|x) [N, n] (later groups given earlier samples)."""
    probs: np.ndarray
    z: np.ndarray


class LogLikelihood(NamedTuple):
    """Per image: the importance-sampled log p̂(x) and its Monte-Carlo standard error (dvae/model/evaluation.py)."""
    log_px: np.ndarray
    stderr: np.ndarray

    @property
    def nll(self):
        """−mean log p̂(x), the test NLL of results.json when x is the test set."""
        return float(-np.mean(self.log_px))

    @property
    def nll_stderr(self):
        """Monte-Carlo standard error of `nll`: √(Σ stderr²) / N."""
        return float(np.sqrt(np.sum(np.square(self.stderr))) / len(self.stderr))


@dataclasses.dataclass
class TrainedModel:
    """A run's model with its configuration, log Z, dataset and (for a finished run) results."""
    run_dir: pathlib.Path
    config: configs.Config
    model: model_lib.DiscreteVAE
    dataset: data.Dataset
    checkpoint: str
    step: int
    log_z: float
    log_z_stderr: float
    log_z_source: str
    results: Optional[dict] = None
    _samplers: dict = dataclasses.field(default_factory=dict, repr=False)  # (n, num_sweeps) -> fresh_sampler

    def sample(self, n, seed=0, num_sweeps=1000):
        """`n` images from the prior: z from population annealing of `n` fresh particles over `num_sweeps` Gibbs
        sweeps (10 per temperature) from the uniform distribution to the RBM, then σ(decoder(z))."""
        _check_count("n", n)
        _check_count("num_sweeps", num_sweeps)
        rbm = self.model.rbm
        if (n, num_sweeps) not in self._samplers:
            self._samplers[n, num_sweeps] = priors.fresh_sampler(rbm.left_size, n, num_sweeps)
        sampler = self._samplers[n, num_sweeps]
        z = sampler.update(rbm.b1, rbm.b2, rbm.w, (seed, 0))
        return PriorSamples(z.numpy(), self.model.image_means(z).numpy())

    def log_likelihood(self, x, num_samples=None, seed=0):
        """log p̂(x) per image with `num_samples` importance samples (default: the run's `eval_iw_samples`, those
        of its final test) and its standard error (needs num_samples ≥ 2), in batches of `eval_batchsize`."""
        x = self._images(x)
        num_samples = self.config.eval_iw_samples if num_samples is None else num_samples
        _check_count("num_samples", num_samples, 2)
        rng = tf.random.Generator.from_seed(seed)
        evaluator = evaluation.Evaluator(self.model)
        whole = len(x) - len(x) % self.config.eval_batchsize
        parts = [(x[:whole], self.config.eval_batchsize), (x[whole:], len(x) - whole)]
        estimates = [evaluator.per_image(images, size, num_samples, rng) for images, size in parts if len(images)]
        return LogLikelihood(np.concatenate([e.log_px for e in estimates]),
                             np.sqrt(np.concatenate([e.variance for e in estimates])))

    def encode(self, x, seed=0):
        """The posterior q(z|x) of each image: its probabilities and one binary sample (Encoding)."""
        probs, z = self.model.posterior_probabilities(tf.constant(self._images(x)), _seed(seed))
        return Encoding(probs.numpy(), z.numpy())

    def reconstruct(self, x, seed=0):
        """σ(decoder(z)) [N, 784] for one z ~ q(z|x) per image."""
        return self.model.reconstruction_means(tf.constant(self._images(x)), _seed(seed)).numpy()

    def export(self, path, num_samples=100, num_prior_samples=100, num_sweeps=1000):
        """Writes a SavedModel to `path` (dvae/export.py) and returns the path."""
        from dvae_sharp.dvae import export
        return export.export_saved_model(self.model, path, num_samples, num_prior_samples, num_sweeps)

    def _images(self, x):
        """float32 [N, input_size] binary images from an array [N, input_size] or [N, 28, 28]."""
        x = np.asarray(x)
        x = x.reshape(len(x), -1) if x.ndim == 3 else x
        if x.ndim != 2 or x.shape[1] != self.config.input_size:
            raise ValueError(f"images must have shape [N, {self.config.input_size}], got {list(np.shape(x))}")
        if not np.isin(x, (0, 1)).all():
            raise ValueError("images must be binary (0 or 1): the likelihood p(x|z) is a product of Bernoullis")
        return x.astype(np.float32)


def load_run(run_dir, checkpoint=None, data_dir=None):
    """The model of the run in `run_dir` (a `{log_dir}/{dataset}/{struct}/{baseline}/{k}` directory): `checkpoint`
    "best" (the best-validation model, the default when there is one) or "latest". Loads the run's dataset for its
    training mean (`data_dir` as for run.py). Raises LoadError with one line."""
    run_dir = pathlib.Path(run_dir)
    config, results = _configuration(run_dir)
    checkpoint = checkpoint or ("best" if (run_dir / run_files.BEST_DIR).is_dir() else "latest")
    if checkpoint not in CHECKPOINTS:
        raise LoadError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {checkpoint!r}")
    path = tf.train.latest_checkpoint(str(run_dir / CHECKPOINTS[checkpoint]))
    if path is None:
        raise LoadError(f"{run_dir} has no {checkpoint} checkpoint in {run_dir / CHECKPOINTS[checkpoint]}")
    try:
        dataset = data.load_dataset(config.dataset, data_dir)
    except (data.DataError, ValueError) as error:
        raise LoadError(str(error)) from None
    model = model_lib.DiscreteVAE(config, dataset.train_mean)
    try:
        tf.train.Checkpoint(model=model).restore(path).assert_existing_objects_matched().expect_partial()
    except (tf.errors.OpError, AssertionError, ValueError, IndexError, KeyError, OSError) as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise LoadError(f"checkpoint {path} cannot be read as this run's model ({reason})") from None
    step = int(path.rsplit("-", 1)[1])
    log_z, log_z_stderr = float(model.rbm.log_z.numpy()), float(model.rbm.log_z_stderr.numpy())
    source = f"checkpoint of step {step}"
    if checkpoint == "best" and results is not None:
        log_z, log_z_stderr = results["log_z"], results["log_z_stderr"]
        model.rbm.log_z.assign(log_z)
        model.rbm.log_z_stderr.assign(log_z_stderr)
        source = "results.json (AIS of the final test)"
    return TrainedModel(run_dir, config, model, dataset, checkpoint, step, log_z, log_z_stderr, source, results)


def _configuration(run_dir):
    """(Config, results or None) from results.json if the run is finished, else config.json."""
    try:
        if (run_dir / run_files.RESULTS_FILE).exists():
            results = run_files.read_results(run_dir)
            return configs.Config.from_dict(results["config"]), results
        if (run_dir / run_files.CONFIG_FILE).exists():
            return configs.Config.from_dict(run_files.read_json(run_dir / run_files.CONFIG_FILE)), None
    except (run_files.RunFileError, configs.ConfigError, TypeError) as error:
        raise LoadError(str(error)) from None
    raise LoadError(f"{run_dir} is not a run directory (it has neither {run_files.RESULTS_FILE} nor "
                    f"{run_files.CONFIG_FILE})")


def _seed(seed):
    return tf.constant([seed, 0], tf.int64)


def _check_count(name, value, lowest=1):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < lowest:
        raise ValueError(f"{name} must be an integer ≥ {lowest}, got {value!r}")
