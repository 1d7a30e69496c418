"""AIS log Z against exact enumeration, at the evaluation setting of protocol §6.5 (1000 betas × 1024 chains)."""
import math

import numpy as np
import pytest
import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.samplers.ais import _ais_log_weights
from dvae_sharp.samplers.oracle_rbms import ORACLE_CASES, easy_rbm, hard_rbm, oracle_rbm
from tests.test_samplers_oracles import as_tensors


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_zero_rbm_gives_n_ln2_exactly_with_zero_stderr(dtype):
    log_z, stderr = samplers.ais_log_z(tf.zeros([7], dtype), tf.zeros([9], dtype), tf.zeros([7, 9], dtype),
                                       num_betas=50, num_chains=64, seed=(1, 2))
    assert log_z.dtype == dtype
    assert log_z.numpy() == np.array(16 * math.log(2.0), dtype.as_numpy_dtype)
    assert stderr.numpy() == 0.0


@pytest.mark.parametrize("kind,n1,n2", ORACLE_CASES)
def test_ais_log_z_within_three_standard_errors_of_exact(kind, n1, n2):
    params = oracle_rbm(kind, n1, n2)
    exact = samplers.exact_log_z(*params).numpy()
    log_z, stderr = samplers.ais_log_z(*as_tensors(params), num_betas=1000, num_chains=1024, seed=(n1, n2))
    error = log_z.numpy() - exact
    print(f"AIS {kind} {n1}+{n2}: exact {exact:.4f}, error {error:+.4f}, stderr {stderr.numpy():.4f}")
    assert abs(error) <= 3 * stderr.numpy()
    if kind == "easy":
        assert abs(error) < 0.05


def test_ais_is_symmetric_in_the_sides_and_runs_in_float64():
    """The 20+12 RBM (transposed 12+20) is mapped to the same computation; float64 runs to the same precision."""
    b1, b2, w = hard_rbm(12, 20)
    exact = samplers.exact_log_z(b1, b2, w).numpy()
    log_z, stderr = samplers.ais_log_z(*as_tensors((b2, b1, w.T), tf.float64), num_betas=1000, num_chains=1024,
                                       seed=(3, 3))
    assert log_z.dtype == tf.float64
    assert abs(log_z.numpy() - exact) <= 3 * stderr.numpy()


def test_delta_method_stderr_matches_the_spread_over_seeds():
    """24 independent small runs: their sample sd must agree with the mean reported stderr within a factor of 1.5
    (the sd of 24 draws is itself uncertain by about ±15 %, so this is a 2.7-sigma band)."""
    params = as_tensors(easy_rbm(12, 20))
    seeds = np.random.default_rng(5).integers(0, 2 ** 31 - 1, size=(24, 2))
    runs = [samplers.ais_log_z(*params, num_betas=30, num_chains=64, seed=seed) for seed in seeds]
    estimates = np.array([r[0].numpy() for r in runs])
    reported = np.mean([r[1].numpy() for r in runs])
    ratio = estimates.std(ddof=1) / reported
    print(f"AIS 30 betas x 64 chains: empirical sd {estimates.std(ddof=1):.4f}, delta-method stderr {reported:.4f}")
    assert 1 / 1.5 < ratio < 1.5


def test_ais_does_not_retrace_for_new_seeds_or_parameters_of_the_same_shape():
    params = as_tensors(easy_rbm(10, 10))
    samplers.ais_log_z(*params, num_betas=20, num_chains=32, seed=(0, 1))
    traces = _ais_log_weights.experimental_get_tracing_count()
    samplers.ais_log_z(*as_tensors(hard_rbm(10, 10)), num_betas=20, num_chains=32, seed=(5, 1))
    samplers.ais_log_z(*params, num_betas=20, num_chains=32, seed=tf.constant([9, 9]))
    assert _ais_log_weights.experimental_get_tracing_count() == traces
