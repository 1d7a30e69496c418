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

from dvae_sharp.samplers.rbm import gibbs_sweep_from_right_logits, right_given_left_logits, sample_bernoulli
from dvae_sharp.samplers.sampler import RBMSampler


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

        One tf.while_loop runs all `num_sweeps` sweeps (on CPU a loop nested per temperature cost more). The sweep
        that opens temperature k reweights and resamples first, then draws z2 from the resampled logits at θ_k.
        Persistent: one matmul z1 [w_{k-1}, w_k - w_{k-1}] plus the matching biases gives the right-side logits at
        θ_{k-1} and their change, so log w_s is exactly zero when θ_k = θ_{k-1}. Re-anneal: θ_j = (j/K) θ_to, so
        one matmul z1 w_to + b2_to gives both logits up to a factor.
        """
        reanneal = start is None
        start = [tf.zeros_like(p) for p in target] if reanneal else [tf.convert_to_tensor(p) for p in start]
        delta = [t - s for s, t in zip(start, target)]
        spt, right = self.sweeps_per_temperature, self.right_size
        log_num = tf.math.log(tf.cast(self.num_particles, tf.float64))
        seed_resample, seed_sweeps = tf.unstack(tf.random.experimental.stateless_split(seed, 2))

        def reweight_resample(t, z1, log_z, b1_prev, b2_prev, w_prev):
            k = t // spt + 1
            step_prev, step = (tf.cast(j, self.dtype) / self.num_temperatures for j in (k - 1, k))
            b1, b2, w = (p + step * d for p, d in zip(start, delta))
            if reanneal:  # θ_j = (j/K) θ_to: the logits at θ_{k-1} and θ_k are multiples of z1 w_to + b2_to
                logits_to = right_given_left_logits(z1, target[1], target[2])
                logits_prev, logits = step_prev * logits_to, step * logits_to
            else:
                logits_prev, logits_change = tf.split(tf.nn.bias_add(
                    tf.matmul(z1, tf.concat([w_prev, w - w_prev], 1)), tf.concat([b2_prev, b2 - b2_prev], 0)), 2, 1)
                logits = logits_prev + logits_change
            log_weights = (tf.linalg.matvec(z1, b1 - b1_prev)
                           + tf.reduce_sum(tf.nn.softplus(logits) - tf.nn.softplus(logits_prev), -1))
            log_z += tf.reduce_logsumexp(tf.cast(log_weights, tf.float64)) - log_num
            ancestors = systematic_resampling_indices(
                log_weights, tf.random.experimental.stateless_fold_in(seed_resample, k))
            return tf.gather(logits, ancestors), log_z, b1, b2, w

        def sweep(t, z1, z2, log_z, b1, b2, w):
            right_logits, log_z, b1, b2, w = tf.cond(
                t % spt == 0, lambda: reweight_resample(t, z1, log_z, b1, b2, w),
                lambda: (right_given_left_logits(z1, b2, w), log_z, b1, b2, w))
            z1, z2 = gibbs_sweep_from_right_logits(right_logits, b1, w,
                                                   tf.random.experimental.stateless_fold_in(seed_sweeps, t),
                                                   self.uniform_bits)
            return t + 1, z1, z2, log_z, b1, b2, w

        z2 = tf.zeros([self.num_particles, right], self.dtype)
        _, z1, z2, log_z, *_ = tf.while_loop(lambda t, *_: t < self.num_sweeps, sweep,
                                             (tf.constant(0), z1, z2, log_z, *start))
        return z1, z2, log_z
