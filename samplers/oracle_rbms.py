"""The oracle RBMs of the sampler tests and accuracy benchmarks: small enough for exact enumeration.

`easy_rbm`: biases and weights ~ N(0, 0.5²). `hard_rbm`: weights ~ N(0, std²) (std 2 by default) and biases
−½ (row or column sums of w) + N(0, 0.5²), i.e. nearly spin-flip symmetric couplings; at std 2 its left marginal
has 10 (10+10) and 11 (12+20) local maxima under single-unit flips, and block Gibbs on the 12+20 one has a
lag-40-sweep autocorrelation of about 0.8.
"""
import numpy as np

SIZES = [(10, 10), (12, 20)]
ORACLE_CASES = [(kind, n1, n2) for kind in ("easy", "hard") for n1, n2 in SIZES]


def easy_rbm(n1, n2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.5, n1), rng.normal(0, 0.5, n2), rng.normal(0, 0.5, (n1, n2))


def hard_rbm(n1, n2, seed=1, weight_std=2.0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, weight_std, (n1, n2))
    return -w.sum(1) / 2 + rng.normal(0, 0.5, n1), -w.sum(0) / 2 + rng.normal(0, 0.5, n2), w


def oracle_rbm(kind, n1, n2, seed=1, hard_weight_std=2.0):
    """(b1, b2, w) float64 of the `kind` ('easy' or 'hard') oracle RBM of n1 + n2 units."""
    if kind == "easy":
        return easy_rbm(n1, n2, seed)
    return hard_rbm(n1, n2, seed, hard_weight_std)
