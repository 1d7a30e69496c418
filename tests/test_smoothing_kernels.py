"""Smoothing kernels r0(ζ) (protocol §5.2–§5.5) against quadrature, closed forms and Kolmogorov–Smirnov tests."""
import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from dvae_sharp import smoothing
from tests.test_smoothing_oracles import CASES, SAMPLED_CDF

PAPER_KERNELS = [(name, beta) for name, case in CASES.items() for beta in case.betas]
DRAWS = 20000
KS_LEVEL = 1e-3


def _pdf64(kernel):
    return lambda zeta: float(kernel.pdf(tf.constant(zeta, tf.float64)))


def _integral(kernel, a, b):
    """∫_a^b pdf of the TF kernel (float64) by scipy quad. For the power kernel the variable is s = log(ζ + ε), in
    which its peak at 0 is smooth; a = 0 with ε = 0 starts at ζ = 1e-300, below which the mass is ≤ 3.2e-8."""
    pdf = _pdf64(kernel)
    if isinstance(kernel, smoothing.PowerFunction):
        eps = kernel.eps
        lower = math.log(a + eps) if a + eps > 0 else math.log(1e-300)
        integrand = lambda s: pdf(math.exp(s) - eps) * math.exp(s)  # noqa: E731
        return integrate.quad(integrand, lower, math.log(b + eps), limit=200, epsabs=1e-13, epsrel=1e-11)[0]
    return integrate.quad(pdf, a, b, limit=200, epsabs=1e-13, epsrel=1e-11)[0]


def _cdf64(kernel, zeta):
    return kernel.cdf(tf.constant(zeta, tf.float64)).numpy()


@pytest.mark.parametrize("name,beta", PAPER_KERNELS)
def test_density_integrates_to_one_and_cdf_is_its_integral(name, beta):
    kernel = CASES[name].make(beta, eps=0.0) if name == "power" else CASES[name].make(beta)
    if name == "gauss":
        sigma = beta ** -0.5
        edges = np.array([-40 * sigma, -2 * sigma, -0.3 * sigma, 0.0, 0.5 * sigma, 3 * sigma, 40 * sigma])
    else:
        edges = np.array([0.0, 1e-4, 0.02, 0.1, 0.4, 0.8, 1.0])
    pieces = [_integral(kernel, a, b) for a, b in zip(edges[:-1], edges[1:])]
    tolerance = 1e-7 if name == "power" else 1e-10
    assert sum(pieces) == pytest.approx(1.0, abs=tolerance)
    cdf = _cdf64(kernel, edges)
    np.testing.assert_allclose(cdf[1:] - cdf[0], np.cumsum(pieces), atol=tolerance)
    np.testing.assert_allclose([cdf[0], cdf[-1]], [0.0, 1.0], atol=1e-15)


@pytest.mark.parametrize("beta", [20.0, 30.0, 40.0])
def test_power_kernel_with_the_original_eps(beta):
    """With the original ε = 1e-7 added inside pow and log, r0(ζ) = λ(ζ + ε)^(λ−1) is not a normalised density on
    [0, 1]: its mass there is (1 + ε)^λ − ε^λ (about 0.42 for β = 30), because the ε-shifted CDF (ζ + ε)^λ starts at
    ε^λ instead of 0. What still holds, and is what the implicit gradient relies on, is that the CDF increments are
    the integrals of the pdf: cdf(ζ) − cdf(0) = ∫_0^ζ pdf."""
    kernel = smoothing.PowerFunction(beta)
    lam, eps = 1.0 / beta, 1e-7
    assert _integral(kernel, 0.0, 1.0) == pytest.approx((1 + eps) ** lam - eps ** lam, rel=1e-9)
    for zeta in (1e-9, 1e-7, 1e-3, 0.25, 0.9):
        expected = _cdf64(kernel, zeta) - _cdf64(kernel, 0.0)
        assert _integral(kernel, 0.0, zeta) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name,beta", PAPER_KERNELS)
def test_samples_follow_the_cdf(name, beta):
    """KS test in float64 against the exact CDF of the sampled law (for the power kernel ζ^λ, since ρ^β has no ε)."""
    kernel = CASES[name].make(beta)
    draws = kernel.sample([DRAWS], tf.constant([7, int(beta)], tf.int32), dtype=tf.float64).numpy()
    assert draws.dtype == np.float64 and draws.shape == (DRAWS,)
    result = stats.kstest(draws, lambda zeta: SAMPLED_CDF[name](zeta, beta))
    assert result.pvalue > KS_LEVEL, result


@pytest.mark.parametrize("name", ["exp", "unexp", "gauss"])
def test_float32_samples_follow_the_cdf(name):
    beta = CASES[name].betas[0]
    draws = CASES[name].make(beta).sample([DRAWS], tf.constant([3, 4], tf.int32)).numpy()
    assert draws.dtype == np.float32
    assert stats.kstest(draws.astype(np.float64), lambda zeta: SAMPLED_CDF[name](zeta, beta)).pvalue > KS_LEVEL


def test_sample_is_a_function_of_the_seed():
    kernel = smoothing.UniformExponential(16.0)
    seed = tf.constant([11, 12], tf.int32)
    first, again = kernel.sample([3, 5], seed), kernel.sample([3, 5], seed)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert first.shape == (3, 5)
    assert not np.array_equal(first.numpy(), kernel.sample([3, 5], seed + 1).numpy())


@pytest.mark.parametrize("name,beta", PAPER_KERNELS)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_pdf_cdf_log_pdf_match_the_oracle(name, beta, dtype):
    case = CASES[name]
    zeta = np.linspace(-0.4, 1.4, 37) if name == "gauss" else np.linspace(0.0, 1.0, 41)
    kernel = case.make(beta)
    tensor = tf.constant(zeta, dtype)
    rtol = 1e-5 if dtype == tf.float32 else 1e-12
    for method in (kernel.pdf, kernel.cdf, kernel.log_pdf):
        assert method(tensor).dtype == dtype
    np.testing.assert_allclose(kernel.pdf(tensor), case.pdf(zeta, beta), rtol=rtol)
    np.testing.assert_allclose(kernel.cdf(tensor), case.cdf(zeta, beta), rtol=rtol, atol=1e-6 if rtol > 1e-6 else 0)
    np.testing.assert_allclose(kernel.log_pdf(tensor), np.log(case.pdf(zeta, beta)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name,beta", PAPER_KERNELS)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_log_ratio_is_log_r1_minus_log_r0(name, beta, dtype):
    case = CASES[name]
    zeta = np.linspace(-0.3, 1.3, 33) if name == "gauss" else np.linspace(0.0, 1.0, 41)
    kernel = case.make(beta)
    tensor = tf.constant(zeta, dtype)
    ratio = kernel.log_ratio(tensor)
    assert ratio.dtype == dtype
    oracle = np.log(case.pdf(1.0 - zeta, beta)) - np.log(case.pdf(zeta, beta))
    tol = 2e-5 * np.abs(oracle).max() if dtype == tf.float32 else 1e-10
    np.testing.assert_allclose(ratio, oracle, atol=tol)
    np.testing.assert_allclose(ratio, kernel.log_pdf(1.0 - tensor) - kernel.log_pdf(tensor), atol=tol)


@pytest.mark.parametrize("name", ["power", "exp", "gauss"])
def test_inverse_cdf_inverts_the_cdf(name):
    kernel = CASES[name].make(CASES[name].betas[1])
    zeta = np.linspace(-0.5, 0.5, 21) if name == "gauss" else np.array([1e-12, 1e-7, 1e-3, 0.1, 0.5, 0.99])
    round_trip = kernel.inverse_cdf(kernel.cdf(tf.constant(zeta, tf.float64)))
    np.testing.assert_allclose(round_trip, zeta, rtol=1e-9, atol=1e-15)


def test_power_sampler_has_no_eps_and_others_sample_by_inverse_cdf():
    u = tf.constant([0.0, 0.3, 0.9, 0.999], tf.float64)
    # exp(β log u): log u's rounding, magnified β times, plus that of the product and of exp.
    rtol = (2.0 + 2.0 * 30.0 * abs(np.log(0.3))) * np.finfo(np.float64).eps
    np.testing.assert_allclose(smoothing.PowerFunction(30.0).sample_from_uniform(u), u.numpy() ** 30, rtol=rtol)
    for name in ("exp", "gauss"):
        kernel = CASES[name].make(10.0)
        np.testing.assert_array_equal(kernel.sample_from_uniform(u[1:]), kernel.inverse_cdf(u[1:]))


def test_uniform_exponential_sampler_selects_a_component_with_the_first_uniform():
    kernel = smoothing.UniformExponential(30.0)
    u = tf.constant([[0.01, 0.7], [0.049, 0.2], [0.05, 0.7], [0.8, 0.2]], tf.float64)
    exponential = smoothing.TruncatedExponential(30.0).inverse_cdf(tf.constant([0.7, 0.2], tf.float64)).numpy()
    np.testing.assert_allclose(kernel.sample_from_uniform(u), [0.7, 0.2, exponential[0], exponential[1]], rtol=1e-15)
    assert kernel.noise_shape == (2,) and smoothing.PowerFunction(30.0).noise_shape == ()


def test_parameters_give_the_original_tensorboard_tags():
    from dvae_sharp.dvae.runner import summaries
    tags = [summaries.smoothing_scalars(0.0, kernel.parameters) for kernel in (
        smoothing.PowerFunction(40.0), smoothing.TruncatedExponential(12.0), smoothing.UniformExponential(16.0),
        smoothing.Gaussian(25.0))]
    assert tags[0] == {"beta": 0.0, "posterior/lambda": 1 / 40}
    assert tags[1] == {"beta": 0.0, "posterior/beta": 12.0}
    assert tags[2] == {"beta": 0.0, "posterior/beta": 16.0, "posterior/eps": 0.05}
    assert tags[3] == {"beta": 0.0, "posterior/sigma": pytest.approx(0.2, rel=1e-15)}


@pytest.mark.parametrize("make", [smoothing.PowerFunction, smoothing.TruncatedExponential,
                                  smoothing.UniformExponential, smoothing.Gaussian])
def test_non_positive_beta_is_rejected(make):
    for beta in (0.0, -3.0):
        with pytest.raises(ValueError, match="beta"):
            make(beta)


def test_power_kernel_keeps_eps_in_float32_graphs_at_the_ends_of_the_support():
    """In a tf.function, graph optimisation must not turn the mirror (1 − ζ) + ε into (1 + ε) − ζ, which in float32
    makes ε = 1.19e-7 at ζ = 1 (most z = 1 samples are exactly 1.0). Values at ζ ∈ {0, 1} and the derivative at 0
    match the float64 oracle."""
    kernel, beta = smoothing.PowerFunction(30.0), 30.0
    ends = tf.constant([0.0, 1.0], tf.float32)

    def mirrored(zeta):
        return kernel.pdf(1.0 - zeta), kernel.log_pdf(1.0 - zeta), kernel.log_ratio(zeta)

    oracle = [CASES["power"].pdf(np.array([1.0, 0.0]), beta)]
    oracle += [np.log(oracle[0]), np.log(oracle[0]) - np.log(CASES["power"].pdf(np.array([0.0, 1.0]), beta))]
    for outputs in (mirrored(ends), tf.function(mirrored)(ends)):
        for output, expected in zip(outputs, oracle):
            np.testing.assert_allclose(output, expected, rtol=1e-5)
    zero = tf.constant(0.0, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(zero)
        log_pdf = kernel.log_pdf(zero)
    assert float(tape.gradient(log_pdf, zero)) == pytest.approx((1 / beta - 1) / 1e-7, rel=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_terms_are_the_values_of_the_separate_methods(name, dtype):
    """`terms` shares work between r0(ζ), r0(1 − ζ), log r0(ζ) and b(ζ) but gives each bit for bit as its own
    method does, and the mixture's `log_prob_from_terms` gives `log_prob`."""
    kernel = CASES[name].make(CASES[name].betas[0])
    grid = [-0.4, 0.0, 0.3, 0.5, 1.2] if name == "gauss" else [0.0, 1e-6, 0.03, 0.5, 0.97, 1.0 - 1e-6, 1.0]
    zeta = tf.constant(grid, dtype)
    terms = kernel.terms(zeta)
    separate = [kernel.pdf(zeta), kernel.pdf(1.0 - zeta), kernel.log_pdf(zeta), kernel.log_ratio(zeta)]
    for shared, alone in zip(terms, separate):
        np.testing.assert_array_equal(shared, alone)
    mixture = smoothing.OverlappingMixture(kernel, tf.constant(np.linspace(-3.0, 3.0, len(grid)), dtype))
    np.testing.assert_array_equal(mixture.log_prob_from_terms(terms), mixture.log_prob(zeta))
