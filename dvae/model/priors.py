"""Boltzmann priors: the discrete RBM and its two DVAE# relaxations (protocol §6).

The RBM is bipartite over z = [z⁽¹⁾; z⁽²⁾] (left = first half of the latent vector):
    −E(z) = b₁ᵀz⁽¹⁾ + b₂ᵀz⁽²⁾ + z⁽¹⁾ᵀ W z⁽²⁾,   p(z) = e^{−E(z)} / Z,
with b₁, b₂, W initialised to zero (uniform prior, log Z = n ln 2).
"""
import math

import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.configs import paper


def make_sampler(config, side, sweeps_per_temperature=paper.PA_SWEEPS_PER_TEMPERATURE, uniform_bits=16):
    """The RBM sampler that `config.sampler` names: population annealing ("pa") with K =
    temperatures_for(sweeps, sweeps_per_temperature) reweight-resample steps per training step (4 temperatures ×
    10 sweeps at the paper's 40; docs/DEVIATIONS.md item 19), or PCD ("pcd"). Their Gibbs sweeps draw 16-bit
    uniforms (`uniform_bits=32`: float32 uniforms, as the original; item 21)."""
    sizes = dict(left_size=side, right_size=side, num_sweeps=config.sampler_sweeps, seed=config.seed + 1,
                 uniform_bits=uniform_bits)
    if config.sampler == "pcd":
        return samplers.PersistentContrastiveDivergence(num_chains=config.sampler_chains, **sizes)
    temperatures = samplers.temperatures_for(config.sampler_sweeps, sweeps_per_temperature)
    return samplers.PopulationAnnealing(num_particles=config.sampler_chains, num_temperatures=temperatures, **sizes)


def fresh_sampler(side, num_samples, num_sweeps, sweeps_per_temperature=paper.PA_SWEEPS_PER_TEMPERATURE):
    """Population annealing that draws `num_samples` states afresh at each `update`: uniform particles annealed
    from the zero RBM to the given one in `num_sweeps` block-Gibbs sweeps (persistent=False), for samples of a
    trained prior outside training."""
    return samplers.PopulationAnnealing(side, side, num_particles=num_samples, num_sweeps=num_sweeps,
                                        persistent=False,
                                        num_temperatures=samplers.temperatures_for(num_sweeps, sweeps_per_temperature))


class RBMPrior(tf.Module):
    """The discrete RBM prior, its sampler (PCD or population annealing) and its evaluation log Z.

    `training_log_z(seed)` advances the sampler once and returns the surrogate of protocol §6.2. `log_z` holds
    the latest AIS estimate, used by the evaluation's log p(z) = −E(z) − log Ẑ and as the training value.
    """

    def __init__(self, left_size, right_size, sampler, name="rbm"):
        super().__init__(name=name)
        self.left_size, self.right_size = left_size, right_size
        self.b1 = tf.Variable(tf.zeros([left_size]), name="b1")
        self.b2 = tf.Variable(tf.zeros([right_size]), name="b2")
        self.w = tf.Variable(tf.zeros([left_size, right_size]), name="w")
        self.sampler = sampler
        initial = (left_size + right_size) * math.log(2.0)
        self.log_z = tf.Variable(initial, trainable=False, name="eval_log_z")
        self.log_z_stderr = tf.Variable(0.0, trainable=False, name="eval_log_z_stderr")

    def split(self, z):
        """(z⁽¹⁾, z⁽²⁾), the left and right halves of the last axis, by one `tf.split`. Its gradient is one concat;
        two slices `z[..., :n1]`, `z[..., n1:]` have the same values but a gradient of two zero-padded
        `StridedSliceGrad`s and their sum (x + 0 = x, so the same numbers), 3 % of a k = 5 training step."""
        return tuple(tf.split(z, [self.left_size, self.right_size], axis=-1))

    def neg_energy(self, z):
        z1, z2 = self.split(z)
        return samplers.neg_energy(z1, z2, self.b1, self.b2, self.w)

    def training_log_z(self, seed):
        """Advances the sampler once; value: the latest AIS estimate (n ln 2 before the first), as the original's
        PCD path; gradient: the sampler's negative phase E_samples[∇(−E)] ≈ ∇ log Z (protocol §6.2)."""
        surrogate = self.sampler.training_log_z(self.b1, self.b2, self.w, seed)
        return surrogate - tf.stop_gradient(surrogate) + self.log_z

    def samples(self):
        """The sampler's current particles [S, n] (after the latest update)."""
        return tf.stop_gradient(self.sampler.samples)

    def discrete_log_prob(self, z):
        """log p(z) = −E(z) − log Ẑ_AIS (evaluation; stop-gradient, protocol §6.5)."""
        return tf.stop_gradient(self.neg_energy(z) - self.log_z)

    def estimate_log_z(self, num_betas, num_chains, seed):
        """Runs AIS, stores the estimate for evaluation and as the sampler's log Z value (protocol §6.5); returns
        the samplers.AISEstimate."""
        estimate = samplers.ais_estimate(self.b1, self.b2, self.w, num_betas=num_betas, num_chains=num_chains,
                                         seed=seed)
        log_z = tf.cast(estimate.log_z, tf.float32)
        self.log_z.assign(log_z)
        self.log_z_stderr.assign(tf.cast(estimate.stderr, tf.float32))
        self.sampler.restart_log_z(log_z)
        return estimate

    def decayed_variables(self):
        return [self.w]

    def max_singular_value(self):
        """σ_max(W), the largest singular value of the couplings (a diagnostic; no gradient)."""
        return tf.linalg.svd(tf.stop_gradient(self.w), compute_uv=False)[0]


class MeanFieldMarginalPrior(tf.Module):
    """DVAE# relaxed prior for an overlapping smoothing r(ζ|z) (protocol §6.8, DVAE# §4).

    With b(ζ) = log r(ζ|1) − log r(ζ|0) and c(ζ) = log r(ζ|0), p(ζ) = Z(ζ)/Z where Z(ζ) is the partition function
    of the RBM with biases b + b(ζ) plus the constant Σᵢ cᵢ(ζ). log Z(ζ) is approximated by 5 mean-field
    iterations from m = ½: log Z_MF = −E_aug(m, ζ) + H(m). The value is log Z_MF(ζ) − log Ẑ; the gradient is
    that of −E_aug(sg(m), ζ) − log Ẑ (envelope theorem; the entropy of m carries none).
    """

    def __init__(self, rbm, kernel, iterations=paper.MEAN_FIELD_ITERATIONS, name="marginal_prior"):
        super().__init__(name=name)
        self.rbm, self.kernel, self.iterations = rbm, kernel, iterations

    def mean_field(self, a1, a2):
        """Fixed-point iterations m₂ ← σ(m₁W + a₂), m₁ ← σ(m₂Wᵀ + a₁), stopped after each update."""
        w = tf.stop_gradient(self.rbm.w)
        m1 = tf.fill(tf.shape(a1), 0.5)
        m2 = tf.fill(tf.shape(a2), 0.5)
        for _ in range(self.iterations):
            m2 = tf.stop_gradient(tf.sigmoid(tf.matmul(m1, w) + a2))
            m1 = tf.stop_gradient(tf.sigmoid(tf.matmul(m2, w, transpose_b=True) + a1))
        return m1, m2

    def log_prob(self, zeta, log_z_hat, log_ratio=None, log_pdf=None):
        """log p(ζ) per row of zeta [R, n]; `log_z_hat` is the RBM's training log Z surrogate; `log_ratio` and
        `log_pdf`, b(ζ) and log r0(ζ), when the caller has them already."""
        rbm = self.rbm
        log_ratio = self.kernel.log_ratio(zeta) if log_ratio is None else log_ratio
        log_pdf = self.kernel.log_pdf(zeta) if log_pdf is None else log_pdf
        bias1, bias2 = rbm.split(log_ratio)
        a1, a2 = rbm.b1 + bias1, rbm.b2 + bias2
        m1, m2 = self.mean_field(tf.stop_gradient(a1), tf.stop_gradient(a2))
        neg_energy_aug = (tf.reduce_sum(a1 * m1, -1) + tf.reduce_sum(a2 * m2, -1)
                          + tf.reduce_sum(tf.matmul(m1, rbm.w) * m2, -1)
                          + tf.reduce_sum(log_pdf, -1))
        return neg_energy_aug + tf.stop_gradient(_bernoulli_entropy(m1) + _bernoulli_entropy(m2)) - log_z_hat

    def fixed_point_diagnostics(self, zeta, max_iterations=2000, tolerance=1e-7):
        """How far the prior's `iterations` mean-field updates are from their fixed point, per row of zeta, in
        float64: `residual` = ‖m(T+1) − m(T)‖_∞ (one more update), `log_z_gap` = log Z_MF(m*) − log Z_MF(m(T))
        ≥ 0, where m* is the fixed point reached by iterating until the residual is below `tolerance` and
        log Z_MF(m) = a₁ᵀm₁ + a₂ᵀm₂ + m₁ᵀWm₂ + H(m₁) + H(m₂). The envelope-theorem gradient of `log_prob` assumes
        both are zero. Returns the maximum and mean over rows of each."""
        rbm = self.rbm
        w = tf.cast(rbm.w, tf.float64)
        bias1, bias2 = rbm.split(tf.cast(self.kernel.log_ratio(zeta), tf.float64))
        a1, a2 = tf.cast(rbm.b1, tf.float64) + bias1, tf.cast(rbm.b2, tf.float64) + bias2

        def update(m1):
            m2 = tf.sigmoid(tf.matmul(m1, w) + a2)
            return tf.sigmoid(tf.matmul(m2, w, transpose_b=True) + a1), m2

        def log_z_mf(m1, m2):
            return (tf.reduce_sum(a1 * m1, -1) + tf.reduce_sum(a2 * m2, -1)
                    + tf.reduce_sum(tf.matmul(m1, w) * m2, -1) + _bernoulli_entropy(m1) + _bernoulli_entropy(m2))

        m1 = tf.fill(tf.shape(a1), tf.constant(0.5, tf.float64))
        for _ in range(self.iterations):
            m1, m2 = update(m1)
        next_m1, next_m2 = update(m1)
        residual = tf.maximum(tf.reduce_max(tf.abs(next_m1 - m1), -1), tf.reduce_max(tf.abs(next_m2 - m2), -1))
        at_t = log_z_mf(m1, m2)
        fixed1, fixed2 = next_m1, next_m2
        for _ in range(max_iterations):
            new1, new2 = update(fixed1)
            change = tf.reduce_max(tf.abs(new1 - fixed1))
            fixed1, fixed2 = new1, new2
            if change < tolerance:
                break
        gap = log_z_mf(fixed1, fixed2) - at_t
        return {"mean_field/residual_max": tf.reduce_max(residual),
                "mean_field/residual_mean": tf.reduce_mean(residual),
                "mean_field/log_z_gap_max": tf.reduce_max(gap), "mean_field/log_z_gap_mean": tf.reduce_mean(gap)}


def _bernoulli_entropy(m):
    m = tf.clip_by_value(m, 1e-7, 1.0 - 1e-7)
    return -tf.reduce_sum(m * tf.math.log(m) + (1.0 - m) * tf.math.log1p(-m), -1)


class GaussianIntegralPrior(tf.Module):
    """DVAE# Gaussian-integral relaxation of the RBM (protocol §6.9, DVAE# §5).

    With a = [b₁; b₂], 𝐖 = [[0, W], [Wᵀ, 0]] and A = 𝐖 + λI (positive definite for λ > σ_max(W)):
        log p(ζ) = −log Z + ½ log det A − (n/2) log 2π − ½ ζᵀAζ + Σᵢ softplus((Aζ)ᵢ + aᵢ − λ/2),
    where det A = λⁿ det(I − WᵀW/λ²). λ = max(σ_max(W) + 5, β) is a non-trainable value recomputed from the
    current couplings with stop-gradient (`refresh_lambda`), never a trainable cache (§12 item 5).
    """

    def __init__(self, rbm, beta, eigenvalue_margin=paper.GI_EIGENVALUE_MARGIN, name="gaussian_integral_prior"):
        super().__init__(name=name)
        self.rbm, self.beta, self.eigenvalue_margin = rbm, float(beta), eigenvalue_margin
        self.lam = tf.Variable(self.beta, trainable=False, name="lambda")
        self.max_singular_value = tf.Variable(0.0, trainable=False, name="max_singular_value")

    def refresh_lambda(self):
        largest = self.rbm.max_singular_value()
        self.max_singular_value.assign(largest)
        self.lam.assign(tf.maximum(largest + self.eigenvalue_margin, self.beta))

    def log_prob(self, zeta, log_z_hat):
        rbm, lam = self.rbm, tf.stop_gradient(self.lam)
        n = rbm.left_size + rbm.right_size
        zeta1, zeta2 = rbm.split(zeta)
        w_zeta2 = tf.matmul(zeta2, rbm.w, transpose_b=True)
        wt_zeta1 = tf.matmul(zeta1, rbm.w)
        a_zeta = lam * zeta + tf.concat([w_zeta2, wt_zeta1], axis=-1)
        quadratic = lam * tf.reduce_sum(tf.square(zeta), -1) + 2.0 * tf.reduce_sum(wt_zeta1 * zeta2, -1)
        schur = tf.eye(rbm.right_size) - tf.matmul(rbm.w, rbm.w, transpose_a=True) / tf.square(lam)
        log_det_schur = 2.0 * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(tf.linalg.cholesky(schur)) + 1e-20))
        normaliser = -0.5 * n * tf.math.log(2.0 * math.pi / lam) + 0.5 * log_det_schur
        bias = tf.concat([rbm.b1, rbm.b2], axis=0)
        return (normaliser - 0.5 * quadratic + tf.reduce_sum(tf.nn.softplus(a_zeta + bias - 0.5 * lam), -1)
                - log_z_hat)

