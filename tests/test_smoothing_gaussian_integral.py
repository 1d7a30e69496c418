"""Shifted-Gaussian posterior of the DVAE# Gaussian-integral relaxation (protocol §5.7), against scipy oracles."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, optimize, stats

from dvae_sharp import smoothing

DRAWS = 20000
LOGITS = np.array([-2.5, -0.7, 0.0, 0.4, 1.3, 3.0])
SIGMAS = np.array([0.05, 0.1, 0.25, 0.18, 0.3, 0.12])
SHIFTS = np.array([0.2, -0.1, 0.0, -0.24, 0.15, 0.05])


def _sigmoid(logit):
    return 1.0 / (1.0 + np.exp(-logit))


def mixture_pdf(zeta, logit, sigma, shift):
    q = _sigmoid(logit)
    return (1 - q) * stats.norm.pdf(zeta, shift, sigma) + q * stats.norm.pdf(zeta, 1 + shift, sigma)


def mixture_cdf(zeta, logit, sigma, shift):
    q = _sigmoid(logit)
    return (1 - q) * stats.norm.cdf(zeta, shift, sigma) + q * stats.norm.cdf(zeta, 1 + shift, sigma)


def _posterior(logits=LOGITS, sigma=SIGMAS, shift=SHIFTS, dtype=tf.float64, **options):
    return smoothing.ShiftedGaussianMixture(tf.constant(logits, dtype), tf.constant(sigma, dtype),
                                            tf.constant(shift, dtype), **options)


@pytest.mark.parametrize("logit,sigma,shift", [(-1.0, 0.25, 0.0), (0.8, 0.08, -0.2), (2.0, 0.3, 0.25)])
def test_samples_follow_the_mixture_cdf(logit, sigma, shift):
    posterior = _posterior(np.full(DRAWS, logit), sigma, np.full(DRAWS, shift))
    draws = posterior.sample(seed=tf.constant([8, int(10 * sigma)], tf.int32)).numpy()
    result = stats.kstest(draws, lambda zeta: mixture_cdf(zeta, logit, sigma, shift))
    assert result.pvalue > 1e-3, result


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_pdf_cdf_and_log_prob_match_the_oracle(dtype):
    zeta = np.linspace(-0.5, 1.5, 21)[:, None]
    posterior = _posterior(dtype=dtype)
    tensor = tf.constant(zeta * np.ones_like(LOGITS), dtype)
    oracle_pdf = mixture_pdf(zeta, LOGITS, SIGMAS, SHIFTS)
    rtol = 5e-4 if dtype == tf.float32 else 1e-10
    np.testing.assert_allclose(posterior.prob(tensor), oracle_pdf, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(posterior.cdf(tensor), mixture_cdf(zeta, LOGITS, SIGMAS, SHIFTS), rtol=rtol, atol=1e-7)
    log_prob = posterior.log_prob(tensor).numpy()
    assert log_prob.dtype == dtype.as_numpy_dtype and log_prob.shape == tensor.shape
    np.testing.assert_allclose(log_prob, np.log(oracle_pdf), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(posterior.probs, _sigmoid(LOGITS), rtol=rtol)


def test_log_prob_clips_q_only_inside_log_one_minus_q():
    """For logits above log(1e4 − 1) ≈ 9.21 the original's clip overestimates log q(ζ) by log(1e-4) − log(1 − q)."""
    logits = np.array([5.0, 9.0, 12.0, 20.0])
    zeta = np.array([0.9, 1.1, 1.3, 0.2])
    posterior = _posterior(logits, 0.2, np.zeros(4))
    exact = np.log(mixture_pdf(zeta, logits, 0.2, 0.0))
    excess = np.maximum(np.log(1e-4) - np.log(_sigmoid(-logits)), 0.0)
    np.testing.assert_allclose(posterior.log_prob(tf.constant(zeta)), exact + excess, rtol=1e-9)
    assert excess[2] == pytest.approx(12.0 - np.log(1e4 - 1), rel=1e-3)


def _sample_and_gradients(posterior, u_select, normal_noise):
    with tf.GradientTape() as tape:
        tape.watch([posterior.logits, posterior.sigma, posterior.shift])
        zeta = posterior.sample_from_uniform(tf.constant(u_select), tf.constant(normal_noise))
    gradients = tape.gradient(zeta, [posterior.logits, posterior.sigma, posterior.shift])
    return zeta.numpy(), np.stack([gradient.numpy() for gradient in gradients], axis=1)


def _fixed_cdf_root(u, logit, sigma, shift):
    return optimize.brentq(lambda z: mixture_cdf(z, logit, sigma, shift) - u, -5.0, 6.0, xtol=1e-300, rtol=1e-15)


def _inverse_cdf_derivatives(zeta, logits, sigmas, shifts, step=1e-6):
    """Rows of d/dθ F⁻¹(F(ζ; θ0); θ) at θ0 = (logit, σ, shift), by central differences of brentq roots."""
    rows = []
    for value, theta in zip(zeta, np.stack([logits, sigmas, shifts], axis=1)):
        u = mixture_cdf(value, *theta)
        offsets = step * np.eye(3)
        rows.append([(_fixed_cdf_root(u, *(theta + offset)) - _fixed_cdf_root(u, *(theta - offset))) / (2 * step)
                     for offset in offsets])
    return np.array(rows)


U_SELECT = np.array([0.95, 0.2, 0.7, 0.3, 0.5, 0.01])
NORMAL_NOISE = np.array([0.3, -1.2, 0.8, 2.1, -0.4, -1.9])


def test_exact_implicit_gradients_match_finite_differences():
    zeta, gradients = _sample_and_gradients(_posterior(exact_sigma_gradient=True), U_SELECT, NORMAL_NOISE)
    assert set((zeta > 0.5).tolist()) == {True, False}
    oracle = _inverse_cdf_derivatives(zeta, LOGITS, SIGMAS, SHIFTS)
    np.testing.assert_allclose(gradients, oracle, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(gradients[:, 2], np.ones_like(zeta))


def test_default_sigma_gradient_is_the_original_form():
    """The default σ-gradient centres the components at 0 and 1, ignoring the shift (protocol §12 item 6)."""
    zeta, gradients = _sample_and_gradients(_posterior(), U_SELECT, NORMAL_NOISE)
    q = _sigmoid(LOGITS)
    weighted0 = (1 - q) * stats.norm.pdf(zeta, SHIFTS, SIGMAS)
    weighted1 = q * stats.norm.pdf(zeta, 1 + SHIFTS, SIGMAS)
    original = (weighted0 * zeta + weighted1 * (zeta - 1)) / (SIGMAS * (weighted0 + weighted1))
    np.testing.assert_allclose(gradients[:, 1], original, rtol=1e-10)
    oracle = _inverse_cdf_derivatives(zeta, LOGITS, SIGMAS, SHIFTS)
    np.testing.assert_allclose(gradients[:, [0, 2]], oracle[:, [0, 2]], rtol=1e-5, atol=1e-8)
    shifted = SHIFTS != 0.0
    assert np.all(np.abs(gradients[shifted, 1] - oracle[shifted, 1]) > 1e-3)


def test_default_sigma_gradient_is_exact_without_shift():
    shifts = np.zeros_like(LOGITS)
    zeta, gradients = _sample_and_gradients(_posterior(shift=shifts), U_SELECT, NORMAL_NOISE)
    np.testing.assert_allclose(gradients, _inverse_cdf_derivatives(zeta, LOGITS, SIGMAS, shifts), rtol=1e-5, atol=1e-8)


def test_per_unit_sigma_gradient_sums_over_the_batch():
    batch_logits = np.stack([LOGITS, LOGITS[::-1]])
    batch_shifts = np.stack([SHIFTS, -SHIFTS])
    noise = (np.stack([U_SELECT, U_SELECT[::-1]]), np.stack([NORMAL_NOISE, -NORMAL_NOISE]))
    shared = _posterior(batch_logits, SIGMAS, batch_shifts, exact_sigma_gradient=True)
    tiled = _posterior(batch_logits, np.tile(SIGMAS, (2, 1)), batch_shifts, exact_sigma_gradient=True)
    gradients = []
    for posterior in (shared, tiled):
        with tf.GradientTape() as tape:
            tape.watch(posterior.sigma)
            zeta = posterior.sample_from_uniform(*map(tf.constant, noise))
        gradients.append(tape.gradient(zeta, posterior.sigma).numpy())
    assert gradients[0].shape == SIGMAS.shape
    np.testing.assert_allclose(gradients[0], gradients[1].sum(axis=0), rtol=1e-12)


def _expectation(logit, sigma, shift):
    integrand = lambda z: (np.sin(3 * z) + z ** 2) * mixture_pdf(z, logit, sigma, shift)  # noqa: E731
    return sum(integrate.quad(integrand, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
               for a, b in [(-4.0, shift + 0.5), (shift + 0.5, 5.0)])


@pytest.mark.parametrize("logit,sigma,shift", [(-0.8, 0.25, 0.1), (1.2, 0.15, -0.2)])
def test_implicit_gradients_of_an_expectation_are_unbiased(logit, sigma, shift):
    """Per-sample implicit gradients of f(ζ) = sin 3ζ + ζ² average to the derivative of the quadrature E[f] in
    each of (logit, σ, shift) within 4 Monte-Carlo standard errors; σ uses the exact form."""
    draws = 100000
    posterior = _posterior(np.full(draws, logit), np.full(draws, sigma), np.full(draws, shift),
                           exact_sigma_gradient=True)
    parameters = [posterior.logits, posterior.sigma, posterior.shift]
    with tf.GradientTape() as tape:
        tape.watch(parameters)
        zeta = posterior.sample(seed=tf.constant([6, int(10 * sigma)], tf.int32))
        values = tf.sin(3.0 * zeta) + zeta ** 2
    step = 1e-4
    theta = np.array([logit, sigma, shift])
    for gradient, offset in zip(tape.gradient(values, parameters), step * np.eye(3)):
        per_sample = gradient.numpy()
        estimate, standard_error = per_sample.mean(), per_sample.std(ddof=1) / np.sqrt(draws)
        oracle = (_expectation(*(theta + offset)) - _expectation(*(theta - offset))) / (2 * step)
        assert standard_error < 0.05 * abs(oracle)
        assert abs(estimate - oracle) < 4 * standard_error, (estimate, oracle, standard_error)


def test_saturated_logits_give_finite_values_and_gradients():
    units = 4000
    posterior = _posterior(np.tile([-30.0, 30.0], units // 2), np.full(units, 0.05), np.full(units, 0.25),
                           dtype=tf.float32)
    parameters = [posterior.logits, posterior.sigma, posterior.shift]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(parameters)
        zeta = posterior.sample(seed=tf.constant([3, 1], tf.int32))
        tape.watch(zeta)
        log_prob = posterior.log_prob(zeta)
        total = tf.reduce_sum(log_prob) + tf.reduce_sum(tf.sin(3.0 * zeta))
    results = [zeta, log_prob, tape.gradient(log_prob, zeta)] + tape.gradient(total, parameters)
    for tensor in results:
        assert tensor.dtype == tf.float32 and np.all(np.isfinite(tensor.numpy()))


def test_sample_is_a_function_of_the_seed():
    posterior = _posterior(dtype=tf.float32)
    seed = tf.constant([4, 2], tf.int32)
    np.testing.assert_array_equal(posterior.sample(seed=seed).numpy(), posterior.sample(seed=seed).numpy())
    assert posterior.sample(seed=seed).dtype == tf.float32
    assert not np.array_equal(posterior.sample(seed=seed).numpy(), posterior.sample(seed=seed + 1).numpy())
