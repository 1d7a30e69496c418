"""The tests behind RESULTS.md's comparisons and the tables' bold entries, on hand-made numbers: closed forms of the
t distribution with 2 degrees of freedom (F(t) = ½ + t / (2√(2 + t²))), of F(2, 2) (P(F > x) = 1 / (1 + x)) and of
the normal (p = erfc(|z| / √2)), hand-worked Holm adjustments, and scipy's independent t-test implementations."""
import math

import pytest
import scipy.stats

from dvae_sharp.grid import claims, committed, statistics, tables, trend


def t2_two_sided(t):
    """Two-sided p of Student's t with 2 degrees of freedom: 1 − |t| / √(2 + t²)."""
    return 1 - abs(t) / math.sqrt(2 + t * t)


def test_paired_t_is_the_one_sample_t_of_the_seed_differences():
    a, b = [90.0, 91.0, 92.5], [90.4, 91.2, 93.3]      # differences −0.4, −0.2, −0.8
    test = statistics.paired(a, b)
    mean, sd = -1.4 / 3, math.sqrt(((-0.4 + 1.4 / 3) ** 2 + (-0.2 + 1.4 / 3) ** 2 + (-0.8 + 1.4 / 3) ** 2) / 2)
    assert test.name == "paired t" and test.df == 2
    assert math.isclose(test.difference, mean) and math.isclose(test.standard_error, sd / math.sqrt(3))
    assert math.isclose(test.statistic, mean / (sd / math.sqrt(3)))
    assert math.isclose(test.p, t2_two_sided(test.statistic), rel_tol=1e-9)
    assert math.isclose(test.p, scipy.stats.ttest_rel(a, b).pvalue, rel_tol=1e-9)
    assert statistics.paired([1.0], [2.0]) is None
    with pytest.raises(ValueError):
        statistics.paired([1.0, 2.0], [1.0])


def test_the_f_test_decides_between_pooled_and_welch():
    """Samples of three: F(2, 2) has P(F > x) = 1 / (1 + x), so equal variances are kept for a ratio x with
    2 / (1 + x) ≥ 0.05, i.e. x ≤ 39."""
    base = [0.0, 1.0, 2.0]                              # variance 1
    wider = lambda ratio: [0.0, math.sqrt(ratio), 2 * math.sqrt(ratio)]  # variance `ratio`
    assert statistics.variances_agree(base, wider(38.0)) and statistics.variances_agree(wider(38.0), base)
    assert not statistics.variances_agree(base, wider(40.0)) and not statistics.variances_agree(wider(40.0), base)
    assert not statistics.variances_agree([1.0, 1.0, 1.0], base)
    assert statistics.variances_agree([1.0, 1.0], [2.0, 2.0])


def test_student_pooled_t_by_hand_and_against_scipy():
    a, b = [88.0, 89.0, 90.0], [90.0, 91.0, 92.0]      # equal variances 1: s_p = 1, se = √(2/3)
    test = statistics.two_sample(a, b)
    assert test.name == "Student" and test.df == 4
    assert math.isclose(test.difference, -2.0) and math.isclose(test.standard_error, math.sqrt(2 / 3))
    reference = scipy.stats.ttest_ind(a, b, equal_var=True)
    assert math.isclose(test.statistic, reference.statistic) and math.isclose(test.p, reference.pvalue)
    assert statistics.two_sample(a, [91.0]) is None


def test_welch_t_where_the_variances_differ():
    a, b = [90.0, 90.01, 90.02], [91.0, 92.0, 94.0]    # variance ratio 70000: Welch
    test = statistics.two_sample(a, b)
    var_a, var_b = 1e-4, 7 / 3
    df = (var_a / 3 + var_b / 3) ** 2 / ((var_a / 3) ** 2 / 2 + (var_b / 3) ** 2 / 2)
    assert test.name == "Welch" and math.isclose(test.df, df)
    assert math.isclose(test.standard_error, math.sqrt(var_a / 3 + var_b / 3))
    reference = scipy.stats.ttest_ind(a, b, equal_var=False)
    assert math.isclose(test.statistic, reference.statistic) and math.isclose(test.p, reference.pvalue)


def test_z_against_assumed_seed_noise():
    test = statistics.against_noise(-0.5, 0.25)
    assert test.statistic == -2.0 and test.df is None
    assert math.isclose(test.p, math.erfc(2 / math.sqrt(2)))


def test_holm_by_hand():
    """p = (0.01, 0.04, 0.03, 0.005): sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → 0.06 (monotone)."""
    adjusted = statistics.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    with_gap = statistics.holm([0.3, None, 0.6])                 # m = 2: 0.3·2 = 0.6, 0.6·1 = 0.6
    assert with_gap[1] is None and with_gap[0] == pytest.approx(0.6) and with_gap[2] == pytest.approx(0.6)
    assert statistics.holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])
    assert statistics.holm([0.7, 0.8]) == pytest.approx([1.0, 1.0])


def test_p_values_print_three_decimals_or_below_one_in_a_thousand():
    assert statistics.format_p(0.0004) == "< 0.001" and statistics.format_p(0.0123) == "0.012"
    assert statistics.format_p(None) == "–"


def test_a_single_runs_error_adds_the_ais_log_z_error_in_quadrature():
    assert math.isclose(statistics.single_run_se(0.03, 0.04), 0.05)


def entry(values, seeds=(1, 2, 3)):
    return tables.Entry(list(values), ["finished"] * len(values), list(seeds)[:len(values)])


def test_bold_needs_the_holm_adjusted_test_against_every_other_entry():
    best, behind = entry([88.0, 88.1, 87.9]), entry([90.0, 90.2, 89.8])
    close = entry([88.3, 88.7, 87.9])
    assert tables.row_winner({"a": best, "b": behind}) == "a"
    assert tables.row_winner({"a": best, "b": close}) is None
    assert tables.row_winner({"a": entry([80.0]), "b": behind}) is None
    # Raw p ≈ 0.034 against each of two rivals: Holm doubles the smaller, so neither survives.
    rival = entry([88.3, 88.5, 88.2])
    raw = statistics.two_sample(best.values, rival.values).p
    assert 0.025 < raw < 0.05
    assert tables.row_winner({"a": best, "b": rival}) == "a"
    assert tables.row_winner({"a": best, "b": rival, "c": entry([88.31, 88.51, 88.21])}) is None
    assert tables.row_winner({"a": best, "b": behind}, confirm=lambda x, y: False) is None
    assert "**88.00 ± 0.10**" in tables.markdown_row(("r",), {"a": best, "b": behind}, ["a", "b"], (1, 2, 3))


def test_paired_bold_compares_the_seeds_both_finished():
    """Differences −0.30, −0.32, −0.28 on seeds 1-3 are consistent (paired p ≈ 0.001); unpaired, the seed spread
    of 1 nat hides them."""
    pa, pcd = entry([90.0, 91.0, 92.0]), entry([90.30, 91.32, 92.28])
    assert tables.compare(pa, pcd, paired=True).p < 0.01 and tables.compare(pa, pcd).p > 0.5
    assert tables.row_winner({"pa": pa, "pcd": pcd}, paired=True) == "pa"
    assert tables.row_winner({"pa": pa, "pcd": pcd}) is None
    partial = entry([90.30, 92.28], seeds=(1, 3))
    assert tables.compare(pa, partial, paired=True).df == 1


def comparison(difference, adjusted_p, se=0.1):
    test = statistics.Test("Student", difference, se, difference / se, 4, adjusted_p)
    return claims.Comparison(None, None, (3, 3), test, adjusted_p)


def test_claim_readings_follow_the_adjusted_p():
    assert claims.reading([comparison(-1.0, 0.01), comparison(-0.5, 0.04)]) == "holds"
    assert claims.reading([comparison(-1.0, 0.01), comparison(-0.5, 0.06)]) == "cannot be told apart from noise"
    assert claims.reading([comparison(-1.0, 0.01), comparison(0.5, 0.02)]) == "does not hold"
    assert claims.reading([comparison(-1.0, 0.01), claims.Comparison(None, None, (1, 0))]) == "not measured yet"
    assert claims.reading([]) == "not measured yet"
    assert claims.reading([comparison(-1.0, 0.01), claims.Comparison(None, None, (1, 1))]) == \
        "too few seeds for a test"
    assert claims.Comparison(None, None, (1, 0)).reading == "not run yet"
    assert claims.Comparison(None, None, (1, 1)).reading == "too few seeds"


def test_across_family_mean_and_sign_test():
    """D̄ = Σ D / m, se = √Σ se² / m; 1 negative of 8: p = 2 (1 + 8) / 2⁸."""
    found = [comparison(0.2, 0.5, 0.1)] * 7 + [comparison(-0.4, 0.5, 0.2)]
    mean, se, lower, m, p = claims.across(found)
    assert math.isclose(mean, (7 * 0.2 - 0.4) / 8) and math.isclose(se, math.sqrt(7 * 0.01 + 0.04) / 8)
    assert (lower, m) == (1, 8) and math.isclose(p, 2 * 9 / 256)
    assert claims.across_reading((mean, se, lower, m, p)) == "cannot be told apart from noise"   # p = 0.07
    assert claims.across_reading(claims.across([comparison(0.2, 0.5)] * 8)) == "does not hold"   # p = 2 / 2⁸
    assert claims.across_reading(claims.across([comparison(-0.2, 0.5)] * 8)) == "holds"
    assert claims.across_reading(claims.across([comparison(-0.2, 0.5)] * 3)) == "cannot be told apart from noise"
    assert claims.across([claims.Comparison(None, None, (0, 0))]) is None


def test_a_gap_change_adds_the_two_gaps_errors_in_quadrature():
    before = statistics.Test("Student", 2.0, 0.15, 13.3, 4, 0.001)
    after = statistics.Test("z, assumed seed sd", 1.2, 0.2, 6.0, None, 1e-9)
    g0, g1, delta, se = trend.gap_change(before, after)
    assert (g0, g1) == (2.0, 1.2) and math.isclose(delta, -0.8) and math.isclose(se, 0.25)
    assert trend.gap_change(None, after) is None
    assert trend.order({"a": 3.0, "b": 1.0, "c": 2.0}) == ["b", "c", "a"]


def test_a_single_run_against_several_seeds_is_z_tested_with_the_noise_of_complete_studies(monkeypatch):
    """DVAE# one seed (91.0) against DVAE two (89.5, 89.9) at 100000 steps, with cpu-small's three-seed sds 0.1 and
    0.2: Δ = 91.0 − 89.7, se = √(0.1²/1 + 0.2²/2). A study with two seeds of a cell does not lend its sd: at 10⁶
    steps the pair takes cpu-small's sds, not the 100000-step study's sd of two seeds (0.28)."""
    values = {("cpu-small-100k", "dvaes_power"): [91.0], ("cpu-small-100k", "dvae_spike_exp"): [89.5, 89.9],
              ("cpu-small", "dvaes_power"): [96.8, 97.0, 96.9], ("cpu-small", "dvae_spike_exp"): [94.7, 95.1, 94.9],
              ("cpu-small-1m", "dvaes_power"): [88.2], ("cpu-small-1m", "dvae_spike_exp"): [89.6]}
    monkeypatch.setattr(committed, "entry", lambda study, cell, seeds=committed.SEEDS: entry(
        values.get((study, cell.baseline), [])))
    pair = [claims.side("cpu-small-100k", b) for b in ("dvaes_power", "dvae_spike_exp")]
    n_a, n_b, test = claims.test_pair(*pair)
    se = math.sqrt(0.1 ** 2 / 1 + 0.2 ** 2 / 2)
    assert (n_a, n_b) == (1, 2) and test.df is None
    assert math.isclose(test.difference, 91.0 - 89.7) and math.isclose(test.standard_error, se)
    assert math.isclose(test.p, math.erfc(1.3 / se / math.sqrt(2)))
    pair = [claims.side("cpu-small-1m", b) for b in ("dvaes_power", "dvae_spike_exp")]
    assert math.isclose(claims.test_pair(*pair)[2].standard_error, math.hypot(0.1, 0.2))
