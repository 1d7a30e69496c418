"""Checks of the RBM helpers and of exact enumeration by brute force; `as_tensors` for the sampler tests, whose
oracle RBMs are in samplers/oracle_rbms.py."""
import itertools
import math

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.samplers.oracle_rbms import ORACLE_CASES, easy_rbm, oracle_rbm

def as_tensors(params, dtype=tf.float32):
    return [tf.constant(p, dtype) for p in params]


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def brute_force(b1, b2, w):
    """log Z, E[z1], E[z2], E[z1 z2ᵀ] by summing over every joint state (numpy, float64)."""
    z1, z2 = all_states(len(b1))[:, None, :], all_states(len(b2))[None, :, :]
    neg_e = (z1 * b1).sum(-1) + (z2 * b2).sum(-1) + np.einsum("xi,ij,yj->xy", z1[:, 0], w, z2[0])
    log_z = np.logaddexp.reduce(neg_e.ravel())
    p = np.exp(neg_e - log_z)
    return log_z, p.sum(1) @ z1[:, 0], p.sum(0) @ z2[0], z1[:, 0].T @ p @ z2[0]


TINY = easy_rbm(4, 5, seed=7)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_exact_log_z_moments_and_log_prob_match_brute_force(dtype):
    log_z, mean_left, mean_right, pair = brute_force(*TINY)
    for side in ("smaller", "left", "right"):
        np.testing.assert_allclose(samplers.exact_log_z(*as_tensors(TINY, dtype), enumerate_side=side), log_z,
                                   rtol=1e-6 if dtype == tf.float32 else 1e-12)
        moments = samplers.exact_moments(*as_tensors(TINY, dtype), enumerate_side=side)
        for got, want in zip(moments, (mean_left, mean_right, pair)):
            np.testing.assert_allclose(got, want, atol=1e-6 if dtype == tf.float32 else 1e-12)
    z1, z2 = np.array([1.0, 0, 1, 1]), np.array([0.0, 1, 1, 0, 1])
    b1, b2, w = TINY
    want = z1 @ b1 + z2 @ b2 + z1 @ w @ z2 - log_z
    np.testing.assert_allclose(samplers.exact_log_prob(z1, z2, *TINY), want, rtol=1e-12)


@pytest.mark.parametrize("kind,n1,n2", ORACLE_CASES)
def test_enumerating_either_side_agrees(kind, n1, n2):
    params = oracle_rbm(kind, n1, n2)
    np.testing.assert_allclose(samplers.exact_log_z(*params, enumerate_side="left"),
                               samplers.exact_log_z(*params, enumerate_side="right"), rtol=1e-12)
    for left, right in zip(samplers.exact_moments(*params, enumerate_side="left"),
                           samplers.exact_moments(*params, enumerate_side="right")):
        np.testing.assert_allclose(left, right, atol=1e-12)


def test_exact_rejects_too_many_enumerated_units():
    with pytest.raises(ValueError, match="at most 20"):
        samplers.exact_log_z(np.zeros(21), np.zeros(22), np.zeros((21, 22)))


def test_energy_marginals_and_conditionals_match_brute_force():
    b1, b2, w = TINY
    tb1, tb2, tw = as_tensors(TINY, tf.float64)
    z1, z2 = all_states(4), all_states(5)
    neg_e = samplers.neg_energy(z1[:, None, :], z2[None, :, :], tb1, tb2, tw).numpy()
    np.testing.assert_allclose(neg_e, z1 @ b1[:, None] + (z2 @ b2)[None] + z1 @ w @ z2.T, rtol=1e-12)
    np.testing.assert_allclose(samplers.log_marginal_left(z1, tb1, tb2, tw), np.logaddexp.reduce(neg_e, 1))
    np.testing.assert_allclose(samplers.log_marginal_right(z2, tb1, tb2, tw), np.logaddexp.reduce(neg_e, 0))
    # logit p(z2_j = 1 | z1) = -E(z2_j = 1) + E(z2_j = 0), read off the energy table for states differing in unit j.
    right_logits = samplers.right_given_left_logits(z1, tb2, tw).numpy()
    left_logits = samplers.left_given_right_logits(z2, tb1, tw).numpy()
    for j in range(5):
        on, off = z2[:, j] == 1, z2[:, j] == 0
        np.testing.assert_allclose(right_logits[:, j], neg_e[:, on][:, 0] - neg_e[:, off][:, 0], rtol=1e-12)
    for i in range(4):
        on, off = z1[:, i] == 1, z1[:, i] == 0
        np.testing.assert_allclose(left_logits[:, i], neg_e[on][0] - neg_e[off][0], rtol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_gibbs_sweep_draws_from_the_conditionals(dtype):
    """From one fixed z1 repeated S times, z2 frequencies must match σ(b2 + z1 w) within 4.5 binomial SE."""
    num = 40000
    b1, b2, w = as_tensors(TINY, dtype)
    z1 = tf.tile(tf.constant([[1.0, 0, 1, 1]], dtype), [num, 1])
    new_z1, z2 = samplers.gibbs_sweep(z1, tf.zeros([num, 5], dtype), b1, b2, w, tf.constant([3, 4]))
    assert new_z1.dtype == dtype and z2.dtype == dtype
    prob = tf.sigmoid(samplers.right_given_left_logits(z1[:1], b2, w))[0].numpy()
    np.testing.assert_array_less(np.abs(z2.numpy().mean(0) - prob), 4.5 * np.sqrt(prob * (1 - prob) / num))
    # At inverse temperature β the sweep is the sweep of the RBM with parameters β·θ (same random numbers).
    hot = samplers.gibbs_sweep(z1, z2, b1, b2, w, tf.constant([5, 6]), inverse_temperature=tf.constant(0.3, dtype))
    scaled = samplers.gibbs_sweep(z1, z2, 0.3 * b1, 0.3 * b2, 0.3 * w, tf.constant([5, 6]))
    for got, want in zip(hot, scaled):
        assert np.array_equal(got.numpy(), want.numpy())
    uniform_z1, _ = samplers.gibbs_sweep(z1, z2, b1, b2, w, tf.constant([7, 8]), inverse_temperature=0.0)
    assert abs(uniform_z1.numpy().mean() - 0.5) < 4.5 * math.sqrt(0.25 / (4 * num))


def chi_square_z(values, cells):
    """(χ² - dof) / sqrt(2 dof) of the counts of integer `values` in [0, cells) against the uniform distribution."""
    counts = np.bincount(values, minlength=cells)
    expected = len(values) / cells
    chi_square = ((counts - expected) ** 2 / expected).sum()
    return (chi_square - (cells - 1)) / math.sqrt(2 * (cells - 1))


def test_uniform_16bit_draws_are_uniform_with_a_fraction_shared_by_each_row():
    """2²¹ draws u = (m + v)/2¹⁶: u passes a KS test against U(0, 1) (D < 1.95/√N, 0.1 %); the cells m pass χ² over
    all 2¹⁶ values and over their high and low bytes (within 5 sd of the dof); the two halves of each 32-bit word
    (neighbouring draws) are uncorrelated within 5 SE; v is the same along a row and KS-uniform across rows."""
    rows, cols = 1024, 2048
    draws = samplers.stateless_uniform_16bit(tf.constant([rows, cols]), tf.constant([5, 7]), tf.float64).numpy()
    assert draws.min() >= 0 and draws.max() < 1
    assert scipy.stats.kstest(draws.ravel(), "uniform").statistic < 1.95 / math.sqrt(draws.size)
    scaled = draws * 2 ** 16
    cells, fractions = np.floor(scaled).astype(np.int64), scaled - np.floor(scaled)
    for values, num_cells in ((cells.ravel(), 2 ** 16), (cells.ravel() >> 8, 256), (cells.ravel() & 255, 256)):
        assert abs(chi_square_z(values, num_cells)) < 5
    assert abs(np.corrcoef(cells.ravel()[0::2], cells.ravel()[1::2])[0, 1]) < 5 / math.sqrt(draws.size // 2)
    np.testing.assert_allclose(fractions, np.repeat(fractions[:, :1], cols, 1), atol=1e-9)
    assert scipy.stats.kstest(fractions[:, 0], "uniform").statistic < 1.95 / math.sqrt(rows)
    odd = samplers.stateless_uniform_16bit([3, 5], tf.constant([1, 2]), tf.float32).numpy()
    assert odd.shape == (3, 5) and len(np.unique(odd)) == 15


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_sample_bernoulli_16bit_keeps_small_probabilities(dtype):
    """Rows of 125 logits -12 and the logits -8, 0.3, 9; 2¹⁷ rows. Frequencies within 4.5 binomial SE of σ: per
    column for the last three, pooled over the 2²⁴ draws for -12 (σ = 6.1e-6: about 101 ones, SE 10). Uniforms of
    16 bits alone, (m + ½)/2¹⁶, would give no ones there, and (m + 1)/2¹⁶ would give 2.5 times too many."""
    logits = tf.constant([-12.0] * 125 + [-8.0, 0.3, 9.0], dtype)
    num = 2 ** 17
    draws = samplers.sample_bernoulli(tf.tile(logits[None], [num, 1]), tf.constant([9, 1]), uniform_bits=16)
    assert draws.dtype == dtype
    draws = draws.numpy()
    frequency = np.concatenate([[draws[:, :125].mean()], draws[:, 125:].mean(0)])
    counts = np.array([125 * num] + [num] * 3)
    sigma = tf.sigmoid(logits).numpy().astype(np.float64)[124:]
    np.testing.assert_array_less(np.abs(frequency - sigma), 4.5 * np.sqrt(sigma * (1 - sigma) / counts))
    with pytest.raises(ValueError, match="uniform_bits must be 16 or 32"):
        samplers.sample_bernoulli(logits, tf.constant([1, 1]), uniform_bits=8)


def test_sample_bernoulli_16bit_resolves_probabilities_below_float32_uniforms():
    """Logit -18 (σ = 1.5e-8, below the 2⁻²³ = 1.2e-7 step of float32 uniforms): 2²⁸ draws give a Poisson count of
    mean 4.1; at most 14 ones (P(more) ≈ 2e-5 under the truth). Float32 uniforms take the value 0 with probability
    2⁻²³, so they would give a mean of 32 ones."""
    logits = tf.fill([2 ** 12, 2 ** 12], tf.constant(-18.0))
    ones = sum(int(tf.reduce_sum(samplers.sample_bernoulli(logits, tf.constant([chunk, 3]), uniform_bits=16)))
               for chunk in range(16))
    assert ones <= 14
