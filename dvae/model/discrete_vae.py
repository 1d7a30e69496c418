"""The discrete VAE: hierarchical encoder, decoder and Boltzmann prior of one baseline (protocol §2, §4, §7, §8).

`training_terms(x, seed)` gives the per-row terms of the training objective on relaxed latents (dvae/model/objectives.py
turns them into the loss); `evaluation_terms(x, seed)` gives the log importance weight and neg-ELBO of the
*discrete* model p(z) p(x|z) for posterior samples, which training and evaluation both rely on. What depends on
the baseline is its relaxation (dvae/model/relaxations.py).
"""
from typing import NamedTuple

import tensorflow as tf

from dvae_sharp.configs import paper
from dvae_sharp.dvae.model import networks, priors, relaxations, rows as row_layout
from dvae_sharp.dvae.model.encoder import HierarchicalEncoder, bernoulli_posterior


def bernoulli_cost(logits, sign):
    """Σ_pixels softplus(sign·l) per row: −log p(x|ζ) with sign = 1 − 2x, since BCE(l, x) = softplus((1 − 2x)·l) for
    binary x."""
    return tf.reduce_sum(tf.nn.softplus(logits * sign), -1)


@tf.function(jit_compile=True, autograph=False)
def _compiled_bernoulli_cost(decoder_output, bias, sign):
    """`bernoulli_cost(decoder_output + bias, sign)` as one XLA computation: the evaluator's forward-only tail, which
    XLA fuses into one pass (1.06–1.3 times faster per evaluator call on this CPU, docs/benchmarks-evaluation.md;
    equal to float32 rounding). Training keeps the unfused ops: with their gradients XLA was slower there
    (docs/benchmarks-train-step.md)."""
    return bernoulli_cost(decoder_output + bias, sign)


class TrainingTerms(NamedTuple):
    """Per-row terms of one training batch repeated k times (rows = B·k, repeat-minor): the reconstruction cost
    −log p(x|ζ), the prior term (log p(ζ) − log q(ζ|x), or −KL for the discrete-prior baselines), the weight-decay
    penalties, the sampler's current log Z and the relaxation's logged values."""
    recon: tf.Tensor
    log_prior_ratio: tf.Tensor
    weight_decay: dict
    sampler_log_z: tf.Tensor
    relaxation_values: dict


class EvaluationTerms(NamedTuple):
    """Per row: log w = log p(z) + log p(x|z) − log q(z|x) of the discrete model, and the neg-ELBO term."""
    log_w: tf.Tensor
    neg_elbo: tf.Tensor


class DiscreteVAE(tf.Module):
    """Encoder, decoder and prior of one `--baseline` × `--struct` configuration."""

    def __init__(self, config, train_mean, structure=None, weight_decay=paper.TRAINING.weight_decay, name="dvae"):
        """`structure` overrides the sizes of `config.struct` (tests build tiny models this way)."""
        super().__init__(name=name)
        structure = structure or config.structure
        self.config, self.structure, self.weight_decay_coefficient = config, structure, weight_decay
        mean = tf.constant(train_mean, tf.float32)
        self.x_mean = mean
        clipped = tf.clip_by_value(mean, 1e-3, 1.0 - 1e-3)
        self.train_bias = tf.math.log(clipped / (1.0 - clipped))
        seeds = tf.random.experimental.stateless_split(tf.constant([config.seed, 0], tf.int64), num=3)
        relaxation = relaxations.relaxation_class(config.spec)
        self.encoder = HierarchicalEncoder(structure, config.input_size, relaxation.ENCODER_OUTPUTS, seeds[0])
        hidden = [structure.hidden_units] * structure.hidden_layers
        self.decoder = networks.FeedForward([structure.num_latents] + hidden + [config.input_size], seeds[1],
                                            name="decoder")
        side = structure.rbm_side
        self.rbm = priors.RBMPrior(side, side, priors.make_sampler(config, side))
        self.relaxation = relaxation(config.spec, config.beta, self.rbm, self.encoder, config)
        # The relaxed prior's variables (GI: λ) live under this name in checkpoints.
        self.relaxed_prior = getattr(self.relaxation, "prior", None)

    def _centered(self, x):
        return x - self.x_mean

    def reconstruction_cost(self, x, latents, training, rows=row_layout.ONE_PER_IMAGE):
        """−log p(x|ζ) = Σ_pixels BCE(l, x) per row, l = decoder logits + logit(x̄) (protocol §7.3).

        Images are binary, so BCE(l, x) = softplus((1 − 2x)·l) exactly. The latents hold the rows of `rows`
        (dvae/model/rows.py) for the images x [B, 784]; x is broadcast instead of expanded, which gives the same
        products l·(1 − 2x), so the same numbers.
        """
        logits = self.decoder(tf.concat(latents, -1), training, output_offset=self.train_bias)
        grouped_logits, sign = rows.grouped(logits, 1.0 - 2.0 * x)
        return tf.reshape(bernoulli_cost(grouped_logits, sign), [-1]), logits

    def evaluation_cost(self, x, latents, rows=row_layout.ONE_PER_IMAGE):
        """The value of `reconstruction_cost` for the evaluator (no gradient, no logits), its element-wise tail
        compiled by XLA."""
        grouped_output, sign = rows.grouped(self.decoder(tf.concat(latents, -1), training=False), 1.0 - 2.0 * x)
        return tf.reshape(_compiled_bernoulli_cost(grouped_output, self.train_bias, sign), [-1])

    def training_terms(self, x, seed):
        """The objective's terms for a training batch x [B, 784] (protocol §8); advances the prior sampler."""
        encoder_seed, prior_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
        self.relaxation.refresh()
        log_z_hat = self.rbm.training_log_z(prior_seed)
        rows = row_layout.training(self.config.k)
        posteriors, zetas = self.encoder(self._centered(x), self.relaxation.posterior, encoder_seed, training=True,
                                         rows=rows)
        recon, _ = self.reconstruction_cost(x, zetas, training=True, rows=rows)
        log_prior_ratio, relaxation_values = self.relaxation.log_prior_ratio(posteriors, zetas, log_z_hat)
        return TrainingTerms(recon, log_prior_ratio, self.weight_decay(), self.rbm.sampler.log_z,
                             relaxation_values)

    def weight_decay(self):
        """c · Σ ½‖v‖² over kernels and BN gammas of encoder and decoder, and the RBM couplings (c = 1e-4)."""
        coefficient = self.weight_decay_coefficient
        encoder = coefficient * networks.l2_penalty([v for n in self.encoder.nets for v in n.decayed_variables()])
        decoder = coefficient * networks.l2_penalty(self.decoder.decayed_variables())
        rbm = coefficient * networks.l2_penalty(self.rbm.decayed_variables())
        return {"encoder": encoder, "decoder": decoder, "total": encoder + decoder + rbm}

    def evaluation_terms(self, x, seed, repeats=1):
        """log w and the neg-ELBO term per row, for `repeats` independent binary z ~ q(z|x) per image (protocol
        §10.1; rows repeat-major), using the AIS log Z held by the prior."""
        rows = row_layout.evaluation(repeats)
        posteriors, zs = self.encoder(self._centered(x), bernoulli_posterior, seed, training=False, rows=rows)
        recon = self.evaluation_cost(x, zs, rows)
        log_q = tf.add_n([tf.reduce_sum(p.log_prob(z), -1) for p, z in zip(posteriors, zs)])
        log_p = self.rbm.discrete_log_prob(tf.concat(zs, -1))
        log_w = log_p - log_q - recon
        if self.relaxation.RELAXED_PRIOR:
            return EvaluationTerms(log_w, -log_w)
        entropy = tf.add_n([tf.reduce_sum(p.entropy(), -1) for p in posteriors])
        return EvaluationTerms(log_w, recon - log_p - entropy)

    def reconstruction_means(self, x, seed):
        """σ(decoder logits) of one binary posterior sample per image (moving-average batch norm)."""
        _, zs = self.encoder(self._centered(x), bernoulli_posterior, seed, training=False)
        return tf.sigmoid(self.reconstruction_cost(x, zs, training=False)[1])

    def prior_sample_means(self, num):
        """σ(decoder logits) of the first `num` prior sampler states (protocol §6.4)."""
        return self.image_means(self.rbm.samples()[:num])

    def image_means(self, z):
        """σ(decoder logits + logit(x̄)) of latents z [N, n], the pixel probabilities of p(x|z) (moving-average
        batch norm)."""
        return tf.sigmoid(self.decoder(z, training=False, output_offset=self.train_bias))

    def posterior_probabilities(self, x, seed):
        """(q(z = 1 | x) per unit, one binary sample z ~ q(z|x)), both [N, n]; a group's probabilities are those
        given the sample of the groups before it."""
        posteriors, zs = self.encoder(self._centered(x), bernoulli_posterior, seed, training=False)
        return tf.concat([p.probs for p in posteriors], -1), tf.concat(zs, -1)

    def prior_diagnostics(self, x, seed):
        """σ_max(W) and the relaxation's own diagnostics at relaxed posterior samples of the images x
        (moving-average batch norm; changes no state)."""
        _, zetas = self.encoder(self._centered(x), self.relaxation.posterior, seed, training=False)
        values = {"rbm/max_singular_value": self.rbm.max_singular_value(),
                  **self.relaxation.diagnostics(tf.concat(zetas, -1))}
        return {name: float(value) for name, value in values.items()}
