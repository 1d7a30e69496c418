"""End to end on binarized MNIST: every baseline × struct × k trains 200 steps, logs the original tags and results."""
import json

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from dvae_sharp import configs
from dvae_sharp.dvae.runner import experiment

TINY = dict(num_train_iter=200, train_batchsize=20, eval_every=200, sampler_chains=16, sampler_sweeps=2,
            ais_num_betas=20, ais_num_chains=16, val_iw_samples=2, eval_iw_samples=3, eval_batchsize=5000)


def _tags(run_dir):
    accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0, "images": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    return set(tags["tensors"]) | set(tags["images"]) | set(tags["scalars"])


FAST_CASE = ("dvaes_power", "1-layer-lin", 1)  # the one end-to-end run of `make check`
CASES = [pytest.param(b, s, k, marks=() if (b, s, k) == FAST_CASE else pytest.mark.slow)
         for k in (1, 5) for s in configs.STRUCTS for b in configs.BASELINES]


@pytest.mark.parametrize("baseline, struct, k", CASES)
def test_every_configuration_trains_and_writes_events_and_results(baseline, struct, k, tmp_path, mnist_dir):
    config = configs.make_config(baseline=baseline, struct=struct, k=k, sampler="pa" if k == 1 else "pcd", **TINY)
    with experiment.prepare(config, log_dir=tmp_path, data_dir=str(mnist_dir), summary_every=100) as run:
        results = experiment.train_and_evaluate(run)
    run_dir = tmp_path / config.experiment_id
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["final_step"] == 200 and saved["config"] == config.to_dict()
    metrics = saved["metrics"]
    assert set(metrics) == {"val/neg_elbo", "test/neg_elbo", "val/neg_ll", "test/neg_ll"}
    assert all(np.isfinite(v) for v in metrics.values()) and results["metrics"] == metrics
    # The importance-weighted NLL of a model is at most its neg-ELBO on average (both are estimates; 3 samples).
    assert metrics["test/neg_ll"] <= metrics["test/neg_elbo"] + 1.0
    objective = "train/neg_iw_loss" if config.use_iw else "train/neg_elbo"
    expected = {objective, "obj/recon_loss", "obj/kl", "kl_coeff", "learning_rate", "beta", "val/neg_elbo",
                "val/neg_ll", "test/neg_elbo", "test/neg_ll", "recon", "generated_sample", "log_z/ais",
                "log_z/ais_stderr", "steps_per_second", "weigh decay/total", "diagnostics/rbm/max_singular_value",
                "final/test/neg_ll", "final/val/neg_ll", "final/log_z_ais", "final/test_neg_ll_mc_stderr"}
    if config.spec.prior == "marginal":
        expected |= {"diagnostics/mean_field/residual_max", "diagnostics/mean_field/log_z_gap_max"}
    assert expected <= _tags(run_dir)
    tf.keras.backend.clear_session()
