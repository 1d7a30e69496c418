"""The tests behind every comparison of docs/RESULTS.md and of `reproduce.py --table`'s bold entries.

A comparison is of two cells' test NLLs, the first minus the second (negative: the first is lower). Which test:

* **paired t** where the two cells' runs of one seed share their initialisation and data order (population
  annealing against PCD for one baseline): the seed-wise differences dᵢ, t = d̄ / (s_d / √n), n − 1 degrees of
  freedom;
* otherwise **Student's t with pooled variance** where the two seed variances agree (two-sided F test of
  s₁² / s₂² with (n₁ − 1, n₂ − 1) degrees of freedom, p ≥ 0.05): s_p² = ((n₁−1)s₁² + (n₂−1)s₂²) / (n₁+n₂−2),
  se = s_p √(1/n₁ + 1/n₂), n₁ + n₂ − 2 degrees of freedom;
* **Welch's t** where they do not: se = √(s₁²/n₁ + s₂²/n₂), Welch–Satterthwaite degrees of freedom;
* **z against seed noise** where a side has a single run: the difference of the means over √(s₁²/n₁ + s₂²/n₂),
  with s₁, s₂ seed sds assumed from runs with all seeds (grid.claims).

All p-values are two-sided. A family of comparisons (every comparison one conclusion rests on) is corrected with
Holm's step-down method; a difference is called a win ("lower", bold) only when its adjusted p is below ALPHA.
"""
import dataclasses
import math
import statistics

import scipy.stats

ALPHA = 0.05


@dataclasses.dataclass(frozen=True)
class Test:
    """One comparison's test: first − second, its standard error, the statistic, its degrees of freedom (None for
    z) and the two-sided p."""
    name: str
    difference: float
    standard_error: float
    statistic: float
    df: float
    p: float


def _t_test(name, difference, standard_error, df):
    statistic = difference / standard_error if standard_error > 0 else math.copysign(math.inf, difference)
    return Test(name, difference, standard_error, statistic, df, float(2 * scipy.stats.t.sf(abs(statistic), df)))


def variances_agree(a, b):
    """Whether the two-sided F test of s_a² / s_b² keeps equal variances at level ALPHA (samples of n ≥ 2)."""
    var_a, var_b = statistics.variance(a), statistics.variance(b)
    if var_a == var_b:
        return True
    if min(var_a, var_b) == 0:
        return False
    ratio = var_a / var_b
    tail = scipy.stats.f.sf(ratio, len(a) - 1, len(b) - 1) if ratio > 1 else scipy.stats.f.cdf(
        ratio, len(a) - 1, len(b) - 1)
    return 2 * tail >= ALPHA


def two_sample(a, b):
    """Student's pooled t where the seed variances agree, Welch's t where not; None unless both have n ≥ 2."""
    n_a, n_b = len(a), len(b)
    if n_a < 2 or n_b < 2:
        return None
    difference = statistics.fmean(a) - statistics.fmean(b)
    var_a, var_b = statistics.variance(a), statistics.variance(b)
    if variances_agree(a, b):
        pooled = ((n_a - 1) * var_a + (n_b - 1) * var_b) / (n_a + n_b - 2)
        return _t_test("Student", difference, math.sqrt(pooled * (1 / n_a + 1 / n_b)), n_a + n_b - 2)
    se_a, se_b = var_a / n_a, var_b / n_b
    df = (se_a + se_b) ** 2 / (se_a ** 2 / (n_a - 1) + se_b ** 2 / (n_b - 1))
    return _t_test("Welch", difference, math.sqrt(se_a + se_b), df)


def paired(a, b):
    """The paired t test of equal-length samples aligned by seed; None for fewer than two pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired samples of different lengths: {len(a)} and {len(b)}")
    if len(a) < 2:
        return None
    differences = [x - y for x, y in zip(a, b)]
    return _t_test("paired t", statistics.fmean(differences),
                   statistics.stdev(differences) / math.sqrt(len(differences)), len(differences) - 1)


def against_noise(difference, standard_error):
    """The z test z = difference / standard_error, its standard error built from seed sds assumed from replicates
    (grid.claims.assumed_sd) rather than estimated from the two sides' own runs."""
    statistic = difference / standard_error
    return Test("z, assumed seed sd", difference, standard_error, statistic, None,
                float(2 * scipy.stats.norm.sf(abs(statistic))))


def holm(p_values):
    """Holm's step-down adjusted p-values, in the input's order: with p₍₁₎ ≤ … ≤ p₍ₘ₎,
    p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎). None entries (no test) stay None and do not count in m."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted, running = [None] * len(p_values), 0.0
    for rank, (p, index) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[index] = running
    return adjusted


def sign_test(negatives, m):
    """Two-sided p of `negatives` negative signs in m differences when each sign is a fair coin."""
    return float(scipy.stats.binomtest(negatives, m, 0.5).pvalue)


def single_run_se(monte_carlo_se, log_z_se):
    """A single run's test NLL standard error: the importance-sampling error and the AIS log Z error, which enters
    the NLL one for one (NLL = log Z − mean log p̃(x)), added in quadrature."""
    return math.hypot(monte_carlo_se, log_z_se)


def format_p(p):
    """p to three decimals, or '< 0.001'; '–' without a test."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def win_reading(difference, adjusted_p, first, second):
    """'<first> lower', '<second> lower' or 'not distinguishable', by the adjusted p at level ALPHA."""
    if adjusted_p is None:
        return "too few seeds"
    if adjusted_p >= ALPHA:
        return f"not distinguishable (p ≥ {ALPHA:g})"
    return f"{first if difference < 0 else second} lower"
