"""Samplers and partition-function estimators for the bipartite RBM prior (protocol §6).

RBM helpers (energy, marginals, conditionals, block Gibbs), exact log Z and moments by enumeration for small RBMs,
persistent contrastive divergence, population annealing, and annealed importance sampling. Nothing here depends on
the rest of the project.
"""
from dvae_sharp.samplers.ais import AISEstimate, ais_estimate, ais_log_z
from dvae_sharp.samplers.exact import exact_log_prob, exact_log_z, exact_moments
from dvae_sharp.samplers.pcd import PersistentContrastiveDivergence
from dvae_sharp.samplers.population_annealing import (PopulationAnnealing, systematic_resampling_indices,
                                                      temperatures_for)
from dvae_sharp.samplers.rbm import (gibbs_chain, gibbs_sweep, left_given_right_logits, log_marginal_left,
                                     log_marginal_right, neg_energy, right_given_left_logits, sample_bernoulli,
                                     stateless_uniform, stateless_uniform_16bit)
from dvae_sharp.samplers.sampler import RBMSampler

__all__ = [
    "AISEstimate", "PersistentContrastiveDivergence", "PopulationAnnealing", "RBMSampler", "ais_estimate", "ais_log_z",
    "exact_log_prob", "exact_log_z", "exact_moments", "gibbs_chain", "gibbs_sweep", "left_given_right_logits",
    "log_marginal_left", "log_marginal_right", "neg_energy", "right_given_left_logits", "sample_bernoulli",
    "stateless_uniform", "stateless_uniform_16bit", "systematic_resampling_indices", "temperatures_for",
]
