"""Persistent contrastive divergence: initial state, persistence, checkpoints, marginals and the §6.2 gradient.

Monte-Carlo tolerance for the moments: with C independent chains at stationarity, one snapshot's mean of a 0/1
quantity with exact mean p has variance p(1-p)/C. The average of K snapshots of the same chains has variance at most
that of one snapshot (Cauchy-Schwarz, whatever the autocorrelation), so |mean - p| ≤ 4.5 sqrt(p(1-p)/C) + 1/C is a
valid band; 4.5 SE keeps the family-wise false-alarm rate below 0.2 % over the ≤ 272 checked entries. Burn-in: at
least 1000 sweeps on the hard RBMs, about six times the decorrelation time measured on the hard 12+20 one (lag-40
autocorrelation 0.8), and 200 on the easy ones (lag-40 autocorrelation below 0.05).
"""
import math

import numpy as np
import pytest
import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.samplers.oracle_rbms import ORACLE_CASES, easy_rbm, oracle_rbm
from tests.test_samplers_oracles import as_tensors

NUM_CHAINS = 10000
BURN_IN_CALLS = {"easy": 5, "hard": 25}


def moment_band(exact, num_chains):
    return 4.5 * np.sqrt(exact * (1 - exact) / num_chains) + 1.0 / num_chains


def sample_moments(samples, n1):
    z1, z2 = samples[:, :n1], samples[:, n1:]
    return z1.mean(0), z2.mean(0), z1.T @ z2 / len(samples)


def assert_moments_close(estimates, params, num_chains):
    for got, want in zip(estimates, samplers.exact_moments(*params)):
        want = want.numpy()
        np.testing.assert_array_less(np.abs(got - want), moment_band(want, num_chains))


def averaged_moments(sampler, params, burn_in_calls, collect_calls, first_seed=0):
    tensors = as_tensors(params)
    for call in range(burn_in_calls):
        sampler.update(*tensors, seed=(first_seed + call, 1))
    collected = [sample_moments(sampler.update(*tensors, seed=(first_seed + call, 2)).numpy(), len(params[0]))
                 for call in range(collect_calls)]
    return [np.mean(parts, axis=0) for parts in zip(*collected)]


def test_initial_state_is_bernoulli_half_and_log_z_is_n_ln2():
    pcd = samplers.PersistentContrastiveDivergence(30, 50, num_chains=2000, seed=4)
    samples = pcd.samples.numpy()
    assert samples.shape == (2000, 80) and set(np.unique(samples)) == {0.0, 1.0}
    assert abs(samples.mean() - 0.5) < 4.5 * math.sqrt(0.25 / samples.size)
    assert pcd.log_z.numpy() == np.float32(80 * math.log(2.0))
    assert not pcd.trainable_variables and len(pcd.variables) == 2
    with pytest.raises(ValueError, match="num_sweeps"):
        samplers.PersistentContrastiveDivergence(3, 3, num_sweeps=0)
    with pytest.raises(ValueError, match="uniform_bits must be 16 or 32, got 24"):
        samplers.PersistentContrastiveDivergence(3, 3, uniform_bits=24)


def test_second_call_continues_from_the_first_calls_state():
    params = as_tensors(easy_rbm(10, 10))
    pcd = samplers.PersistentContrastiveDivergence(10, 10, num_chains=64, num_sweeps=3, seed=2)
    initial = pcd.samples.numpy()
    first = pcd.update(*params, seed=(1, 1)).numpy()
    second = pcd.update(*params, seed=(2, 2)).numpy()
    continued = np.concatenate(samplers.gibbs_chain(tf.constant(first[:, :10]), *params, 3, tf.constant([2, 2])), 1)
    restarted = np.concatenate(samplers.gibbs_chain(tf.constant(initial[:, :10]), *params, 3, tf.constant([2, 2])), 1)
    assert np.array_equal(second, continued)
    assert not np.array_equal(second, restarted)
    assert np.array_equal(pcd.samples.numpy(), second)


def test_state_survives_a_checkpoint_round_trip(tmp_path):
    params = as_tensors(easy_rbm(10, 10))
    pcd = samplers.PersistentContrastiveDivergence(10, 10, num_chains=64, num_sweeps=3, seed=2)
    pcd.update(*params, seed=(1, 1))
    pcd.log_z.assign(12.5)
    path = tf.train.Checkpoint(sampler=pcd).save(str(tmp_path / "ckpt"))
    saved = pcd.samples.numpy()
    after_save = pcd.update(*params, seed=(2, 2)).numpy()
    fresh = samplers.PersistentContrastiveDivergence(10, 10, num_chains=64, num_sweeps=3, seed=99)
    tf.train.Checkpoint(sampler=fresh).restore(path).assert_existing_objects_matched()
    assert np.array_equal(fresh.samples.numpy(), saved) and fresh.log_z.numpy() == 12.5
    assert np.array_equal(fresh.update(*params, seed=(2, 2)).numpy(), after_save)


@pytest.mark.parametrize("kind,n1,n2,uniform_bits",
                         [case + (16,) for case in ORACLE_CASES] + [("hard", 12, 20, 32)])
def test_pcd_moments_match_exact_enumeration(kind, n1, n2, uniform_bits):
    params = oracle_rbm(kind, n1, n2)
    pcd = samplers.PersistentContrastiveDivergence(n1, n2, num_chains=NUM_CHAINS, num_sweeps=40, seed=5,
                                                   uniform_bits=uniform_bits)
    moments = averaged_moments(pcd, params, burn_in_calls=BURN_IN_CALLS[kind], collect_calls=10)
    assert_moments_close(moments, params, NUM_CHAINS)


@pytest.mark.parametrize("kind,dtype", [("hard", tf.float32), ("easy", tf.float64)])
def test_training_log_z_value_and_gradient(kind, dtype):
    """Value = log_z; gradient = the negative phase of the returned samples (to rounding) and ≈ ∇ log Z."""
    params = oracle_rbm(kind, 12, 20)
    pcd = samplers.PersistentContrastiveDivergence(12, 20, num_chains=NUM_CHAINS, num_sweeps=40, dtype=dtype, seed=6)
    pcd.log_z.assign(7.25)
    variables = [tf.Variable(p) for p in as_tensors(params, dtype)]

    @tf.function
    def value_and_gradient(seed):
        with tf.GradientTape() as tape:
            log_z = pcd.training_log_z(*variables, seed)
        return log_z, tape.gradient(log_z, variables)

    for call in range(BURN_IN_CALLS[kind]):
        value_and_gradient(tf.constant([call, 3]))
    gradients = []
    for call in range(10):
        value, gradient = value_and_gradient(tf.constant([call, 4]))
        assert value.dtype == dtype and value.numpy() == np.array(7.25, dtype.as_numpy_dtype)
        negative_phase = sample_moments(pcd.samples.numpy().astype(np.float64), 12)
        for got, want in zip(gradient, negative_phase):
            np.testing.assert_allclose(got.numpy(), want, atol=1e-4 if dtype == tf.float32 else 1e-12)
        gradients.append([g.numpy() for g in gradient])
    assert_moments_close([np.mean(parts, axis=0) for parts in zip(*gradients)], params, NUM_CHAINS)
