"""The networks (protocol §7.1) against float64 forms.

Batch norm against its closed forms: the normalised output with the rows' biased variance, the moving averages
with momentum 0.8, the evaluation form, and the training gradient

    x̂ = (h − μ) / s,  s = √(σ² + ε),   ∂L/∂β = Σ_rows c,   ∂L/∂γ = Σ_rows c x̂,
    ∂L/∂h = (γ / s) (c − mean_rows(c) − x̂ · mean_rows(c x̂))   for L = Σ c ⊙ y.

A feed-forward stack against the same layers composed in float64, with and without an output offset.
"""
import numpy as np
import pytest
import tensorflow as tf

from dvae_sharp.dvae.model import networks

EPSILON, MOMENTUM = 1e-2, 0.8


def _layer(rng, units):
    norm = networks.BatchNorm(units)
    norm.gamma.assign(rng.uniform(0.5, 2.0, units).astype(np.float32))
    norm.beta.assign(rng.normal(0, 1, units).astype(np.float32))
    norm.moving_mean.assign(rng.normal(0, 1, units).astype(np.float32))
    norm.moving_variance.assign(rng.uniform(0.5, 2.0, units).astype(np.float32))
    return norm


def _float64(*variables):
    return [v.numpy().astype(np.float64) for v in variables]


@pytest.mark.parametrize("rows,units", [(7, 3), (100, 200), (2500, 20)])
def test_training_output_moving_averages_and_gradient_match_the_closed_forms(rows, units):
    rng = np.random.default_rng(rows)
    norm = _layer(rng, units)
    gamma, beta, moving_mean, moving_variance = _float64(norm.gamma, norm.beta, norm.moving_mean,
                                                         norm.moving_variance)
    h = (rng.normal(0, 1, (rows, units)) * rng.uniform(0.1, 5, units) + rng.normal(0, 3, units)).astype(np.float32)
    c = rng.normal(0, 1, (rows, units)).astype(np.float32)
    h_tensor = tf.constant(h)
    with tf.GradientTape() as tape:
        tape.watch(h_tensor)
        y = norm(h_tensor, training=True)
        loss = tf.reduce_sum(tf.constant(c) * y)
    grad_h, grad_gamma, grad_beta = tape.gradient(loss, [h_tensor, norm.gamma, norm.beta])

    h64, c64 = h.astype(np.float64), c.astype(np.float64)
    mean, variance = h64.mean(0), h64.var(0)
    scale = np.sqrt(variance + EPSILON)
    normalised = (h64 - mean) / scale
    np.testing.assert_allclose(y.numpy(), gamma * normalised + beta, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(norm.moving_mean.numpy(), MOMENTUM * moving_mean + (1 - MOMENTUM) * mean,
                               rtol=1e-5, atol=1e-6 * np.abs(mean).max())
    np.testing.assert_allclose(norm.moving_variance.numpy(), MOMENTUM * moving_variance + (1 - MOMENTUM) * variance,
                               rtol=1e-5)
    expected_h = gamma / scale * (c64 - c64.mean(0) - normalised * (c64 * normalised).mean(0))
    np.testing.assert_allclose(grad_h.numpy(), expected_h, rtol=1e-4, atol=1e-5 * np.abs(expected_h).max())
    np.testing.assert_allclose(grad_beta.numpy(), c64.sum(0), rtol=1e-5, atol=1e-5 * np.sqrt(rows))
    np.testing.assert_allclose(grad_gamma.numpy(), (c64 * normalised).sum(0), rtol=1e-4, atol=1e-5 * np.sqrt(rows))


def test_evaluation_uses_the_moving_averages_and_changes_nothing():
    rng = np.random.default_rng(3)
    norm = _layer(rng, 5)
    before = _float64(norm.gamma, norm.beta, norm.moving_mean, norm.moving_variance)
    h = rng.normal(0, 2, (4, 5)).astype(np.float32)
    y = norm(tf.constant(h), training=False).numpy()
    gamma, beta, moving_mean, moving_variance = before
    expected = gamma * (h - moving_mean) / np.sqrt(moving_variance + EPSILON) + beta
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    for was, now in zip(before, _float64(norm.gamma, norm.beta, norm.moving_mean, norm.moving_variance)):
        np.testing.assert_array_equal(was, now)


@pytest.mark.parametrize("sizes", [[6, 4], [6, 5, 5, 4]])
@pytest.mark.parametrize("training", [False, True])
def test_feed_forward_with_an_output_offset_is_the_float64_stack_plus_the_offset(sizes, training):
    rng = np.random.default_rng(len(sizes))
    net = networks.FeedForward(sizes, tf.constant([3, 4], tf.int64))
    for norm in net.norms:
        norm.moving_variance.assign(rng.uniform(0.5, 2.0, norm.moving_variance.shape).astype(np.float32))
    x = rng.normal(0, 1, (9, sizes[0])).astype(np.float32)
    offset = rng.normal(0, 2, sizes[-1]).astype(np.float32)
    h = x.astype(np.float64)
    for i, dense in enumerate(net.dense):
        kernel, bias = _float64(dense.kernel, dense.bias)
        h = h @ kernel + bias
        if i < len(net.norms):
            norm = net.norms[i]
            gamma, beta, moving_mean, moving_variance = _float64(norm.gamma, norm.beta, norm.moving_mean,
                                                                 norm.moving_variance)
            mean, variance = (h.mean(0), h.var(0)) if training else (moving_mean, moving_variance)
            h = np.tanh(gamma * (h - mean) / np.sqrt(variance + EPSILON) + beta)
    without = net(tf.constant(x), training).numpy()
    with_offset = net(tf.constant(x), training, output_offset=tf.constant(offset)).numpy()
    np.testing.assert_allclose(without, h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(with_offset, h + offset, rtol=1e-5, atol=1e-5)
