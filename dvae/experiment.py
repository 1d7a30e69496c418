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

import configs
import data
from dvae import evaluation, interrupts, model as model_lib, run_evaluation, run_files, summaries, training
from dvae.errors import RunError, SetupError  # noqa: F401  (run.py reports them through this module)
from dvae.progress import Progress


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
    """Checks the data and the run directory, locks it, builds the model and trainer, restores the latest
    checkpoint. Raises SetupError with one line; nothing on disk changes before every check has passed."""
    configs.check_range("summary_every", summary_every)
    log_dir = pathlib.Path(log_dir)
    run_dir = log_dir / config.experiment_id
    for parent in (log_dir, *run_dir.relative_to(log_dir).parents):
        if (log_dir / parent).exists() and not (log_dir / parent).is_dir():
            raise SetupError(f"--log_dir: {log_dir / parent} exists and is not a directory")
    _check_run_dir(run_dir, config, resume)
    if (run_dir / run_files.RESULTS_FILE).exists():
        try:
            return Run(config, run_dir, summary_every, results=run_files.read_results(run_dir))
        except run_files.RunFileError as error:
            raise SetupError(f"{error}; delete it to redo the final evaluation") from None
    if (run_dir / run_files.BEST_DIR).is_dir() and not (run_dir / run_files.CHECKPOINT_DIR).is_dir():
        raise SetupError(f"{run_dir} holds a best-model checkpoint but no latest checkpoint to resume from; move "
                         f"{run_dir / run_files.BEST_DIR} away to train this run again from step 0")
    try:
        dataset = data.load_dataset(config.dataset, data_dir)
        for split in ("valid", "test"):
            data.check_eval_batch_size(len(getattr(dataset, split)), config.eval_batchsize, set_name=split)
        data.TrainBatches(dataset, config.train_batchsize, config.seed)
    except (data.DataError, ValueError) as error:
        raise SetupError(str(error)) from None
    lock = _lock(run_dir)
    try:
        model = model_lib.DiscreteVAE(config, dataset.train_mean)
        trainer = training.Trainer(model, config, run_dir)
        if not (run_dir / run_files.CONFIG_FILE).exists():
            run_files.write_json(run_dir / run_files.CONFIG_FILE, config.to_dict())
        trainer.remove_partial_checkpoints()
        restored = trainer.restore_latest()
    except (run_files.RunFileError, training.CheckpointError) as error:
        lock.release()
        raise SetupError(str(error)) from None
    if restored:
        print(f"Resuming {run_dir} from step {trainer.step} ({restored})", flush=True)
    return Run(config, run_dir, summary_every, None, dataset, model, trainer, lock)


def _lock(run_dir):
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        return run_files.RunLock(run_dir).acquire()
    except OSError as error:
        raise SetupError(f"cannot create the run directory {run_dir}: {error.strerror or error}") from None
    except run_files.RunFileError as error:
        raise SetupError(str(error)) from None


def _check_run_dir(run_dir, config, resume):
    saved = run_dir / run_files.CONFIG_FILE
    if not saved.exists():
        return
    try:
        previous = configs.Config.from_dict(run_files.read_json(saved)).to_dict()  # fields added since: defaults
    except run_files.RunFileError as error:
        raise SetupError(f"{error}; move the run directory away or use another --log_dir") from None
    changed = sorted(k for k, v in config.to_dict().items() if previous.get(k) != v)
    if changed:
        details = ", ".join(f"{k}: {previous.get(k)!r} -> {getattr(config, k)!r}" for k in changed)
        raise SetupError(f"{run_dir} holds a run with a different configuration ({details}); "
                         f"use another --log_dir")
    if not resume:
        raise SetupError(f"{run_dir} already holds this run; pass --resume to continue it or use another --log_dir")


def train_and_evaluate(run: Run) -> dict:
    """Trains to `num_train_iter` steps with periodic evaluation, then the final test; returns the results.

    Raises interrupts.Interrupted after a stop signal (the state is saved), RunError when the run cannot go on.
    """
    if run.results is not None:
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
            raise RunError(f"loss is {loss} at step {step - 1}; stopped. The last good checkpoint is "
                           f"{trainer.latest.latest_checkpoint}")
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
