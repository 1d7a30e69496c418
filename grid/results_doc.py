"""docs/RESULTS.md's tables and docs/figures, regenerated from the committed runs under docs/results.

Each table of RESULTS.md sits between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`; `regenerate()`
rewrites those blocks and the figures, and the test suite checks that the committed blocks equal `render_blocks()`.
The runs are read through grid.committed, the comparisons through grid.claims and grid.trend.
"""
import re

from dvae_sharp.configs import experiments
from dvae_sharp.dvae.runner import run_files
from dvae_sharp.grid import claims, committed, figures, statistics, tables, trend

RESULTS_DOC = committed.REPO / "docs" / "RESULTS.md"
FIGURES_DIR = committed.REPO / "docs" / "figures"


class ResultsError(Exception):
    """RESULTS.md lacks a block, or a committed result cannot be read; one line."""


def _number(value, digits=2):
    """The value to `digits` decimals ("–" if missing); a value that rounds to zero prints 0, never −0."""
    if value is None or value != value:
        return "–"
    return f"{round(value, digits) + 0.0:.{digits}f}"


def _confirm(study):
    """A table's bold veto: no family of grid.claims may call the pair anything but a win of the bold entry."""
    found = claims.wins()
    return lambda best, other: found.get((study, best.cell, other.cell), True)


def set_table(set_name, study, seeds=committed.SEEDS):
    experiment_set = experiments.EXPERIMENT_SETS[set_name]
    return tables.markdown_table(experiment_set, study, committed.matched(set_name, study, seeds), seeds,
                                 confirm=_confirm(study))


def provenance_table():
    """Per study: its finished runs, the commit they were made with (and whether the tree differed), the CPUs."""
    lines = ["| study | what it changes | finished runs | code commit | CPU |", "|---|---|---:|---|---|"]
    for study in committed.studies():
        commits, cpus = committed.provenance(study)
        made = ", ".join(f"`{commit[:7]}`" + (" (modified tree)" if dirty else "") + (f" ({n})" if len(commits) > 1
                                                                                      else "")
                         for (commit, dirty), n in sorted(commits.items()))
        lines.append(f"| `{study}` | {committed.STUDY_TITLES[study]} | {sum(commits.values())} | {made or '–'} | "
                     f"{', '.join(cpus) or '–'} |")
    return "\n".join(lines) + "\n"


def _statistic(test):
    if test is None:
        return "–"
    df = "" if test.df is None else f" ({test.df:.1f})" if test.df != int(test.df) else f" ({int(test.df)})"
    return f"{_number(test.statistic)}{df}"


def claims_table(claim):
    """Every comparison of one claim's families: the setting, first − second, the test, its p and Holm's p."""
    lines = ["| setting | comparison (first − second) | test | difference | standard error | statistic (df) | p | "
             "p, Holm | seeds | reading |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for family in (f for f in claims.FAMILIES if f.claim == claim):
        for c in claims.evaluate(family):
            test = c.test
            lines.append(f"| {family.setting} | {c.first.title} − {c.second.title} | {test.name if test else '–'} | "
                         f"{_number(test and test.difference)} | {_number(test and test.standard_error)} | "
                         f"{_statistic(test)} | {statistics.format_p(test and test.p)} | "
                         f"{statistics.format_p(c.adjusted_p)} | {c.n[0]}, {c.n[1]} | {c.reading} |")
    return "\n".join(lines) + "\n"


def _evidence(comparisons):
    parts = [f"{c.first.title} − {c.second.title} = {c.test.difference:+.2f} ± {c.test.standard_error:.2f} "
             f"({c.test.name}, Holm-adjusted p {statistics.format_p(c.adjusted_p)}, n = {c.n[0]}, {c.n[1]})"
             if c.test is not None else f"{c.first.title} − {c.second.title}: n = {c.n[0]}, {c.n[1]}, no test"
             for c in comparisons if 0 not in c.n]
    return "; ".join(parts) or "No comparison has its runs yet"


def conclusions():
    """One line per family of grid.claims: the claim, its setting, the reading and the evidence."""
    lines = []
    for family in claims.FAMILIES:
        found = claims.evaluate(family)
        line = f"- **{claims.CLAIMS[family.claim]}** — {family.setting}: {claims.reading(found)}. {_evidence(found)}."
        if family.paired:
            summary = claims.across(found)
            line += f" Across the baselines: {claims.across_reading(summary)}"
            if summary is not None:
                mean, se, lower, m, p = summary
                line += (f"; the first is lower in {lower} of {m}, mean difference {mean:+.2f} ± {se:.2f} nats "
                         f"(sign test p {statistics.format_p(p)})")
            line += "."
        lines.append(line)
    return "\n".join(lines) + "\n"


def final_test_table():
    """The paper's final test (4000 samples, AIS 1000 × 1024) beside each run's own, where re-evaluated; every
    single-run NLL ± its standard error with the AIS log Z error included."""
    lines = ["| study | baseline, k, seed | own final test | test NLL, 4000 samples, AIS 1000 × 1024 | change | "
             "log Z, own | log Z, AIS 1000 × 1024 |", "|---|---|---:|---:|---:|---:|---:|"]
    for study, set_name in (("cpu-small", "mnist-lin-study"), ("cpu-small-1m", "mnist-lin-trend")):
        for cell, run in committed.matched(set_name, study).items():
            path = run and run.directory / run_files.REEVALUATION_FILE
            if run is None or run.results is None or not path.exists():
                continue
            before, after = run.results, run_files.read_json(path)
            nll = [r["metrics"]["test/neg_ll"] for r in (before, after)]
            own = f"{before['config']['eval_iw_samples']} samples, AIS {before['config']['ais_num_betas']} × " \
                  f"{before['config']['ais_num_chains']}: "
            lines.append(f"| `{study}` | {committed.COLUMN[cell.baseline]}, {cell.k}, {cell.seed} | {own}"
                         f"{nll[0]:.2f} ± {trend.single_se(before):.2f} | {nll[1]:.2f} ± {trend.single_se(after):.2f}"
                         f" | {nll[1] - nll[0]:+.2f} | {before['log_z']:.2f} ± {before['log_z_stderr']:.2f} | "
                         f"{after['log_z']:.2f} ± {after['log_z_stderr']:.2f} |")
    return "\n".join(lines) + "\n"


DIAGNOSTICS = ("rbm/max_singular_value", "mean_field/residual_max", "mean_field/log_z_gap_max",
               "mean_field/log_z_gap_mean")


def diagnostics_table(more=()):
    """Per baseline and k: σ_max(W) of the best model and, for the mean-field marginal prior, the distance of its
    updates from their fixed point (means over seeds; the residual and gap are maxima over 100 images); then the
    rows `more`, [(title, k, [results])]."""
    lines = ["| baseline | k | seeds | σ_max(W) | fixed-point residual, max | log Z_MF gap, max (nats) | log Z_MF "
             "gap, mean (nats) |", "|---|---:|---:|---:|---:|---:|---:|"]
    groups = {}
    for cell, run in sorted(committed.matched("mnist-lin-study", "cpu-small").items(),
                            key=lambda item: (item[0].k, list(committed.COLUMN).index(item[0].baseline))):
        if run is not None and run.results is not None:
            groups.setdefault((committed.COLUMN[cell.baseline], cell.k), []).append(run.results)
    for title, k, found in [(*key, found) for key, found in groups.items()] + list(more):
        diagnostics = [r.get("diagnostics", {}) for r in found]
        means = []
        for name in DIAGNOSTICS:
            values = [d[f"diagnostics/{name}"] for d in diagnostics if f"diagnostics/{name}" in d]
            means.append(_number(sum(values) / len(values), 3) if values else "–")
        lines.append(f"| {title} | {k} | {len(found)} | " + " | ".join(means) + " |")
    return "\n".join(lines) + "\n"


def render_blocks():
    """{block name: Markdown} of every generated block of RESULTS.md."""
    committed.clear_cache()
    return {
        "provenance": provenance_table(),
        "row": set_table("mnist-lin-study", "cpu-small"),
        "samplers": set_table("mnist-lin-samplers", "cpu-small"),
        "nonlinear": set_table("mnist-nonlin-trend", "cpu-small"),
        "beta": beta_table(),
        **{f"claims-{claim}": claims_table(claim) for claim in claims.CLAIMS},
        "conclusions": conclusions(),
        "trend": trend.table(),
        "trend-reading": trend.reading(),
        "final-test": final_test_table(),
        "diagnostics": diagnostics_table(trend.diagnostic_rows()),
    }


def beta_table():
    """Seed-1 test NLL ± its single-run standard error of the β probe's baselines at the paper's β and the probe's."""
    studies = ("cpu-small", *claims.BETA_STUDIES)
    titles = ["the paper's β"] + [f"β = {beta:g}" for beta in claims.BETA_STUDIES.values()]
    lines = ["| baseline | " + " | ".join(titles) + " |", "|---|" + "---:|" * len(studies)]
    for baseline in experiments.BETA_PROBE_BASELINES:
        texts = []
        for study in studies:
            cell = claims.side(study, baseline).cell
            results = committed.results(study, cell)
            beta = results["config"]["beta"] if results else None
            texts.append("–" if results is None else f"{results['metrics']['test/neg_ll']:.2f} ± "
                         f"{trend.single_se(results):.2f}" + (f" (β = {beta:g})" if study == "cpu-small" else ""))
        lines.append(f"| {committed.COLUMN[baseline]} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


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
    text = RESULTS_DOC.read_text()
    blocks = render_blocks()
    committed_blocks(text, blocks)
    for name, markdown in blocks.items():
        text = block_pattern(name).sub(lambda m: m.group(1) + markdown + m.group(3), text)
    RESULTS_DOC.write_text(text)
    return [RESULTS_DOC, *figures.draw_all(FIGURES_DIR)]
