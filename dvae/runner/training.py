"""The trainer: one object owning the optimiser, the random stream and the checkpoints (protocol §9).

`step` is the optimiser's iteration counter. Two checkpoint managers share one `tf.train.Checkpoint`: the latest
state for resuming (model, optimiser slots, batch-norm statistics, sampler state, random stream, best validation
NLL, training wall time, and the step whose evaluation a stop interrupted, if any) and, kept apart, the
best-validation model used for the final test. Both record the run's configuration (`run_config`), and a
checkpoint whose configuration differs from the trainer's is never restored. A checkpoint is written into a
temporary directory and renamed, so a killed write leaves the previous checkpoint; such temporary directories are
removed on the next start.
"""
import json
import math
import pathlib
import shutil

import tensorflow as tf

from dvae_sharp.configs import paper
from dvae_sharp.dvae.runner import checkpoint_files, run_identity
from dvae_sharp.dvae.model import objectives
from dvae_sharp.dvae.runner.checkpoint_files import CheckpointError, first_line


def reproducible_graphs():
    """Turns TensorFlow's graph optimiser (Grappler) off for this process.

    With it on, the same run in two processes sometimes took different rounding paths (a training step's sampler
    log Z differing in its last bits by step 100, then diverging): 3 of 12 processes of one k = 5 configuration
    differed, whichever thread counts were set, while repeats inside one process agreed. With it off, 10 of 10
    processes agreed. The run's numbers then depend only on its seed and checkpoint, which exact resumption
    (docs/RELIABILITY.md) needs. Re-measured later (docs/benchmarks-train-step.md), 32 of 32 processes agreed with
    it on; it stays off because its arithmetic optimisation and constant folding change the numbers, which keeps
    runs comparable, at a cost of 1–3 % of the step. Must be called before the first function is traced.
    """
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


class FusedAdam(tf.keras.optimizers.Adam):
    """Keras Adam whose update is TensorFlow's fused `ResourceApplyAdam` kernel: one op per variable instead of
    about ten, with Keras Adam's slots (and so its checkpoint layout). At step t, with gradient g,

        m ← β1 m + (1 - β1) g,   v ← β2 v + (1 - β2) g²,   θ ← θ - lr √(1 - β2^t) / (1 - β1^t) · m / (√v + ε),

    the update of the original's `tf.train.AdamOptimizer(epsilon=1e-3)` (protocol §9).
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.constant(self.beta_1, dtype), tf.constant(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=tf.constant(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


class Trainer(tf.Module):
    def __init__(self, model, config, run_dir, adam_epsilon=paper.TRAINING.adam_epsilon):
        super().__init__(name="trainer")
        reproducible_graphs()
        self.model, self.config = model, config
        self.optimizer = FusedAdam(objectives.learning_rate_schedule(config), epsilon=adam_epsilon)
        self.variables_to_train = model.trainable_variables
        self.optimizer.build(self.variables_to_train)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.best_val_nll = tf.Variable(math.inf, trainable=False, dtype=tf.float64, name="best_val_nll")
        self.best_step = tf.Variable(-1, trainable=False, dtype=tf.int64, name="best_step")
        self.wall_time = tf.Variable(0.0, trainable=False, dtype=tf.float64, name="train_seconds")
        self.pending_eval_step = tf.Variable(-1, trainable=False, dtype=tf.int64, name="pending_eval_step")
        with tf.device("CPU:0"):
            self.run_config = tf.Variable(run_identity.config_text(config), trainable=False,
                                          name=checkpoint_files.CONFIG_VARIABLE)
        self._state = dict(model=model, optimizer=self.optimizer, rng=self.rng, best_val_nll=self.best_val_nll,
                           best_step=self.best_step, wall_time=self.wall_time)
        # Entries that checkpoints of earlier versions lack; a checkpoint is read with those it has.
        self._added_since = {"pending_eval_step": self.pending_eval_step,
                             checkpoint_files.CONFIG_VARIABLE: self.run_config}
        self.checkpoint = tf.train.Checkpoint(**self._state, **self._added_since)
        self.latest = tf.train.CheckpointManager(self.checkpoint, str(run_dir / "checkpoints"), max_to_keep=1,
                                                 checkpoint_name="latest")
        self.best = tf.train.CheckpointManager(self.checkpoint, str(run_dir / "best"), max_to_keep=1,
                                               checkpoint_name="best")
        signature = [tf.TensorSpec([config.train_batchsize, config.input_size], tf.float32)]
        self.train_step = tf.function(self._train_step, input_signature=signature, autograph=False)

    @property
    def step(self):
        return int(self.optimizer.iterations.numpy())

    def _train_step(self, x):
        kl_coeff = objectives.kl_warmup(self.optimizer.iterations, self.config.kl_warmup_steps)
        seed = self.rng.make_seeds(1)[:, 0]
        with tf.GradientTape() as tape:
            terms = self.model.training_terms(x, seed)
            loss, values = objectives.training_loss(terms, kl_coeff, self.config.k, self.config.use_iw)
        gradients = tape.gradient(loss, self.variables_to_train)
        self.optimizer.apply_gradients(
            [(g, v) for g, v in zip(gradients, self.variables_to_train) if g is not None])
        values["learning_rate"] = self.optimizer.learning_rate
        return loss, values

    def _restore(self, manager):
        """Restores the manager's checkpoint if there is one; returns its path or None. Raises CheckpointError if
        the checkpoint cannot be read or records another configuration."""
        path = manager.latest_checkpoint
        if path:
            try:
                self._checkpoint_for(path).restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, AssertionError, ValueError, IndexError, KeyError, OSError) as error:
                raise checkpoint_files.unreadable(path, error) from None
        return path

    def _checkpoint_for(self, path):
        """The checkpoint object matching the one at `path`, after checking the configuration it records.
        Checkpoints written before `pending_eval_step` existed mean that no evaluation is due."""
        try:
            names = tf.train.load_checkpoint(path).get_variable_to_shape_map()
        except (tf.errors.OpError, ValueError) as error:
            raise checkpoint_files.unreadable(path, error) from None
        if checkpoint_files.CONFIG_KEY in names:
            recorded = json.loads(tf.train.load_checkpoint(path).get_tensor(checkpoint_files.CONFIG_KEY))
            changed = run_identity.differences(recorded, self.config)
            if changed:
                raise CheckpointError(f"checkpoint {path} was trained with another configuration "
                                      f"({', '.join(changed)}); it is not restored")
        present = {key for key in self._added_since if checkpoint_files.variable_key(key) in names}
        if "pending_eval_step" not in present:
            self.pending_eval_step.assign(-1)
        if len(present) == len(self._added_since):
            return self.checkpoint
        return tf.train.Checkpoint(**self._state, **{key: self._added_since[key] for key in present})

    def restore_latest(self):
        return self._restore(self.latest)

    def restore_best(self):
        return self._restore(self.best)

    def save_latest(self, pending_eval=False):
        """Saves the state for resuming; `pending_eval`: this step's evaluation was interrupted and is still due."""
        self.pending_eval_step.assign(self.step if pending_eval else -1)
        return self._save(self.latest)

    def save_best(self, val_nll):
        self.best_val_nll.assign(val_nll)
        self.best_step.assign(self.step)
        return self._save(self.best)

    def _save(self, manager):
        try:
            return manager.save(checkpoint_number=self.step)
        except (tf.errors.OpError, OSError) as error:
            raise CheckpointError(f"cannot write a checkpoint to {manager.directory} ({first_line(error)}); "
                                  f"the previous checkpoint is kept") from None

    def remove_partial_checkpoints(self):
        """Deletes the temporary directories of checkpoint writes that were killed before they finished."""
        for manager in (self.latest, self.best):
            for temp in pathlib.Path(manager.directory).glob("*_temp"):
                shutil.rmtree(temp, ignore_errors=True)
