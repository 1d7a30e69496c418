"""Relaxed posteriors q(ζ | x) built from a smoothing kernel (protocol §5.1 and §5.6), as TFP distributions.

Both take encoder logits l of any shape [..., n]; each entry is one latent unit with q = σ(l) (batch shape [..., n],
scalar events; smoothing/distribution.py). `OverlappingPower`, `OverlappingExponential`,
`OverlappingUniformExponential` and `OverlappingGaussian` are `OverlappingMixture` with their kernel built from β.
"""
import math

import tensorflow as tf

from dvae_sharp.smoothing import kernels
from dvae_sharp.smoothing.distribution import UnitDistribution
from dvae_sharp.smoothing.implicit import with_implicit_gradients


class OverlappingMixture(UnitDistribution):
    """Overlapping mixture (1 − q) r0(ζ) + q r1(ζ), r1(ζ) = r0(1 − ζ) (DVAE++ and DVAE# papers; protocol §5.1).

    CDF: F(ζ; q) = (1 − q) R0(ζ) + q R1(ζ) with R1(ζ) = 1 − R0(1 − ζ).
    Sampling is ancestral: z = 1[u < q] with u ~ U[0, 1), ζ0 ~ r0 from the kernel's sampler, ζ = ζ0 if z = 0 else
    1 − ζ0. The sample carries the implicit gradient at fixed F (no clipping of q, no gradient to β)
        ∂ζ/∂q = (R0(ζ) − R1(ζ)) / ((1 − q) r0(ζ) + q r1(ζ)),
    which reaches the logits through q = σ(l) (fully reparameterised).
    `prob` is (1 − q) r0(ζ) + q r0(1 − ζ) and `log_prob` its logarithm, taken directly from the pdfs as the
    original, differentiable in ζ and in the logits; both are per unit. 1 − q is σ(−l) throughout, which keeps its
    precision for large logits.
    """

    def __init__(self, kernel, logits, validate_args=False, allow_nan_stats=True, name="OverlappingMixture",
                 parameters=None):
        parameters = dict(locals()) if parameters is None else parameters
        self.kernel = kernel
        super().__init__(logits, True, parameters, validate_args, allow_nan_stats, name)

    def _weights(self):
        """(1 − q, q), with 1 − q computed as σ(−l) so that it keeps its precision for large logits."""
        return tf.sigmoid(-self.logits), tf.sigmoid(self.logits)

    def _mixed(self, pdf, pdf_mirror):
        """(1 − q) r0(ζ) + q r0(1 − ζ) from r0(ζ) and r0(1 − ζ)."""
        off, on = self._weights()
        return off * pdf + on * pdf_mirror

    def _prob(self, zeta):
        return self._mixed(self.kernel.pdf(zeta), self.kernel.pdf(1.0 - zeta))

    def _log_prob(self, zeta):
        return tf.math.log(self._prob(zeta))

    def log_prob_from_terms(self, terms):
        """`log_prob` at the ζ of the kernel's `terms(ζ)` (kernels.KernelTerms): log((1 − q) r0(ζ) + q r0(1 − ζ)),
        for a caller that needs the kernel's other terms at ζ too."""
        return tf.math.log(self._mixed(terms.pdf, terms.pdf_mirror))

    def _cdf(self, zeta):
        off, on = self._weights()
        return off * self.kernel.cdf(zeta) + on * (1.0 - self.kernel.cdf(1.0 - zeta))

    def log_ratio(self, zeta):
        """b(ζ) = log r1(ζ) − log r0(ζ), the kernel's log-ratio."""
        return self.kernel.log_ratio(zeta)

    def _draw(self, shape, seed):
        """ζ of `shape`; the seed is split into selector and kernel seeds."""
        select_seed, kernel_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        u_select = tf.random.stateless_uniform(shape, seed=select_seed, dtype=self.dtype)
        zeta0 = self.kernel.sample(shape, kernel_seed, dtype=self.dtype)
        return self._relaxed_sample(u_select, zeta0)

    def sample_from_uniform(self, u_select, u_kernel):
        """ζ as a pure function of its noise: `u_select` of the logits' shape, `u_kernel` of shape
        logits.shape + kernel.noise_shape, both in [0, 1)."""
        return self._relaxed_sample(u_select, self.kernel.sample_from_uniform(u_kernel))

    def _relaxed_sample(self, u_select, zeta0):
        off, on = self._weights()
        zeta = tf.where(u_select < on, 1.0 - zeta0, zeta0)
        pdf0, cdf0 = self.kernel.pdf_and_cdf(zeta)
        pdf1, cdf1 = self.kernel.pdf_and_cdf(1.0 - zeta)
        cdf_difference = cdf0 - (1.0 - cdf1)  # R0(ζ) − R1(ζ)
        density = on * pdf1 + off * pdf0
        return with_implicit_gradients(zeta, [(cdf_difference / density, on)])


class OverlappingPower(OverlappingMixture):
    """The overlapping power-function mixture with β and the original's ε (kernels.PowerFunction)."""

    def __init__(self, logits, beta, eps=1e-7, validate_args=False, allow_nan_stats=True, name="OverlappingPower"):
        super().__init__(kernels.PowerFunction(beta, eps), logits, validate_args, allow_nan_stats, name,
                         parameters=dict(locals()))


class OverlappingExponential(OverlappingMixture):
    """The overlapping truncated-exponential mixture with rate β (kernels.TruncatedExponential)."""

    def __init__(self, logits, beta, validate_args=False, allow_nan_stats=True, name="OverlappingExponential"):
        super().__init__(kernels.TruncatedExponential(beta), logits, validate_args, allow_nan_stats, name,
                         parameters=dict(locals()))


class OverlappingUniformExponential(OverlappingMixture):
    """The overlapping uniform-plus-exponential mixture (kernels.UniformExponential; uniform weight 0.05)."""

    def __init__(self, logits, beta, uniform_weight=0.05, validate_args=False, allow_nan_stats=True,
                 name="OverlappingUniformExponential"):
        super().__init__(kernels.UniformExponential(beta, uniform_weight), logits, validate_args, allow_nan_stats,
                         name, parameters=dict(locals()))


class OverlappingGaussian(OverlappingMixture):
    """The overlapping Gaussian mixture with σ = β^(−1/2) (kernels.Gaussian)."""

    def __init__(self, logits, beta, validate_args=False, allow_nan_stats=True, name="OverlappingGaussian"):
        super().__init__(kernels.Gaussian(beta), logits, validate_args, allow_nan_stats, name,
                         parameters=dict(locals()))


class SpikeAndExponential(UnitDistribution):
    """Spike-and-exponential relaxation of Rolfe's DVAE (Rolfe's DVAE paper; protocol §5.6).

    r(ζ | z = 0) = δ(ζ),   r(ζ | z = 1) = β e^(βζ) / (e^β − 1) on [0, 1],   R1(ζ) = (e^(βζ) − 1) / (e^β − 1).
    Mixture CDF: F(ζ) = (1 − q) 1[ζ ≥ 0] + q R1(ζ) on [0, 1].
    The law has an atom at 0, so `prob` is its density with respect to δ₀ + Lebesgue measure on [0, 1]:
        p(0) = 1 − q,   p(ζ) = q β e^(βζ) / (e^β − 1) for 0 < ζ ≤ 1,   0 elsewhere;
    `log_prob` is its logarithm (with 1 − q as σ(−l)).
    Sampling inverts F analytically with q clipped to [1e-7, 1 − 1e-7] (sampler only): for ρ ~ U[0, 1),
        ζ = log(1 + (e^β − 1) ρ′) / β with ρ′ = 1 − (1 − ρ) / q if ρ > 1 − q, else ζ = 0,
    differentiable in q through ρ′ (the hard mask carries no gradient), so the sample is reparameterised by
    ordinary autodiff. ρ′ is written 1 − (1 − ρ)/q rather than (ρ + q − 1)/q: for small q and ρ near 1, ρ + q
    rounds in float32 (logit −15, ρ = 1 − 2⁻²³ gave ζ = 0.939 instead of 0.879), while 1 − ρ is exact there.
    The log-ratio is identically zero.
    """

    def __init__(self, beta, logits, validate_args=False, allow_nan_stats=True, name="SpikeAndExponential"):
        parameters = dict(locals())
        self.beta = float(beta)
        if not self.beta > 0.0:
            raise ValueError(f"beta must be positive, got {self.beta}")
        self._expm1_beta = math.expm1(self.beta)
        super().__init__(logits, True, parameters, validate_args, allow_nan_stats, name)

    def _log_prob(self, zeta):
        inside = tf.clip_by_value(zeta, 0.0, 1.0)
        continuous = (tf.math.log_sigmoid(self.logits) + math.log(self.beta) + self.beta * inside
                      - math.log(self._expm1_beta))
        spike = tf.math.log_sigmoid(-self.logits)
        outside = tf.fill(tf.shape(continuous), tf.constant(-math.inf, self.dtype))
        return tf.where(zeta == 0.0, spike, tf.where((zeta > 0.0) & (zeta <= 1.0), continuous, outside))

    def _cdf(self, zeta):
        on = self.probs
        inside = tf.clip_by_value(zeta, 0.0, 1.0)
        continuous = on * tf.math.expm1(self.beta * inside) / self._expm1_beta
        return tf.where(zeta < 0.0, tf.zeros_like(continuous), (1.0 - on) + continuous)

    def log_ratio(self, zeta):
        return tf.zeros_like(zeta)

    def _draw(self, shape, seed):
        u = tf.random.stateless_uniform(shape, seed=seed, dtype=self.dtype)
        return self.sample_from_uniform(u)

    def sample_from_uniform(self, u):
        """ζ = F⁻¹(u) for `u` of the logits' shape in [0, 1)."""
        on = tf.clip_by_value(self.probs, 1e-7, 1.0 - 1e-7)
        continuous = u > 1.0 - on
        rescaled = tf.where(continuous, 1.0 - (1.0 - u) / on, tf.ones_like(u))
        zeta = tf.math.log1p(self._expm1_beta * rescaled) / self.beta
        return tf.where(continuous, zeta, tf.zeros_like(zeta))

