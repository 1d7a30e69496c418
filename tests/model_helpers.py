"""Tiny models and exact enumeration shared by the model tests."""
import itertools

import numpy as np
from scipy.special import logsumexp

from dvae_sharp import configs
from dvae_sharp.configs import paper
from dvae_sharp.dvae.model.discrete_vae import DiscreteVAE


def tiny_model(baseline="dvaes_power", groups=1, units=8, pixels=20, k=1, sampler="pcd", seed=3, coupling_std=1.0):
    """A model with `units` latents in `groups` groups, one hidden layer of 16 and `pixels` pixels, and a random RBM."""
    config = configs.Config(baseline=baseline, struct="1-layer-nonlin", k=k, sampler=sampler,
                            beta=paper.paper_beta("binarized_mnist", "1-layer-nonlin", baseline),
                            input_size=pixels, sampler_chains=64, sampler_sweeps=2, seed=seed)
    structure = paper.Structure(num_groups=groups, units_per_group=units // groups, hidden_layers=1, hidden_units=16)
    rng = np.random.default_rng(seed)
    model = DiscreteVAE(config, rng.uniform(0.2, 0.8, pixels), structure=structure)
    side = units // 2
    model.rbm.b1.assign(rng.normal(0.0, 1.0, side).astype(np.float32))
    model.rbm.b2.assign(rng.normal(0.0, 1.0, side).astype(np.float32))
    model.rbm.w.assign(rng.normal(0.0, coupling_std, (side, side)).astype(np.float32))
    return model


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def rbm_neg_energy(z, b1, b2, w):
    """−E(z) in float64 numpy for states z [S, n1 + n2]."""
    n1 = len(b1)
    return z[:, :n1] @ b1 + z[:, n1:] @ b2 + np.einsum("si,ij,sj->s", z[:, :n1], w, z[:, n1:])


def rbm_params(rbm):
    return (rbm.b1.numpy().astype(np.float64), rbm.b2.numpy().astype(np.float64),
            rbm.w.numpy().astype(np.float64))


def exact_log_z(rbm):
    b1, b2, w = rbm_params(rbm)
    return logsumexp(rbm_neg_energy(all_states(len(b1) + len(b2)), b1, b2, w))
