"""The trainer: its fused Adam against the closed-form update, and the training loop's safety nets (a non-finite
loss stops the run and leaves the last good checkpoint)."""
import numpy as np
import pytest
import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp.dvae.runner import errors, experiment, run_files, training

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
    with pytest.raises(experiment.RunError) as stop:
        experiment.train_and_evaluate(run)
    run.close()
    assert "at step 44" in str(stop.value) and "latest-40" in str(stop.value)
    checkpoints = sorted(p.name for p in (tmp_path / config.experiment_id / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint", "latest-40.data-00000-of-00001", "latest-40.index"]
    assert not (tmp_path / config.experiment_id / "results.json").exists()


def test_fused_adam_follows_the_closed_form_adam_update_under_a_piecewise_schedule():
    """θ ← θ - lr_t √(1 - β2^t) / (1 - β1^t) · m / (√v + ε) with the moving moments m, v, in float64, for a
    rate that changes between steps."""
    rng = np.random.default_rng(3)
    shapes, steps, epsilon, beta_1, beta_2 = [(3, 4), (4,)], 6, 1e-3, 0.9, 0.999
    rates = tf.keras.optimizers.schedules.PiecewiseConstantDecay([2, 4], [3e-3, 1e-2, 1e-3])
    optimizer = training.FusedAdam(rates, epsilon=epsilon)
    variables = [tf.Variable(rng.normal(size=shape)) for shape in shapes]
    expected = [v.numpy() for v in variables]
    moments = [[np.zeros(shape), np.zeros(shape)] for shape in shapes]
    for t in range(1, steps + 1):
        gradients = [rng.normal(size=shape) for shape in shapes]
        optimizer.apply_gradients(zip([tf.constant(g) for g in gradients], variables))
        # The rate of step t is the schedule at t - 1 completed steps (boundaries inclusive), in float32.
        rate = float(np.float32([3e-3, 1e-2, 1e-3][(t - 1 > 2) + (t - 1 > 4)]))
        for value, (m, v), g in zip(expected, moments, gradients):
            m[:] = beta_1 * m + (1 - beta_1) * g
            v[:] = beta_2 * v + (1 - beta_2) * g ** 2
            value -= rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * m / (np.sqrt(v) + epsilon)
        for variable, value in zip(variables, expected):
            np.testing.assert_allclose(variable.numpy(), value, rtol=1e-12, atol=1e-14)


def test_fused_adam_restores_a_keras_adam_checkpoint(tmp_path):
    """Same slots, same checkpoint layout: a checkpoint written with Keras Adam restores into FusedAdam."""
    variables = [tf.Variable(tf.ones([3, 2])), tf.Variable(tf.ones([2]))]
    keras_adam = tf.keras.optimizers.Adam(1e-2, epsilon=1e-3)
    keras_adam.apply_gradients(zip([tf.fill([3, 2], 0.5), tf.fill([2], -2.0)], variables))
    path = tf.train.Checkpoint(optimizer=keras_adam, variables=variables).save(str(tmp_path / "ckpt"))
    fresh = [tf.Variable(tf.zeros([3, 2])), tf.Variable(tf.zeros([2]))]
    fused = training.FusedAdam(1e-2, epsilon=1e-3)
    fused.build(fresh)
    tf.train.Checkpoint(optimizer=fused, variables=fresh).restore(path).assert_consumed()
    assert [v.numpy().tolist() for v in fused.variables] == [v.numpy().tolist() for v in keras_adam.variables]


def test_checkpoint_of_an_earlier_version_without_pending_eval_step_restores_every_value(tmp_path, mnist_dir):
    """Checkpoints written before the trainer recorded an interrupted evaluation lack `pending_eval_step`: they
    restore completely (model, optimiser, random state, best step) with no evaluation due; a checkpoint that lacks
    anything else is still refused with one line."""
    config = configs.make_config(**SMALL)
    run = experiment.prepare(config, log_dir=tmp_path / "a", data_dir=str(mnist_dir), summary_every=20)
    trainer = run.trainer
    trainer.train_step(tf.zeros([config.train_batchsize, config.input_size]))
    trainer.best_step.assign(7)
    earlier = tf.train.Checkpoint(model=trainer.model, optimizer=trainer.optimizer, rng=trainer.rng,
                                  best_val_nll=trainer.best_val_nll, best_step=trainer.best_step,
                                  wall_time=trainer.wall_time)
    expected = [v.numpy().copy() for v in trainer.model.variables] + [trainer.rng.state.numpy().copy()]
    saved = lambda checkpoint, directory: tf.train.CheckpointManager(
        checkpoint, str(directory), max_to_keep=1, checkpoint_name="latest").save(checkpoint_number=1)
    saved(earlier, tmp_path / "b" / config.experiment_id / "checkpoints")
    tf.train.CheckpointManager(earlier, str(tmp_path / "b" / config.experiment_id / "best"), max_to_keep=1,
                               checkpoint_name="best").save(checkpoint_number=7)  # the best model it records
    saved(tf.train.Checkpoint(model=trainer.model), tmp_path / "c" / config.experiment_id / "checkpoints")
    for directory in ("b", "c"):  # earlier versions recorded the configuration in config.json only
        run_files.write_json(tmp_path / directory / config.experiment_id / "config.json", config.to_dict())
    run.close()
    fresh = experiment.prepare(config, log_dir=tmp_path / "b", data_dir=str(mnist_dir), summary_every=20).trainer
    restored = [v.numpy() for v in fresh.model.variables] + [fresh.rng.state.numpy()]
    assert all(np.array_equal(a, b) for a, b in zip(expected, restored))
    assert fresh.step == 1 and int(fresh.best_step.numpy()) == 7 and int(fresh.pending_eval_step.numpy()) == -1
    with pytest.raises(errors.SetupError, match="latest-1 cannot be read"):
        experiment.prepare(config, log_dir=tmp_path / "c", data_dir=str(mnist_dir), summary_every=20)
