"""Smoothing transformations r(ζ | z) and the relaxed posteriors q(ζ | x) of DVAE, DVAE++ and DVAE# (protocol §5).

Kernels (r0 = r(ζ | z = 0); r1(ζ) = r0(1 − ζ)): `PowerFunction`, `TruncatedExponential`, `UniformExponential`,
`Gaussian`. Posteriors: `OverlappingMixture` (any kernel, implicit gradients), `SpikeAndExponential` (Rolfe's DVAE),
`ShiftedGaussianMixture` (DVAE# Gaussian-integral relaxation).
"""
from smoothing.gaussian_integral import ShiftedGaussianMixture
from smoothing.kernels import Gaussian, PowerFunction, TruncatedExponential, UniformExponential
from smoothing.mixtures import OverlappingMixture, SpikeAndExponential

__all__ = [
    "Gaussian",
    "OverlappingMixture",
    "PowerFunction",
    "ShiftedGaussianMixture",
    "SpikeAndExponential",
    "TruncatedExponential",
    "UniformExponential",
]
