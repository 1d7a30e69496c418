"""Relaxed posteriors of protocol §5.1 and §5.6: distributions, densities and implicit/analytic gradients."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, optimize, stats

from dvae_sharp import smoothing
from tests.test_smoothing_oracles import CASES, SAMPLED_CDF, expectation_under_r0, mixture_cdf, mixture_pdf

DRAWS = 20000
KS_LEVEL = 1e-3
PAPER_BETA = {"power": 30.0, "exp": 12.0, "unexp": 16.0, "gauss": 25.0}
# Kernel-noise ranges for the finite-difference tests: ρ^30 for ρ ≥ 0.75 stays above 1e-4, so 1 − ζ0 keeps enough
# float64 digits for a central difference in ζ.
KERNEL_NOISE = {"power": (0.75, 0.98), "exp": (0.02, 0.98), "unexp": (0.02, 0.98), "gauss": (0.02, 0.98)}


def smooth_function(zeta):
    return tf.sin(3.0 * zeta) + zeta ** 2


def _logit(q):
    return float(np.log(q) - np.log1p(-q))


def _sigmoid(logit):
    return 1.0 / (1.0 + np.exp(-logit))


def _mixture(name, logits, dtype=tf.float64):
    return smoothing.OverlappingMixture(CASES[name].make(PAPER_BETA[name]), tf.constant(logits, dtype))


def _probability_integral_transform(draws, cdf, mass_rounded_to_one, seed):
    """F(ζ) for each draw; draws equal to 1.0 stand for every ζ in (1 − 2^-54, 1], which float64 rounds to 1, and
    get a uniform value within the CDF mass of that interval (randomised probability integral transform)."""
    transformed = cdf(draws)
    ones = draws == 1.0
    spread = np.random.default_rng(seed).uniform(size=ones.sum())
    transformed[ones] = 1.0 - mass_rounded_to_one * spread
    return transformed


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("q", [0.1, 0.5, 0.85])
def test_ancestral_samples_follow_the_mixture_cdf(name, q):
    """KS test of F(ζ) against U[0, 1]. For the power kernel (β = 30), 1 − ζ0 rounds to exactly 1.0 in float64 for
    29 % of the z = 1 draws; those ties carry the mass q R0(2^-54) (the z = 0 share there is below 1e-17)."""
    beta = PAPER_BETA[name]
    mixture = _mixture(name, np.full(DRAWS, _logit(q)))
    draws = mixture.sample(seed=tf.constant([5, int(100 * q)], tf.int32)).numpy()
    mass_rounded_to_one = q * SAMPLED_CDF[name](2.0 ** -54, beta)
    transformed = _probability_integral_transform(
        draws, lambda zeta: mixture_cdf(SAMPLED_CDF[name], zeta, q, beta), mass_rounded_to_one, seed=int(100 * q))
    result = stats.kstest(transformed, "uniform")
    assert result.pvalue > KS_LEVEL, result


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_pdf_cdf_and_log_prob_match_the_oracle(name, dtype):
    beta, case = PAPER_BETA[name], CASES[name]
    zeta = np.linspace(-0.3, 1.3, 17) if name == "gauss" else np.linspace(0.0, 1.0, 17)
    logits = np.linspace(-4.0, 4.0, 9)[:, None]
    mixture = _mixture(name, logits * np.ones_like(zeta), dtype)
    tensor = tf.constant(zeta * np.ones_like(logits), dtype)
    q = _sigmoid(logits)
    rtol = 2e-5 if dtype == tf.float32 else 1e-11
    oracle_pdf = mixture_pdf(case, zeta, q, beta)
    np.testing.assert_allclose(mixture.prob(tensor), oracle_pdf, rtol=rtol)
    np.testing.assert_allclose(mixture.log_prob(tensor), np.log(oracle_pdf), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(mixture.cdf(tensor), mixture_cdf(case.cdf, zeta, q, beta), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(mixture.probs, q * np.ones_like(zeta), rtol=rtol)
    assert mixture.log_prob(tensor).shape == tensor.shape


def _sample_and_gradient(mixture, u_select, u_kernel):
    with tf.GradientTape() as tape:
        tape.watch(mixture.logits)
        zeta = mixture.sample_from_uniform(tf.constant(u_select), tf.constant(u_kernel))
    return zeta.numpy(), tape.gradient(zeta, mixture.logits).numpy()


def _inverse_mixture_cdf(name, u, logit, bracket):
    case, beta = CASES[name], PAPER_BETA[name]
    return optimize.brentq(lambda z: mixture_cdf(case.cdf, z, _sigmoid(logit), beta) - u, *bracket,
                           xtol=1e-300, rtol=1e-15, maxiter=500)


@pytest.mark.parametrize("name", sorted(CASES))
def test_implicit_gradient_matches_finite_differences_of_the_inverse_cdf(name):
    """dζ/dl equals the central difference of l ↦ F⁻¹(F(ζ; l0); l) at fixed u, solved by brentq in float64."""
    rng = np.random.default_rng(17)
    logits = np.array([-3.0, -1.2, -0.2, 0.4, 1.1, 2.5] * 2)
    u_select = np.repeat([0.0, 0.99], 6)  # z = 1 for the first six units, z = 0 (q < 0.99) for the rest
    u_kernel = rng.uniform(*KERNEL_NOISE[name], size=logits.shape + CASES[name].make.noise_shape)
    zeta, gradient = _sample_and_gradient(_mixture(name, logits), u_select, u_kernel)
    bracket = (-3.0, 4.0) if name == "gauss" else (0.0, 1.0)
    step = 1e-5
    for i, (logit, value) in enumerate(zip(logits, zeta)):
        u = mixture_cdf(CASES[name].cdf, value, _sigmoid(logit), PAPER_BETA[name])
        upper = _inverse_mixture_cdf(name, u, logit + step, bracket)
        lower = _inverse_mixture_cdf(name, u, logit - step, bracket)
        assert gradient[i] == pytest.approx((upper - lower) / (2 * step), rel=1e-5, abs=1e-10), i


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("q", [0.3, 0.8])
def test_implicit_gradient_of_an_expectation_is_unbiased(name, q):
    """d/dl E[f(ζ)] from the implicit gradient over many samples versus q(1 − q)(E_r1[f] − E_r0[f]) by quadrature;
    the power kernel's oracle is its ε = 0 law, the one its sampler draws from."""
    beta, draws = PAPER_BETA[name], 100000
    mixture = _mixture(name, np.full(draws, _logit(q)))
    with tf.GradientTape() as tape:
        tape.watch(mixture.logits)
        values = smooth_function(mixture.sample(seed=tf.constant([9, int(10 * q)], tf.int32)))
    per_sample = tape.gradient(values, mixture.logits).numpy()
    estimate, standard_error = per_sample.mean(), per_sample.std(ddof=1) / np.sqrt(draws)
    f = lambda z: np.sin(3 * z) + z ** 2  # noqa: E731
    difference = expectation_under_r0(CASES[name], lambda z: f(1 - z) - f(z), beta)
    oracle = q * (1 - q) * difference
    assert standard_error < 0.05 * abs(oracle)
    assert abs(estimate - oracle) < 4 * standard_error, (estimate, oracle, standard_error)


@pytest.mark.parametrize("name", ["exp", "gauss"])
def test_sample_carries_the_gradient_into_its_own_log_prob(name):
    """The total derivative of l ↦ log q(ζ(l) | l), ζ through the implicit gradient, equals the finite difference
    of the same map with ζ(l) = F⁻¹(u; l) from brentq."""
    logits = np.array([-1.5, 0.3, 2.0])
    u_kernel = np.array([0.3, 0.6, 0.45])
    mixture = _mixture(name, logits)
    with tf.GradientTape() as tape:
        tape.watch(mixture.logits)
        zeta = mixture.sample_from_uniform(tf.constant([0.9, 0.1, 0.5], tf.float64), tf.constant(u_kernel))
        log_prob = mixture.log_prob(zeta)
    gradient = tape.gradient(log_prob, mixture.logits).numpy()
    case, beta, step = CASES[name], PAPER_BETA[name], 1e-5
    bracket = (-3.0, 4.0) if name == "gauss" else (0.0, 1.0)
    for i, logit in enumerate(logits):
        u = mixture_cdf(case.cdf, zeta.numpy()[i], _sigmoid(logit), beta)
        ends = [(logit + s, _inverse_mixture_cdf(name, u, logit + s, bracket)) for s in (step, -step)]
        (l_up, z_up), (l_down, z_down) = ends
        up = np.log(mixture_pdf(case, z_up, _sigmoid(l_up), beta))
        down = np.log(mixture_pdf(case, z_down, _sigmoid(l_down), beta))
        assert gradient[i] == pytest.approx((up - down) / (2 * step), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", ["power", "unexp"])
def test_sample_value_is_the_ancestral_draw_and_graph_mode_keeps_the_gradient(name):
    """The surrogate's value is bit-for-bit the ancestral ζ, and a tf.function (grappler-optimised graph) returns
    the same value and gradient as eager execution."""
    mixture = _mixture(name, np.array([-1.0, 0.2, 1.7, 0.5]), tf.float32)
    u_select = tf.constant([0.9, 0.1, 0.5, 0.7], tf.float32)
    u_kernel = tf.random.stateless_uniform([4] + list(mixture.kernel.noise_shape), seed=[3, 3], dtype=tf.float32)

    def value_and_gradient(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            zeta = smoothing.OverlappingMixture(mixture.kernel, logits).sample_from_uniform(u_select, u_kernel)
        return zeta, tape.gradient(zeta, logits)

    zeta, gradient = value_and_gradient(mixture.logits)
    zeta0 = mixture.kernel.sample_from_uniform(u_kernel).numpy()
    ancestral = np.where(u_select.numpy() < tf.sigmoid(mixture.logits).numpy(), np.float32(1) - zeta0, zeta0)
    np.testing.assert_array_equal(zeta, ancestral)
    graph_zeta, graph_gradient = tf.function(value_and_gradient)(mixture.logits)
    np.testing.assert_array_equal(graph_zeta, zeta)
    np.testing.assert_allclose(graph_gradient, gradient, rtol=1e-6)
    assert np.all(gradient.numpy() != 0.0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_ratio_delegates_to_the_kernel(name):
    mixture = _mixture(name, [0.5, -0.5, 2.0])
    zeta = tf.constant([0.1, 0.5, 0.8], tf.float64)
    np.testing.assert_array_equal(mixture.log_ratio(zeta), mixture.kernel.log_ratio(zeta))


@pytest.mark.parametrize("name", sorted(CASES))
def test_saturated_logits_give_finite_values_and_gradients(name):
    mixture = _mixture(name, np.tile([-30.0, 30.0], 2000), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(mixture.logits)
        zeta = mixture.sample(seed=tf.constant([1, 2], tf.int32))
        tape.watch(zeta)
        log_prob = mixture.log_prob(zeta)
        total = tf.reduce_sum(log_prob) + tf.reduce_sum(smooth_function(zeta))
    for tensor in (zeta, log_prob, tape.gradient(total, mixture.logits), tape.gradient(log_prob, zeta)):
        assert tensor.dtype == tf.float32
        assert np.all(np.isfinite(tensor.numpy()))


def _spike_inverse_cdf(u, logit, beta):
    q = np.clip(_sigmoid(logit), 1e-7, 1 - 1e-7)
    rescaled = 1 - (1 - u) / q
    return np.where(u > 1 - q, np.log1p(np.expm1(beta) * np.maximum(rescaled, 0)) / beta, 0.0)


@pytest.mark.parametrize("beta", [4.0, 5.0])
@pytest.mark.parametrize("q", [0.2, 0.6])
def test_spike_and_exponential_samples_follow_the_mixture(beta, q):
    """The atom at 0 holds mass 1 − q (binomial, 4 standard errors) and the rest follows R1 = (e^(βζ) − 1)/(e^β − 1)
    (KS test)."""
    posterior = smoothing.SpikeAndExponential(beta, tf.constant(np.full(DRAWS, _logit(q))))
    draws = posterior.sample(seed=tf.constant([2, int(beta)], tf.int32)).numpy()
    at_atom = np.mean(draws == 0.0)
    assert abs(at_atom - (1 - q)) < 4 * np.sqrt(q * (1 - q) / DRAWS)
    continuous = draws[draws > 0.0]
    assert stats.kstest(continuous, lambda z: np.expm1(beta * z) / np.expm1(beta)).pvalue > KS_LEVEL


def test_spike_and_exponential_cdf_has_the_atom():
    beta, q = 5.0, 0.3
    posterior = smoothing.SpikeAndExponential(beta, tf.constant(np.full(6, _logit(q))))
    zeta = np.array([-0.1, 0.0, 0.2, 0.5, 1.0, 1.5])
    continuous = np.expm1(beta * np.clip(zeta, 0, 1)) / np.expm1(beta)
    oracle = np.where(zeta < 0, 0.0, 1 - q + q * continuous)
    np.testing.assert_allclose(posterior.cdf(tf.constant(zeta)), oracle, rtol=1e-12)
    np.testing.assert_array_equal(posterior.log_ratio(tf.constant(zeta)), np.zeros(6))


def test_spike_and_exponential_gradient_matches_finite_differences():
    beta, step = 4.0, 1e-6
    logits = np.array([-2.0, -0.5, 0.0, 0.7, 1.5, 3.0, 0.7])
    u = np.array([0.95, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1])
    posterior = smoothing.SpikeAndExponential(beta, tf.constant(logits))
    with tf.GradientTape() as tape:
        tape.watch(posterior.logits)
        zeta = posterior.sample_from_uniform(tf.constant(u))
    gradient = tape.gradient(zeta, posterior.logits).numpy()
    np.testing.assert_allclose(zeta, _spike_inverse_cdf(u, logits, beta), rtol=1e-12)
    assert zeta.numpy()[-1] == 0.0 and gradient[-1] == 0.0
    difference = (_spike_inverse_cdf(u, logits + step, beta) - _spike_inverse_cdf(u, logits - step, beta)) / (2 * step)
    np.testing.assert_allclose(gradient, difference, rtol=1e-6, atol=1e-12)


def test_spike_and_exponential_gradient_of_an_expectation_is_unbiased():
    beta, q, draws = 5.0, 0.4, 100000
    posterior = smoothing.SpikeAndExponential(beta, tf.constant(np.full(draws, _logit(q))))
    with tf.GradientTape() as tape:
        tape.watch(posterior.logits)
        values = smooth_function(posterior.sample(seed=tf.constant([4, 4], tf.int32)))
    per_sample = tape.gradient(values, posterior.logits).numpy()
    estimate, standard_error = per_sample.mean(), per_sample.std(ddof=1) / np.sqrt(draws)
    continuous_mean = integrate.quad(lambda z: (np.sin(3 * z) + z ** 2) * beta * np.exp(beta * z) / np.expm1(beta),
                                     0.0, 1.0, epsabs=1e-13)[0]
    oracle = q * (1 - q) * (continuous_mean - 0.0)
    assert standard_error < 0.05 * abs(oracle)
    assert abs(estimate - oracle) < 4 * standard_error, (estimate, oracle, standard_error)


@pytest.mark.parametrize("compiled", [False, True])
def test_spike_and_exponential_float32_sample_and_gradient_are_exact_near_u_one(compiled):
    """Small q and u within a few float32 ulps of 1, eager and inside tf.function: ζ and dζ/dl against the float64
    inverse CDF and its central difference (the form (u + q − 1)/q lost ζ here: 0.939 instead of 0.879 and half
    the gradient at logit −15, u = 1 − 2⁻²³)."""
    beta, step = 5.0, 1e-6
    logits = np.array([-15.0, -15.0, -14.0, -12.0, -10.0], np.float32)
    u = np.array([1 - 2.0 ** -23, 1 - 2.0 ** -24, 1 - 2.0 ** -23, 1 - 5 * 2.0 ** -24, 1 - 2.0 ** -20], np.float32)

    def sample(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            zeta = smoothing.SpikeAndExponential(beta, logits).sample_from_uniform(tf.constant(u))
        return zeta, tape.gradient(zeta, logits)
    zeta, gradient = (tf.function(sample) if compiled else sample)(tf.constant(logits))
    exact_u, exact_logits = u.astype(np.float64), logits.astype(np.float64)
    oracle = _spike_inverse_cdf(exact_u, exact_logits, beta)
    slope = (_spike_inverse_cdf(exact_u, exact_logits + step, beta)
             - _spike_inverse_cdf(exact_u, exact_logits - step, beta)) / (2 * step)
    assert np.all(oracle > 0.5)
    np.testing.assert_allclose(zeta.numpy(), oracle, rtol=2e-6)
    np.testing.assert_allclose(gradient.numpy(), slope, rtol=1e-4)


def test_spike_and_exponential_saturated_logits_are_finite():
    posterior = smoothing.SpikeAndExponential(4.0, tf.constant(np.tile([-30.0, 30.0], 2000), tf.float32))
    with tf.GradientTape() as tape:
        tape.watch(posterior.logits)
        zeta = posterior.sample(seed=tf.constant([1, 2], tf.int32))
        values = smooth_function(zeta)
    gradient = tape.gradient(values, posterior.logits)
    assert np.all(np.isfinite(zeta.numpy())) and np.all(np.isfinite(gradient.numpy()))
    assert np.all(zeta.numpy()[0::2] == 0.0) and np.all(zeta.numpy()[1::2] > 0.0)
