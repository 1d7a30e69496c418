"""The mean-field fixed-point diagnostics against a float64 numpy oracle, the Monte-Carlo standard error of the
evaluation against independent replicates, and the re-evaluation of a finished run."""
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit

from dvae_sharp import smoothing
from dvae_sharp.dvae.model import evaluation, priors
from tests.model_helpers import tiny_model


def numpy_mean_field(a1, a2, w, iterations):
    """m₁ after `iterations` updates m₂ ← σ(m₁W + a₂), m₁ ← σ(m₂Wᵀ + a₁) from m₁ = ½, and the m₂ it came with."""
    m1 = np.full_like(a1, 0.5)
    m2 = None
    for _ in range(iterations):
        m2 = expit(m1 @ w + a2)
        m1 = expit(m2 @ w.T + a1)
    return m1, m2


def log_z_mean_field(m1, m2, a1, a2, w):
    def entropy(m):
        m = np.clip(m, 1e-7, 1 - 1e-7)
        return -(m * np.log(m) + (1 - m) * np.log1p(-m)).sum(-1)
    return (a1 * m1).sum(-1) + (a2 * m2).sum(-1) + ((m1 @ w) * m2).sum(-1) + entropy(m1) + entropy(m2)


@pytest.mark.parametrize("sigma_max, strong", [(1.0, False), (10.0, True), (20.0, True)])
def test_fixed_point_diagnostics_match_a_float64_oracle(sigma_max, strong):
    rng = np.random.default_rng(3)
    rbm = priors.RBMPrior(30, 30, sampler=None)
    w = rng.normal(size=(30, 30))
    rbm.w.assign((w / np.linalg.svd(w, compute_uv=False)[0] * sigma_max).astype(np.float32))
    kernel = smoothing.Gaussian(25.0)
    prior = priors.MeanFieldMarginalPrior(rbm, kernel)
    zeta = rng.uniform(size=(40, 60)).astype(np.float32)
    found = {k: float(v) for k, v in prior.fixed_point_diagnostics(tf.constant(zeta)).items()}
    b = kernel.log_ratio(tf.constant(zeta, tf.float64)).numpy()
    a1, a2, w64 = b[:, :30], b[:, 30:], rbm.w.numpy().astype(np.float64)
    m1, m2 = numpy_mean_field(a1, a2, w64, 5)
    n1, n2 = numpy_mean_field(a1, a2, w64, 6)
    residual = np.maximum(np.abs(n1 - m1).max(-1), np.abs(n2 - m2).max(-1))
    f1, f2 = numpy_mean_field(a1, a2, w64, 3000)
    gap = log_z_mean_field(f1, f2, a1, a2, w64) - log_z_mean_field(m1, m2, a1, a2, w64)
    np.testing.assert_allclose(found["mean_field/residual_max"], residual.max(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(found["mean_field/log_z_gap_mean"], gap.mean(), rtol=1e-5, atol=1e-9)
    assert gap.min() >= -1e-9  # coordinate ascent never lowers the mean-field bound
    assert (found["mean_field/residual_max"] > 0.01) == strong


@pytest.mark.parametrize("num_samples", [50, 51])
def test_monte_carlo_standard_error_matches_the_spread_of_independent_replicates(num_samples):
    """200 independent evaluations of 30 images: the sd of their mean NLL against the mean reported standard
    error. With 200 replicates the sd itself is known to 5 % (one sd), so they must agree within 20 %."""
    model = tiny_model(groups=2)
    x = (np.random.default_rng(0).uniform(size=(30, 20)) < 0.4).astype(np.uint8)
    evaluator = evaluation.Evaluator(model)
    rng = tf.random.Generator.from_seed(5)
    replicates = [evaluator.evaluate(x, 30, num_samples, rng) for _ in range(200)]
    spread = np.std([r["neg_ll"] for r in replicates], ddof=1)
    reported = np.mean([r["neg_ll_mc_stderr"] for r in replicates])
    assert 0.8 < reported / spread < 1.2, (reported, spread)
    assert evaluator.evaluate(x, 30, 1, rng)["neg_ll_mc_stderr"] is None


@pytest.mark.slow
def test_reevaluation_of_a_finished_run_is_deterministic(tmp_path, mnist_dir):
    from dvae_sharp import configs
    from dvae_sharp.dvae.runner import experiment, reevaluation, run_files
    config = configs.make_config(struct="1-layer-lin", num_train_iter=30, eval_every=30, sampler_chains=16,
                                 sampler_sweeps=2, ais_num_betas=20, ais_num_chains=16, val_iw_samples=2,
                                 eval_iw_samples=2, eval_batchsize=5000)
    with experiment.prepare(config, log_dir=tmp_path, data_dir=str(mnist_dir), summary_every=10) as run:
        results = experiment.train_and_evaluate(run)
    run_dir = tmp_path / config.experiment_id
    first = reevaluation.reevaluate(run_dir, 4, 30, 32, str(mnist_dir))
    again = reevaluation.reevaluate(run_dir, 4, 30, 32, str(mnist_dir))
    assert first["metrics"] == again["metrics"] and first["log_z"] == again["log_z"]
    assert run_files.read_json(run_dir / run_files.REEVALUATION_FILE)["metrics"] == first["metrics"]
    assert first["best_step"] == results["best_step"] == 30
    assert (first["eval_iw_samples"], first["ais_num_betas"], first["ais_num_chains"]) == (4, 30, 32)
