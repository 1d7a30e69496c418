"""The relaxation registry: what each kind of baseline does with its latent variables (protocol §4.1, §5, §6.6–6.9).

A relaxation is chosen by the baseline's prior kind (`configs.paper.BASELINE_SPECS`) and gives:

    ENCODER_OUTPUTS                 encoder outputs per latent unit (2 for the Gaussian integral: logit and shift)
    posterior(group, outputs)       the relaxed posterior r(ζ|x) of one latent group from the encoder's outputs
    log_prior_ratio(posteriors, zetas, log_z_hat)
                                    per row, the prior's part of the objective: the one-sample estimate
                                    log p(ζ) − log q(ζ|x) (DVAE#), or −KL(q(z|x) ‖ p(z)) (DVAE, DVAE++); and
                                    the values the original logs during training (GI: λ and σ_max(W);
                                    marginal: how many units of ζ have |b(ζ)| < 1), from the same tensors
    refresh()                       what is recomputed before each training step (GI: the eigenvalue bound λ)
    parameters                      the smoothing's parameters ({"lambda": 1/β}, …)
    diagnostics(zeta)               how trustworthy the prior's approximation is at relaxed samples ζ
    RELAXED_PRIOR                   whether the discrete evaluation's neg-ELBO is −log w (DVAE#) or analytic

Adding a smoothing: its kernel in smoothing/, one line in KERNELS, its baseline and β in configs/paper.py.
"""
import tensorflow as tf

from dvae_sharp import smoothing
from dvae_sharp.configs import paper
from dvae_sharp.dvae.model import kl, priors

KERNELS = {  # smoothing name -> the kernel r(ζ | z) of an overlapping smoothing, built from β
    "power": lambda beta: smoothing.PowerFunction(beta, eps=paper.POWER_EPSILON),
    "exponential": smoothing.TruncatedExponential,
    "uniform_exponential": lambda beta: smoothing.UniformExponential(beta, paper.UNIFORM_EXPONENTIAL_WEIGHT),
    "gaussian": smoothing.Gaussian,
}


def _log_q(posteriors, zetas):
    return tf.add_n([tf.reduce_sum(p.log_prob(s), -1) for p, s in zip(posteriors, zetas)])


class DiscretePrior:
    """DVAE++: overlapping smoothings, the analytic KL to the discrete RBM (protocol §6.6)."""
    ENCODER_OUTPUTS, RELAXED_PRIOR = 1, False

    def __init__(self, spec, beta, rbm, encoder, config):
        self.rbm, self.kernel = rbm, KERNELS[spec.smoothing](beta)

    def posterior(self, group, outputs):
        return smoothing.OverlappingMixture(self.kernel, outputs[0])

    def log_prior_ratio(self, posteriors, zetas, log_z_hat):
        """−KL, the DVAE++ KL (with a zero log-ratio for one group, the original's mean-field case)."""
        logits = [p.logits for p in posteriors]
        if len(zetas) > 1:
            log_ratio = tf.concat([self.kernel.log_ratio(z) for z in zetas], -1)
        else:
            log_ratio = tf.zeros_like(logits[0])
        return -kl.dvaepp_kl(self.rbm, tf.concat(logits, -1), log_ratio, log_z_hat), {}

    def refresh(self):
        """Nothing of this relaxation changes between training steps."""

    @property
    def parameters(self):
        return self.kernel.parameters

    def diagnostics(self, zeta):
        return {}


class SpikeAndExpDiscretePrior(DiscretePrior):
    """DVAE: spike-and-exp posteriors; Rolfe's KL surrogate with several groups, the DVAE++ KL with its zero
    log-ratio for one group (protocol §6.7)."""

    def __init__(self, spec, beta, rbm, encoder, config):
        self.rbm, self.beta = rbm, beta

    def posterior(self, group, outputs):
        return smoothing.SpikeAndExponential(self.beta, outputs[0])

    def log_prior_ratio(self, posteriors, zetas, log_z_hat):
        if len(zetas) > 1:
            return -kl.rolfe_kl(self.rbm, [p.logits for p in posteriors], zetas, self.rbm.samples()), {}
        return super().log_prior_ratio(posteriors, zetas, log_z_hat)

    @property
    def parameters(self):
        return {"beta": self.beta}


class MeanFieldMarginal:
    """DVAE# with an overlapping smoothing: the mean-field marginal relaxed prior (protocol §6.8)."""
    ENCODER_OUTPUTS, RELAXED_PRIOR = 1, True

    def __init__(self, spec, beta, rbm, encoder, config):
        self.kernel = KERNELS[spec.smoothing](beta)
        self.prior = priors.MeanFieldMarginalPrior(rbm, self.kernel, iterations=config.mean_field_iterations)

    def posterior(self, group, outputs):
        return smoothing.OverlappingMixture(self.kernel, outputs[0])

    def log_prior_ratio(self, posteriors, zetas, log_z_hat):
        """log p(ζ) − log q(ζ|x), and b_zeta_num: the mean number of units per row whose log-ratio b(ζ) lies in
        (−1, 1), from the b(ζ) the prior uses. The kernel's terms at each group's ζ serve both densities."""
        terms = [self.kernel.terms(z) for z in zetas]
        b = tf.concat([t.log_ratio for t in terms], -1)
        log_pdf = tf.concat([t.log_pdf for t in terms], -1)
        log_q = tf.add_n([tf.reduce_sum(p.log_prob_from_terms(t), -1) for p, t in zip(posteriors, terms)])
        value = self.prior.log_prob(tf.concat(zetas, -1), log_z_hat, log_ratio=b, log_pdf=log_pdf) - log_q
        return value, {"b_zeta_num": tf.reduce_mean(tf.reduce_sum(tf.cast(tf.abs(b) < 1.0, tf.float32), -1))}

    def refresh(self):
        """Nothing of this relaxation changes between training steps."""

    @property
    def parameters(self):
        return self.kernel.parameters

    def diagnostics(self, zeta):
        return self.prior.fixed_point_diagnostics(zeta)


class GaussianIntegral:
    """DVAE# with shifted Gaussians and the Gaussian-integral relaxed prior (protocol §5.7, §6.9)."""
    ENCODER_OUTPUTS, RELAXED_PRIOR = 2, True

    def __init__(self, spec, beta, rbm, encoder, config, shift_scale=paper.GI_SHIFT_SCALE):
        self.encoder, self.shift_scale = encoder, shift_scale
        self.prior = priors.GaussianIntegralPrior(rbm, beta)

    def posterior(self, group, outputs):
        shift = self.shift_scale * (tf.sigmoid(outputs[1]) - 0.5)
        return smoothing.ShiftedGaussianMixture(outputs[0], self.encoder.gi_sigma(group), shift)

    def log_prior_ratio(self, posteriors, zetas, log_z_hat):
        """log p(ζ) − log q(ζ|x), and λ, ±σ_max(W) (the extreme eigenvalues of the coupling matrix
        [[0, W], [Wᵀ, 0]]) and ½‖W‖²."""
        value = self.prior.log_prob(tf.concat(zetas, -1), log_z_hat) - _log_q(posteriors, zetas)
        largest = self.prior.max_singular_value
        return value, {"eigen_lambda": self.prior.lam, "eigen_max": largest, "eigen_min": -largest,
                       "weight_norm": tf.nn.l2_loss(self.prior.rbm.w)}

    def refresh(self):
        self.prior.refresh_lambda()

    @property
    def parameters(self):
        return {}

    def diagnostics(self, zeta):
        return {}


RELAXATIONS = {"spike_rbm": SpikeAndExpDiscretePrior, "rbm": DiscretePrior, "marginal": MeanFieldMarginal,
               "gaussian_integral": GaussianIntegral}


def relaxation_class(spec):
    return RELAXATIONS[spec.prior]
