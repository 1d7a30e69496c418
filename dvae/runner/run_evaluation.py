"""A run's evaluations: the periodic one (AIS, validation and test, best-model checkpoint), the final test of the
best model, and the summaries around them (image grids, prior diagnostics), with their TensorBoard values and
files (evaluations.json, results.json)."""
import time

import numpy as np
import tensorflow as tf

from dvae_sharp.dvae.runner import interrupts, provenance, run_files, summaries, training
from dvae_sharp.dvae.runner.errors import RunError

IMAGE_SEED_STREAM, DIAGNOSTICS_SEED_STREAM = 1 << 21, 1 << 20  # stateless seeds of their own: [seed, stream + step]


def image_summaries(run):
    x = run.dataset.valid[:100].astype(np.float32)
    seed = tf.constant([run.config.seed, IMAGE_SEED_STREAM + run.trainer.step], tf.int64)
    recon = run.model.reconstruction_means(tf.constant(x), seed).numpy()
    stacked = np.concatenate([summaries.image_grid(x), summaries.image_grid(recon)], axis=1)
    generated = summaries.image_grid(run.model.prior_sample_means(100).numpy())
    return dict(zip(summaries.IMAGE_TAGS, (stacked, generated)))


def prior_diagnostics(run):
    """σ_max(W) and the mean-field fixed-point distance on the first 100 validation images (own random seed)."""
    x = tf.constant(run.dataset.valid[:100].astype(np.float32))
    seed = tf.constant([run.config.seed, DIAGNOSTICS_SEED_STREAM], tf.int64)
    return run.model.prior_diagnostics(x, seed)


def _estimate_log_z(run):
    config = run.config
    seed = run.trainer.rng.make_seeds(1)[:, 0]
    estimate = run.model.rbm.estimate_log_z(config.ais_num_betas, config.ais_num_chains, seed)
    print(f"Estimated log partition function with AIS: {float(estimate.log_z):.4f} ± {float(estimate.stderr):.4f}",
          flush=True)
    if estimate.collapsed:
        print(f"warning: the AIS weights rest on {float(estimate.effective_chains):.1f} of {config.ais_num_chains} "
              f"chains, so log Z and its standard error are unreliable; raise --ais_num_betas", flush=True)
    return {"ais": float(estimate.log_z), "ais_stderr": float(estimate.stderr)}


def _evaluate_splits(run, evaluator, test_samples, check_stop):
    """Validation and test bounds, and the test NLL's Monte-Carlo standard error."""
    config, rng = run.config, run.trainer.rng
    val = evaluator.evaluate(run.dataset.valid, config.eval_batchsize, config.val_iw_samples, rng, check_stop)
    test = evaluator.evaluate(run.dataset.test, config.eval_batchsize, test_samples, rng, check_stop)
    metrics = {"val/neg_elbo": val["neg_elbo"], "test/neg_elbo": test["neg_elbo"],
               "val/neg_ll": val["neg_ll"], "test/neg_ll": test["neg_ll"]}
    return metrics, test["neg_ll_mc_stderr"]


def periodic_evaluation(run, writer, evaluator, check_stop):
    """AIS, then validation and test with k = val_iw_samples; saves the best-validation model (§10.3). Its
    TensorBoard values are written together at the end."""
    trainer = run.trainer
    log_z = _estimate_log_z(run)
    metrics, _ = _evaluate_splits(run, evaluator, run.config.val_iw_samples, check_stop)
    print(f"Step {trainer.step}: val ELBO = {metrics['val/neg_elbo']:.3f} test ELBO = {metrics['test/neg_elbo']:.3f}"
          f", val NLL = {metrics['val/neg_ll']:.3f}, test NLL = {metrics['test/neg_ll']:.3f}", flush=True)
    if metrics["val/neg_ll"] < float(trainer.best_val_nll):
        try:
            trainer.save_best(metrics["val/neg_ll"])
        except training.CheckpointError as error:
            raise RunError(str(error)) from None
    values = summaries.evaluation_scalars(metrics, log_z)
    writer.scalars(values, step=trainer.step)
    _record_evaluation(run, {"step": trainer.step, **values})


def _record_evaluation(run, entry):
    """Adds one periodic evaluation to `evaluations.json` (replacing an earlier one of the same step, which a
    resumed run redoes with the same numbers)."""
    path = run.run_dir / run_files.EVALUATIONS_FILE
    try:
        history = run_files.read_evaluations(run.run_dir)
        history = sorted([e for e in history if e.get("step") != entry["step"]] + [entry], key=lambda e: e["step"])
        run_files.write_json(path, {"evaluations": history})
    except run_files.RunFileError as error:
        raise RunError(str(error)) from None


def final_evaluation(run, writer, evaluator, stop):
    """Restores the best-validation model, re-runs AIS, tests with `eval_iw_samples` samples (§10.3). Its values
    go to TensorBoard under `final/` at the last step, apart from the periodic curves. A stop during it leaves the
    latest checkpoint as it is: the resumed run redoes the final evaluation from the start."""
    config, trainer = run.config, run.trainer
    train_seconds, final_step = float(trainer.wall_time), trainer.step
    started = time.perf_counter()
    _restore_best(run)
    best_step = int(trainer.best_step)
    try:
        log_z = _estimate_log_z(run)
        metrics, test_stderr = _evaluate_splits(run, evaluator, config.eval_iw_samples, stop.check)
    except interrupts.StopRequested as request:
        interrupts.raise_interrupted(request.signum, "during the final evaluation; the latest checkpoint is complete")
    diagnostics = summaries.diagnostics_scalars(prior_diagnostics(run))
    results = {"metrics": metrics, "test_neg_ll_mc_stderr": test_stderr, "best_step": best_step,
               "final_step": final_step, "log_z": log_z["ais"], "log_z_stderr": log_z["ais_stderr"],
               "diagnostics": diagnostics, "train_seconds": train_seconds,
               "final_eval_seconds": time.perf_counter() - started, "config": config.to_dict(),
               "versions": provenance.versions(), "provenance": provenance.provenance()}
    final = summaries.evaluation_scalars({**metrics, **diagnostics}, log_z, prefix="final/")
    if test_stderr is not None:
        final["final/test_neg_ll_mc_stderr"] = test_stderr
    writer.scalars(final, step=config.num_train_iter)
    try:
        run_files.write_json(run.run_dir / run_files.RESULTS_FILE, results)
    except run_files.RunFileError as error:
        raise RunError(f"{error}; re-run the same command to redo the final evaluation") from None
    print(f"Final (best step {best_step}, {config.eval_iw_samples} samples): test NLL = "
          f"{metrics['test/neg_ll']:.3f}{_plus_minus(test_stderr)}, val NLL = "
          f"{metrics['val/neg_ll']:.3f}", flush=True)
    return results


def _restore_best(run):
    """The final test is of the best-validation model, or there is none: RunError (one line) when it is missing
    or cannot be read."""
    try:
        restored = run.trainer.restore_best()
    except training.CheckpointError as error:
        raise RunError(str(error)) from None
    if not restored:
        raise RunError(f"{run.run_dir / run_files.BEST_DIR} holds no best-model checkpoint for the final test (no "
                       f"periodic evaluation gave a finite validation NLL); move {run.run_dir} away to train this "
                       f"run again")


def _plus_minus(stderr):
    return "" if stderr is None else f" ± {stderr:.3f} (Monte-Carlo)"

