"""Population annealing for the RBM prior (protocol §6.3, §13; `--qupa=True`).

A population of S particles (left states z1; the right side is summed out analytically) is carried along a path of
K parameter sets θ_k = θ_from + (k/K)(θ_to - θ_from), k = 1..K, with the marginal log-density
F_θ(z1) = b1·z1 + Σ_j softplus(b2_j + (z1 w)_j). At each step

    log w_s = F_{θ_k}(z1_s) - F_{θ_{k-1}}(z1_s),        log Z_{θ_k} = log Z_{θ_{k-1}} + log mean_s exp(log w_s),

the particles are resampled systematically in proportion to exp(log w_s) (then shuffled, since systematic resampling
returns ancestors in sorted order), and `num_sweeps / K` block-Gibbs sweeps at θ_k follow.

Two modes (docs/benchmarks-samplers.md has the measurements behind the default):
* persistent (default): the population, its log Z and the previous parameters persist between calls (and in
  checkpoints); each call anneals from the previous parameters to the new ones. The first call starts from the zero
  RBM (uniform particles, log Z = n ln 2), i.e. a full anneal from β = 0. On slowly drifting RBM sequences it tracked
  log Z best and kept the moments accurate where PCD fell behind.
* re-anneal (`persistent=False`): every call starts afresh from uniform particles at θ_from = 0, i.e. inverse
  temperatures β_k = k/K of the target.
"""
import tensorflow as tf

from samplers.rbm import gibbs_chain, left_given_right_logits, sample_bernoulli
from samplers.sampler import RBMSampler


def systematic_resampling_indices(log_weights, seed):
    """Ancestor indices [S] drawn by systematic resampling from unnormalised `log_weights` [S], in random order.

    Offsets (i + u) / S, u ~ U(0, 1), are located in the cumulative normalised weights (float64), so particle s
    gets floor or ceil of S·w_s copies; a stateless shuffle then removes the sorted order.
    """
    seed_offset, seed_shuffle = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    num = tf.shape(log_weights)[0]
    cumulative = tf.cumsum(tf.nn.softmax(tf.cast(log_weights, tf.float64)))
    offset = tf.random.stateless_uniform([], seed_offset, dtype=tf.float64)
    positions = (tf.cast(tf.range(num), tf.float64) + offset) / tf.cast(num, tf.float64)
    indices = tf.minimum(tf.searchsorted(cumulative, positions, side="right"), num - 1)
    return tf.random.experimental.stateless_shuffle(indices, seed_shuffle)


def temperatures_for(num_sweeps, sweeps_per_temperature):
    """The number K of temperatures that gives each about `sweeps_per_temperature` sweeps: the largest divisor of
    `num_sweeps` with K · sweeps_per_temperature ≤ num_sweeps, or 1 (e.g. 40 sweeps, 5 per temperature: K = 8)."""
    return max(k for k in range(1, num_sweeps + 1)
               if num_sweeps % k == 0 and (k == 1 or k * sweeps_per_temperature <= num_sweeps))


class PopulationAnnealing(RBMSampler):
    """Population annealing with `num_particles` particles and `num_sweeps` block-Gibbs sweeps per `update`.

    `num_temperatures` (default `num_sweeps`, i.e. one sweep per temperature) is the number K of reweight-resample
    steps per call; it must divide `num_sweeps`; the training prior uses `temperatures_for(num_sweeps, 10)`.
    `persistent` selects the mode described in the module docstring; `uniform_bits` is described in
    `samplers.sampler`.
    """

    def __init__(self, left_size, right_size, num_particles=1000, num_sweeps=40, dtype=tf.float32, seed=0,
                 persistent=True, num_temperatures=None, uniform_bits=16):
        super().__init__(left_size, right_size, num_particles, num_sweeps, dtype, seed, name="population_annealing",
                         uniform_bits=uniform_bits)
        num_temperatures = num_sweeps if num_temperatures is None else num_temperatures
        if not isinstance(num_temperatures, int) or num_temperatures < 1 or num_sweeps % num_temperatures:
            raise ValueError(f"population_annealing: num_temperatures must be a positive divisor of num_sweeps "
                             f"({num_sweeps}), got {num_temperatures!r}")
        self.num_particles = num_particles
        self.num_temperatures = num_temperatures
        self.sweeps_per_temperature = num_sweeps // num_temperatures
        self.persistent = persistent
        if persistent:
            self.previous_b1 = tf.Variable(tf.zeros([left_size], self.dtype), trainable=False, name="previous_b1")
            self.previous_b2 = tf.Variable(tf.zeros([right_size], self.dtype), trainable=False, name="previous_b2")
            self.previous_w = tf.Variable(tf.zeros([left_size, right_size], self.dtype), trainable=False,
                                          name="previous_w")

    def _advance(self, b1, b2, w, seed):
        if self.persistent:
            start = (self.previous_b1, self.previous_b2, self.previous_w)
            z1 = self.samples[:, :self.left_size]
            log_z = tf.cast(self.log_z, tf.float64)
        else:
            start = None
            z1 = sample_bernoulli(tf.zeros([self.num_particles, self.left_size], self.dtype),
                                  tf.random.experimental.stateless_fold_in(seed, -1))
            log_z = tf.constant(self.uniform_log_z, tf.float64)
        z1, z2, log_z = self._anneal(z1, log_z, start, (b1, b2, w), seed)
        samples = tf.concat([z1, z2], axis=1)
        self.samples.assign(samples)
        self.log_z.assign(tf.cast(log_z, self.dtype))
        if self.persistent:
            for variable, value in zip(start, (b1, b2, w)):
                variable.assign(value)
        return samples

    def _anneal(self, z1, log_z, start, target, seed):
        """Anneals the population z1 from θ_from = `start` (None: the zero RBM) to `target`; returns (z1, z2, log Z).

        With θ_k = θ_from + s_k Δθ the right-side logits are A + s_k D, A = b2_from + z1 w_from (zero from the zero
        RBM) and D = Δb2 + z1 Δw, so both F_{θ_k} and F_{θ_{k-1}} and the first z2 draw share two matmuls.
        """
        b1, b2, w = target
        if start is not None:
            b1_from, b2_from, w_from = (tf.convert_to_tensor(v) for v in start)
            b1, b2, w = b1 - b1_from, b2 - b2_from, w - w_from
        steps = self.num_temperatures
        log_num = tf.math.log(tf.cast(self.num_particles, tf.float64))

        def step(k, z1, z2, log_z):
            seed_resample, seed_right, seed_left, seed_rest = tf.unstack(
                tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, k), 4))
            s_prev = tf.cast(k - 1, self.dtype) / steps
            s_now = tf.cast(k, self.dtype) / steps
            direction = tf.nn.bias_add(tf.matmul(z1, w), b2)
            logits_prev, logits_now = s_prev * direction, s_now * direction
            b1_now, w_now = s_now * b1, s_now * w
            if start is not None:
                anchor = tf.nn.bias_add(tf.matmul(z1, w_from), b2_from)
                logits_prev, logits_now = anchor + logits_prev, anchor + logits_now
                b1_now, w_now = b1_from + b1_now, w_from + w_now
            log_weights = ((s_now - s_prev) * tf.reduce_sum(z1 * b1, -1)
                           + tf.reduce_sum(tf.nn.softplus(logits_now) - tf.nn.softplus(logits_prev), -1))
            log_z += tf.reduce_logsumexp(tf.cast(log_weights, tf.float64)) - log_num
            ancestors = systematic_resampling_indices(log_weights, seed_resample)
            z2 = sample_bernoulli(tf.gather(logits_now, ancestors), seed_right, self.uniform_bits)
            z1 = sample_bernoulli(left_given_right_logits(z2, b1_now, w_now), seed_left, self.uniform_bits)
            if self.sweeps_per_temperature > 1:
                b2_now = s_now * b2 if start is None else b2_from + s_now * b2
                z1, z2 = gibbs_chain(z1, b1_now, b2_now, w_now, self.sweeps_per_temperature - 1, seed_rest,
                                     self.uniform_bits)
            return k + 1, z1, z2, log_z

        z2 = tf.zeros([self.num_particles, self.right_size], self.dtype)
        _, z1, z2, log_z = tf.while_loop(lambda k, *_: k <= steps, step, (tf.constant(1), z1, z2, log_z))
        return z1, z2, log_z
