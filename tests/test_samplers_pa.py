"""Population annealing: resampling, log Z and moments against exact enumeration, persistence and the §6.2 surrogate.

PA has no standard error of its own, so log Z is checked over R = 16 independent runs: the mean error must lie
within t · sd / √R of zero, with sd the sample standard deviation and t = 4.07 the two-sided 0.1 % quantile of
Student's t with R − 1 degrees of freedom (a false-failure rate of 0.1 %). Moments use the bound of
tests/test_samplers_pcd.py: in persistent mode with fixed parameters the incremental weights are exactly zero,
systematic resampling is then a permutation, and the particles are independent Gibbs chains. The anneal already
starts them near the target, so the burn-in is shorter than PCD's (400 sweeps on the hard RBMs).
"""
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.samplers.oracle_rbms import ORACLE_CASES, easy_rbm, hard_rbm, oracle_rbm
from tests.test_samplers_oracles import as_tensors
from tests.test_samplers_pcd import assert_moments_close, averaged_moments, sample_moments

REPEATS = 16
BURN_IN_CALLS = {"easy": 3, "hard": 10}


def test_systematic_resampling_gives_floor_or_ceil_copies_in_shuffled_order():
    weights = np.random.default_rng(3).gamma(0.3, size=500)
    weights /= weights.sum()
    for seed in range(5):
        indices = samplers.systematic_resampling_indices(tf.math.log(tf.constant(weights)), tf.constant([seed, 1]))
        counts = np.bincount(indices.numpy(), minlength=500)
        assert counts.sum() == 500
        assert np.all((counts == np.floor(500 * weights)) | (counts == np.ceil(500 * weights)))
        assert np.any(np.diff(indices.numpy()) < 0)


def test_constructor_checks_the_temperature_count():
    with pytest.raises(ValueError, match="divisor"):
        samplers.PopulationAnnealing(4, 4, num_sweeps=40, num_temperatures=30)


@pytest.mark.parametrize("num_sweeps,per_temperature,expected", [
    (40, 10, 4), (10, 10, 1), (40, 5, 8), (10, 5, 2), (40, 1, 40), (1, 5, 1), (4, 5, 1), (7, 5, 1), (12, 5, 2),
    (13, 5, 1), (30, 4, 6)])
def test_temperatures_for_is_the_largest_fitting_divisor(num_sweeps, per_temperature, expected):
    assert samplers.temperatures_for(num_sweeps, per_temperature) == expected


@pytest.mark.parametrize("kind,n1,n2", ORACLE_CASES)
def test_one_anneal_estimates_log_z(kind, n1, n2):
    """R re-anneals from β = 0 (1000 particles, 40 temperatures × 1 sweep, the paper's budget)."""
    params = oracle_rbm(kind, n1, n2)
    exact = samplers.exact_log_z(*params).numpy()
    pa = samplers.PopulationAnnealing(n1, n2, num_particles=1000, num_sweeps=40, persistent=False, seed=2)
    errors = []
    for run in range(REPEATS):
        pa.update(*as_tensors(params), seed=(run, 5))
        errors.append(pa.log_z.numpy() - exact)
    errors = np.array(errors)
    print(f"PA {kind} {n1}+{n2}: exact {exact:.4f}, mean error {errors.mean():+.4f}, sd {errors.std(ddof=1):.4f}")
    assert_mean_error_is_zero(errors)
    if kind == "easy":
        assert np.abs(errors).max() < 0.05


def assert_mean_error_is_zero(errors):
    """|mean| ≤ t_{R-1}(0.9995) · sd / √R: a two-sided test of zero bias at a false-failure rate of 0.1 %."""
    threshold = scipy.stats.t.ppf(1 - 5e-4, len(errors) - 1) * errors.std(ddof=1) / np.sqrt(len(errors))
    assert abs(errors.mean()) <= threshold


def test_persistent_population_tracks_log_z_along_a_drifting_sequence():
    """20 calls moving from the easy to the hard 10+10 RBM, each annealing from the previous parameters. Every
    run starts from a population of its own (its own sampler seed), so the runs, and their errors, are
    independent, as the t-test assumes."""
    easy, hard = easy_rbm(10, 10), hard_rbm(10, 10)
    path = [[(1 - s) * e + s * h for e, h in zip(easy, hard)] for s in np.linspace(0, 1, 20)]
    exact = samplers.exact_log_z(*path[-1]).numpy()
    errors = []
    for run in range(REPEATS):
        pa = samplers.PopulationAnnealing(10, 10, num_particles=1000, num_sweeps=40, num_temperatures=10,
                                          seed=1000 + run)
        for step, params in enumerate(path):
            pa.update(*as_tensors(params), seed=(run, step))
        errors.append(pa.log_z.numpy() - exact)
    errors = np.array(errors)
    print(f"PA persistent drift: exact {exact:.4f}, errors {np.round(errors, 4)}")
    assert_mean_error_is_zero(errors)
    assert np.abs(errors).max() < 0.1


@pytest.mark.parametrize("num_temperatures", [40, 4])
@pytest.mark.parametrize("kind,n1,n2", ORACLE_CASES)
def test_persistent_population_moments_match_exact_enumeration(kind, n1, n2, num_temperatures):
    """Both the one-sweep-per-temperature schedule and the training prior's 4 temperatures × 10 sweeps."""
    params = oracle_rbm(kind, n1, n2)
    pa = samplers.PopulationAnnealing(n1, n2, num_particles=10000, num_sweeps=40, seed=4,
                                      num_temperatures=num_temperatures)
    pa.update(*as_tensors(params), seed=(0, 0))
    log_z_after_anneal = pa.log_z.numpy()
    moments = averaged_moments(pa, params, burn_in_calls=BURN_IN_CALLS[kind], collect_calls=10, first_seed=1)
    assert pa.log_z.numpy() == log_z_after_anneal
    assert_moments_close(moments, params, 10000)


def test_state_and_log_z_survive_a_checkpoint_round_trip(tmp_path):
    params = as_tensors(easy_rbm(10, 10))
    pa = samplers.PopulationAnnealing(10, 10, num_particles=64, num_sweeps=4, seed=2)
    pa.update(*params, seed=(1, 1))
    path = tf.train.Checkpoint(sampler=pa).save(str(tmp_path / "ckpt"))
    after_save = pa.update(*as_tensors(hard_rbm(10, 10)), seed=(2, 2)).numpy()
    fresh = samplers.PopulationAnnealing(10, 10, num_particles=64, num_sweeps=4, seed=9)
    tf.train.Checkpoint(sampler=fresh).restore(path).assert_existing_objects_matched()
    assert np.array_equal(fresh.previous_w.numpy(), params[2].numpy())
    assert np.array_equal(fresh.update(*as_tensors(hard_rbm(10, 10)), seed=(2, 2)).numpy(), after_save)
    assert fresh.log_z.numpy() == pa.log_z.numpy()


@pytest.mark.parametrize("persistent", [True, False])
def test_training_log_z_value_is_the_pa_estimate_and_gradient_the_negative_phase(persistent):
    params = as_tensors(hard_rbm(12, 20), tf.float64)
    pa = samplers.PopulationAnnealing(12, 20, num_particles=500, num_sweeps=40, dtype=tf.float64,
                                      persistent=persistent, seed=8)
    variables = [tf.Variable(p) for p in params]
    for call in range(3):
        with tf.GradientTape() as tape:
            log_z = pa.training_log_z(*variables, seed=(call, 6))
        assert log_z.numpy() == pa.log_z.numpy()
        assert log_z.numpy() != pa.uniform_log_z
        for got, want in zip(tape.gradient(log_z, variables), sample_moments(pa.samples.numpy(), 12)):
            np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
