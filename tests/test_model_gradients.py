"""Every baseline × struct × k: the training loss is finite and every trainable variable gets a gradient."""
import numpy as np
import pytest
import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp.dvae.model import objectives
from dvae_sharp.dvae.model.discrete_vae import DiscreteVAE


@pytest.fixture(scope="module")
def images(mnist_dir):
    from dvae_sharp import data
    dataset = data.load_dataset("binarized_mnist", str(mnist_dir))
    return dataset.train[:6].astype(np.float32), dataset.train_mean


def _pre_batch_norm_biases(model):
    """Dense biases followed by batch norm: the batch-mean subtraction makes their gradient exactly zero (the
    original has the same redundant parameters), so they are the one expected exception."""
    nets = list(model.encoder.nets) + [model.decoder]
    return {id(d.bias) for net in nets for d in net.dense[:-1]}


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("struct", configs.STRUCTS)
@pytest.mark.parametrize("baseline", configs.BASELINES)
def test_loss_is_finite_and_every_variable_gets_a_finite_nonzero_gradient(baseline, struct, k, images):
    x, mean = images
    config = configs.make_config(baseline=baseline, struct=struct, k=k, sampler="pa" if k == 5 else "pcd",
                                 sampler_chains=16, sampler_sweeps=1, num_train_iter=100)
    model = DiscreteVAE(config, mean)
    rng = np.random.default_rng(0)
    model.rbm.w.assign(rng.normal(0, 0.1, model.rbm.w.shape).astype(np.float32))
    with tf.GradientTape() as tape:
        terms = model.training_terms(tf.constant(x), tf.constant([1, 2], tf.int64))
        loss, values = objectives.training_loss(terms, tf.constant(1.0), config.k, config.use_iw)
    assert np.isfinite(float(loss))
    assert all(np.isfinite(float(v)) for v in values.values())
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    exempt = _pre_batch_norm_biases(model)
    for variable, gradient in zip(variables, gradients):
        assert gradient is not None, variable.name
        gradient = tf.convert_to_tensor(gradient).numpy()
        assert np.all(np.isfinite(gradient)), variable.name
        if id(variable) not in exempt:
            assert np.any(gradient != 0.0), variable.name
    names = {v.name.split(":")[0] for v in variables}
    assert {"b1", "b2", "w"} <= names
    if baseline == "dvaes_gi":
        assert any(name.startswith("gi_scale") for name in names)


@pytest.mark.parametrize("sampler,sweeps,sampler_type,temperatures", [
    ("pa", 40, "PopulationAnnealing", 4), ("pa", 20, "PopulationAnnealing", 2), ("pa", 10, "PopulationAnnealing", 1),
    ("pa", 3, "PopulationAnnealing", 1),
    ("pcd", 40, "PersistentContrastiveDivergence", None)])
def test_prior_sampler_follows_the_configuration_with_ten_sweeps_per_temperature(sampler, sweeps, sampler_type,
                                                                                 temperatures, images):
    config = configs.make_config(struct="1-layer-lin", sampler=sampler, sampler_chains=7, sampler_sweeps=sweeps)
    sampler = DiscreteVAE(config, images[1]).rbm.sampler
    assert type(sampler).__name__ == sampler_type
    assert (sampler.samples.shape[0], sampler.num_sweeps) == (7, sweeps)
    assert getattr(sampler, "num_temperatures", None) == temperatures
