"""One place for each decision: the relaxation registry gives each baseline its posterior, prior term and logged
values with the original's tags (protocol §10.4); the configuration table gives every flag."""
import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from dvae_sharp import configs
from dvae_sharp import run as run_module
from dvae_sharp.dvae.model import objectives, relaxations
from dvae_sharp.dvae.runner import summaries
from dvae_sharp.dvae.model.discrete_vae import DiscreteVAE, TrainingTerms

SMOOTHING_TAGS = {  # protocol §10.4
    "dvae_spike_exp": {"beta", "posterior/beta"}, "dvaepp_exp": {"beta", "posterior/beta"},
    "dvaepp_power": {"beta", "posterior/lambda"}, "dvaes_gi": {"beta"}, "dvaes_gauss": {"beta", "posterior/sigma"},
    "dvaes_exp": {"beta", "posterior/beta"}, "dvaes_unexp": {"beta", "posterior/beta", "posterior/eps"},
    "dvaes_power": {"beta", "posterior/lambda"},
}
RELAXATION_TAGS = {"gaussian_integral": {"eigen/lambda", "eigen/max_eigen_val", "eigen/min_eigen_val", "weight_norm"},
                   "marginal": {"b_zeta_num"}, "rbm": set(), "spike_rbm": set()}


@pytest.mark.parametrize("baseline", configs.BASELINES)
def test_each_baseline_logs_the_original_tags(baseline):
    config = configs.make_config(baseline=baseline, struct="1-layer-lin", sampler="pcd", sampler_chains=4,
                                 sampler_sweeps=1, k=2)
    model = DiscreteVAE(config, np.full(784, 0.3))
    assert type(model.relaxation) is relaxations.RELAXATIONS[config.spec.prior]
    assert set(summaries.smoothing_scalars(config.beta, model.relaxation.parameters)) == SMOOTHING_TAGS[baseline]
    x = tf.constant((np.random.default_rng(0).uniform(size=(3, 784)) < 0.3).astype(np.float32))
    terms = model.training_terms(x, tf.constant([1, 2], tf.int64))
    _, values = objectives.training_loss(terms, tf.constant(0.5), config.k, config.use_iw)
    values["learning_rate"] = 1e-3
    tags = set(summaries.training_scalars(values, config.use_iw))
    expected = {"train/neg_iw_loss" if config.use_iw else "train/neg_elbo", "obj/recon_loss", "obj/kl", "kl_coeff",
                "learning_rate", "weigh decay/encoder", "weigh decay/decoder", "weigh decay/total", "log_z/sampler"}
    assert tags == expected | RELAXATION_TAGS[config.spec.prior]


def test_training_loss_is_the_elbo_or_the_importance_weighted_bound():
    recon = tf.constant([3.0, 5.0, 4.0, 6.0])
    ratio = tf.constant([-1.0, -2.0, -0.5, -1.5])
    decay = {"encoder": tf.constant(0.1), "decoder": tf.constant(0.2), "total": tf.constant(0.4)}
    terms = TrainingTerms(recon, ratio, decay, tf.constant(7.0), {})
    elbo, values = objectives.training_loss(terms, 0.5, 1, False)
    np.testing.assert_allclose(float(elbo), np.mean(0.5 * -ratio.numpy() + recon.numpy()) + 0.4, rtol=1e-6)
    assert float(values["kl"]) == pytest.approx(1.25)
    iw, values = objectives.training_loss(terms, 0.5, 2, True)
    log_w = (0.5 * ratio - recon).numpy().reshape(2, 2)
    weights = np.exp(log_w - log_w.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    np.testing.assert_allclose(float(iw), -np.mean((weights * log_w).sum(1)) + 0.4, rtol=1e-6)
    assert float(values["kl"]) == 0.0


def test_run_defines_one_flag_per_configuration_field_with_its_default():
    for name, field in configs.FIELDS.items():
        if name == "sampler":
            assert flags.FLAGS["qupa"].default is True and flags.FLAGS["sampler"].default is None
            continue
        assert flags.FLAGS.find_module_defining_flag(name) == run_module.__name__
        assert flags.FLAGS[name].default == field.default, name


def test_saved_configurations_of_earlier_versions_are_read():
    old = configs.make_config(struct="1-layer-lin").to_dict()
    old.pop("sampler")
    old.pop("mean_field_iterations")
    old["qupa"] = False
    config = configs.Config.from_dict(old)
    assert config.sampler == "pcd" and config.mean_field_iterations == 5
    with pytest.raises(configs.ConfigError, match="unknown configuration field"):
        configs.make_config(qupa=True)


@pytest.mark.parametrize("struct", ["1-layer-lin", "2-layer-nonlin"])
def test_dvae_takes_rolfes_surrogate_with_several_groups_and_the_dvaepp_kl_with_one(struct):
    """Protocol §6.7: the spike-and-exp prior term is −(Rolfe's surrogate) for several latent groups, and for one
    group the DVAE++ KL with a zero log-ratio; DVAE++ always takes the DVAE++ KL with the kernel's log-ratio."""
    rng = np.random.default_rng(3)
    for baseline in ("dvae_spike_exp", "dvaepp_power"):
        config = configs.make_config(baseline=baseline, struct=struct, sampler="pcd", sampler_chains=4,
                                     sampler_sweeps=1)
        model = DiscreteVAE(config, np.full(784, 0.3))
        structure, relaxation = config.structure, model.relaxation
        outputs = [tf.constant(rng.normal(size=(3, structure.units_per_group)), tf.float32)
                   for _ in range(structure.num_groups)]
        posteriors = [relaxation.posterior(g, [o]) for g, o in enumerate(outputs)]
        zetas = [tf.constant(rng.uniform(size=(3, structure.units_per_group)), tf.float32) for _ in outputs]
        value, _ = relaxation.log_prior_ratio(posteriors, zetas, tf.constant(5.0))
        logits = tf.concat(outputs, -1)
        if baseline == "dvaepp_power" and structure.num_groups > 1:
            log_ratio = tf.concat([relaxation.kernel.log_ratio(z) for z in zetas], -1)
        else:
            log_ratio = tf.zeros_like(logits)
        expected = -relaxations.kl.dvaepp_kl(model.rbm, logits, log_ratio, tf.constant(5.0))
        if baseline == "dvae_spike_exp" and structure.num_groups > 1:
            expected = -relaxations.kl.rolfe_kl(model.rbm, outputs, zetas, model.rbm.samples())
        np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("baseline", ["dvaes_power", "dvaes_exp", "dvaes_unexp", "dvaes_gauss"])
def test_dvaes_prior_term_is_log_p_minus_log_q_with_their_gradients(baseline):
    """Protocol §6.8: the term is log p(ζ) − log q(ζ|x) with both densities from the kernel's shared terms; it has
    the value and the gradients (logits, ζ, RBM) of the two densities evaluated separately."""
    rng = np.random.default_rng(5)
    config = configs.make_config(baseline=baseline, struct="2-layer-nonlin", sampler="pcd", sampler_chains=4,
                                 sampler_sweeps=1)
    model = DiscreteVAE(config, np.full(784, 0.3))
    relaxation, units = model.relaxation, config.structure.units_per_group
    logits = [tf.Variable(rng.normal(size=(3, units)).astype(np.float32)) for _ in range(2)]
    zetas = [tf.Variable(rng.uniform(0.01, 0.99, size=(3, units)).astype(np.float32)) for _ in range(2)]
    variables = logits + zetas + [model.rbm.w, model.rbm.b1]

    def term(shared):
        with tf.GradientTape() as tape:
            posteriors = [relaxation.posterior(g, [l]) for g, l in enumerate(logits)]
            if shared:
                value, _ = relaxation.log_prior_ratio(posteriors, zetas, tf.constant(5.0))
            else:
                log_q = tf.add_n([tf.reduce_sum(p.log_prob(z), -1) for p, z in zip(posteriors, zetas)])
                value = relaxation.prior.log_prob(tf.concat(zetas, -1), tf.constant(5.0)) - log_q
            total = tf.reduce_sum(value * tf.constant([1.0, -0.5, 2.0]))
        return value.numpy(), [g.numpy() for g in tape.gradient(total, variables)]

    (shared, shared_grads), (separate, separate_grads) = term(True), term(False)
    np.testing.assert_array_equal(shared, separate)
    for a, b in zip(shared_grads, separate_grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
