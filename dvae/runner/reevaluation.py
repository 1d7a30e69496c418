"""The final test of a finished run again, with other evaluation sizes (the paper's 4000 importance samples and AIS
with 1000 × 1024, say): restores the best-validation model and writes `reevaluation.json` beside results.json.

The random stream is seeded from the run's seed and the sizes, so the same call gives the same numbers.
"""
import pathlib
import time

import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp import data
from dvae_sharp.dvae.model import evaluation, discrete_vae as model_lib
from dvae_sharp.dvae.runner import provenance, run_files, training

class ReevaluationError(Exception):
    """A run that cannot be re-evaluated (not finished, no best model); one line."""


def reevaluate(run_dir, eval_iw_samples, ais_num_betas, ais_num_chains, data_dir=None):
    """Re-runs AIS and the test of the best model of the finished run in `run_dir`; returns the written values."""
    run_dir = pathlib.Path(run_dir)
    try:
        results = run_files.read_results(run_dir)
    except run_files.RunFileError as error:
        raise ReevaluationError(f"{run_dir} is not a finished run ({error})") from None
    config = configs.Config.from_dict(results["config"])
    started = time.perf_counter()
    with run_files.RunLock(run_dir):
        dataset = data.load_dataset(config.dataset, data_dir)
        model = model_lib.DiscreteVAE(config, dataset.train_mean)
        trainer = training.Trainer(model, config, run_dir)
        if not trainer.restore_best():
            raise ReevaluationError(f"{run_dir} has no best-model checkpoint in {run_dir / run_files.BEST_DIR}")
        seed = hash((config.seed, eval_iw_samples, ais_num_betas, ais_num_chains)) % (1 << 62)
        rng = tf.random.Generator.from_seed(seed)
        estimate = model.rbm.estimate_log_z(ais_num_betas, ais_num_chains, rng.make_seeds(1)[:, 0])
        test = evaluation.Evaluator(model).evaluate(dataset.test, config.eval_batchsize, eval_iw_samples, rng)
    values = {"metrics": {"test/neg_ll": test["neg_ll"], "test/neg_elbo": test["neg_elbo"]},
              "test_neg_ll_mc_stderr": test["neg_ll_mc_stderr"], "log_z": float(estimate.log_z),
              "log_z_stderr": float(estimate.stderr), "eval_iw_samples": eval_iw_samples,
              "ais_num_betas": ais_num_betas, "ais_num_chains": ais_num_chains, "best_step": int(trainer.best_step),
              "seconds": time.perf_counter() - started, "versions": provenance.versions(),
              "provenance": provenance.provenance()}
    run_files.write_json(run_dir / run_files.REEVALUATION_FILE, values)
    return values
