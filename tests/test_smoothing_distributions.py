"""The posteriors through their TensorFlow Probability interface (smoothing/distribution.py): `sample(shape, seed)`,
`log_prob`, `prob`, `cdf`, shapes and reparameterisation, against quadrature, Kolmogorov bounds from the sample size
and float64 finite differences of the inverse CDF."""
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from dvae_sharp import smoothing

tfd = tfp.distributions
LOGITS = np.array([-2.5, -0.7, 0.0, 0.9, 3.0])
GI_SIGMA, GI_SHIFT = 0.15, np.array([0.1, -0.2, 0.0, 0.05, -0.1])
MAKERS = {  # name -> (distribution of float64 logits, support (a, b) for quadrature, atoms)
    "power": (lambda l, **o: smoothing.OverlappingPower(l, 30.0, **o), (0.0, 1.0), ()),
    "exponential": (lambda l: smoothing.OverlappingExponential(l, 12.0), (0.0, 1.0), ()),
    "uniform_exponential": (lambda l: smoothing.OverlappingUniformExponential(l, 16.0), (0.0, 1.0), ()),
    "gaussian": (lambda l: smoothing.OverlappingGaussian(l, 25.0), (-2.0, 3.0), ()),
    "spike_and_exp": (lambda l: smoothing.SpikeAndExponential(8.0, l), (0.0, 1.0), (0.0,)),
    "shifted_gaussian": (lambda l: smoothing.ShiftedGaussianMixture(
        l, GI_SIGMA, GI_SHIFT[:l.shape[-1]] * np.ones_like(l), exact_sigma_gradient=True), (-2.0, 3.0), ()),
    "bernoulli": (lambda l: smoothing.FactorialBernoulli(l), None, (0.0, 1.0)),
}
CONTINUOUS = [name for name in MAKERS if name != "bernoulli"]
# The Kolmogorov distribution's 1 − 1e-3 quantile: P(√N sup|F_N − F| > 1.949) ≈ 1e-3 for a continuous F; the
# supremum over a fixed grid of points is smaller, so the bound holds there for any F (atoms included).
KOLMOGOROV_999 = 1.949


def _make(name, logits=LOGITS, dtype=tf.float64, **options):
    return MAKERS[name][0](tf.constant(logits, dtype), **options)


def _quadrature(name, support, points, top=0.0):
    """Nodes and weights of composite 20-point Gauss–Legendre rules on (a, b − `top`) whose pieces end at `points`
    and, on [0, 1], shrink geometrically towards both ends (to 1e-300 at 0), where the power mixture's density is
    integrable but singular (its mass within 1e-300 of 0 is (1e-300)^(1/30) = 1e-10)."""
    a, b = support
    if name in ("gaussian", "shifted_gaussian"):
        edges = np.linspace(a, b, 1001)
    else:
        ends = np.geomspace(1e-300, 1e-2, 600)
        upper = 1.0 - np.geomspace(max(top, 1e-16), 1e-2, 200)[::-1]
        edges = np.concatenate([[0.0], ends, np.linspace(1e-2, 1 - 1e-2, 400), upper, [] if top else [1.0]])
    edges = np.unique(np.concatenate([edges, points]))
    x, w = np.polynomial.legendre.leggauss(20)
    half = (edges[1:] - edges[:-1])[:, None] / 2
    return ((edges[:-1, None] + half) + half * x).ravel(), (half * w).ravel()


def _densities(distribution, zeta):
    """exp(log_prob) at every point of `zeta` [M] for every unit: [M, units]."""
    value = tf.constant(np.repeat(np.asarray(zeta, np.float64)[:, None], len(LOGITS), 1))
    return tf.exp(distribution.log_prob(value)).numpy()


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_tfp_distribution_of_one_scalar_per_unit(name):
    distribution = _make(name, np.tile(LOGITS, (3, 1)), tf.float32)
    seed = tf.constant([4, 9], tf.int64)
    assert isinstance(distribution, tfd.Distribution)
    assert distribution.batch_shape == (3, 5) and distribution.event_shape == ()
    expected = tfd.NOT_REPARAMETERIZED if name == "bernoulli" else tfd.FULLY_REPARAMETERIZED
    assert distribution.reparameterization_type == expected
    one = distribution.sample(seed=seed)
    assert one.shape == (3, 5) and one.dtype == tf.float32
    np.testing.assert_array_equal(one, distribution.sample(seed=seed))
    assert distribution.sample([7, 2], seed=seed).shape == (7, 2, 3, 5)
    np.testing.assert_array_equal(distribution.sample([1], seed=seed)[0], one)  # one draw, whatever the shape
    exact = _make(name, np.tile(LOGITS, (3, 1)))
    value = tf.cast(one, tf.float64)
    log_prob = exact.log_prob(value)
    np.testing.assert_allclose(exact.prob(value), np.exp(log_prob), rtol=1e-12)
    independent = tfd.Independent(exact, reinterpreted_batch_ndims=1)
    np.testing.assert_allclose(independent.log_prob(value), tf.reduce_sum(log_prob, -1), rtol=1e-12)
    assert np.isfinite(distribution.sample(seed=3).numpy()).all()  # a Python int: TFP's stateful convention


@pytest.mark.parametrize("name", list(MAKERS))
def test_log_prob_integrates_to_one_and_cdf_is_its_integral(name):
    """Σ over atoms of exp(log_prob) plus ∫ exp(log_prob) over the support is 1 for every unit, and cdf(t) is the
    integral of exp(log_prob) up to t (atoms at or below t included), by Gauss–Legendre quadrature in float64."""
    options = {"eps": 0.0} if name == "power" else {}
    distribution = _make(name, **options)
    support, atoms = MAKERS[name][1:]
    atom_mass = _densities(distribution, atoms) if atoms else np.zeros((0, len(LOGITS)))
    if support is None:
        np.testing.assert_allclose(atom_mass.sum(0), 1.0, atol=1e-14)
        cdf = distribution.cdf(tf.constant(np.full((3, len(LOGITS)), [[-0.5], [0.5], [1.0]])))
        np.testing.assert_allclose(cdf, [np.zeros(len(LOGITS)), atom_mass[0], np.ones(len(LOGITS))], atol=1e-14)
        return
    grid = np.linspace(*support, 9)[1:-1]
    # float64 cannot place ζ within 1e-9 of 1 finely enough for the power mixture's r0(1 − ζ) = λ(1 − ζ)^(λ−1),
    # which holds half of the z = 1 mass there; that sliver's mass comes from the closed form R0(δ) = δ^λ.
    top = 1e-9 if name == "power" else 0.0
    nodes, weights = _quadrature(name, support, grid, top)
    mass = weights[:, None] * _densities(distribution, nodes)
    q, lam = 1 / (1 + np.exp(-LOGITS)), 1 / 30
    sliver = (1 - q) * (1 - (1 - top) ** lam) + q * top ** lam if top else 0.0
    np.testing.assert_allclose(atom_mass.sum(0) + mass.sum(0) + sliver, 1.0, atol=1e-8)
    below = [atom_mass[[a <= t for a in atoms]].sum(0) + mass[nodes < t].sum(0) for t in grid]
    cdf = distribution.cdf(tf.constant(np.repeat(grid[:, None], len(LOGITS), 1))).numpy()
    np.testing.assert_allclose(cdf, below, atol=1e-8)


def test_the_original_power_eps_leaves_mass_off_the_unit_interval():
    """With ε = 1e-7 inside pow and log (the original's form), the mixture's mass on [0, 1] is (1 + ε)^λ − ε^λ
    (0.416 at β = 30), whatever q: its density is r0 shifted by −ε, most of it on (−ε, 0)."""
    nodes, weights = _quadrature("power", (0.0, 1.0), [])
    mass = (weights[:, None] * _densities(_make("power"), nodes)).sum(0)
    lam, eps = 1 / 30, 1e-7
    np.testing.assert_allclose(mass, (1 + eps) ** lam - eps ** lam, rtol=1e-7)


@pytest.mark.parametrize("name", list(MAKERS))
def test_samples_follow_the_cdf(name):
    """sup over a grid of |empirical CDF − cdf| of N = 20000 draws of `sample([N])` in float64, for every unit,
    is below the Kolmogorov bound 1.949/√N (the power mixture's sampler is its ε = 0 law)."""
    draws = 20000
    options = {"eps": 0.0} if name == "power" else {}
    distribution = _make(name, **options)
    samples = distribution.sample([draws], seed=tf.constant([11, len(name)], tf.int32)).numpy()
    support = MAKERS[name][1] or (-0.5, 1.5)
    grid = np.concatenate([np.linspace(*support, 201), [0.0, 1e-9, 1e-4, 1 - 1e-4, 1 - 1e-9]])
    cdf = distribution.cdf(tf.constant(np.repeat(grid[:, None], len(LOGITS), 1), tf.float64)).numpy()
    empirical = (samples[None, :, :] <= grid[:, None, None]).mean(axis=1)
    assert np.abs(empirical - cdf).max() < KOLMOGOROV_999 / math.sqrt(draws)


def _inverse_cdf(distribution, u, bracket, iterations=120):
    """ζ with cdf(ζ) = u for every unit, by bisection in float64 (the CDF is increasing)."""
    lower, upper = np.full(u.shape, bracket[0]), np.full(u.shape, bracket[1])
    for _ in range(iterations):
        middle = (lower + upper) / 2
        below = distribution.cdf(tf.constant(middle)).numpy() < u
        lower, upper = np.where(below, middle, lower), np.where(below, upper, middle)
    return (lower + upper) / 2


@pytest.mark.parametrize("name", CONTINUOUS)
def test_reparameterised_sample_gradient_matches_float64_finite_differences(name):
    """d sample / d parameter through `sample(seed=…)` equals the central difference of θ ↦ F⁻¹(F(ζ; θ0); θ), the
    sample at a fixed value of the mixture CDF F, solved in float64 (units whose ζ lies within 1e-4 of an end of
    [0, 1], where float64 cannot resolve the difference, or on the spike's atom, are left out)."""
    units = 40
    rng = np.random.default_rng(5)
    theta = {"logits": rng.uniform(-3.0, 3.0, units)}
    if name == "shifted_gaussian":
        theta.update(sigma=np.full(units, GI_SIGMA), shift=rng.uniform(-0.2, 0.2, units))

    def build(**values):
        if name == "shifted_gaussian":
            return smoothing.ShiftedGaussianMixture(values["logits"], values["sigma"], values["shift"],
                                                    exact_sigma_gradient=True)
        return MAKERS[name][0](values["logits"])

    tensors = {key: tf.constant(value) for key, value in theta.items()}
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(tensors.values()))
        zeta = build(**tensors).sample(seed=tf.constant([2, 7], tf.int64))
        per_unit = tf.unstack(zeta)
    zeta = zeta.numpy()
    bracket = (-3.0, 4.0) if name in ("gaussian", "shifted_gaussian") else (0.0, 1.0)
    kept = np.minimum(zeta, 1.0 - zeta) >= 1e-4 if bracket == (0.0, 1.0) else np.ones(units, bool)
    assert kept.sum() >= 8
    u = build(**theta).cdf(tf.constant(zeta)).numpy()
    step = 1e-6
    for key in theta:
        gradient = np.array([tape.gradient(per_unit[i], tensors[key]).numpy()[i] for i in range(units)])
        moved = [_inverse_cdf(build(**{**theta, key: theta[key] + sign * step}), u, bracket) for sign in (1, -1)]
        difference = (moved[0] - moved[1]) / (2 * step)
        np.testing.assert_allclose(gradient[kept], difference[kept], rtol=1e-4, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("beta", [30.0, 40.0])
def test_float32_power_mixture_is_finite_at_the_paper_betas(beta):
    """Samples, log densities and their gradients stay finite in float32 at β = 30 and 40 for 10⁵ units over the
    logits the encoder produces."""
    logits = tf.constant(np.linspace(-12.0, 12.0, 100000), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        distribution = smoothing.OverlappingPower(logits, beta)
        zeta = distribution.sample(seed=tf.constant([1, 1], tf.int32))
        log_prob = distribution.log_prob(zeta)
    for tensor in (zeta, log_prob, tape.gradient(zeta, logits), tape.gradient(log_prob, logits)):
        assert np.isfinite(tensor.numpy()).all()


def test_named_mixtures_are_the_overlapping_mixture_of_their_kernel():
    seed = tf.constant([3, 8], tf.int32)
    zeta = tf.constant(np.linspace(0.01, 0.99, 5))
    pairs = [(smoothing.OverlappingPower(LOGITS, 30.0), smoothing.PowerFunction(30.0)),
             (smoothing.OverlappingExponential(LOGITS, 12.0), smoothing.TruncatedExponential(12.0)),
             (smoothing.OverlappingUniformExponential(LOGITS, 16.0), smoothing.UniformExponential(16.0)),
             (smoothing.OverlappingGaussian(LOGITS, 25.0), smoothing.Gaussian(25.0))]
    for named, kernel in pairs:
        general = smoothing.OverlappingMixture(kernel, LOGITS)
        np.testing.assert_array_equal(named.sample(seed=seed), general.sample(seed=seed))
        np.testing.assert_array_equal(named.log_prob(zeta), general.log_prob(zeta))
        np.testing.assert_array_equal(named.cdf(zeta), general.cdf(zeta))


@pytest.mark.parametrize("baseline", ["dvae_spike_exp", "dvaepp_power", "dvaes_gi", "dvaes_unexp"])
def test_the_model_samples_through_these_distributions(baseline):
    """The encoder's relaxed posteriors (training) and discrete posteriors (evaluation) are the distributions of
    this package: there is one implementation of each."""
    from dvae_sharp.dvae.model import encoder
    from tests.model_helpers import tiny_model
    model = tiny_model(baseline, groups=2)
    x = tf.constant(np.random.default_rng(0).uniform(size=(3, 20)) < 0.5, tf.float32)
    seed = tf.constant([1, 2], tf.int64)
    for make_posterior in (model.relaxation.posterior, encoder.bernoulli_posterior):
        posteriors, samples = model.encoder(x - model.x_mean, make_posterior, seed, training=False)
        for posterior, sample in zip(posteriors, samples):
            assert isinstance(posterior, tfd.Distribution)
            assert type(posterior).__module__.startswith("dvae_sharp.smoothing.")
            assert posterior.batch_shape == sample.shape == (3, 4)
