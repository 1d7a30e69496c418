"""KL terms of the discrete-prior baselines: the DVAE++ KL and Rolfe's DVAE gradient surrogate (protocol §6.6–6.7).

Both take concatenated per-unit tensors [R, n] (left RBM side = first half) and the RBM prior.
"""
import tensorflow as tf

from dvae_sharp import smoothing


def bernoulli_entropy(logits):
    """H(q) = softplus(l) − q·l per unit, the entropy of Bernoulli(σ(l)) (smoothing.FactorialBernoulli)."""
    return smoothing.FactorialBernoulli(logits).entropy()


def dvaepp_kl(rbm, logits, log_ratio, log_z_hat):
    """DVAE++ KL per row (DVAE++ §3, protocol §6.6).

        KL = −q₁ᵀb₁ − q₂ᵀb₂ − ν₁ᵀ W q₂ + log Ẑ − Σᵢ H(qᵢ),
    with q = σ(l) and ν₁ = σ(l⁽¹⁾ + b(ζ⁽¹⁾)) the responsibility of z⁽¹⁾ = 1 given ζ⁽¹⁾. Pass a zero `log_ratio`
    for a single latent group (the mean-field case of the original).
    """
    logits1, logits2 = rbm.split(logits)
    ratio1, _ = rbm.split(log_ratio)
    q1, q2 = tf.sigmoid(logits1), tf.sigmoid(logits2)
    nu1 = tf.sigmoid(logits1 + ratio1)
    cross_entropy = (-tf.reduce_sum(q1 * rbm.b1, -1) - tf.reduce_sum(q2 * rbm.b2, -1)
                     - tf.reduce_sum(tf.matmul(nu1, rbm.w) * q2, -1) + log_z_hat)
    return cross_entropy - tf.reduce_sum(bernoulli_entropy(logits), -1)


def rolfe_kl(rbm, group_logits, group_zetas, prior_samples):
    """Rolfe's DVAE KL gradient surrogate for spike-and-exp with several groups (DVAE §F, protocol §6.7).

    s holds z = 1[ζ > 0] for every group but the last, and σ(l_G) for the last. With h = [b₁; b₂],
    q̄ = min(σ(l), 0.999), m = [W s⁽²⁾; Wᵀ s⁽¹⁾] and c = [(1 − s⁽¹⁾)/(1 − q̄⁽¹⁾); 1]:
        K_post = Σᵢ sg(lᵢ − hᵢ − mᵢcᵢ) q̄ᵢ,
        K_prior = −mean_batch(sg(s⁽¹⁾)ᵀ W sg(s⁽²⁾) + sg(σ(l))ᵀ h) + mean_samples(−E(z)).
    Its gradients are those of the KL; its value is not a KL (§12 item 12).
    """
    logits = tf.clip_by_value(tf.concat(group_logits, -1), -88.0, 88.0)
    last_logits = logits[:, -group_logits[-1].shape[-1]:]
    binary = [tf.cast(zeta > 0.0, zeta.dtype) for zeta in group_zetas[:-1]]
    s = tf.concat(binary + [tf.sigmoid(last_logits)], -1)
    q_bar = tf.minimum(tf.sigmoid(logits), 0.999)
    s1, s2 = rbm.split(s)
    q_bar1, _ = rbm.split(q_bar)
    h = tf.concat([rbm.b1, rbm.b2], 0)
    m = tf.concat([tf.matmul(s2, rbm.w, transpose_b=True), tf.matmul(s1, rbm.w)], -1)
    c = tf.concat([(1.0 - s1) / (1.0 - q_bar1), tf.ones_like(s2)], -1)
    k_post = tf.reduce_sum(tf.stop_gradient(logits - h - m * c) * q_bar, -1)
    s1, s2, q = tf.stop_gradient(s1), tf.stop_gradient(s2), tf.stop_gradient(tf.sigmoid(logits))
    positive = -tf.reduce_mean(tf.reduce_sum(tf.matmul(s1, rbm.w) * s2, -1) + tf.reduce_sum(q * h, -1))
    negative = tf.reduce_mean(rbm.neg_energy(prior_samples))
    return k_post + positive + negative
