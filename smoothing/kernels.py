"""Smoothing kernels r0(ζ) = r(ζ | z = 0) of the overlapping relaxations (protocol §5.2–§5.5).

The partner kernel is the mirror image r1(ζ) = r0(1 − ζ), with CDF R1(ζ) = 1 − R0(1 − ζ).
Every method works elementwise on tensors and keeps the dtype of its input (float32 or float64).
The formulas are those of the bounded support [0, 1] (all of ℝ for the Gaussian); outside the support they are
evaluated as written, not set to zero, because the posteriors only ever evaluate them at their own samples.

Noise conventions for `sample_from_uniform(u)`: `u` has shape `shape + kernel.noise_shape` with entries in [0, 1);
`noise_shape` is `()` for every kernel except `UniformExponential`, which takes two uniforms stacked on a trailing
axis of size 2.
"""
import math
from typing import NamedTuple

import tensorflow as tf


def _positive(name, value):
    value = float(value)
    if not value > 0.0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


class KernelTerms(NamedTuple):
    """What a relaxed objective needs of r0 at one ζ: r0(ζ), r0(1 − ζ), log r0(ζ) and b(ζ) (`_Kernel.terms`)."""
    pdf: tf.Tensor
    pdf_mirror: tf.Tensor
    log_pdf: tf.Tensor
    log_ratio: tf.Tensor


class _Kernel:
    """Shared sampling entry point: `sample` feeds stateless uniform noise through `sample_from_uniform`."""

    noise_shape = ()

    def sample(self, shape, seed, dtype=tf.float32):
        """Draws ζ0 ~ r0 of the given shape; `seed` is a shape-[2] int32 tensor for the stateless RNG."""
        noise_shape = tf.concat([tf.reshape(shape, [-1]), tf.constant(self.noise_shape, tf.int32)], axis=0)
        return self.sample_from_uniform(tf.random.stateless_uniform(noise_shape, seed=seed, dtype=dtype))

    def log_ratio(self, zeta):
        """b(ζ) = log r0(1 − ζ) − log r0(ζ), the log-ratio log r1 − log r0 used by the priors (§6.6, §6.8)."""
        return self.log_pdf(1.0 - zeta) - self.log_pdf(zeta)

    def pdf_and_cdf(self, zeta):
        """(r0(ζ), R0(ζ)), the same values as `pdf` and `cdf`; a kernel whose two share work overrides it."""
        return self.pdf(zeta), self.cdf(zeta)

    def terms(self, zeta):
        """KernelTerms at ζ: the values of `pdf(ζ)`, `pdf(1 − ζ)`, `log_pdf(ζ)` and `log_ratio(ζ)`; a kernel whose
        terms share work overrides it."""
        return KernelTerms(self.pdf(zeta), self.pdf(1.0 - zeta), self.log_pdf(zeta), self.log_ratio(zeta))


class PowerFunction(_Kernel):
    """Power-function smoothing (DVAE# paper, power-function overlapping transformation; protocol §5.2).

    With λ = 1/β and the original's regulariser ε (default 1e-7, §12 items 10–11):
        r0(ζ) = λ (ζ + ε)^(λ−1),   R0(ζ) = (ζ + ε)^λ,   log r0(ζ) = (λ − 1) log(ζ + ε) + log λ,
        b(ζ) = (λ − 1) [log(1 − ζ + ε) − log(ζ + ε)].
    The sampler is ζ0 = ρ^β with ρ ~ U[0, 1) and carries no ε, so it draws from the ε = 0 kernel λ ζ^(λ−1).
    With ε > 0 the density is not normalised on [0, 1]: its mass there is (1 + ε)^λ − ε^λ.
    ζ + ε is formed as max(ζ, 0) + ε. On the support this is the same value and gradient, and it stops graph
    optimisation from re-associating the mirror (1 − ζ) + ε into (1 + ε) − ζ, which in float32 turns ε into
    1.19e-7 at ζ = 1 (where most z = 1 samples land, §5.2). The densities' powers are written exp(a·log s), so
    one logarithm of each ζ can serve the pdf, the cdf and the log-density (`pdf_and_cdf`, `terms`); this is
    1.8× faster than `tf.pow` on this CPU and agrees with it to float32 rounding.
    """

    def __init__(self, beta, eps=1e-7):
        self.beta = _positive("beta", beta)
        self.lam = 1.0 / self.beta
        self.eps = float(eps)
        if self.eps < 0.0:
            raise ValueError(f"eps must be non-negative, got {self.eps}")

    def _shifted(self, zeta):
        return tf.maximum(zeta, 0.0) + self.eps

    def _pdf_at(self, log_shifted):
        """r0 = λ (ζ + ε)^(λ−1), from log(ζ + ε)."""
        return self.lam * tf.exp((self.lam - 1.0) * log_shifted)

    def _cdf_at(self, log_shifted):
        """R0 = (ζ + ε)^λ, from log(ζ + ε)."""
        return tf.exp(self.lam * log_shifted)

    def _log_pdf_at(self, log_shifted):
        """log r0 = (λ − 1) log(ζ + ε) + log λ, from log(ζ + ε)."""
        return (self.lam - 1.0) * log_shifted + math.log(self.lam)

    def _log_ratio_at(self, log_shifted, log_mirror):
        """b = (λ − 1) [log(1 − ζ + ε) − log(ζ + ε)], from both logarithms."""
        return (self.lam - 1.0) * (log_mirror - log_shifted)

    def pdf(self, zeta):
        return self._pdf_at(tf.math.log(self._shifted(zeta)))

    def cdf(self, zeta):
        return self._cdf_at(tf.math.log(self._shifted(zeta)))

    def log_pdf(self, zeta):
        return self._log_pdf_at(tf.math.log(self._shifted(zeta)))

    def pdf_and_cdf(self, zeta):
        """`pdf` and `cdf` from one logarithm of ζ + ε: the same operations on the same values, so the same
        numbers, with one Log instead of two (the graph optimiser, off for reproducible runs, no longer merges
        them; dvae/runner/training.py)."""
        log_shifted = tf.math.log(self._shifted(zeta))
        return self._pdf_at(log_shifted), self._cdf_at(log_shifted)

    def log_ratio(self, zeta):
        return self._log_ratio_at(tf.math.log(self._shifted(zeta)), tf.math.log(self._shifted(1.0 - zeta)))

    def terms(self, zeta):
        """KernelTerms from log(ζ + ε) and log(1 − ζ + ε), each taken once: the same operations on the same values
        as `pdf`, `log_pdf` and `log_ratio`, so the same numbers, with two logarithms instead of five, and one
        reciprocal each in the gradient."""
        log_shifted = tf.math.log(self._shifted(zeta))
        log_mirror = tf.math.log(self._shifted(1.0 - zeta))
        return KernelTerms(self._pdf_at(log_shifted), self._pdf_at(log_mirror), self._log_pdf_at(log_shifted),
                           self._log_ratio_at(log_shifted, log_mirror))

    def inverse_cdf(self, u):
        """Exact inverse of `cdf`: u^β − ε, defined for u in [ε^λ, (1 + ε)^λ]; the sampler is ρ^β instead."""
        return tf.pow(u, self.beta) - self.eps

    def sample_from_uniform(self, u):
        """ζ0 = ρ^β written exp(β log ρ) (0 at ρ = 0): about 4× faster than `tf.pow` on this CPU. Its relative
        error is at most about (2 + 2β |log ρ|) units of rounding, the error of log ρ magnified β times, the same
        as moving ρ by a few units in its last place."""
        return tf.exp(self.beta * tf.math.log(u))

    @property
    def parameters(self):
        return {"lambda": self.lam}


class TruncatedExponential(_Kernel):
    """Exponential smoothing truncated to [0, 1] (DVAE++ exponential transformation; protocol §5.3).

        r0(ζ) = β e^(−βζ) / (1 − e^(−β)),   R0(ζ) = (1 − e^(−βζ)) / (1 − e^(−β)),
        log r0(ζ) = log β − βζ − log(1 − e^(−β)),   b(ζ) = β (2ζ − 1),
        sampler ζ0 = R0⁻¹(ρ) = −log(1 − (1 − e^(−β)) ρ) / β,   ρ ~ U[0, 1).
    """

    def __init__(self, beta):
        self.beta = _positive("beta", beta)
        self._log_normaliser = math.log(-math.expm1(-self.beta))
        self._normaliser = -math.expm1(-self.beta)

    def pdf(self, zeta):
        return tf.exp(self.log_pdf(zeta))

    def cdf(self, zeta):
        return -tf.math.expm1(-self.beta * zeta) / self._normaliser

    def log_pdf(self, zeta):
        return math.log(self.beta) - self.beta * zeta - self._log_normaliser

    def log_ratio(self, zeta):
        return self.beta * (2.0 * zeta - 1.0)

    def inverse_cdf(self, u):
        return -tf.math.log1p(-self._normaliser * u) / self.beta

    def sample_from_uniform(self, u):
        return self.inverse_cdf(u)

    @property
    def parameters(self):
        return {"beta": self.beta}


class UniformExponential(_Kernel):
    """Uniform-plus-exponential smoothing on [0, 1] (DVAE# paper; protocol §5.4).

    With w = `uniform_weight` (0.05 in the original) and r_exp, R_exp the truncated exponential of rate β:
        r0(ζ) = (1 − w) r_exp(ζ) + w,   R0(ζ) = (1 − w) R_exp(ζ) + w ζ,   log r0 = log of r0,
        b(ζ) = log r0(1 − ζ) − log r0(ζ).
    Sampler: `u[..., 0]` = ρ1 picks the component, `u[..., 1]` = ρ2 is its noise: ζ0 = ρ2 if ρ1 < w,
    otherwise ζ0 = R_exp⁻¹(ρ2). The CDF has no closed-form inverse.
    """

    noise_shape = (2,)

    def __init__(self, beta, uniform_weight=0.05):
        self.beta = _positive("beta", beta)
        self.uniform_weight = float(uniform_weight)
        if not 0.0 <= self.uniform_weight <= 1.0:
            raise ValueError(f"uniform_weight must lie in [0, 1], got {self.uniform_weight}")
        self._exponential = TruncatedExponential(beta)

    def pdf(self, zeta):
        return (1.0 - self.uniform_weight) * self._exponential.pdf(zeta) + self.uniform_weight

    def cdf(self, zeta):
        return (1.0 - self.uniform_weight) * self._exponential.cdf(zeta) + self.uniform_weight * zeta

    def log_pdf(self, zeta):
        return tf.math.log(self.pdf(zeta))

    def sample_from_uniform(self, u):
        select, noise = u[..., 0], u[..., 1]
        return tf.where(select < self.uniform_weight, noise, self._exponential.inverse_cdf(noise))

    @property
    def parameters(self):
        return {"beta": self.beta, "eps": self.uniform_weight}


class Gaussian(_Kernel):
    """Gaussian smoothing N(0, σ²) with σ = β^(−1/2) (DVAE# paper; protocol §5.5). Support is all of ℝ.

        r0(ζ) = N(ζ; 0, σ²),   R0(ζ) = ½ (1 + erf(ζ / (√2 σ))),
        log r0(ζ) = −ζ² / (2σ²) − ½ log 2π − log σ,   b(ζ) = (2ζ − 1) / (2σ²).
    `sample` draws ζ0 = σ ε with ε ~ N(0, 1) as the original does; `sample_from_uniform(u)` is the equivalent
    inverse-CDF form σ Φ⁻¹(u) (infinite at u = 0, so `sample` does not route through it).
    """

    def __init__(self, beta):
        self.beta = _positive("beta", beta)
        self.sigma = self.beta ** -0.5

    def pdf(self, zeta):
        return tf.exp(self.log_pdf(zeta))

    def cdf(self, zeta):
        return 0.5 * (1.0 + tf.math.erf(zeta / (math.sqrt(2.0) * self.sigma)))

    def log_pdf(self, zeta):
        return -0.5 * tf.square(zeta / self.sigma) - 0.5 * math.log(2.0 * math.pi) - math.log(self.sigma)

    def log_ratio(self, zeta):
        return (2.0 * zeta - 1.0) / (2.0 * self.sigma ** 2)

    def inverse_cdf(self, u):
        return self.sigma * tf.math.ndtri(u)

    def sample_from_uniform(self, u):
        return self.inverse_cdf(u)

    def sample(self, shape, seed, dtype=tf.float32):
        return self.sigma * tf.random.stateless_normal(shape, seed=seed, dtype=dtype)

    @property
    def parameters(self):
        return {"sigma": self.sigma}
