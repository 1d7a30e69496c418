"""docs/RESULTS.md matches the committed runs: every generated block equals what `reproduce.py --results` writes,
and every figure it embeds exists."""
import re

from grid import results_doc


def test_committed_tables_equal_the_tables_regenerated_from_docs_results():
    text = results_doc.RESULTS_DOC.read_text()
    regenerated = results_doc.render_blocks()
    committed = results_doc.committed_blocks(text, regenerated)
    for name, markdown in regenerated.items():
        assert committed[name] == markdown, f"block '{name}' is stale: run `python reproduce.py --results`"


def test_every_embedded_figure_exists():
    text = results_doc.RESULTS_DOC.read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) == 3
    for figure in figures:
        assert (results_doc.RESULTS_DOC.parent / figure).is_file(), figure


def test_committed_results_are_all_readable_and_of_known_budgets():
    found = [run for study in results_doc.RESULTS_ROOT.iterdir() for run in
             results_doc.runs.find_runs(study)]
    assert found and all(run.status == "finished" for run in found)
    for run in found:
        study = run.directory.relative_to(results_doc.RESULTS_ROOT).parts[0]
        budget = {k: v for k, v in results_doc.experiments.BUDGETS[study].items() if k != "summary_every"}
        assert all(run.config[name] == value for name, value in budget.items()), run.directory


def test_welch_comparison_and_claim_reading_follow_their_definitions():
    """welch(): difference of means, √(sd₁²/n₁ + sd₂²/n₂), t = difference / that; the claim reading: holds only when
    the claimed winner is lower in every comparison with p < 0.05, fails when a rival is lower with p < 0.05."""
    entry = lambda *values: results_doc.tables.Entry(list(values), ["finished"] * len(values))
    winner, rival, close = entry(90.0, 90.2, 90.1), entry(95.0, 95.3, 94.9), entry(90.1, 90.3, 89.9)
    difference, standard_error, t, p = results_doc.welch(winner, rival)
    assert abs(difference - (90.1 - 95.0666666)) < 1e-6
    assert abs(standard_error - (0.01 / 3 + 0.04333333 / 3) ** 0.5) < 1e-6
    assert abs(t - difference / standard_error) < 1e-9 and p < 0.05
    assert results_doc.welch(winner, entry(95.0)) is None
    compare = lambda a, b: ("a", "b", 5, a, b, results_doc.welch(a, b))
    assert results_doc.claim_reading([compare(winner, rival)]) == "holds"
    assert results_doc.claim_reading([compare(winner, rival), compare(winner, close)]) == \
        "cannot be told apart from noise"
    assert results_doc.claim_reading([compare(rival, winner)]) == "does not hold"
    assert results_doc.claim_reading([compare(winner, entry(95.0))]) == "not measured yet"
    assert results_doc.claim_reading([]) == "not measured yet"


def test_numbers_that_round_to_zero_print_without_a_sign():
    assert results_doc._number(-0.0004, 3) == "0.000"
    assert results_doc._number(-0.0006, 3) == "-0.001"
    assert results_doc._number(-0.44) == "-0.44"
    assert results_doc._number(float("nan")) == "–" and results_doc._number(None) == "–"


def test_across_baselines_averages_the_differences_and_applies_the_sign_test():
    """D̄ = mean of the differences, se = √(Σ se²) / m; the two-sided sign test of j negatives in m is
    min(1, 2 Σ_{i ≤ min(j, m − j)} C(m, i) / 2^m)."""
    entry = lambda *values: results_doc.tables.Entry(list(values), ["finished"] * len(values))
    compare = lambda a, b: ("a", "b", 1, a, b, results_doc.welch(a, b))
    low, high, higher = entry(90.0, 90.2, 90.1), entry(90.5, 90.6, 90.9), entry(91.0, 91.2, 91.1)
    found = [compare(high, low)] * 7 + [compare(low, higher), compare(high, entry(90.0))]
    mean, standard_error, lower, m, p_value = results_doc.across_baselines(found)
    d_high, se_high = results_doc.welch(high, low)[:2]
    d_low, se_low = results_doc.welch(low, higher)[:2]
    assert (lower, m) == (1, 8)
    assert abs(mean - (7 * d_high + d_low) / 8) < 1e-12
    assert abs(standard_error - (7 * se_high ** 2 + se_low ** 2) ** 0.5 / 8) < 1e-12
    assert abs(p_value - 2 * (1 + 8) / 2 ** 8) < 1e-12
    assert results_doc.across_baselines([compare(high, entry(90.0))]) is None
    assert results_doc.across_reading((mean, standard_error, lower, m, p_value)) == "cannot be told apart from noise"
    assert results_doc.across_reading(results_doc.across_baselines([compare(low, high)] * 8)) == "holds"
    assert results_doc.across_reading(results_doc.across_baselines([compare(high, low)] * 8)) == "does not hold"
    assert results_doc.across_reading(None) == "not measured yet"
