"""The budget trend: does the order of DVAE (spike-exp), DVAE++ (power) and DVAE# (power) at k = 5, seed 1, move
with 5× more training or with the paper's sampler?

Each trend study holds one run per baseline. The gap of DVAE# to a rival, g = NLL(DVAE# (power)) − NLL(rival), is
compared between the base setting (20000 steps, 100 × 10 sampler) and each other setting. With σ_b the sd over
seeds of baseline b in the base setting (its seed noise, Monte-Carlo error included), the change Δg = g₁ − g₀ of
four single-seed runs has sd s = √(2σ_DVAE#² + 2σ_rival²), assuming the seed noise is the same in every setting;
the gap has moved when |Δg| > 2s, and is within seed noise otherwise.
"""
import math

from configs import experiments
from grid import results_doc, tables

BASE = "cpu-small"
TITLES = {"cpu-small": "20000 steps, 100 × 10 sampler", "cpu-small-100k": "100000 steps, 100 × 10 sampler",
          "cpu-small-paper-sampler": "20000 steps, 1000 × 40 sampler"}
STUDIES = tuple(TITLES)  # each study's directory under docs/results is its budget
WINNER = results_doc.WINNER[1]  # the baseline the paper claims best


def measured():
    """({study: {baseline: finished run's results or None}}, {baseline: seed sd in the base setting or None})."""
    found = {}
    for study in STUDIES:
        by_cell = results_doc.matched("mnist-lin-trend", study, seeds=(1,))
        found[study] = {c.baseline: (r.results if r is not None and r.status == "finished" else None)
                        for c, r in by_cell.items()}
    noise = {c.baseline: e.sd for c, e in tables.entries(results_doc.matched("mnist-lin-study", BASE)).items()
             if c.k == 5 and c.sampler == "pa" and c.baseline in experiments.TREND_BASELINES}
    return found, noise


def table(found):
    """Test NLL ± its Monte-Carlo standard error per baseline (rows) and trend study (columns)."""
    lines = ["| baseline | " + " | ".join(TITLES[s] for s in STUDIES) + " |",
             "|---|" + "---:|" * len(STUDIES)]
    for baseline in experiments.TREND_BASELINES:
        texts = []
        for study in STUDIES:
            results = found[study][baseline]
            texts.append("–" if results is None else f"{results['metrics']['test/neg_ll']:.2f} ± "
                         f"{results.get('test_neg_ll_mc_stderr', float('nan')):.2f}")
        lines.append(f"| {results_doc.COLUMN[baseline]} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


def gap_change(base, other, noise, rival):
    """(g₀, g₁, Δg, s) of DVAE# against `rival` from {baseline: test NLL} in two settings; None if one is missing."""
    values = [d.get(b) for d in (base, other) for b in (WINNER, rival)] + [noise.get(WINNER), noise.get(rival)]
    if any(v is None for v in values):
        return None
    g0, g1 = base[WINNER] - base[rival], other[WINNER] - other[rival]
    return g0, g1, g1 - g0, math.sqrt(2 * noise[WINNER] ** 2 + 2 * noise[rival] ** 2)


def order(nll):
    """The baselines from lowest to highest test NLL."""
    return sorted(nll, key=nll.get)


def setting_line(study, base, other, noise):
    """One Markdown line: the order in `study` against the base setting's, and how each DVAE# gap moved."""
    if len(other) < len(experiments.TREND_BASELINES) or len(base) < len(experiments.TREND_BASELINES):
        return f"- **{TITLES[study]}**: not measured yet."
    same = order(other) == order(base)
    line = (f"- **{TITLES[study]}**: " + " < ".join(f"{results_doc.COLUMN[b]} {other[b]:.2f}" for b in order(other))
            + (": the same order as at 20000 steps with the 100 × 10 sampler." if same else
               f": the order changes (it was {' < '.join(results_doc.COLUMN[b] for b in order(base))})."))
    for rival in (b for b in experiments.TREND_BASELINES if b != WINNER):
        change = gap_change(base, other, noise, rival)
        if change is None:
            continue
        g0, g1, delta, s = change
        reading = "moved (|Δ| > 2 sd)" if abs(delta) > 2 * s else "within seed noise (|Δ| ≤ 2 sd)"
        line += (f" DVAE# (power) − {results_doc.COLUMN[rival]}: {g0:+.2f} → {g1:+.2f}, Δ = {delta:+.2f} ± {s:.2f}, "
                 f"{reading}.")
    return line


def reading(found, noise):
    """The generated lines answering whether the order moves with training length or with the sampler."""
    nll = {study: {b: r["metrics"]["test/neg_ll"] for b, r in by_baseline.items() if r is not None}
           for study, by_baseline in found.items()}
    return "\n".join(setting_line(study, nll[BASE], nll[study], noise)
                     for study in STUDIES if study != BASE) + "\n"


def diagnostic_rows(found):
    """[(title, k, [results])] of the finished runs of the settings other than the base, for the diagnostics table."""
    return [(f"{results_doc.COLUMN[b]}, {TITLES[study]}", 5, [results]) for study in STUDIES if study != BASE
            for b, results in found[study].items() if results is not None]
