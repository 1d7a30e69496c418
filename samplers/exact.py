"""Exact log Z, moments and log-probabilities of small RBMs by enumeration (the test oracle; tf2-notes §2.4).

One side is enumerated (at most 20 units, in blocks of 2^14 states so that 2^20 states fit in memory) and the other
is summed out analytically:

    log Z = logsumexp_{z1 ∈ {0,1}^n1} [ b1·z1 + Σ_j softplus(b2_j + (z1 w)_j) ],

and with p(z1) = exp(F(z1) - log Z) and E[z2 | z1] = σ(b2 + z1 w) the moments are

    E[z1] = Σ p(z1) z1,   E[z2] = Σ p(z1) σ(b2 + z1 w),   E[z1 z2ᵀ] = Σ p(z1) z1 σ(b2 + z1 w)ᵀ.

Everything is computed in float64; inputs may be numpy arrays or tensors of any float dtype.
"""
import tensorflow as tf

from dvae_sharp.samplers.rbm import log_marginal_left, neg_energy

MAX_ENUMERATED_UNITS = 20
_BLOCK_BITS = 14


def _as_float64(*tensors):
    return [tf.cast(tf.convert_to_tensor(t), tf.float64) for t in tensors]


def _oriented(b1, b2, w, enumerate_side):
    """Parameters with the enumerated side first, and whether they were swapped."""
    n1, n2 = int(b1.shape[0]), int(b2.shape[0])
    if enumerate_side == "smaller":
        enumerate_side = "left" if n1 <= n2 else "right"
    if enumerate_side not in ("left", "right"):
        raise ValueError(f"enumerate_side must be 'smaller', 'left' or 'right', got {enumerate_side!r}")
    swap = enumerate_side == "right"
    size = n2 if swap else n1
    if size > MAX_ENUMERATED_UNITS:
        raise ValueError(f"exact enumeration needs at most {MAX_ENUMERATED_UNITS} units on the enumerated side, "
                         f"got {size}")
    return (b2, b1, tf.transpose(w), swap) if swap else (b1, b2, w, swap)


def _state_blocks(num_units):
    """Yields all binary states of `num_units` units as float64 blocks of at most 2^14 rows."""
    total = 2 ** num_units
    block = min(total, 2 ** _BLOCK_BITS)
    shifts = tf.range(num_units, dtype=tf.int64)
    for start in range(0, total, block):
        codes = tf.range(start, start + block, dtype=tf.int64)[:, None]
        yield tf.cast(tf.bitwise.bitwise_and(tf.bitwise.right_shift(codes, shifts), 1), tf.float64)


def _log_z_enumerating_left(b1, b2, w):
    block_log_z = [tf.reduce_logsumexp(log_marginal_left(z1, b1, b2, w)) for z1 in _state_blocks(b1.shape[0])]
    return tf.reduce_logsumexp(tf.stack(block_log_z))


def exact_log_z(b1, b2, w, enumerate_side="smaller"):
    """Exact log Z in float64, enumerating the smaller side (or the side named 'left' / 'right')."""
    b1, b2, w = _as_float64(b1, b2, w)
    b1, b2, w, _ = _oriented(b1, b2, w, enumerate_side)
    return _log_z_enumerating_left(b1, b2, w)


def exact_moments(b1, b2, w, enumerate_side="smaller"):
    """Exact (E[z1] [n1], E[z2] [n2], E[z1 z2ᵀ] [n1, n2]) in float64."""
    b1, b2, w = _as_float64(b1, b2, w)
    b1, b2, w, swap = _oriented(b1, b2, w, enumerate_side)
    log_z = _log_z_enumerating_left(b1, b2, w)
    mean_left = tf.zeros_like(b1)
    mean_right = tf.zeros_like(b2)
    pair = tf.zeros_like(w)
    for z1 in _state_blocks(b1.shape[0]):
        prob = tf.exp(log_marginal_left(z1, b1, b2, w) - log_z)[:, None]
        right_mean_given_left = tf.sigmoid(tf.matmul(z1, w) + b2)
        mean_left += tf.reduce_sum(prob * z1, 0)
        mean_right += tf.reduce_sum(prob * right_mean_given_left, 0)
        pair += tf.matmul(prob * z1, right_mean_given_left, transpose_a=True)
    if swap:
        return mean_right, mean_left, tf.transpose(pair)
    return mean_left, mean_right, pair


def exact_log_prob(z1, z2, b1, b2, w):
    """Exact log p(z) = -E(z) - log Z in float64 for states z1 [..., n1], z2 [..., n2]."""
    z1, z2, b1, b2, w = _as_float64(z1, z2, b1, b2, w)
    return neg_energy(z1, z2, b1, b2, w) - exact_log_z(b1, b2, w)
