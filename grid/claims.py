"""The paper's claims as families of comparisons, each read at one study (budget), structure and k.

A side of a comparison is a cell (seed aside) of one study; the first side is the one the claim says is better, so a
negative difference agrees with the claim. Each family is every comparison one conclusion rests on: its p-values are
Holm-corrected together (grid.statistics), and the claim

* **holds** when the first side is lower in every comparison with adjusted p < ALPHA,
* **does not hold** when a second side is lower in any with adjusted p < ALPHA,
* **cannot be told apart from noise** otherwise; it is **not measured yet** while a comparison lacks its runs, and
  has **too few seeds for a test** while a comparison has its runs but no test (single runs without a seed sd).

Sides with two or more finished seeds each are compared by a t test (paired where the family's runs of one seed
share initialisation and data order). Where a side has a single run, the difference of the two sides' means is
z-tested against assumed seed noise: with s₁, s₂ the seed sds of the same cells in the study itself or, failing that,
in the first of its NOISE_STUDIES with all seeds of the cell finished (AIS and Monte-Carlo errors are part of them),
se = √(s₁²/n₁ + s₂²/n₂).
"""
import dataclasses
import math

from dvae_sharp.configs import experiments, paper
from dvae_sharp.grid import committed, statistics, tables

WINNER = "dvaes_power"  # the baseline the paper claims best
CLAIMS = {
    "iw": "DVAE# (power) trained with the IW bound beats DVAE and DVAE++ at the same k",
    "power": "The power function is the best smoothing of DVAE#",
    "sampler": "Population annealing trains better priors than PCD",
    "beta": "The paper's β (chosen for 10⁶ steps) is the best β at this budget",
    "k": "Training with k = 5 samples instead of 1 lowers the test NLL",
}
BETA_STUDIES = {f"cpu-small-beta{beta:g}": beta for beta in experiments.BETA_PROBE}
# Where a study's single runs take their assumed seed noise from, in order.
NOISE_STUDIES = {"cpu-small-1m": ("cpu-small-100k", "cpu-small"), "cpu-small-100k": ("cpu-small",),
                 "cpu-small-paper-sampler": ("cpu-small",),
                 **{study: ("cpu-small",) for study in BETA_STUDIES}}
LIN = "1-layer-lin"


@dataclasses.dataclass(frozen=True)
class Side:
    """A cell (seed aside) of one study, over `seeds`."""
    study: str
    cell: experiments.Cell
    seeds: tuple = committed.SEEDS
    show_k: bool = False

    @property
    def title(self):
        beta = BETA_STUDIES.get(self.study)
        return (committed.COLUMN[self.cell.baseline] + (", PCD" if self.cell.sampler == "pcd" else "")
                + (f" at β = {beta:g}" if beta is not None else "") + (f", k = {self.cell.k}" if self.show_k else ""))


@dataclasses.dataclass(frozen=True)
class Family:
    claim: str
    study: str
    struct: str
    k: int
    pairs: tuple
    paired: bool = False
    label: str = None  # the whole setting in words, where the study, struct and k do not say it

    @property
    def setting(self):
        return self.label or f"`{self.study}` ({committed.STUDY_TITLES[self.study]}), {self.struct}, k = {self.k}"


def side(study, baseline, struct=LIN, k=5, sampler="pa", seeds=committed.SEEDS, show_k=False):
    return Side(study, experiments.Cell("binarized_mnist", struct, baseline, k, sampler), seeds, show_k)


def _against(claim, study, rivals, struct=LIN, k=5):
    return Family(claim, study, struct, k, tuple((side(study, WINNER, struct, k), side(study, rival, struct, k))
                                                 for rival in rivals))


def _families():
    iw_rivals, trend_rivals = ("dvae_spike_exp", "dvaepp_power", "dvaepp_exp"), ("dvae_spike_exp", "dvaepp_power")
    smoothings = ("dvaes_unexp", "dvaes_exp", "dvaes_gauss", "dvaes_gi")
    found = [_against("iw", "cpu-small", iw_rivals, k=k) for k in (5, 1)]
    found += [_against("iw", study, trend_rivals) for study in ("cpu-small-100k", "cpu-small-1m",
                                                                "cpu-small-paper-sampler")]
    found += [_against("iw", "cpu-small", trend_rivals, struct=s) for s in experiments.NONLINEAR_STRUCTS]
    for study, beta in BETA_STUDIES.items():
        found.append(_against("iw", study, ("dvae_spike_exp",)))
        found.append(Family("iw", study, LIN, 5, ((side(study, WINNER, seeds=(1,)),
                                                   side("cpu-small", "dvae_spike_exp", seeds=(1,))),),
                            label=f"`{study}` against `cpu-small` (DVAE at the paper's β), 1-layer-lin, k = 5, seed 1"))
    for baseline in experiments.BETA_PROBE_BASELINES:
        found.append(Family("beta", "cpu-small", LIN, 5, tuple(
            (side("cpu-small", baseline, seeds=(1,)), side(study, baseline, seeds=(1,))) for study in BETA_STUDIES),
            label=f"{committed.COLUMN[baseline]}: `cpu-small` against the β probe, 1-layer-lin, k = 5, seed 1"))
    found += [_against("power", "cpu-small", smoothings, k=k) for k in (5, 1)]
    found.append(Family("k", "cpu-small", LIN, 5, tuple(
        (side("cpu-small", b, show_k=True), side("cpu-small", b, k=1, show_k=True)) for b in paper.BASELINES),
        label="`cpu-small` (20000 steps, 100 × 10 sampler), 1-layer-lin, k = 5 against k = 1"))
    found.append(Family("sampler", "cpu-small", LIN, 1, tuple(
        (side("cpu-small", b, k=1), side("cpu-small", b, k=1, sampler="pcd")) for b in paper.BASELINES), paired=True))
    return found


FAMILIES = _families()


@dataclasses.dataclass(frozen=True)
class Comparison:
    first: Side
    second: Side
    n: tuple
    test: statistics.Test = None
    adjusted_p: float = None

    @property
    def reading(self):
        if self.test is None:
            return "not run yet" if 0 in self.n else "too few seeds"
        return statistics.win_reading(self.test.difference, self.adjusted_p, self.first.title, self.second.title)


def assumed_sd(study, cell):
    """The seed sd of `cell` in `study` itself or else the first of NOISE_STUDIES[study] with all its seeds
    (committed.SEEDS) finished, or None. An sd of two seeds (one degree of freedom) is too uncertain to assume."""
    for source in (study, *NOISE_STUDIES.get(study, ())):
        found = committed.entry(source, cell)
        if found.n >= len(committed.SEEDS):
            return found.sd
    return None


def test_pair(first, second, paired=False):
    """(n₁, n₂, statistics.Test or None) of one pair of sides."""
    a, b = (committed.entry(s.study, s.cell, s.seeds) for s in (first, second))
    if a.n >= 2 and b.n >= 2:
        return a.n, b.n, tables.compare(a, b, paired)
    if a.n >= 1 and b.n >= 1:
        sds = assumed_sd(first.study, first.cell), assumed_sd(second.study, second.cell)
        if None not in sds:
            se = math.sqrt(sds[0] ** 2 / a.n + sds[1] ** 2 / b.n)
            return a.n, b.n, statistics.against_noise(a.mean - b.mean, se)
    return a.n, b.n, None


def evaluate(family):
    """[Comparison] of a family, with Holm-adjusted p-values over its tested comparisons."""
    tested = [test_pair(first, second, family.paired) for first, second in family.pairs]
    adjusted = statistics.holm([test.p if test else None for *_, test in tested])
    return [Comparison(first, second, (n_a, n_b), test, p)
            for (first, second), (n_a, n_b, test), p in zip(family.pairs, tested, adjusted)]


def reading(comparisons):
    """'holds', 'does not hold', 'cannot be told apart from noise', 'not measured yet' or 'too few seeds for a
    test' (module docstring)."""
    if not comparisons or any(0 in c.n for c in comparisons):
        return "not measured yet"
    if any(c.test is None for c in comparisons):
        return "too few seeds for a test"
    if all(c.test.difference < 0 and c.adjusted_p < statistics.ALPHA for c in comparisons):
        return "holds"
    if any(c.test.difference > 0 and c.adjusted_p < statistics.ALPHA for c in comparisons):
        return "does not hold"
    return "cannot be told apart from noise"


def across(comparisons):
    """(mean difference D̄ = Σ D_b / m, its standard error √(Σ se_b²) / m, how many D_b < 0, m, two-sided sign-test
    p) over the m tested comparisons of a family; None when none is tested. The sign test assumes only that, with no
    effect, each difference is as likely negative as positive, independently."""
    tests = [c.test for c in comparisons if c.test is not None]
    if not tests:
        return None
    m, lower = len(tests), sum(1 for t in tests if t.difference < 0)
    return (sum(t.difference for t in tests) / m, math.sqrt(sum(t.standard_error ** 2 for t in tests)) / m, lower,
            m, statistics.sign_test(lower, m))


def across_reading(summary):
    """'holds' when the first side is the lower in most comparisons with sign-test p < ALPHA, 'does not hold' when
    the second is, 'cannot be told apart from noise' otherwise; 'not measured yet' without a comparison."""
    if summary is None:
        return "not measured yet"
    _, _, lower, m, p_value = summary
    if p_value >= statistics.ALPHA:
        return "cannot be told apart from noise"
    return "holds" if 2 * lower > m else "does not hold"


def wins():
    """{(study, cell a, cell b): whether a is lower than b with adjusted p < ALPHA} over every family: a table may
    bold a over b only where no family calls the pair anything else."""
    found = {}
    for family in FAMILIES:
        for c in evaluate(family):
            won = c.test is not None and c.adjusted_p < statistics.ALPHA
            for (a, b), sign in (((c.first, c.second), -1), ((c.second, c.first), 1)):
                if a.study == b.study:
                    key = (a.study, a.cell.without_seed(), b.cell.without_seed())
                    found[key] = found.get(key, True) and won and sign * c.test.difference > 0
    return found
