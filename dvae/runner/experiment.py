"""One run end to end: set-up checks, the training loop, periodic and final evaluation, results.json.

Everything that can be wrong with the input is checked in `prepare`, before any training and before anything
is written; a run directory holding a different configuration, or locked by another process, is refused.
What an interruption at any instant does is in docs/RELIABILITY.md: in short, a stop signal saves a checkpoint
at the next safe point, an evaluation it cuts short is redone on resume from the same random state, and every
file that matters is replaced atomically.
"""
import dataclasses
import pathlib
import time
from typing import Optional

import numpy as np

from dvae_sharp import configs
from dvae_sharp import data
from dvae_sharp.dvae.runner import (checkpoint_files, interrupts, run_directory, run_evaluation, run_files, summaries,
                                    training)
from dvae_sharp.dvae.model import evaluation, discrete_vae as model_lib
from dvae_sharp.dvae.runner.errors import RunError, SetupError  # noqa: F401  (run.py reports them through this module)
from dvae_sharp.dvae.runner.progress import Progress


@dataclasses.dataclass
class Run:
    """A prepared run; `results` is set (and the rest None) when the run directory holds a finished run."""
    config: configs.Config
    run_dir: pathlib.Path
    summary_every: int
    results: Optional[dict] = None
    dataset: Optional[data.Dataset] = None
    model: Optional[model_lib.DiscreteVAE] = None
    trainer: Optional[training.Trainer] = None
    lock: Optional[run_files.RunLock] = None

    def close(self):
        if self.lock is not None:
            self.lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def prepare(config: configs.Config, log_dir, data_dir=None, resume=True, summary_every=1000) -> Run:
    """Checks the run directory (every run file, both checkpoints and the configuration they record) and the data,
    locks the directory, builds the model and trainer, restores the latest checkpoint. Raises SetupError with one
    line; nothing on disk changes before every check has passed."""
    configs.check_range("summary_every", summary_every)
    run = Run(config, run_directory.run_dir(pathlib.Path(log_dir), config), summary_every)
    try:
        _prepare(run, data_dir, resume)
    except BaseException:
        run.close()
        raise
    return run


def _prepare(run, data_dir, resume):
    found = run_directory.inspect(run.run_dir, run.config, resume)
    if found.files.results is not None:
        run.results = found.files.results
        if found.config_source:
            run.lock = run_directory.lock(run.run_dir)
            run_directory.write_config(run.run_dir, run.config, found.config_source)
        return
    run.dataset = _load_data(run.config, data_dir)
    run.lock = run_directory.lock(run.run_dir)
    found = run_directory.inspect(run.run_dir, run.config, resume, locked=True)  # again, as no one else can write
    try:
        for line in found.repair_state_files():
            print(line, flush=True)
        run.model = model_lib.DiscreteVAE(run.config, run.dataset.train_mean)
        run.trainer = training.Trainer(run.model, run.config, run.run_dir)
        run.trainer.remove_partial_checkpoints()
        restored = run.trainer.restore_latest()
    except (run_files.RunFileError, checkpoint_files.CheckpointError) as error:
        raise SetupError(str(error)) from None
    run_directory.write_config(run.run_dir, run.config, found.config_source)
    if restored:
        print(f"Resuming {run.run_dir} from step {run.trainer.step} ({restored})", flush=True)


def _load_data(config, data_dir):
    try:
        dataset = data.load_dataset(config.dataset, data_dir)
        for split in ("valid", "test"):
            data.check_eval_batch_size(len(getattr(dataset, split)), config.eval_batchsize, set_name=split)
        data.TrainBatches(dataset, config.train_batchsize, config.seed)
    except (data.DataError, ValueError) as error:
        raise SetupError(str(error)) from None
    return dataset


def train_and_evaluate(run: Run) -> dict:
    """Trains to `num_train_iter` steps with periodic evaluation, then the final test; returns the results.

    Raises interrupts.Interrupted after a stop signal (the state is saved), RunError when the run cannot go on.
    """
    if run.results is not None:
        interrupts.run_complete()
        print(f"{run.run_dir} is finished; results in {run.run_dir / run_files.RESULTS_FILE}", flush=True)
        return run.results
    print(describe(run.config, run.run_dir), flush=True)
    writer = summaries.SummaryWriter(run.run_dir)
    evaluator = evaluation.Evaluator(run.model)
    try:
        with interrupts.StopSignals() as stop:
            if run.trainer.step == 0:
                writer.hparams(summaries.hparams(run.config))
                writer.layout()
                writer.scalars(summaries.smoothing_scalars(run.config.beta, run.model.relaxation.parameters), 0)
            _train(run, writer, evaluator, stop)
            results = run_evaluation.final_evaluation(run, writer, evaluator, stop)
            interrupts.run_complete()
    finally:
        writer.close()
    print(f"Results: {run.run_dir / run_files.RESULTS_FILE}\nTensorBoard: tensorboard --logdir "
          f"{run.run_dir.parents[3]}", flush=True)
    return results


def describe(config, run_dir):
    """One line: the run directory and the resolved configuration."""
    sampler = "population annealing" if config.sampler == "pa" else "PCD"
    objective = "IW bound" if config.use_iw else "ELBO"
    return (f"Run {run_dir}: {config.baseline} (β = {config.beta:g}, {objective}), {config.struct}, k = {config.k}, "
            f"{sampler} {config.sampler_chains} × {config.sampler_sweeps}, {config.num_train_iter} steps, "
            f"evaluation every {config.eval_every} ({config.val_iw_samples} samples; final "
            f"{config.eval_iw_samples}), AIS {config.ais_num_betas} × {config.ais_num_chains}, seed {config.seed}")


def _train(run, writer, evaluator, stop):
    config, trainer = run.config, run.trainer
    if int(trainer.pending_eval_step) == trainer.step:
        print(f"Redoing the evaluation of step {trainer.step}, which a stop interrupted", flush=True)
        _evaluate_or_stop(run, writer, evaluator, stop)
        _save_latest(run)
    _stop_if_requested(run, stop, saved=False)
    batches = data.TrainBatches(run.dataset, config.train_batchsize, config.seed)
    progress = Progress(trainer.step, config.num_train_iter, summaries.objective_tag(config.use_iw))
    for x in batches.as_tf_dataset(trainer.step, config.num_train_iter):
        started = time.perf_counter()
        loss, values = trainer.train_step(x)
        loss = float(loss)
        trainer.wall_time.assign_add(time.perf_counter() - started)
        step = trainer.step
        if not np.isfinite(loss):
            kept = trainer.latest.latest_checkpoint
            raise RunError(f"loss is {loss} at step {step - 1}; stopped. " + (
                f"The last good checkpoint is {kept}" if kept else "No checkpoint had been saved yet"))
        progress.update(step, values)
        summary_due = step % run.summary_every == 0
        eval_due = step % config.eval_every == 0 or step == config.num_train_iter
        if summary_due:
            values = {**values, "steps_per_second": progress.steps_per_second(step)}
            writer.scalars({**summaries.training_scalars(values, config.use_iw),
                            **summaries.diagnostics_scalars(run_evaluation.prior_diagnostics(run))}, step)
            writer.images(run_evaluation.image_summaries(run), step=step)
        if eval_due:
            _evaluate_or_stop(run, writer, evaluator, stop)
        if summary_due or eval_due:
            _save_latest(run)
        _stop_if_requested(run, stop, saved=summary_due or eval_due)


def _save_latest(run, pending_eval=False):
    try:
        return run.trainer.save_latest(pending_eval)
    except training.CheckpointError as error:
        raise RunError(str(error)) from None


def _stop_if_requested(run, stop, saved):
    if stop.requested:
        path = run.trainer.latest.latest_checkpoint if saved else _save_latest(run)
        interrupts.raise_interrupted(stop.signum, f"at step {run.trainer.step}; saved {path}")


def _evaluate_or_stop(run, writer, evaluator, stop):
    """The periodic evaluation; a stop during it restores the random state of its start and saves a checkpoint
    that marks it as still due, so the resumed run redoes it with the same numbers."""
    trainer = run.trainer
    snapshot = trainer.rng.state.numpy()
    try:
        run_evaluation.periodic_evaluation(run, writer, evaluator, stop.check)
    except interrupts.StopRequested as request:
        trainer.rng.state.assign(snapshot)
        path = _save_latest(run, pending_eval=True)
        interrupts.raise_interrupted(request.signum, f"during the evaluation of step {trainer.step}; saved {path}, "
                                                     f"which redoes that evaluation")
