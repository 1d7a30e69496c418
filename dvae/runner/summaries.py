"""Every TensorBoard tag of a run, in one place, and the writer (protocol §10.4 for the original's tags).

The original's names are kept, `weigh decay/…` included: that is its spelling, kept on purpose so that curves
line up with the original's. This project adds `log_z/*`, `steps_per_second`, `diagnostics/*` and the `final/*`
values of the final test (kept apart from the periodic `val/*` and `test/*` curves), a Custom Scalars layout that
puts the bounds and log Z first (LAYOUT), and the HParams tab's choice of metrics (HPARAMS_METRICS).
"""
import functools

import numpy as np
import tensorflow as tf

from dvae_sharp.dvae.runner.errors import RunError, first_line

TRAINING_TAGS = {  # training values (dvae/model/objectives.py, dvae/model/relaxations.py) -> tag
    "recon": "obj/recon_loss", "kl": "obj/kl", "kl_coeff": "kl_coeff", "learning_rate": "learning_rate",
    "decay_encoder": "weigh decay/encoder", "decay_decoder": "weigh decay/decoder", "decay_total": "weigh decay/total",
    "sampler_log_z": "log_z/sampler", "b_zeta_num": "b_zeta_num", "eigen_lambda": "eigen/lambda",
    "eigen_max": "eigen/max_eigen_val", "eigen_min": "eigen/min_eigen_val", "weight_norm": "weight_norm",
    "steps_per_second": "steps_per_second",
}
HPARAMS_FIELDS = ("dataset", "struct", "baseline", "k", "sampler", "beta", "seed", "num_train_iter",
                  "sampler_chains", "sampler_sweeps", "eval_iw_samples")
HPARAMS_METRICS = (  # the HParams tab's metrics (tag, name shown): the few values runs are compared by
    ("final/test/neg_ll", "final test NLL"), ("final/val/neg_ll", "validation NLL of the best model"),
    ("final/log_z_ais", "log Z (AIS, final test)"))
IMAGE_TAGS = ("recon", "generated_sample")
# The Custom Scalars tab, in this order (title, closed, charts of (title, tag regexes)); the tags are the ones above.
LAYOUT = (
    ("Bounds", False, (
        ("NLL (importance-weighted): validation, test and the best model's final test", (
            r"^(final/)?(val|test)/neg_ll$",)),
        ("training objective; validation and test -ELBO", (r"^train/neg_(elbo|iw_loss)$",
                                                            r"^(final/)?(val|test)/neg_elbo$")),
        ("Monte-Carlo standard error of the final test NLL", (r"^final/test_neg_ll_mc_stderr$",)),
    )),
    ("log Z", False, (
        ("AIS and the prior sampler's running estimate", (r"^log_z/(ais|sampler)$", r"^final/log_z_ais$")),
        ("AIS standard error", (r"^log_z/ais_stderr$", r"^final/log_z_ais_stderr$")),
    )),
    ("Training", True, (
        ("reconstruction and KL", (r"^obj/",)), ("KL warm-up coefficient", (r"^kl_coeff$",)),
        ("learning rate", (r"^learning_rate$",)), ("weight decay", (r"^weigh decay/",)),
        ("steps per second", (r"^steps_per_second$",)),
    )),
    ("Prior and smoothing", True, (
        ("smoothing", (r"^beta$", r"^posterior/")), ("units with |b(zeta)| < 1", (r"^b_zeta_num$",)),
        ("Gaussian integral", (r"^eigen/", r"^weight_norm$")), ("diagnostics", (r"^(final/)?diagnostics/",)),
    )),
)


def objective_tag(use_iw):
    return "train/neg_iw_loss" if use_iw else "train/neg_elbo"


def training_scalars(values, use_iw):
    """{tag: float} of the training values of one step."""
    return {objective_tag(use_iw) if name == "objective" else TRAINING_TAGS[name]: float(value)
            for name, value in values.items()}


def smoothing_scalars(beta, parameters):
    """`beta` and the smoothing's parameters as `posterior/{name}`."""
    return {"beta": beta, **{f"posterior/{name}": value for name, value in parameters.items()}}


def evaluation_scalars(metrics, log_z=None, prefix=""):
    """`{prefix}val/neg_elbo`, `…test/neg_ll` etc. from an evaluation's metrics, and its AIS log Z."""
    scalars = {f"{prefix}{name}": value for name, value in metrics.items()}
    if log_z is not None:
        name = "final/log_z_ais" if prefix else "log_z/ais"
        scalars.update({name: log_z["ais"], f"{name}_stderr": log_z["ais_stderr"]})
    return scalars


def diagnostics_scalars(values, prefix=""):
    return {f"{prefix}diagnostics/{name}": value for name, value in values.items()}


def hparams(config):
    """The configuration fields a grid varies, as TensorBoard hyperparameters."""
    return {name: getattr(config, name) for name in HPARAMS_FIELDS}


def custom_scalars_layout():
    """LAYOUT as the custom-scalars plugin's Layout proto (one multiline chart per entry)."""
    from tensorboard.plugins.custom_scalar import layout_pb2
    return layout_pb2.Layout(category=[
        layout_pb2.Category(title=title, closed=closed, chart=[
            layout_pb2.Chart(title=chart, multiline=layout_pb2.MultilineChartContent(tag=list(tags)))
            for chart, tags in charts])
        for title, closed, charts in LAYOUT])


def image_grid(images, rows=10, cols=10, side=28):
    """Tiles up to rows·cols images [N, side²] with values in [0, 1] into one uint8 image [1, H, W, 1]."""
    images = np.asarray(images, np.float32)[:rows * cols]
    grid = np.zeros((rows * side, cols * side), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * side:(r + 1) * side, c * side:(c + 1) * side] = image.reshape(side, side)
    return (np.clip(grid, 0.0, 1.0) * 255.0).round().astype(np.uint8)[None, :, :, None]


def _one_line_on_failure(method):
    """A write of the event file that fails (a full disk, say) raises RunError with one line."""
    @functools.wraps(method)
    def write(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (tf.errors.OpError, OSError) as error:
            raise RunError(f"cannot write TensorBoard events to {self.run_dir} ({first_line(error)}); the last "
                           f"checkpoint is kept") from None
    return write


class SummaryWriter:
    """Writes scalars, images and hyperparameters into the run directory's event files."""

    @_one_line_on_failure
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.writer = tf.summary.create_file_writer(str(run_dir))

    @_one_line_on_failure
    def scalars(self, values, step):
        with self.writer.as_default(step=step):
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value))
        self.writer.flush()

    @_one_line_on_failure
    def images(self, named_images, step):
        with self.writer.as_default(step=step):
            for tag, image in named_images.items():
                tf.summary.image(tag, image)
        self.writer.flush()

    @_one_line_on_failure
    def hparams(self, values):
        """The run's hyperparameters for TensorBoard's HParams tab, whose metrics are HPARAMS_METRICS (written
        once, when the run starts)."""
        from tensorboard.plugins.hparams import api as hp
        metrics = [hp.Metric(tag, display_name=name) for tag, name in HPARAMS_METRICS]
        with self.writer.as_default():
            hp.hparams_config(hparams=[hp.HParam(name) for name in values], metrics=metrics)
            hp.hparams(values)
        self.writer.flush()

    def layout(self):
        """The Custom Scalars tab's layout (LAYOUT: the bounds and log Z first), written once, when the run
        starts."""
        from tensorboard.plugins.custom_scalar import summary as custom_scalar
        with self.writer.as_default():
            tf.summary.experimental.write_raw_pb(custom_scalar.pb(custom_scalars_layout()).SerializeToString(),
                                                 step=0)
        self.writer.flush()

    def close(self):
        """Every value was flushed when it was written, so a failure here loses nothing (and hides no error)."""
        try:
            self.writer.close()
        except (tf.errors.OpError, OSError):
            pass
