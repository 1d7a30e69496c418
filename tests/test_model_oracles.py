"""The model against exact oracles: log p(x) by enumeration, the bound ordering, relaxed priors, KL gradients."""
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit, logsumexp

from dvae_sharp import smoothing
from dvae_sharp.dvae.model import kl, objectives, priors, rows as row_layout
from tests.model_helpers import all_states, exact_log_z, rbm_neg_energy, rbm_params, tiny_model


def _exact_log_px(model, x):
    """log p(x) = logsumexp_z [log p(z) + log p(x|z)] over all 2⁸ latent states (decoder in evaluation mode)."""
    b1, b2, w = rbm_params(model.rbm)
    states = all_states(len(b1) + len(b2))
    log_pz = rbm_neg_energy(states, b1, b2, w) - exact_log_z(model.rbm)
    groups = np.split(states.astype(np.float32), model.structure.num_groups, axis=1)
    out = []
    for image in x:
        rows = np.repeat(image[None], len(states), axis=0).astype(np.float32)
        recon, _ = model.reconstruction_cost(tf.constant(rows), [tf.constant(g) for g in groups], training=False)
        out.append(logsumexp(log_pz - recon.numpy().astype(np.float64)))
    return np.array(out)


def _log_weight_pool(model, x, num):
    """[num, images] log importance weights of the discrete model, one posterior sample per row."""
    rows = tf.constant(np.tile(x, (num, 1)).astype(np.float32))
    log_w, neg_elbo = model.evaluation_terms(rows, tf.constant([7, 11], tf.int64))
    return log_w.numpy().astype(np.float64).reshape(num, len(x)), neg_elbo.numpy().reshape(num, len(x))


@pytest.mark.parametrize("groups", [1, 2])
def test_importance_weighted_estimates_increase_to_the_exact_log_likelihood(groups):
    model = tiny_model(groups=groups)
    model.rbm.log_z.assign(exact_log_z(model.rbm))
    x = (np.random.default_rng(0).uniform(size=(6, 20)) < 0.4).astype(np.float32)
    exact = _exact_log_px(model, x)
    pool, _ = _log_weight_pool(model, x, 40000)
    means, errors = [], []
    for k in (1, 5, 50, 10000):
        per_group = logsumexp(pool.reshape(-1, k, len(x)), axis=1) - np.log(k)   # [replicates, images]
        means.append(per_group.mean(0))
        errors.append(per_group.std(0, ddof=1) / np.sqrt(per_group.shape[0]) if per_group.shape[0] > 1 else None)
    for smaller, larger, se_small, se_large in zip(means[:2], means[1:3], errors[:2], errors[1:3]):
        assert np.all(larger - smaller > 3 * np.hypot(se_small, se_large)), (smaller, larger)
    assert np.all(means[2] < exact)
    # With k = 10000 the estimate is within 4 delta-method standard errors plus the O(1/k) bias of log p(x).
    w = np.exp(pool[:10000] - pool[:10000].max(0))
    delta_se = w.std(0) / w.mean(0) / np.sqrt(10000)
    assert np.all(np.abs(means[3] - exact) < 4 * delta_se + delta_se ** 2 / 2 + 1e-4)
    assert np.all(np.abs(means[3] - exact) < np.abs(means[1] - exact))


def test_evaluation_neg_elbo_is_the_exact_elbo_on_average():
    """For the DVAE++ family the eval neg-ELBO is E(z) + log Z − H(q) + recon; its mean equals −E_q[log w]."""
    model = tiny_model(baseline="dvaepp_power")
    model.rbm.log_z.assign(exact_log_z(model.rbm))
    x = (np.random.default_rng(1).uniform(size=(4, 20)) < 0.4).astype(np.float32)
    log_w, neg_elbo = _log_weight_pool(model, x, 20000)
    difference = neg_elbo.astype(np.float64) + log_w          # = log q(z|x) + H(q): zero mean under q
    se = difference.std(0, ddof=1) / np.sqrt(len(difference))
    assert np.all(np.abs(difference.mean(0)) < 4 * se + 1e-4)
    assert np.all(np.abs(neg_elbo.mean(0) + log_w.mean(0)) < 4 * se + 1e-4)


@pytest.mark.parametrize("coupling_std, tight", [(0.01, True), (2.0, False)])
def test_mean_field_log_partition_is_a_lower_bound_tight_for_weak_couplings(coupling_std, tight):
    model = tiny_model(coupling_std=coupling_std)
    kernel = smoothing.PowerFunction(10.0)
    prior = priors.MeanFieldMarginalPrior(model.rbm, kernel)
    zeta = np.random.default_rng(2).uniform(size=(50, 8)).astype(np.float32)
    mean_field = prior.log_prob(tf.constant(zeta), 0.0).numpy().astype(np.float64)
    b1, b2, w = rbm_params(model.rbm)
    states = all_states(8)
    log_r0 = kernel.log_pdf(tf.constant(zeta, tf.float64)).numpy()
    ratio = kernel.log_ratio(tf.constant(zeta, tf.float64)).numpy()
    exact = logsumexp(rbm_neg_energy(states, b1, b2, w)[None] + ratio @ states.T, axis=1) + log_r0.sum(1)
    assert np.all(mean_field <= exact + 1e-4 * np.abs(exact))
    if tight:
        np.testing.assert_allclose(mean_field, exact, atol=2e-3)
    else:
        assert np.max(exact - mean_field) > 0.05


@pytest.mark.parametrize("left, right", [(1, 1), (1, 2)])
def test_gaussian_integral_prior_integrates_to_one(left, right):
    model = tiny_model(units=2 * left, coupling_std=1.5)
    rbm = priors.RBMPrior(left, right, model.rbm.sampler)
    rng = np.random.default_rng(4)
    rbm.b1.assign(rng.normal(0, 1, left).astype(np.float32))
    rbm.b2.assign(rng.normal(0, 1, right).astype(np.float32))
    rbm.w.assign(rng.normal(0, 1.5, (left, right)).astype(np.float32))
    log_z = exact_log_z(rbm)
    prior = priors.GaussianIntegralPrior(rbm, beta=1.0)
    prior.refresh_lambda()
    assert float(prior.lam) == pytest.approx(float(np.linalg.svd(rbm.w.numpy())[1][0]) + 5.0, rel=1e-5)
    step = 0.01 if left + right == 2 else 0.03
    axis = np.arange(-2.5, 3.5, step)
    grid = np.stack(np.meshgrid(*[axis] * (left + right), indexing="ij"), -1).reshape(-1, left + right)
    log_p = prior.log_prob(tf.constant(grid, tf.float32), tf.constant(log_z, tf.float32)).numpy()
    total = np.exp(log_p.astype(np.float64)).sum() * step ** (left + right)
    assert total == pytest.approx(1.0, abs=2e-3)


def _exact_kl(logits, b1, b2, w):
    """KL(q‖p) for factorial Bernoulli q = σ(logits) and the RBM p, by enumeration in float64."""
    states = all_states(len(logits))
    q = expit(logits)
    log_q = states @ np.log(q) + (1 - states) @ np.log1p(-q)
    log_p = rbm_neg_energy(states, b1, b2, w) - logsumexp(rbm_neg_energy(states, b1, b2, w))
    return float(np.sum(np.exp(log_q) * (log_q - log_p)))


def _finite_difference_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("which", ["dvaepp", "rolfe"])
def test_single_group_kl_gradients_match_finite_differences_of_the_exact_kl(which):
    """With one group the DVAE++ KL is the exact KL of a factorial posterior, and Rolfe's surrogate has its
    gradient (its u equals ∂KL/∂q exactly when s = q). With several groups both are single-sample estimators of
    a hierarchical posterior's KL, so only this case has a closed form to compare with."""
    model = tiny_model(coupling_std=0.7)
    b1, b2, w = rbm_params(model.rbm)
    logits0 = np.random.default_rng(5).normal(0, 1.5, 8)
    exact_value = _exact_kl(logits0, b1, b2, w)
    logits = tf.Variable(logits0[None].astype(np.float32))
    log_z = tf.constant(exact_log_z(model.rbm), tf.float32)
    with tf.GradientTape() as tape:
        if which == "dvaepp":
            value = kl.dvaepp_kl(model.rbm, logits, tf.zeros_like(logits), log_z)[0]
        else:
            value = kl.rolfe_kl(model.rbm, [logits], [tf.zeros_like(logits)], tf.zeros([1, 8]))[0]
    gradient = tape.gradient(value, logits).numpy()[0]
    expected = _finite_difference_gradient(lambda l: _exact_kl(l, b1, b2, w), logits0)
    np.testing.assert_allclose(gradient, expected, rtol=1e-3, atol=1e-4)
    if which == "dvaepp":
        assert float(value) == pytest.approx(exact_value, abs=1e-4)


def test_iw_surrogate_gradient_is_the_gradient_of_the_importance_weighted_bound():
    theta = tf.Variable(np.random.default_rng(6).normal(size=(3, 5)))
    with tf.GradientTape(persistent=True) as tape:
        log_w = tf.sin(theta) * 3.0 + theta ** 2
        surrogate = objectives.iw_surrogate_loss(log_w)
        bound = -tf.reduce_mean(objectives.importance_weighted_bound(log_w))
    np.testing.assert_allclose(tape.gradient(surrogate, theta), tape.gradient(bound, theta), rtol=1e-10)
    expected = np.mean(logsumexp(log_w.numpy(), axis=1) - np.log(5))
    assert float(-bound) == pytest.approx(expected, rel=1e-12)


def test_kl_warmup_and_learning_rate_schedule():
    assert float(objectives.kl_warmup(0, 300.0)) == 0.0
    assert float(objectives.kl_warmup(150, 300.0)) == pytest.approx(0.5)
    assert float(objectives.kl_warmup(900, 300.0)) == 1.0
    from dvae_sharp import configs
    schedule = objectives.learning_rate_schedule(configs.make_config(num_train_iter=1000))
    values = {step: float(schedule(step)) for step in (0, 20, 21, 600, 601, 750, 751, 950, 951, 999)}
    assert values == pytest.approx({0: 3e-4, 20: 3e-4, 21: 3e-3, 600: 3e-3, 601: 1e-3, 750: 1e-3, 751: 3e-4,
                                    950: 3e-4, 951: 3e-3 / 33, 999: 3e-3 / 33})


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_repeated_evaluation_equals_evaluating_tiled_images(groups):
    """Computing the first encoder group, and the x part of the later groups' first layer, once per image and
    tiling it is the same as tiling the images."""
    model = tiny_model(groups=groups)
    x = (np.random.default_rng(8).uniform(size=(5, 20)) < 0.4).astype(np.float32)
    seed = tf.constant([3, 4], tf.int64)
    repeated = model.evaluation_terms(tf.constant(x), seed, repeats=7)
    tiled = model.evaluation_terms(tf.constant(np.tile(x, (7, 1))), seed)
    symbolic = tf.function(lambda reps: model.evaluation_terms(tf.constant(x), seed, repeats=reps),
                           input_signature=[tf.TensorSpec([], tf.int32)], autograph=False)(tf.constant(7))
    for a, b, c in zip(repeated, tiled, symbolic):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(c.numpy(), a.numpy())


@pytest.mark.parametrize("baseline,groups", [("dvaes_power", 1), ("dvaes_power", 4), ("dvae_spike_exp", 2),
                                             ("dvaes_gi", 2)])
def test_training_encoder_once_per_image_equals_encoding_repeated_images(baseline, groups):
    """In training with k samples per image, the first encoder group and the later groups' x W_x run once per
    image and are repeated; the relaxed samples, the gradients of every encoder variable and the batch-norm moving
    statistics equal those of encoding the k-fold repeated images (float32 rounding apart)."""
    k = 3
    model = tiny_model(baseline=baseline, groups=groups, k=k)
    rng = np.random.default_rng(10)
    x = tf.constant((rng.uniform(size=(5, 20)) < 0.4).astype(np.float32))
    row_weights = tf.constant(rng.normal(size=(5 * k, 8)).astype(np.float32))
    seed = tf.constant([5, 6], tf.int64)
    variables = model.encoder.trainable_variables
    moving = [v for v in model.encoder.variables if "moving" in v.name]
    start = [v.numpy() for v in moving]

    def encode(images, rows):
        with tf.GradientTape() as tape:
            _, zetas = model.encoder(model._centered(images), model.relaxation.posterior, seed, training=True,
                                     rows=rows)
            loss = tf.reduce_sum(tf.sin(tf.concat(zetas, -1) * row_weights))
        gradients = tape.gradient(loss, variables)
        statistics = [v.numpy() for v in moving]
        for v, value in zip(moving, start):
            v.assign(value)
        return tf.concat(zetas, -1).numpy(), [g.numpy() for g in gradients], statistics

    once, repeated = encode(x, row_layout.training(k)), encode(tf.repeat(x, k, axis=0), row_layout.ONE_PER_IMAGE)
    np.testing.assert_allclose(once[0], repeated[0], rtol=1e-5, atol=1e-6)
    assert len(once[1]) == len(variables) and all(g is not None for g in once[1])
    scale = max(np.abs(g).max() for g in repeated[1])  # gradients that cancel to 0 (biases before batch norm)
    for a, b in zip(once[1], repeated[1]):             # are float32 rounding of terms of this size
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale)
    for a, b in zip(once[2], repeated[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("image_major", [False, True])
def test_reconstruction_and_evaluation_costs_are_the_bernoulli_negative_log_likelihood(image_major):
    model = tiny_model(groups=2)
    rng = np.random.default_rng(9)
    x = (rng.uniform(size=(3, 20)) < 0.4).astype(np.float32)
    latents = [tf.constant((rng.uniform(size=(6, 4)) < 0.5).astype(np.float32)) for _ in range(2)]
    rows = row_layout.RowLayout(2, image_major)
    cost, logits = model.reconstruction_cost(tf.constant(x), latents, training=False, rows=rows)
    p = expit(logits.numpy().astype(np.float64))
    targets = np.repeat(x, 2, axis=0) if image_major else np.tile(x, (2, 1))
    expected = -np.sum(targets * np.log(p) + (1 - targets) * np.log1p(-p), axis=1)
    np.testing.assert_allclose(cost.numpy(), expected, rtol=1e-5)
    # The evaluator's form, its tail compiled by XLA, against the same float64 oracle.
    np.testing.assert_allclose(model.evaluation_cost(tf.constant(x), latents, rows).numpy(), expected, rtol=1e-5)
