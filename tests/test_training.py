"""The training loop's safety nets: a non-finite loss stops the run and leaves the last good checkpoint."""
import pytest
import tensorflow as tf

import configs
from dvae import experiment

SMALL = dict(struct="1-layer-lin", baseline="dvaes_power", num_train_iter=60, eval_every=60, sampler_chains=8,
             sampler_sweeps=1, ais_num_betas=10, ais_num_chains=8, val_iw_samples=1, eval_iw_samples=1,
             eval_batchsize=10000)


def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path, mnist_dir):
    config = configs.make_config(**SMALL)
    run = experiment.prepare(config, log_dir=tmp_path, data_dir=str(mnist_dir), summary_every=20)
    compiled = run.trainer.train_step

    def poisoned_step(x):
        loss, values = compiled(x)
        return (tf.constant(float("nan")) if run.trainer.step == 45 else loss), values
    run.trainer.train_step = poisoned_step
    with pytest.raises(SystemExit) as stop:
        experiment.train_and_evaluate(run)
    assert "at step 44" in str(stop.value) and "latest-40" in str(stop.value)
    checkpoints = sorted(p.name for p in (tmp_path / config.experiment_id / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint", "latest-40.data-00000-of-00001", "latest-40.index"]
    assert not (tmp_path / config.experiment_id / "results.json").exists()
