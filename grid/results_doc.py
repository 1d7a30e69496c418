"""docs/RESULTS.md's tables and docs/figures, regenerated from the committed runs under docs/results.

Each table of RESULTS.md sits between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`; `regenerate()`
rewrites those blocks and the figures, and the test suite checks that the committed blocks equal `render_blocks()`.
A study is a directory of docs/results holding one budget's runs (`{study}/seed{seed}/{sampler}/…/results.json`).
"""
import math
import pathlib
import re

import scipy.stats

from configs import experiments, paper
from dvae import run_files
from grid import runs, tables

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS_DOC = REPO / "docs" / "RESULTS.md"
RESULTS_ROOT = REPO / "docs" / "results"
FIGURES_DIR = REPO / "docs" / "figures"
SEEDS = (1, 2, 3)


class ResultsError(Exception):
    """RESULTS.md lacks a block, or a committed result cannot be read; one line."""


def matched(set_name, study, seeds=SEEDS):
    """{cell: FoundRun or None} of a set's cells for `seeds` in one study."""
    cells = experiments.EXPERIMENT_SETS[set_name].cells(seeds)
    return runs.match_runs(cells, study, runs.find_runs(RESULTS_ROOT / study))


def _entry(found_by_cell, **fields):
    """The Entry of the cell whose fields (seed aside) are `fields`."""
    for cell, entry in tables.entries(found_by_cell).items():
        if all(getattr(cell, name) == value for name, value in fields.items()):
            return entry
    raise KeyError(fields)


def _number(value, digits=2):
    """The value to `digits` decimals ("–" if missing); a value that rounds to zero prints 0, never −0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(value, digits) + 0.0:.{digits}f}"


def welch(a, b):
    """(mean(a) − mean(b), its standard error, Welch's t, two-sided p) of two samples with n ≥ 2; None else."""
    if a.n < 2 or b.n < 2:
        return None
    difference = a.mean - b.mean
    standard_error = math.hypot(a.standard_error, b.standard_error)
    test = scipy.stats.ttest_ind(a.values, b.values, equal_var=False)
    return difference, standard_error, float(test.statistic), float(test.pvalue)


def verdict(comparison, first, second):
    if comparison is None:
        return "too few seeds"
    difference, _, _, p_value = comparison
    if p_value >= 0.05:
        return "not distinguishable (p ≥ 0.05)"
    return f"{first if difference < 0 else second} lower (p < 0.05)"


COLUMN = {b: paper.BASELINE_SPECS[b].paper_column for b in paper.BASELINES}
WINNER = ("pa", "dvaes_power")
# Each claim of the paper: its comparisons (first, second, k), a cell being (sampler, baseline), the claimed winner
# first; a table row shows first − second. The first two claims are read per k, the sampler claim at k = 1.
CLAIMS_PER_K = {
    "DVAE# (power) trained with the IW bound beats DVAE and DVAE++ at the same k":
        [(WINNER, ("pa", rival), k) for k in (5, 1) for rival in ("dvae_spike_exp", "dvaepp_power", "dvaepp_exp")],
    "The power function is the best smoothing of DVAE#":
        [(WINNER, ("pa", rival), k) for k in (5, 1) for rival in ("dvaes_unexp", "dvaes_exp", "dvaes_gauss",
                                                                 "dvaes_gi")],
}
SAMPLER_PAIRS = [(("pa", b), ("pcd", b), 1) for b in paper.BASELINES]
CLAIM_PAIRS = [pair for pairs in CLAIMS_PER_K.values() for pair in pairs] + SAMPLER_PAIRS


def _cell_title(sampler, baseline):
    return f"{COLUMN[baseline]}" + (", PCD" if sampler == "pcd" else "")


def comparisons(pairs):
    """[(first title, second title, k, first Entry, second Entry, welch(…) or None)] for `pairs` (first, second, k)."""
    study = {"pa": matched("mnist-lin-study", "cpu-small"), "pcd": matched("mnist-lin-samplers", "cpu-small")}
    found = []
    for (sampler_a, baseline_a), (sampler_b, baseline_b), k in pairs:
        a = _entry(study[sampler_a], baseline=baseline_a, k=k, sampler=sampler_a)
        b = _entry(study[sampler_b], baseline=baseline_b, k=k, sampler=sampler_b)
        found.append((_cell_title(sampler_a, baseline_a), _cell_title(sampler_b, baseline_b), k, a, b, welch(a, b)))
    return found


def claims_table():
    """Every comparison the conclusions rest on: difference of mean test NLL (nats, first minus second), its
    standard error, Welch's t and two-sided p over the seeds."""
    lines = ["| comparison (first − second) | difference | standard error | Welch t | p | seeds | reading |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for first, second, k, a, b, comparison in comparisons(CLAIM_PAIRS):
        values = comparison or (None, None, None, None)
        lines.append(f"| {first} − {second}, k = {k} | {_number(values[0])} | {_number(values[1])} | "
                     f"{_number(values[2])} | "
                     f"{_number(values[3], 3)} | {a.n}, {b.n} | {verdict(comparison, first, second)} |")
    return "\n".join(lines) + "\n"


def claim_reading(found):
    """'holds', 'does not hold', 'cannot be told apart from noise' or 'not measured yet' for comparisons whose first
    cell is the claimed winner: it holds when the first is lower in all of them with p < 0.05, fails when any
    second is lower with p < 0.05."""
    if not found or any(c is None for *_, c in found):
        return "not measured yet"
    if all(c[0] < 0 and c[3] < 0.05 for *_, c in found):
        return "holds"
    if any(c[0] > 0 and c[3] < 0.05 for *_, c in found):
        return "does not hold"
    return "cannot be told apart from noise"


def _evidence(found):
    parts = []
    for first, second, _, a, b, c in found:
        if c is not None:
            parts.append(f"{first} − {second} = {c[0]:+.2f} ± {c[1]:.2f} (p = {c[3]:.3f}, n = {a.n}, {b.n})")
    return "; ".join(parts) or "No pair has two seeds on both sides yet"


def conclusions():
    """One line per claim of the paper and k, read from the comparisons by `claim_reading`, then the sampler claim's."""
    lines = []
    for claim, pairs in CLAIMS_PER_K.items():
        for k in (5, 1):
            found = comparisons([pair for pair in pairs if pair[2] == k])
            lines.append(f"- **{claim}**, k = {k}: {claim_reading(found)}. {_evidence(found)}.")
    lines.append(sampler_conclusion(comparisons(SAMPLER_PAIRS)))
    return "\n".join(lines) + "\n"


def sampler_conclusion(found):
    """The line on population annealing against PCD (comparisons population annealing − PCD), read baseline by
    baseline with `claim_reading` and across the baselines with the sign test of `across_baselines`."""
    not_distinguishable = sum(1 for c in found if c[5] is not None and c[5][3] >= 0.05)
    pa_lower, pcd_lower = (sum(1 for c in found if c[5] is not None and c[5][3] < 0.05 and sign * c[5][0] > 0)
                           for sign in (-1, 1))
    summary = across_baselines(found)
    line = (f"- **Population annealing trains better priors than PCD**, k = 1: baseline by baseline, "
            f"{claim_reading(found)}; across the baselines, {across_reading(summary)}. Of the {len(found)} baselines, "
            f"population annealing is lower (p < 0.05) for {pa_lower}, PCD for {pcd_lower}, neither for "
            f"{not_distinguishable}; {sum(1 for c in found if c[5] is None)} lack two seeds on a side.")
    if summary is not None:
        mean, standard_error, lower, m, p_value = summary
        line += (f" Across the {m} with two seeds a side, population annealing − PCD averages {mean:+.2f} ± "
                 f"{standard_error:.2f} nats, and population annealing's mean is the lower in {lower} of {m} "
                 f"(sign test p = {p_value:.3f}).")
    return line


def across_baselines(found):
    """(mean difference D̄ = Σ D_b / m, its standard error √(Σ se_b²) / m, how many D_b < 0, m, two-sided sign-test p)
    over the m comparisons with two seeds a side; None when there are none. The sign test assumes only that, with
    no effect, each baseline's difference is as likely negative as positive, independently."""
    measured = [c for *_, c in found if c is not None]
    if not measured:
        return None
    m = len(measured)
    lower = sum(1 for c in measured if c[0] < 0)
    p_value = scipy.stats.binomtest(lower, m, 0.5).pvalue
    return (sum(c[0] for c in measured) / m, math.sqrt(sum(c[1] ** 2 for c in measured)) / m, lower, m,
            float(p_value))


def across_reading(summary):
    """'holds' when the claimed winner's (first) mean is the lower in most comparisons with sign-test p < 0.05,
    'does not hold' when the rival's is, 'cannot be told apart from noise' otherwise; 'not measured yet' without
    a comparison."""
    if summary is None:
        return "not measured yet"
    _, _, lower, m, p_value = summary
    if p_value >= 0.05:
        return "cannot be told apart from noise"
    return "holds" if 2 * lower > m else "does not hold"


def final_test_table():
    """The 1000-sample final test beside the paper's 4000 samples with AIS 1000 × 1024, where re-evaluated."""
    lines = ["| baseline, k = 5, seed | test NLL, 1000 samples, AIS 300 × 256 | test NLL, 4000 samples, AIS 1000 × "
             "1024 | change | log Z, AIS 300 × 256 | log Z, AIS 1000 × 1024 |", "|---|---:|---:|---:|---:|---:|"]
    for cell, run in matched("mnist-lin-study", "cpu-small").items():
        path = runs.run_dir(cell, RESULTS_ROOT / "cpu-small") / run_files.REEVALUATION_FILE
        if run is None or run.results is None or not path.exists():
            continue
        again = run_files.read_json(path)
        before, after = run.results["metrics"]["test/neg_ll"], again["metrics"]["test/neg_ll"]
        lines.append(f"| {COLUMN[cell.baseline]}, {cell.k}, {cell.seed} | {before:.2f} ± "
                     f"{run.results['test_neg_ll_mc_stderr']:.2f} | {after:.2f} ± {again['test_neg_ll_mc_stderr']:.2f}"
                     f" | {after - before:+.2f} | {run.results['log_z']:.2f} ± {run.results['log_z_stderr']:.2f} | "
                     f"{again['log_z']:.2f} ± {again['log_z_stderr']:.2f} |")
    return "\n".join(lines) + "\n"


def diagnostics_table(more=()):
    """Per baseline and k: σ_max(W) of the best model and, for the mean-field marginal prior, the distance of its
    5 updates from their fixed point (means over seeds; the residual and gap are maxima over 100 images); then the
    rows `more`, [(title, k, [results])] (the budget trend's longer runs)."""
    names = ("rbm/max_singular_value", "mean_field/residual_max", "mean_field/log_z_gap_max",
             "mean_field/log_z_gap_mean")
    lines = ["| baseline | k | seeds | σ_max(W) | fixed-point residual, max | log Z_MF gap, max (nats) | log Z_MF "
             "gap, mean (nats) |", "|---|---:|---:|---:|---:|---:|---:|"]
    groups = {}
    for cell, run in sorted(matched("mnist-lin-study", "cpu-small").items(),
                            key=lambda item: (item[0].k, paper.BASELINES.index(item[0].baseline))):
        if run is not None and run.results is not None:
            groups.setdefault((COLUMN[cell.baseline], cell.k), []).append(run.results)
    for title, k, found in [(*key, found) for key, found in groups.items()] + list(more):
        diagnostics = [r.get("diagnostics", {}) for r in found]
        means = []
        for name in names:
            values = [d[f"diagnostics/{name}"] for d in diagnostics if f"diagnostics/{name}" in d]
            means.append(_number(sum(values) / len(values), 3) if values else "–")
        lines.append(f"| {title} | {k} | {len(found)} | " + " | ".join(means) + " |")
    return "\n".join(lines) + "\n"


def render_blocks():
    """{block name: Markdown} of every generated block of RESULTS.md."""
    from grid import trend  # imported here: grid.trend reads its runs through this module
    study_set = experiments.EXPERIMENT_SETS
    trend_runs, seed_noise = trend.measured()
    return {
        "row": tables.markdown_table(study_set["mnist-lin-study"], "cpu-small",
                                     matched("mnist-lin-study", "cpu-small"), SEEDS),
        "samplers": tables.markdown_table(study_set["mnist-lin-samplers"], "cpu-small",
                                          matched("mnist-lin-samplers", "cpu-small"), SEEDS),
        "claims": claims_table(),
        "conclusions": conclusions(),
        "trend": trend.table(trend_runs),
        "trend-reading": trend.reading(trend_runs, seed_noise),
        "final-test": final_test_table(),
        "diagnostics": diagnostics_table(trend.diagnostic_rows(trend_runs)),
    }


def block_pattern(name):
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end generated: {re.escape(name)} -->)",
                      re.DOTALL)


def committed_blocks(text, names):
    found = {}
    for name in names:
        match = block_pattern(name).search(text)
        if not match:
            raise ResultsError(f"{RESULTS_DOC} has no block '<!-- generated: {name} -->'")
        found[name] = match.group(2)
    return found


def regenerate():
    """Rewrites RESULTS.md's generated blocks and the figures; returns the paths written."""
    from grid import figures
    text = RESULTS_DOC.read_text()
    blocks = render_blocks()
    committed_blocks(text, blocks)
    for name, markdown in blocks.items():
        text = block_pattern(name).sub(lambda m: m.group(1) + markdown + m.group(3), text)
    RESULTS_DOC.write_text(text)
    return [RESULTS_DOC, *figures.draw_all(FIGURES_DIR)]
