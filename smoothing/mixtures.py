"""Relaxed posteriors q(ζ | x) built from a smoothing kernel (protocol §5.1 and §5.6).

Both classes take encoder logits l of any shape [..., n]; each entry is one latent unit with q = σ(l).
"""
import math

import tensorflow as tf

from smoothing.implicit import with_implicit_gradients


class OverlappingMixture:
    """Overlapping mixture (1 − q) r0(ζ) + q r1(ζ), r1(ζ) = r0(1 − ζ) (DVAE++ and DVAE# papers; protocol §5.1).

    CDF: F(ζ; q) = (1 − q) R0(ζ) + q R1(ζ) with R1(ζ) = 1 − R0(1 − ζ).
    Sampling is ancestral: z = 1[u < q] with u ~ U[0, 1), ζ0 ~ r0 from the kernel's sampler, ζ = ζ0 if z = 0 else
    1 − ζ0. The returned ζ carries the implicit gradient at fixed F (no clipping of q, no gradient to β)
        ∂ζ/∂q = (R0(ζ) − R1(ζ)) / ((1 − q) r0(ζ) + q r1(ζ)),
    which reaches the logits through q = σ(l).
    `log_prob` is the per-unit log((1 − q) r0(ζ) + q r0(1 − ζ)) taken directly from the pdfs, as the original,
    differentiable in ζ and in the logits; it is not summed over units.
    """

    def __init__(self, kernel, logits):
        self.kernel = kernel
        self.logits = tf.convert_to_tensor(logits)

    @property
    def probs(self):
        return tf.sigmoid(self.logits)

    def _weights(self):
        """(1 − q, q), with 1 − q computed as σ(−l) so that it keeps its precision for large logits."""
        return tf.sigmoid(-self.logits), tf.sigmoid(self.logits)

    def pdf(self, zeta):
        off, on = self._weights()
        return off * self.kernel.pdf(zeta) + on * self.kernel.pdf(1.0 - zeta)

    def cdf(self, zeta):
        off, on = self._weights()
        return off * self.kernel.cdf(zeta) + on * (1.0 - self.kernel.cdf(1.0 - zeta))

    def log_prob(self, zeta):
        return tf.math.log(self.pdf(zeta))

    def log_ratio(self, zeta):
        return self.kernel.log_ratio(zeta)

    def sample(self, seed):
        """ζ of the logits' shape; `seed` is a shape-[2] int32 tensor, split into selector and kernel seeds."""
        select_seed, kernel_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        shape = tf.shape(self.logits)
        u_select = tf.random.stateless_uniform(shape, seed=select_seed, dtype=self.logits.dtype)
        zeta0 = self.kernel.sample(shape, kernel_seed, dtype=self.logits.dtype)
        return self._relaxed_sample(u_select, zeta0)

    def sample_from_uniform(self, u_select, u_kernel):
        """ζ as a pure function of its noise: `u_select` of the logits' shape, `u_kernel` of shape
        logits.shape + kernel.noise_shape, both in [0, 1)."""
        return self._relaxed_sample(u_select, self.kernel.sample_from_uniform(u_kernel))

    def _relaxed_sample(self, u_select, zeta0):
        off, on = self._weights()
        zeta = tf.where(u_select < on, 1.0 - zeta0, zeta0)
        kernel = self.kernel
        cdf_difference = kernel.cdf(zeta) - (1.0 - kernel.cdf(1.0 - zeta))
        density = on * kernel.pdf(1.0 - zeta) + off * kernel.pdf(zeta)
        return with_implicit_gradients(zeta, [(cdf_difference / density, on)])


class SpikeAndExponential:
    """Spike-and-exponential relaxation of Rolfe's DVAE (Rolfe's DVAE paper; protocol §5.6).

    r(ζ | z = 0) = δ(ζ),   r(ζ | z = 1) = β e^(βζ) / (e^β − 1) on [0, 1],   R1(ζ) = (e^(βζ) − 1) / (e^β − 1).
    Mixture CDF: F(ζ) = (1 − q) 1[ζ ≥ 0] + q R1(ζ) on [0, 1].
    Sampling inverts F analytically with q clipped to [1e-7, 1 − 1e-7] (sampler only): for ρ ~ U[0, 1),
        ζ = log(1 + (e^β − 1) ρ′) / β with ρ′ = 1 − (1 − ρ) / q if ρ > 1 − q, else ζ = 0,
    differentiable in q through ρ′ (the hard mask carries no gradient). ρ′ is written 1 − (1 − ρ)/q rather than
    (ρ + q − 1)/q: for small q and ρ near 1, ρ + q rounds in float32 (logit −15, ρ = 1 − 2⁻²³ gave ζ = 0.939
    instead of 0.879), while 1 − ρ is exact there. The log-ratio is identically zero.
    """

    def __init__(self, beta, logits):
        self.beta = float(beta)
        if not self.beta > 0.0:
            raise ValueError(f"beta must be positive, got {self.beta}")
        self.logits = tf.convert_to_tensor(logits)
        self._expm1_beta = math.expm1(self.beta)

    @property
    def probs(self):
        return tf.sigmoid(self.logits)

    def cdf(self, zeta):
        on = self.probs
        inside = tf.clip_by_value(zeta, 0.0, 1.0)
        continuous = on * tf.math.expm1(self.beta * inside) / self._expm1_beta
        return tf.where(zeta < 0.0, tf.zeros_like(continuous), (1.0 - on) + continuous)

    def log_ratio(self, zeta):
        return tf.zeros_like(zeta)

    def sample(self, seed):
        """ζ of the logits' shape; `seed` is a shape-[2] int32 tensor."""
        u = tf.random.stateless_uniform(tf.shape(self.logits), seed=seed, dtype=self.logits.dtype)
        return self.sample_from_uniform(u)

    def sample_from_uniform(self, u):
        """ζ = F⁻¹(u) for `u` of the logits' shape in [0, 1)."""
        on = tf.clip_by_value(self.probs, 1e-7, 1.0 - 1e-7)
        continuous = u > 1.0 - on
        rescaled = tf.where(continuous, 1.0 - (1.0 - u) / on, tf.ones_like(u))
        zeta = tf.math.log1p(self._expm1_beta * rescaled) / self.beta
        return tf.where(continuous, zeta, tf.zeros_like(zeta))
