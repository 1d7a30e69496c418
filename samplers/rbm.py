"""Energy, marginals, conditionals and block-Gibbs sweeps of a bipartite RBM (protocol §6.1, §6.3).

The state is z = [z1; z2] with z1 in {0,1}^n1 (left, the first half of the latent vector) and z2 in {0,1}^n2
(right). With biases b1 [n1], b2 [n2] and couplings w [n1, n2]:

    -E(z) = b1·z1 + b2·z2 + z1ᵀ w z2,          p(z) = exp(-E(z)) / Z.

Summing one side out analytically gives the marginal (negative free) energies

    log Σ_{z2} exp(-E(z)) = b1·z1 + Σ_j softplus(b2_j + (z1 w)_j),
    log Σ_{z1} exp(-E(z)) = b2·z2 + Σ_i softplus(b1_i + (w z2)_i),

and the conditionals factorise: p(z2_j = 1 | z1) = σ(b2_j + (z1 w)_j), p(z1_i = 1 | z2) = σ(b1_i + (w z2)_i).
At inverse temperature β every logit is multiplied by β (the distribution ∝ exp(-β E)).

Every function works in the dtype of its inputs (float32 or float64). Randomness is stateless: `seed` is a shape-[2]
integer tensor. The Gibbs sweeps of the training samplers draw their uniforms from 16 random bits per unit plus a
fraction shared by the units of a chain (`stateless_uniform_16bit`), about half the random bits of float32
uniforms, with the same conditional probabilities (docs/DEVIATIONS.md item 21).
"""
import tensorflow as tf


def neg_energy(z1, z2, b1, b2, w):
    """-E(z) = b1·z1 + b2·z2 + z1ᵀ w z2 for states of shape [..., n1] and [..., n2]; returns shape [...]."""
    return (tf.reduce_sum(z1 * b1, -1) + tf.reduce_sum(z2 * b2, -1)
            + tf.reduce_sum(tf.tensordot(z1, w, axes=1) * z2, -1))


def log_marginal_left(z1, b1, b2, w):
    """log Σ_{z2} exp(-E(z1, z2)) = b1·z1 + Σ_j softplus(b2_j + (z1 w)_j); shape [...] for z1 [..., n1]."""
    return tf.reduce_sum(z1 * b1, -1) + tf.reduce_sum(tf.nn.softplus(tf.tensordot(z1, w, axes=1) + b2), -1)


def log_marginal_right(z2, b1, b2, w):
    """log Σ_{z1} exp(-E(z1, z2)) = b2·z2 + Σ_i softplus(b1_i + (w z2)_i); shape [...] for z2 [..., n2]."""
    return log_marginal_left(z2, b2, b1, tf.transpose(w))


def right_given_left_logits(z1, b2, w):
    """Logits of p(z2 | z1): b2 + z1 w, shape [S, n2] for z1 [S, n1]."""
    return tf.nn.bias_add(tf.matmul(z1, w), b2)


def left_given_right_logits(z2, b1, w):
    """Logits of p(z1 | z2): b1 + z2 wᵀ, shape [S, n1] for z2 [S, n2]."""
    return tf.nn.bias_add(tf.matmul(z2, w, transpose_b=True), b1)


def stateless_uniform_16bit(shape, seed, dtype):
    """Uniform draws u = (m + v) / 2¹⁶ at about half the random bits of `tf.random.stateless_uniform`.

    m is uniform on {0, ..., 2¹⁶ - 1}, independently per element, two per 32-bit Philox word (its 16-bit halves);
    v ~ U[0, 1) is a float32 uniform shared along the last axis (one per row). Every u is exactly uniform up to the
    float rounding of m + v (2⁻²⁴ in float32, where that rounding gives u = 1 with probability 2⁻²⁵). Draws of
    one row depend on each other only through v: for events {u_i < p_i},
    P(u_i < p_i | v) = (⌊2¹⁶ p_i⌋ + 1[v < frac(2¹⁶ p_i)]) / 2¹⁶, so their covariance is at most 2⁻³⁴.
    """
    seed_cells, seed_fraction = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    size = tf.reduce_prod(shape)
    words = tf.random.stateless_uniform([(size + 1) // 2], seed_cells, minval=None, maxval=None, dtype=tf.uint32)
    cells = tf.reshape(tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:size], shape)
    fraction = tf.random.stateless_uniform(tf.concat([shape[:-1], [1]], 0), seed_fraction, dtype=tf.float32)
    return (tf.cast(cells, dtype) + tf.cast(fraction, dtype)) * 2.0 ** -16


def stateless_uniform(shape, seed, dtype, uniform_bits=32):
    """U[0, 1) draws of `shape` in `dtype`.

    `uniform_bits=32`: `tf.random.stateless_uniform`, one 32-bit Philox word per draw (values k·2⁻²³ in float32).
    `uniform_bits=16`: `stateless_uniform_16bit`, half a word per draw and one word per row (probabilities resolved
    down to 2⁻³⁹); draws within a row are then not exactly independent, their indicators' covariance is at most
    2⁻³⁴.
    """
    if uniform_bits == 16:
        return stateless_uniform_16bit(shape, seed, dtype)
    if uniform_bits == 32:
        return tf.random.stateless_uniform(shape, seed, dtype=dtype)
    raise ValueError(f"stateless_uniform: uniform_bits must be 16 or 32, got {uniform_bits!r}")


def sample_bernoulli(logits, seed, uniform_bits=32):
    """Draws z = 1[u < σ(logits)], in the dtype of `logits`, with P(z = 1) = σ(logits) and u from
    `stateless_uniform(..., uniform_bits)`."""
    uniform = stateless_uniform(tf.shape(logits), seed, logits.dtype, uniform_bits)
    return tf.cast(uniform < tf.sigmoid(logits), logits.dtype)


def gibbs_sweep(z1, z2, b1, b2, w, seed, inverse_temperature=1.0, uniform_bits=16):
    """One block-Gibbs sweep of p ∝ exp(-β E): z2 ~ p(z2 | z1), then z1 ~ p(z1 | z2); returns (z1, z2).

    The incoming z2 is overwritten first (it is accepted so that a sweep maps a full state to a full state).
    `uniform_bits` is passed to `sample_bernoulli`.
    """
    del z2
    if not (isinstance(inverse_temperature, (int, float)) and inverse_temperature == 1.0):
        beta = tf.cast(inverse_temperature, w.dtype)
        b1, b2, w = beta * b1, beta * b2, beta * w
    return gibbs_sweep_from_right_logits(right_given_left_logits(z1, b2, w), b1, w, seed, uniform_bits)


def gibbs_sweep_from_right_logits(right_logits, b1, w, seed, uniform_bits=16):
    """The sweep of `gibbs_sweep` given the logits of p(z2 | z1): z2 ~ Bernoulli(σ(right_logits)), then
    z1 ~ p(z1 | z2); returns (z1, z2). Population annealing passes resampled logits here."""
    seed_right, seed_left = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    z2 = sample_bernoulli(right_logits, seed_right, uniform_bits)
    z1 = sample_bernoulli(left_given_right_logits(z2, b1, w), seed_left, uniform_bits)
    return z1, z2


def gibbs_chain(z1, b1, b2, w, num_sweeps, seed, uniform_bits=16):
    """`num_sweeps` block-Gibbs sweeps at β = 1 starting from left states z1 [S, n1]; returns (z1, z2).

    Sweep t (t = 0, 1, ...) uses the seed fold_in(seed, t). The sweeps run in a tf.while_loop, so the graph does
    not grow with `num_sweeps`. `uniform_bits` is passed to `sample_bernoulli`.
    """
    def sweep(t, z1, z2):
        return (t + 1,) + gibbs_sweep(z1, z2, b1, b2, w, tf.random.experimental.stateless_fold_in(seed, t),
                                      uniform_bits=uniform_bits)

    z2 = tf.zeros([tf.shape(z1)[0], tf.shape(w)[1]], z1.dtype)
    _, z1, z2 = tf.while_loop(lambda t, *_: t < num_sweeps, sweep, (tf.constant(0), z1, z2))
    return z1, z2


def as_seed(seed):
    """A shape-[2] int32 seed tensor from a Python int, a pair, or a tensor."""
    if isinstance(seed, int):
        seed = (seed, 0)
    return tf.cast(tf.convert_to_tensor(seed), tf.int32)
