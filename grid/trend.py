"""The budget trend: does the order of DVAE (spike-exp), DVAE++ (power) and DVAE# (power) at k = 5 on binarized MNIST
1-layer-lin move with the training length (20000, 100000, 10⁶ steps) or with the paper's sampler?

For each study, the gap of DVAE# to a rival, g = NLL(DVAE# (power)) − NLL(rival), and its standard error come from
the claims' comparison of the two (grid.claims.test_pair: a t test over seeds, or for single runs the assumed seed
noise). The change of a gap from the base study, Δ = g₁ − g₀, has se √(se₀² + se₁²); it is z-tested and the family
of all changes Holm-corrected: a gap has moved when its adjusted p < ALPHA.
"""
import dataclasses
import math

from dvae_sharp.configs import experiments
from dvae_sharp.grid import claims, committed, statistics

BASE = "cpu-small"
STUDIES = ("cpu-small", "cpu-small-100k", "cpu-small-1m", "cpu-small-paper-sampler")
STEPS = {study: experiments.BUDGETS[study]["num_train_iter"] for study in STUDIES}
RIVALS = tuple(b for b in experiments.TREND_BASELINES if b != claims.WINNER)


def _cell(baseline):
    return claims.side(BASE, baseline).cell


def entry_text(study, baseline):
    """Mean ± sd over seeds (n = …) where two or more finished, a single run's test NLL ± its standard error
    (Monte-Carlo and AIS log Z errors) where one did, '–' where none."""
    found = committed.entry(study, _cell(baseline))
    if found.n >= 2:
        return f"{found.mean:.2f} ± {found.sd:.2f} (n = {found.n})"
    if found.n == 1:
        results = committed.results(study, dataclasses.replace(_cell(baseline), seed=found.seeds[0]))
        return f"{found.values[0]:.2f} ± {single_se(results):.2f} (seed {found.seeds[0]})"
    return "–"


def single_se(results):
    return statistics.single_run_se(results["test_neg_ll_mc_stderr"], results["log_z_stderr"])


def table():
    """Test NLL per baseline (rows) and study (columns)."""
    lines = ["| baseline | " + " | ".join(committed.STUDY_TITLES[s] for s in STUDIES) + " |",
             "|---|" + "---:|" * len(STUDIES)]
    for baseline in experiments.TREND_BASELINES:
        lines.append(f"| {committed.COLUMN[baseline]} | " + " | ".join(entry_text(s, baseline) for s in STUDIES)
                     + " |")
    return "\n".join(lines) + "\n"


def gap(study, rival):
    """The statistics.Test of NLL(DVAE# (power)) − NLL(rival) in `study`, or None."""
    return claims.test_pair(claims.side(study, claims.WINNER), claims.side(study, rival))[2]


def gap_change(before, after):
    """(g₀, g₁, Δ, se of Δ) of two gap tests; None if one is missing."""
    if before is None or after is None:
        return None
    return (before.difference, after.difference, after.difference - before.difference,
            math.hypot(before.standard_error, after.standard_error))


def changes():
    """[(study, rival, gap_change(...) or None, Holm-adjusted p or None)] for every study but the base."""
    found = [(study, rival, gap_change(gap(BASE, rival), gap(study, rival)))
             for study in STUDIES if study != BASE for rival in RIVALS]
    p_values = [None if c is None else statistics.against_noise(c[2], c[3]).p for *_, c in found]
    return [(*item, p) for item, p in zip(found, statistics.holm(p_values))]


def order(nll):
    """The baselines from lowest to highest test NLL."""
    return sorted(nll, key=nll.get)


def _means(study):
    found = {b: committed.entry(study, _cell(b)) for b in experiments.TREND_BASELINES}
    return {b: e.mean for b, e in found.items() if e.n}


def reading():
    """One line per study: the order of the three means (an order, not a test), and each DVAE# gap then (base) and
    now with its change, which is tested."""
    base, lines = _means(BASE), []
    by_study = {}
    for study, rival, change, p in changes():
        by_study.setdefault(study, []).append((rival, change, p))
    for study, items in by_study.items():
        now = _means(study)
        title = f"`{study}` ({committed.STUDY_TITLES[study]})"
        if len(now) < 2:
            lines.append(f"- **{title}**: not measured yet.")
            continue
        base_here = {b: base[b] for b in now}  # the order of the baselines the study has so far
        same = order(now) == order(base_here)
        before = " < ".join(committed.COLUMN[b] for b in order(base_here))
        order_note = (": the means in the same order as at `cpu-small`." if same
                      else f": the means' order changes (at `cpu-small`: {before}).")
        line = f"- **{title}**: " + " < ".join(f"{committed.COLUMN[b]} {now[b]:.2f}" for b in order(now)) + order_note
        missing = [committed.COLUMN[b] for b in experiments.TREND_BASELINES if b not in now]
        if missing:
            line += f" {', '.join(missing)}: not run yet."
        for rival, change, p in items:
            if change is None:
                continue
            g0, g1, delta, se = change
            moved = "moved" if p < statistics.ALPHA else "within seed noise"
            line += (f" DVAE# (power) − {committed.COLUMN[rival]}: {g0:+.2f} → {g1:+.2f}, Δ = {delta:+.2f} ± "
                     f"{se:.2f} (Holm-adjusted p {statistics.format_p(p)}), {moved}.")
        lines.append(line)
    return "\n".join(lines) + "\n"


def diagnostic_rows():
    """[(title, k, [results])] of the finished seed-1 runs of the studies other than the base."""
    rows = []
    for study in STUDIES[1:]:
        for baseline in experiments.TREND_BASELINES:
            results = committed.results(study, _cell(baseline))
            if results is not None:
                rows.append((f"{committed.COLUMN[baseline]}, {committed.STUDY_TITLES[study]}", 5, [results]))
    return rows
