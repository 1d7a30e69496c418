"""The Python API on a short real run: load_run, sample, log_likelihood, encode, reconstruct, and the SavedModel
used by a fresh Python process that cannot import this project."""
import json
import pathlib
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
import tensorflow as tf

import dvae_sharp
from dvae_sharp import configs
from dvae_sharp.dvae import api
from dvae_sharp.dvae.runner import experiment
from dvae_sharp.dvae.model import priors
from dvae_sharp.samplers import exact_moments
from tests.model_helpers import tiny_model

# A deliberately rough AIS (2 temperatures, 2 chains): the final test's log Z then differs from the one stored with
# the best checkpoint by far more than the test NLL's standard error, so re-scoring with the wrong one shows.
SHORT = dict(baseline="dvaes_power", struct="1-layer-lin", k=1, num_train_iter=60, train_batchsize=20, eval_every=30,
             sampler_chains=16, sampler_sweeps=2, ais_num_betas=2, ais_num_chains=2, val_iw_samples=2,
             eval_iw_samples=10, eval_batchsize=5000)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, mnist_dir):
    config = configs.make_config(**SHORT)
    log_dir = tmp_path_factory.mktemp("api")
    with experiment.prepare(config, log_dir=log_dir, data_dir=str(mnist_dir), summary_every=30) as run:
        experiment.train_and_evaluate(run)
    return log_dir / config.experiment_id


@pytest.fixture(scope="module")
def loaded(run_dir, mnist_dir):
    return dvae_sharp.load_run(run_dir, data_dir=str(mnist_dir))


def test_load_run_gives_the_best_model_with_the_log_z_of_results_json(loaded, run_dir, mnist_dir):
    results = json.loads((run_dir / "results.json").read_text())
    assert dvae_sharp.load_run is api.load_run and dvae_sharp.dvae.load_run is api.load_run
    assert loaded.checkpoint == "best" and loaded.step == results["best_step"]
    assert loaded.config.to_dict() == results["config"] and loaded.results == results
    assert loaded.log_z == results["log_z"] and loaded.log_z_stderr == results["log_z_stderr"]
    assert float(loaded.model.rbm.log_z.numpy()) == np.float32(results["log_z"])
    reader = tf.train.load_checkpoint(str(run_dir / "best"))
    stored = reader.get_tensor("model/rbm/log_z/.ATTRIBUTES/VARIABLE_VALUE")
    assert stored != np.float32(results["log_z"])  # the checkpoint's is the periodic evaluation's AIS value
    latest = dvae_sharp.load_run(run_dir, checkpoint="latest", data_dir=str(mnist_dir))
    assert latest.step == 60 and latest.log_z_source.startswith("checkpoint")


def test_rescoring_the_test_set_reproduces_the_reported_nll(loaded, run_dir):
    """Same estimator, same number of samples, other random draws: the difference from the reported test NLL is
    within 4 standard errors of the difference of two independent estimates. With the checkpoint's log Z instead
    (NLL + log Z_checkpoint − log Z_results, exactly) it would not be."""
    scores = loaded.log_likelihood(loaded.dataset.test, seed=5)
    assert scores.log_px.shape == scores.stderr.shape == (10000,)
    reported, reported_stderr = loaded.results["metrics"]["test/neg_ll"], loaded.results["test_neg_ll_mc_stderr"]
    tolerance = 4 * np.hypot(scores.nll_stderr, reported_stderr)
    assert abs(scores.nll - reported) < tolerance
    assert 0.5 < scores.nll_stderr / reported_stderr < 2.0
    stored = tf.train.load_checkpoint(str(run_dir / "best")).get_tensor("model/rbm/log_z/.ATTRIBUTES/VARIABLE_VALUE")
    assert abs(scores.nll + (float(stored) - loaded.log_z) - reported) > tolerance


def test_reconstruct_decodes_the_sample_that_encode_draws(loaded):
    x = loaded.dataset.valid[:6]
    encoding = loaded.encode(x, seed=3)
    logits = loaded.model.encoder.nets[0](tf.constant(x, tf.float32) - loaded.model.x_mean, False)
    np.testing.assert_allclose(encoding.probs, tf.sigmoid(logits), rtol=1e-6)
    assert set(np.unique(encoding.z)) <= {0.0, 1.0} and encoding.z.shape == (6, 200)
    expected = loaded.model.image_means(tf.constant(encoding.z)).numpy()
    np.testing.assert_allclose(loaded.reconstruct(x, seed=3), expected, rtol=1e-6)
    assert not np.array_equal(loaded.encode(x, seed=4).z, encoding.z)


def test_prior_samples_follow_the_rbm():
    """`sample` on a model with an 8-unit RBM: the mean of each unit over 4000 samples is within 4 binomial
    standard errors of its exact marginal (enumeration), and the decoded means are σ(decoder(z))."""
    model = tiny_model(units=8, coupling_std=1.0)
    trained = api.TrainedModel(None, model.config, model, None, "best", 0, 0.0, 0.0, "test")
    samples = trained.sample(4000, seed=2, num_sweeps=200)
    rbm = model.rbm
    marginals = np.concatenate([m.numpy() for m in exact_moments(rbm.b1, rbm.b2, rbm.w)[:2]])
    error = np.sqrt(marginals * (1 - marginals) / 4000)
    assert np.all(np.abs(samples.z.mean(0) - marginals) < 4 * error + 1e-3)
    np.testing.assert_allclose(samples.means[:5], model.image_means(tf.constant(samples.z[:5])), rtol=1e-6)
    np.testing.assert_array_equal(trained.sample(50, seed=2, num_sweeps=200).z,
                                  trained.sample(50, seed=2, num_sweeps=200).z)


def test_bad_input_gives_one_line(loaded, tmp_path):
    for path, message in ((tmp_path / "missing", "not a run directory"),):
        with pytest.raises(api.LoadError, match=message):
            dvae_sharp.load_run(path)
    (tmp_path / "config.json").write_text(json.dumps(configs.make_config(**SHORT).to_dict()))
    with pytest.raises(api.LoadError, match="has no best checkpoint|has no latest checkpoint"):
        dvae_sharp.load_run(tmp_path)
    with pytest.raises(api.LoadError, match="checkpoint must be one of"):
        dvae_sharp.load_run(loaded.run_dir, checkpoint="first")
    with pytest.raises(ValueError, match="binary"):
        loaded.log_likelihood(np.full((2, 784), 0.5))
    with pytest.raises(ValueError, match="shape"):
        loaded.encode(np.zeros((2, 780)))
    with pytest.raises(ValueError, match="num_samples"):
        loaded.log_likelihood(loaded.dataset.test[:2], num_samples=1)


FRESH_PROCESS = """
import json, sys
sys.path.append(sys.argv[1])
try:
    import dvae_sharp
    raise SystemExit("the project is importable")
except ImportError:
    pass
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[2])
x = tf.constant(np.load(sys.argv[3]), tf.float32)
seed = tf.constant([7, 0], tf.int64)
outputs = {name: {key: value.numpy() for key, value in model.signatures[name](**inputs).items()}
           for name, inputs in (("sample", {"seed": seed}), ("log_likelihood", {"x": x, "seed": seed}),
                                ("encode", {"x": x, "seed": seed}), ("reconstruct", {"x": x, "seed": seed}))}
np.savez(sys.argv[4], **{f"{name}.{key}": value for name, values in outputs.items() for key, value in values.items()},
         log_z=model.log_z.numpy(), num_samples=model.num_samples.numpy())
"""


def test_saved_model_signatures_work_without_the_project(loaded, tmp_path):
    path = loaded.export(tmp_path / "saved", num_samples=20, num_prior_samples=12, num_sweeps=40)
    x = loaded.dataset.test[:400].astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    purelib = sysconfig.get_paths()["purelib"]
    # -I -S: no current directory, PYTHONPATH or site .pth files (so no editable install of this project).
    subprocess.run([sys.executable, "-I", "-S", "-c", FRESH_PROCESS, purelib, str(path), str(tmp_path / "x.npy"),
                    str(tmp_path / "out.npz")], check=True, cwd=tmp_path, timeout=300)
    out = np.load(tmp_path / "out.npz")
    assert out["log_z"] == np.float32(loaded.log_z) and out["num_samples"] == 20
    prior = loaded.sample(12, seed=7, num_sweeps=40)
    np.testing.assert_array_equal(out["sample.z"], prior.z)
    np.testing.assert_allclose(out["sample.means"], prior.means, rtol=1e-5, atol=1e-7)
    encoding = loaded.encode(x, seed=7)
    np.testing.assert_array_equal(out["encode.z"], encoding.z)
    np.testing.assert_allclose(out["encode.probs"], encoding.probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out["reconstruct.means"], loaded.reconstruct(x, seed=7), rtol=1e-5, atol=1e-7)
    exported = api.LogLikelihood(out["log_likelihood.log_px"], out["log_likelihood.stderr"])
    scores = loaded.log_likelihood(x, num_samples=20, seed=7)
    assert abs(exported.nll - scores.nll) < 4 * np.hypot(exported.nll_stderr, scores.nll_stderr)
    assert 0.7 < exported.nll_stderr / scores.nll_stderr < 1.4
