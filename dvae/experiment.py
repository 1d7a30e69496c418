"""One run end to end: set-up checks, the training loop, periodic and final evaluation, results.json.

Everything that can be wrong with the input is checked in `prepare`, before any training and before anything
is written; a run directory holding a different configuration is refused.
"""
import dataclasses
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

import data
import configs
from dvae import evaluation, model as model_lib, summaries, training

CONFIG_FILE, RESULTS_FILE = "config.json", "results.json"


class SetupError(Exception):
    """A problem found before training starts; one line."""


@dataclasses.dataclass
class Run:
    config: object
    run_dir: pathlib.Path
    dataset: object
    model: object
    trainer: object
    summary_every: int


def prepare(config, log_dir, data_dir=None, resume=True, summary_every=1000):
    """Checks the data and the run directory, builds the model and trainer, restores the latest checkpoint."""
    if summary_every < 1:
        raise SetupError(f"--summary_every={summary_every} must be an integer >= 1")
    run_dir = pathlib.Path(log_dir) / config.experiment_id
    _check_run_dir(run_dir, config, resume)
    try:
        dataset = data.load_dataset(config.dataset, data_dir)
        for split in ("valid", "test"):
            data.check_eval_batch_size(len(getattr(dataset, split)), config.eval_batchsize, set_name=split)
        data.TrainBatches(dataset, config.train_batchsize, config.seed)
    except (data.DataError, ValueError) as error:
        raise SetupError(str(error)) from None
    model = model_lib.DiscreteVAE(config, dataset.train_mean)
    trainer = training.Trainer(model, config, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True))
    restored = trainer.restore_latest()
    if restored:
        print(f"Resuming {run_dir} from step {trainer.step} ({restored})", flush=True)
    return Run(config, run_dir, dataset, model, trainer, summary_every)


def _check_run_dir(run_dir, config, resume):
    saved = run_dir / CONFIG_FILE
    if not saved.exists():
        return
    previous = {**configs.Config().to_dict(), **json.loads(saved.read_text())}  # fields added later: defaults
    changed = sorted(k for k, v in config.to_dict().items() if previous.get(k) != v)
    if changed:
        details = ", ".join(f"{k}: {previous.get(k)!r} -> {getattr(config, k)!r}" for k in changed)
        raise SetupError(f"{run_dir} holds a run with a different configuration ({details}); "
                         f"use another --log_dir")
    if not resume:
        raise SetupError(f"{run_dir} already holds this run; pass --resume to continue it or use another --log_dir")


def train_and_evaluate(run):
    """Trains to `num_train_iter` steps with periodic evaluation, then the final test; returns the results."""
    config, trainer = run.config, run.trainer
    if (run.run_dir / RESULTS_FILE).exists() and trainer.step >= config.num_train_iter:
        print(f"{run.run_dir} is finished; results in {RESULTS_FILE}", flush=True)
        return json.loads((run.run_dir / RESULTS_FILE).read_text())
    writer = summaries.SummaryWriter(run.run_dir)
    evaluator = evaluation.Evaluator(run.model)
    writer.scalars(run.model.smoothing_summaries(), step=trainer.step)
    try:
        _train(run, writer, evaluator)
    except KeyboardInterrupt:
        path = trainer.save_latest()
        sys.exit(f"Interrupted at step {trainer.step}; saved {path}. Re-run the same command to resume.")
    results = _final_evaluation(run, writer, evaluator)
    writer.close()
    return results


def _train(run, writer, evaluator):
    config, trainer = run.config, run.trainer
    batches = data.TrainBatches(run.dataset, config.train_batchsize, config.seed)
    progress = Progress(trainer.step, config.num_train_iter)
    for x in batches.as_tf_dataset(trainer.step, config.num_train_iter):
        started = time.perf_counter()
        loss, values = trainer.train_step(x)
        loss = float(loss)
        trainer.wall_time.assign_add(time.perf_counter() - started)
        step = trainer.step
        if not np.isfinite(loss):
            sys.exit(f"Loss is {loss} at step {step - 1}; stopped. The last good checkpoint is "
                     f"{trainer.latest.latest_checkpoint}.")
        progress.update(step, values)
        if step % run.summary_every == 0:
            writer.scalars({**{k: float(v) for k, v in values.items()}, **progress.rates(step),
                            **_prior_diagnostics(run)}, step=step)
            writer.images(_image_summaries(run), step=step)
        if step % config.eval_every == 0 or step == config.num_train_iter:
            _periodic_evaluation(run, writer, evaluator)
        if step % run.summary_every == 0 or step % config.eval_every == 0 or step == config.num_train_iter:
            trainer.save_latest()


def _image_summaries(run):
    x = run.dataset.valid[:100].astype(np.float32)
    seed = run.trainer.rng.make_seeds(1)[:, 0]
    recon = run.model.reconstruction_means(tf.constant(x), seed).numpy()
    stacked = np.concatenate([summaries.image_grid(x), summaries.image_grid(recon)], axis=1)
    return {"recon": stacked, "generated_sample": summaries.image_grid(run.model.prior_sample_means(100).numpy())}


def _prior_diagnostics(run):
    """σ_max(W) and the mean-field fixed-point distance on the first 100 validation images, with a seed of its
    own (the training random stream is untouched)."""
    x = tf.constant(run.dataset.valid[:100].astype(np.float32))
    seed = tf.constant([run.config.seed, 1 << 20], tf.int64)
    return {f"diagnostics/{name}": value for name, value in run.model.prior_diagnostics(x, seed).items()}


def _estimate_log_z(run, writer, step, prefix="log_z/"):
    config = run.config
    seed = run.trainer.rng.make_seeds(1)[:, 0]
    log_z, stderr = run.model.rbm.estimate_log_z(config.ais_num_betas, config.ais_num_chains, seed)
    print(f"Estimated log partition function with AIS: {float(log_z):.4f} ± {float(stderr):.4f}", flush=True)
    writer.scalars({f"{prefix}ais": float(log_z), f"{prefix}ais_stderr": float(stderr)}, step=step)


def _evaluate_splits(run, evaluator, test_samples, prefix=""):
    """Validation and test bounds as TensorBoard scalars, and the test NLL's Monte-Carlo standard error."""
    config, rng = run.config, run.trainer.rng
    val = evaluator.evaluate(run.dataset.valid, config.eval_batchsize, config.val_iw_samples, rng)
    test = evaluator.evaluate(run.dataset.test, config.eval_batchsize, test_samples, rng)
    metrics = {f"{prefix}val/neg_elbo": val["neg_elbo"], f"{prefix}test/neg_elbo": test["neg_elbo"],
               f"{prefix}val/neg_ll": val["neg_ll"], f"{prefix}test/neg_ll": test["neg_ll"]}
    return metrics, test["neg_ll_mc_stderr"]


def _periodic_evaluation(run, writer, evaluator):
    """AIS, then validation and test with k = val_iw_samples; saves the best-validation model (§10.3)."""
    trainer = run.trainer
    _estimate_log_z(run, writer, trainer.step)
    metrics, _ = _evaluate_splits(run, evaluator, run.config.val_iw_samples)
    writer.scalars(metrics, step=trainer.step)
    print(f"Step {trainer.step}: val ELBO = {metrics['val/neg_elbo']:.3f} test ELBO = {metrics['test/neg_elbo']:.3f}"
          f", val NLL = {metrics['val/neg_ll']:.3f}, test NLL = {metrics['test/neg_ll']:.3f}", flush=True)
    if metrics["val/neg_ll"] < float(trainer.best_val_nll):
        trainer.save_best(metrics["val/neg_ll"])


def _final_evaluation(run, writer, evaluator):
    """Restores the best-validation model, re-runs AIS, tests with `eval_iw_samples` samples (§10.3); its values
    go to TensorBoard under `final/` at the last step, apart from the periodic curves."""
    config, trainer = run.config, run.trainer
    train_seconds, final_step = float(trainer.wall_time), trainer.step
    started = time.perf_counter()
    trainer.restore_best()
    best_step = int(trainer.best_step)
    _estimate_log_z(run, writer, config.num_train_iter, prefix="final/log_z_")
    metrics, test_stderr = _evaluate_splits(run, evaluator, config.eval_iw_samples, prefix="final/")
    diagnostics = _prior_diagnostics(run)
    writer.scalars({**metrics, "final/test_neg_ll_mc_stderr": test_stderr, **diagnostics},
                   step=config.num_train_iter)
    metrics = {name.removeprefix("final/"): value for name, value in metrics.items()}
    results = {"metrics": metrics, "test_neg_ll_mc_stderr": test_stderr, "best_step": best_step,
               "final_step": final_step, "log_z": float(run.model.rbm.log_z),
               "log_z_stderr": float(run.model.rbm.log_z_stderr), "diagnostics": diagnostics,
               "train_seconds": train_seconds, "final_eval_seconds": time.perf_counter() - started,
               "config": config.to_dict(), "versions": _versions(), "provenance": _provenance()}
    (run.run_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True))
    print(f"Final (best step {best_step}, {config.eval_iw_samples} samples): test NLL = "
          f"{metrics['test/neg_ll']:.3f} ± {test_stderr:.3f} (Monte-Carlo), val NLL = "
          f"{metrics['val/neg_ll']:.3f}", flush=True)
    return results


def _versions():
    import tensorflow_probability as tfp
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "tensorflow_probability": tfp.__version__, "numpy": np.__version__}


def _provenance():
    """The code's git commit (and whether the tree differed from it), the command line and the machine."""
    source = pathlib.Path(__file__).resolve().parent.parent

    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True,
                                  timeout=30).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None
    commit = git("rev-parse", "HEAD")
    return {"git_commit": commit, "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))
            if commit else None, "command": [sys.executable, *sys.argv], "host": platform.node(),
            "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "gpus": [device.name for device in tf.config.list_physical_devices("GPU")]}


class Progress:
    """Console progress: step, steps/s, ETA and the current bound, about every ten seconds."""

    def __init__(self, start_step, total_steps, interval=10.0):
        self.total, self.interval = total_steps, interval
        self.start_time = self.last_print = time.perf_counter()
        self.start_step = start_step

    def rates(self, step):
        return {"steps_per_second": self._steps_per_second(step)}

    def _steps_per_second(self, step):
        return (step - self.start_step) / max(time.perf_counter() - self.start_time, 1e-9)

    def update(self, step, values):
        now = time.perf_counter()
        if now - self.last_print < self.interval and step != self.total:
            return
        self.last_print = now
        rate = self._steps_per_second(step)
        eta = time.strftime("%H:%M:%S", time.gmtime((self.total - step) / max(rate, 1e-9)))
        bound = next(f"{k} {float(v):.3f}" for k, v in values.items() if k.startswith("train/"))
        print(f"step {step}/{self.total}  {rate:.1f} steps/s  ETA {eta}  {bound}", flush=True)
