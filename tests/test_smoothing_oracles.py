"""Independent float64 numpy/scipy oracles for the smoothing kernels, and their checks against scipy.stats.

The other smoothing tests import `CASES` from here: one entry per kernel with a TF constructor, numpy pdf/cdf written
from the formulas of protocol §5.2–§5.5, the support, and the paper's β values (protocol §4.2).
"""
import collections

import numpy as np
import pytest
from scipy import integrate, stats

from dvae_sharp import smoothing

Case = collections.namedtuple("Case", "name make pdf cdf lower upper betas")

POWER_EPS = 1e-7


def power_pdf(zeta, beta, eps=POWER_EPS):
    lam = 1.0 / beta
    return lam * (zeta + eps) ** (lam - 1.0)


def power_cdf(zeta, beta, eps=POWER_EPS):
    return (zeta + eps) ** (1.0 / beta)


def exponential_pdf(zeta, beta):
    return beta * np.exp(-beta * zeta) / (1.0 - np.exp(-beta))


def exponential_cdf(zeta, beta):
    return (1.0 - np.exp(-beta * zeta)) / (1.0 - np.exp(-beta))


def uniform_exponential_pdf(zeta, beta, weight=0.05):
    return (1.0 - weight) * exponential_pdf(zeta, beta) + weight


def uniform_exponential_cdf(zeta, beta, weight=0.05):
    return (1.0 - weight) * exponential_cdf(zeta, beta) + weight * zeta


def gaussian_pdf(zeta, beta):
    return stats.norm.pdf(zeta, scale=beta ** -0.5)


def gaussian_cdf(zeta, beta):
    return stats.norm.cdf(zeta, scale=beta ** -0.5)


CASES = {
    "power": Case("power", smoothing.PowerFunction, power_pdf, power_cdf, 0.0, 1.0, (20.0, 30.0, 40.0)),
    "exp": Case("exp", smoothing.TruncatedExponential, exponential_pdf, exponential_cdf, 0.0, 1.0,
                (8.0, 10.0, 12.0, 14.0)),
    "unexp": Case("unexp", smoothing.UniformExponential, uniform_exponential_pdf, uniform_exponential_cdf,
                  0.0, 1.0, (16.0, 30.0, 40.0)),
    "gauss": Case("gauss", smoothing.Gaussian, gaussian_pdf, gaussian_cdf, -np.inf, np.inf, (25.0, 30.0, 40.0)),
}

SAMPLED_CDF = {  # the distribution each kernel's sampler draws from (the power sampler has no ε)
    "power": lambda zeta, beta: power_cdf(zeta, beta, eps=0.0),
    "exp": exponential_cdf,
    "unexp": uniform_exponential_cdf,
    "gauss": gaussian_cdf,
}


def mixture_pdf(case, zeta, q, beta):
    """(1 − q) r0(ζ) + q r0(1 − ζ)."""
    return (1.0 - q) * case.pdf(zeta, beta) + q * case.pdf(1.0 - zeta, beta)


def mixture_cdf(cdf, zeta, q, beta):
    """(1 − q) R0(ζ) + q (1 − R0(1 − ζ)) for the kernel CDF `cdf`."""
    return (1.0 - q) * cdf(zeta, beta) + q * (1.0 - cdf(1.0 - zeta, beta))


def expectation_under_r0(case, function, beta):
    """E_{r0}[function] by adaptive quadrature; the power kernel (ε = 0) is integrated in s = log ζ, where its
    integrable singularity at 0 becomes the smooth λ e^(λ s). The mass below e^(-700) is below 1e-7."""
    if case.name == "power":
        lam = 1.0 / beta
        integrand = lambda s: function(np.exp(s)) * lam * np.exp(lam * s)  # noqa: E731
        return integrate.quad(integrand, -700.0, 0.0, limit=200, epsabs=1e-13)[0]
    if case.name == "gauss":
        sigma = beta ** -0.5
        pieces = [(-40 * sigma, 0.0), (0.0, 40 * sigma)]
    else:
        pieces = [(0.0, 1.0)]
    return sum(integrate.quad(lambda z: function(z) * case.pdf(z, beta), a, b, limit=200, epsabs=1e-13)[0]
               for a, b in pieces)


GRID = np.linspace(0.0, 1.0, 101)


@pytest.mark.parametrize("beta", [20.0, 30.0, 40.0])
def test_power_oracle_is_the_shifted_beta_distribution(beta):
    interior = GRID[1:-1]
    np.testing.assert_allclose(power_pdf(interior, beta, eps=0.0), stats.beta(1 / beta, 1).pdf(interior), rtol=1e-12)
    np.testing.assert_allclose(power_cdf(GRID, beta, eps=0.0), stats.beta(1 / beta, 1).cdf(GRID), rtol=1e-12)
    shifted = stats.beta(1 / beta, 1, loc=-POWER_EPS)
    np.testing.assert_allclose(power_pdf(interior, beta), shifted.pdf(interior), rtol=1e-9)


@pytest.mark.parametrize("beta", [8.0, 14.0, 40.0])
def test_exponential_oracles_match_scipy_truncexpon(beta):
    truncated = stats.truncexpon(b=beta, scale=1.0 / beta)
    np.testing.assert_allclose(exponential_pdf(GRID, beta), truncated.pdf(GRID), rtol=1e-12)
    np.testing.assert_allclose(exponential_cdf(GRID, beta), truncated.cdf(GRID), rtol=1e-12, atol=1e-15)
    mixed_pdf = 0.95 * truncated.pdf(GRID) + 0.05 * stats.uniform.pdf(GRID)
    mixed_cdf = 0.95 * truncated.cdf(GRID) + 0.05 * stats.uniform.cdf(GRID)
    np.testing.assert_allclose(uniform_exponential_pdf(GRID, beta), mixed_pdf, rtol=1e-12)
    np.testing.assert_allclose(uniform_exponential_cdf(GRID, beta), mixed_cdf, rtol=1e-12, atol=1e-15)


def test_expectation_under_r0_matches_closed_forms():
    assert expectation_under_r0(CASES["power"], lambda z: z, 30.0) == pytest.approx(1 / 31, rel=1e-9)
    assert expectation_under_r0(CASES["gauss"], lambda z: z ** 2, 25.0) == pytest.approx(1 / 25, rel=1e-9)
    beta = 10.0
    mean = 1 / beta - np.exp(-beta) / (1 - np.exp(-beta))
    assert expectation_under_r0(CASES["exp"], lambda z: z, beta) == pytest.approx(mean, rel=1e-9)
