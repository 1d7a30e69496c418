"""Shifted-Gaussian relaxed posterior of the DVAE# Gaussian-integral relaxation (protocol §5.7), a TFP distribution."""
import math

import tensorflow as tf

from dvae_sharp.smoothing.distribution import UnitDistribution
from dvae_sharp.smoothing.implicit import with_implicit_gradients

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class ShiftedGaussianMixture(UnitDistribution):
    """(1 − q) N(ζ; μ0, σ²) + q N(ζ; μ1, σ²) with μ0 = δμ, μ1 = 1 + δμ (DVAE# paper, Gaussian-integral
    relaxation; protocol §5.7).

    `logits` l (q = σ(l)) and `shift` δμ have the full shape [..., n]; `sigma` σ > 0 broadcasts against them
    (one learned value per unit in the model). Write φi = N(ζ; μi, σ²) and Φi for the matching CDFs.

    Sampling is ancestral with unclipped q: z = 1[u < q], ζ = z + δμ + σ ε, ε ~ N(0, 1). The sample carries the
    implicit gradients at fixed mixture CDF (fully reparameterised)
        ∂ζ/∂q  = (Φ0(ζ) − Φ1(ζ)) / ((1 − q) φ0 + q φ1),
        ∂ζ/∂σ  = ((1 − q) φ0 (ζ − m0) + q φ1 (ζ − m1)) / (σ [(1 − q) φ0 + q φ1]),
        ∂ζ/∂δμ = 1.
    By default (m0, m1) = (0, 1), the original's form, exact only when δμ = 0 (§12 item 6); with
    `exact_sigma_gradient=True`, (m0, m1) = (μ0, μ1), the exact implicit derivative.

    `prob` is the mixture density; `log_prob` is per unit, in the original's stable form (§12 item 7):
        log(1 − q̄) + log N(ζ; μ0, σ²) + softplus(l + (μ1 − μ0)(2ζ − μ0 − μ1) / (2σ²)),
    where q̄ = clip(q, 0, 1 − 1e-4) is used only inside log(1 − q̄); for logits above about 9.2 this overestimates
    log q(ζ), as the original does.
    """

    def __init__(self, logits, sigma, shift, exact_sigma_gradient=False, validate_args=False, allow_nan_stats=True,
                 name="ShiftedGaussianMixture"):
        parameters = dict(locals())
        super().__init__(logits, True, parameters, validate_args, allow_nan_stats, name)
        self.sigma = tf.convert_to_tensor(sigma, dtype=self.dtype)
        self.shift = tf.convert_to_tensor(shift, dtype=self.dtype)
        self.exact_sigma_gradient = bool(exact_sigma_gradient)

    def _means(self):
        return self.shift, 1.0 + self.shift

    def _component_pdf(self, zeta, mean):
        standard = (zeta - mean) / self.sigma
        return tf.exp(-0.5 * tf.square(standard) - _LOG_SQRT_2PI) / self.sigma

    def _component_cdf(self, zeta, mean):
        return 0.5 * tf.math.erfc(-(zeta - mean) / (math.sqrt(2.0) * self.sigma))

    def _prob(self, zeta):
        mean0, mean1 = self._means()
        return (tf.sigmoid(-self.logits) * self._component_pdf(zeta, mean0)
                + self.probs * self._component_pdf(zeta, mean1))

    def _cdf(self, zeta):
        mean0, mean1 = self._means()
        return (tf.sigmoid(-self.logits) * self._component_cdf(zeta, mean0)
                + self.probs * self._component_cdf(zeta, mean1))

    def _log_prob(self, zeta):
        mean0, mean1 = self._means()
        clipped = tf.clip_by_value(self.probs, 0.0, 1.0 - 1e-4)
        log_normal0 = -0.5 * tf.square((zeta - mean0) / self.sigma) - tf.math.log(self.sigma) - _LOG_SQRT_2PI
        log_odds_shift = (mean1 - mean0) * (2.0 * zeta - mean0 - mean1) / (2.0 * tf.square(self.sigma))
        return tf.math.log(1.0 - clipped) + log_normal0 + tf.nn.softplus(self.logits + log_odds_shift)

    def _draw(self, shape, seed):
        """ζ of `shape`; the seed is split into selector and Gaussian seeds."""
        select_seed, normal_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        u_select = tf.random.stateless_uniform(shape, seed=select_seed, dtype=self.logits.dtype)
        normal_noise = tf.random.stateless_normal(shape, seed=normal_seed, dtype=self.logits.dtype)
        return self.sample_from_uniform(u_select, normal_noise)

    def sample_from_uniform(self, u_select, normal_noise):
        """ζ as a pure function of its noise: `u_select` in [0, 1) and standard-normal `normal_noise`, both of
        the logits' shape."""
        off, on = tf.sigmoid(-self.logits), self.probs
        zeta = tf.cast(u_select < on, self.logits.dtype) + self.shift + self.sigma * normal_noise
        mean0, mean1 = self._means()
        weighted0 = off * self._component_pdf(zeta, mean0)
        weighted1 = on * self._component_pdf(zeta, mean1)
        density = weighted0 + weighted1
        cdf_difference = self._component_cdf(zeta, mean0) - self._component_cdf(zeta, mean1)
        centre0, centre1 = (mean0, mean1) if self.exact_sigma_gradient else (0.0, 1.0)
        sigma_gradient = (weighted0 * (zeta - centre0) + weighted1 * (zeta - centre1)) / (self.sigma * density)
        return with_implicit_gradients(zeta, [
            (cdf_difference / density, on),
            (sigma_gradient, self.sigma),
            (tf.ones_like(zeta), self.shift),
        ])
