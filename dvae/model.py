"""The discrete VAE: hierarchical encoder, decoder and Boltzmann prior of one baseline (protocol §2, §4, §7, §8).

`training_terms(x, kl_coeff, seed)` gives the training loss of the baseline (ELBO or importance-weighted bound)
on relaxed latents; `evaluation_terms(x, seed)` gives the log importance weight and neg-ELBO of the *discrete*
model p(z) p(x|z) for one posterior sample per row, which training and evaluation both rely on.
"""
import tensorflow as tf

import samplers
import smoothing
from configs import paper
from dvae import kl, networks, objectives, priors

PA_SWEEPS_PER_TEMPERATURE = 10  # Gibbs sweeps per population-annealing temperature (DEVIATIONS 19)
KERNELS = {
    "power": lambda beta: smoothing.PowerFunction(beta, eps=paper.POWER_EPSILON),
    "exponential": smoothing.TruncatedExponential,
    "uniform_exponential": lambda beta: smoothing.UniformExponential(beta, paper.UNIFORM_EXPONENTIAL_WEIGHT),
    "gaussian": smoothing.Gaussian,
}


class BernoulliPosterior:
    """Factorial Bernoulli q(z|x) = Πᵢ σ(lᵢ)^{zᵢ}(1 − σ(lᵢ))^{1−zᵢ}: the evaluation posterior (protocol §5.8)."""

    def __init__(self, logits):
        self.logits = logits

    def sample(self, seed):
        u = tf.random.stateless_uniform(tf.shape(self.logits), seed=seed, dtype=self.logits.dtype)
        return tf.cast(u < tf.sigmoid(self.logits), self.logits.dtype)

    def log_prob(self, z):
        return -tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=self.logits)


class HierarchicalEncoder(tf.Module):
    """One MLP per latent group g on [x − x̄, ζ₁, …, ζ_{g−1}] (protocol §7.2); GI adds a per-unit scale s."""

    def __init__(self, structure, input_size, num_params, seed, name="encoder"):
        super().__init__(name=name)
        units = structure.units_per_group
        hidden = [structure.hidden_units] * structure.hidden_layers
        seeds = tf.random.experimental.stateless_split(seed, num=structure.num_groups)
        self.nets = [networks.FeedForward([input_size + g * units] + hidden + [units * num_params], seeds[g],
                                          name=f"group_{g}") for g in range(structure.num_groups)]
        self.num_params = num_params
        self.gi_scales = ([tf.Variable(tf.ones([units]), name=f"gi_scale_{g}") for g in range(structure.num_groups)]
                          if num_params == 2 else [])

    def __call__(self, x_centered, make_posterior, seed, training, repeats=1):
        """Returns the per-group posteriors and samples, each group conditioned on the earlier samples.

        With `repeats` > 1 every image gets that many independent samples (rows ordered repeat-major); the first
        group, which sees only x, is computed once per image and its output tiled.
        """
        seeds = tf.random.experimental.stateless_split(seed, num=len(self.nets))
        posteriors, samples = [], []
        x_rows = tf.tile(x_centered, [repeats, 1]) if len(self.nets) > 1 else None
        for g, net in enumerate(self.nets):
            if g == 0:
                output = tf.tile(net(x_centered, training), [repeats, 1])
            else:
                output = net(tf.concat([x_rows] + samples, -1), training)
            outputs = tf.split(output, self.num_params, axis=-1)
            posterior = make_posterior(g, outputs)
            posteriors.append(posterior)
            samples.append(posterior.sample(seeds[g]))
        return posteriors, samples

    def gi_sigma(self, group):
        """σ = |0.2 s| + 0.05 per unit, independent of x (protocol §5.7)."""
        return tf.abs(0.2 * self.gi_scales[group]) + 0.05


def prior_sampler(config, side, pa_sweeps_per_temperature=PA_SWEEPS_PER_TEMPERATURE, uniform_bits=16):
    """The RBM sampler of `--qupa`: population annealing with K = temperatures_for(sweeps, 10) reweight-resample
    steps per training step (4 temperatures × 10 sweeps at the paper's 40; docs/DEVIATIONS.md item 19), or PCD.
    Their Gibbs sweeps draw 16-bit uniforms (`uniform_bits=32`: float32 uniforms, as the original; item 21)."""
    sizes = dict(left_size=side, right_size=side, num_sweeps=config.sampler_sweeps, seed=config.seed + 1,
                 uniform_bits=uniform_bits)
    if not config.qupa:
        return samplers.PersistentContrastiveDivergence(num_chains=config.sampler_chains, **sizes)
    temperatures = samplers.temperatures_for(config.sampler_sweeps, pa_sweeps_per_temperature)
    return samplers.PopulationAnnealing(num_particles=config.sampler_chains, num_temperatures=temperatures, **sizes)


class DiscreteVAE(tf.Module):
    """Encoder, decoder and prior of one `--baseline` × `--struct` configuration."""

    def __init__(self, config, train_mean, structure=None, sampler_options=None, name="dvae"):
        """`structure` overrides the sizes of `config.struct` (tests build tiny models this way);
        `sampler_options` are keyword arguments of `prior_sampler` (benchmarks compare sampler settings)."""
        super().__init__(name=name)
        structure = structure or config.structure
        self.config, self.spec, self.structure = config, config.spec, structure
        mean = tf.constant(train_mean, tf.float32)
        self.x_mean = mean
        clipped = tf.clip_by_value(mean, 1e-3, 1.0 - 1e-3)
        self.train_bias = tf.math.log(clipped / (1.0 - clipped))
        seeds = tf.random.experimental.stateless_split(tf.constant([config.seed, 0], tf.int64), num=3)
        gi = self.spec.prior == "gaussian_integral"
        self.encoder = HierarchicalEncoder(structure, config.input_size, 2 if gi else 1, seeds[0])
        hidden = [structure.hidden_units] * structure.hidden_layers
        self.decoder = networks.FeedForward([structure.num_latents] + hidden + [config.input_size], seeds[1],
                                            name="decoder")
        side = structure.rbm_side
        self.rbm = priors.RBMPrior(side, side, prior_sampler(config, side, **(sampler_options or {})))
        self.kernel = KERNELS[self.spec.smoothing](config.beta) if self.spec.smoothing in KERNELS else None
        self.relaxed_prior = {"marginal": lambda: priors.MeanFieldMarginalPrior(
                                  self.rbm, self.kernel, iterations=config.mean_field_iterations),
                              "gaussian_integral": lambda: priors.GaussianIntegralPrior(self.rbm, config.beta),
                              "rbm": lambda: None}[self.spec.prior]()

    # Posteriors ---------------------------------------------------------------------------------------------------
    def _relaxed_posterior(self, group, outputs):
        logits = outputs[0]
        if self.spec.smoothing == "spike_exp":
            return smoothing.SpikeAndExponential(self.config.beta, logits)
        if self.spec.smoothing == "shifted_gaussian":
            shift = paper.GI_SHIFT_SCALE * (tf.sigmoid(outputs[1]) - 0.5)
            return smoothing.ShiftedGaussianMixture(logits, self.encoder.gi_sigma(group), shift)
        return smoothing.OverlappingMixture(self.kernel, logits)

    def _centered(self, x):
        return x - self.x_mean

    def reconstruction_cost(self, x, latents, training, repeats=1):
        """−log p(x|ζ) = Σ_pixels BCE(l, x) per row, l = decoder logits + logit(x̄) (protocol §7.3).

        Images are binary, so BCE(l, x) = softplus((1 − 2x)·l) exactly. The latents may hold `repeats` rows per
        image (repeat-major); x [B, 784] is then broadcast instead of tiled.
        """
        logits = self.decoder(tf.concat(latents, -1), training) + self.train_bias
        sign = 1.0 - 2.0 * x
        per_repeat = tf.reshape(logits, [repeats, -1, logits.shape[-1]])
        cost = tf.reduce_sum(tf.nn.softplus(per_repeat * sign), -1)
        return tf.reshape(cost, [-1]), logits

    # Training -----------------------------------------------------------------------------------------------------
    def training_terms(self, x, kl_coeff, seed):
        """Loss and logged values of one training batch x [B, 784] (protocol §8); advances the prior sampler."""
        k = self.config.k
        x = tf.repeat(x, k, axis=0)
        encoder_seed, prior_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
        if isinstance(self.relaxed_prior, priors.GaussianIntegralPrior):
            self.relaxed_prior.refresh_lambda()
        log_z_hat = self.rbm.training_log_z(prior_seed)
        posteriors, zetas = self.encoder(self._centered(x), self._relaxed_posterior, encoder_seed, training=True)
        recon, _ = self.reconstruction_cost(x, zetas, training=True)
        zeta = tf.concat(zetas, -1)
        if self.relaxed_prior is None:
            kl_value = self._discrete_prior_kl(posteriors, zetas, log_z_hat)
            log_prior_ratio = -kl_value
        else:
            log_q = tf.add_n([tf.reduce_sum(p.log_prob(s), -1) for p, s in zip(posteriors, zetas)])
            log_prior_ratio = self.relaxed_prior.log_prob(zeta, log_z_hat) - log_q
            kl_value = -log_prior_ratio
        if self.config.use_iw:
            log_w = tf.reshape(kl_coeff * log_prior_ratio - recon, [-1, k])
            objective, name = objectives.iw_surrogate_loss(log_w), "train/neg_iw_loss"
            kl_mean = tf.constant(0.0)
        else:
            objective, name = tf.reduce_mean(kl_coeff * kl_value + recon), "train/neg_elbo"
            kl_mean = tf.reduce_mean(kl_value)
        decay = self.weight_decay()
        values = {name: objective, "obj/recon_loss": tf.reduce_mean(recon), "obj/kl": kl_mean,
                  "weigh decay/encoder": decay["encoder"], "weigh decay/decoder": decay["decoder"],
                  "weigh decay/total": decay["total"], "kl_coeff": kl_coeff,
                  "log_z/sampler": self.rbm.sampler.log_z}
        return objective + decay["total"], values

    def _discrete_prior_kl(self, posteriors, zetas, log_z_hat):
        logits = [p.logits for p in posteriors]
        if self.spec.smoothing == "spike_exp" and len(zetas) > 1:
            return kl.rolfe_kl(self.rbm, logits, zetas, self.rbm.samples())
        if len(zetas) > 1:
            log_ratio = tf.concat([self.kernel.log_ratio(z) for z in zetas], -1)
        else:
            log_ratio = tf.zeros_like(logits[0])
        return kl.dvaepp_kl(self.rbm, tf.concat(logits, -1), log_ratio, log_z_hat)

    def weight_decay(self):
        """1e-4 · Σ ½‖v‖² over kernels and BN gammas of encoder and decoder, and the RBM couplings."""
        coefficient = paper.TRAINING.weight_decay
        encoder = coefficient * networks.l2_penalty([v for n in self.encoder.nets for v in n.decayed_variables()])
        decoder = coefficient * networks.l2_penalty(self.decoder.decayed_variables())
        rbm = coefficient * networks.l2_penalty(self.rbm.decayed_variables())
        return {"encoder": encoder, "decoder": decoder, "total": encoder + decoder + rbm}

    # Evaluation ---------------------------------------------------------------------------------------------------
    def evaluation_terms(self, x, seed, repeats=1):
        """log w = log p(z) + log p(x|z) − log q(z|x) and the neg-ELBO term per row, for `repeats` independent
        binary z ~ q(z|x) per image (protocol §10.1; rows repeat-major), using the AIS log Z held by the prior."""
        posteriors, zs = self.encoder(self._centered(x), lambda g, out: BernoulliPosterior(out[0]), seed,
                                      training=False, repeats=repeats)
        recon, _ = self.reconstruction_cost(x, zs, training=False, repeats=repeats)
        log_q = tf.add_n([tf.reduce_sum(p.log_prob(z), -1) for p, z in zip(posteriors, zs)])
        log_p = self.rbm.discrete_log_prob(tf.concat(zs, -1))
        log_w = log_p - log_q - recon
        if self.relaxed_prior is None:
            entropy = tf.add_n([tf.reduce_sum(kl.bernoulli_entropy(p.logits), -1) for p in posteriors])
            neg_elbo = recon - log_p - entropy
        else:
            neg_elbo = -log_w
        return log_w, neg_elbo

    def reconstruction_means(self, x, seed):
        """σ(decoder logits) of one binary posterior sample per image (moving-average batch norm)."""
        _, zs = self.encoder(self._centered(x), lambda g, out: BernoulliPosterior(out[0]), seed, training=False)
        return tf.sigmoid(self.reconstruction_cost(x, zs, training=False)[1])

    def prior_sample_means(self, num):
        """σ(decoder logits) of the first `num` prior sampler states (protocol §6.4)."""
        z = self.rbm.samples()[:num]
        logits = self.decoder(z, training=False) + self.train_bias
        return tf.sigmoid(logits)

    def prior_diagnostics(self, x, seed):
        """σ_max(W) and, for the mean-field marginal prior, the distance of its iterations from their fixed point
        at relaxed posterior samples of the images x (moving-average batch norm; changes no state)."""
        values = {"rbm/max_singular_value": self.rbm.max_singular_value()}
        if isinstance(self.relaxed_prior, priors.MeanFieldMarginalPrior):
            _, zetas = self.encoder(self._centered(x), self._relaxed_posterior, seed, training=False)
            values.update(self.relaxed_prior.fixed_point_diagnostics(tf.concat(zetas, -1)))
        return {name: float(value) for name, value in values.items()}

    def smoothing_summaries(self):
        summaries = {"beta": self.config.beta}
        if self.kernel is not None:
            summaries.update(self.kernel.summaries)
        elif self.spec.smoothing == "spike_exp":
            summaries["posterior/beta"] = self.config.beta
        return summaries
