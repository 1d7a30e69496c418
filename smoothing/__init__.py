"""Smoothing transformations r(ζ | z) and the posteriors q(ζ | x), q(z | x) of DVAE, DVAE++ and DVAE# (protocol §5).

Kernels (r0 = r(ζ | z = 0); r1(ζ) = r0(1 − ζ)): `PowerFunction`, `TruncatedExponential`, `UniformExponential`,
`Gaussian`. Posteriors, each a `tfp.distributions.Distribution` on this package's formulas (smoothing/distribution.py):
`OverlappingMixture` (any kernel, implicit gradients) and its named forms `OverlappingPower`,
`OverlappingExponential`, `OverlappingUniformExponential`, `OverlappingGaussian`; `SpikeAndExponential` (Rolfe's
DVAE); `ShiftedGaussianMixture` (DVAE# Gaussian-integral relaxation); `FactorialBernoulli` (the discrete posterior).
"""
from dvae_sharp.smoothing.bernoulli import FactorialBernoulli
from dvae_sharp.smoothing.gaussian_integral import ShiftedGaussianMixture
from dvae_sharp.smoothing.kernels import Gaussian, PowerFunction, TruncatedExponential, UniformExponential
from dvae_sharp.smoothing.mixtures import (OverlappingExponential, OverlappingGaussian, OverlappingMixture,
                                           OverlappingPower, OverlappingUniformExponential, SpikeAndExponential)

__all__ = [
    "FactorialBernoulli",
    "Gaussian",
    "OverlappingExponential",
    "OverlappingGaussian",
    "OverlappingMixture",
    "OverlappingPower",
    "OverlappingUniformExponential",
    "PowerFunction",
    "ShiftedGaussianMixture",
    "SpikeAndExponential",
    "TruncatedExponential",
    "UniformExponential",
]
