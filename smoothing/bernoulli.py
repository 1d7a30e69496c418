"""The factorial Bernoulli posterior q(z | x) of the discrete model (protocol §5.8), a TFP distribution."""
import tensorflow as tf

from dvae_sharp.smoothing.distribution import UnitDistribution


class FactorialBernoulli(UnitDistribution):
    """q(z|x) = Πᵢ σ(lᵢ)^{zᵢ} (1 − σ(lᵢ))^{1−zᵢ}, one unit per entry of the logits, with z in {0, 1} in the logits'
    float dtype (the evaluation posterior of every baseline, protocol §5.8, §10.1).

        sample:    z = 1[u < σ(l)], u ~ U[0, 1) (not reparameterised)
        log_prob:  z·log σ(l) + (1 − z)·log σ(−l) = −BCE(l, z) per unit
        cdf:       0 for z < 0, 1 − σ(l) for 0 ≤ z < 1, 1 for z ≥ 1
        entropy:   softplus(l) − σ(l)·l per unit
        mean:      σ(l)
    """

    def __init__(self, logits, validate_args=False, allow_nan_stats=True, name="FactorialBernoulli"):
        parameters = dict(locals())
        super().__init__(logits, False, parameters, validate_args, allow_nan_stats, name)

    def _draw(self, shape, seed):
        u = tf.random.stateless_uniform(shape, seed=seed, dtype=self.dtype)
        return tf.cast(u < tf.sigmoid(self.logits), self.dtype)

    def _log_prob(self, z):
        logits = self.logits
        if z.shape.as_list() != logits.shape.as_list():  # values of another shape broadcast against the logits
            shape = tf.broadcast_dynamic_shape(tf.shape(z), tf.shape(logits))
            z, logits = tf.broadcast_to(z, shape), tf.broadcast_to(logits, shape)
        return -tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=logits)

    def _cdf(self, z):
        off = tf.sigmoid(-self.logits) * tf.ones_like(z)
        return tf.where(z < 0.0, tf.zeros_like(off), tf.where(z < 1.0, off, tf.ones_like(off)))

    def _entropy(self):
        return tf.nn.softplus(self.logits) - tf.sigmoid(self.logits) * self.logits

    def _mean(self):
        return tf.sigmoid(self.logits)
