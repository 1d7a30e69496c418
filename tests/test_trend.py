"""The budget-trend reading follows its definition: gaps g = NLL(DVAE#) − NLL(rival), their change Δ = g₁ − g₀
against sd = √(2σ_DVAE#² + 2σ_rival²), moved when |Δ| > 2 sd; the order compared with the base setting's."""
import math

from grid import trend

BASE = {"dvae_spike_exp": 95.0, "dvaepp_power": 96.5, "dvaes_power": 97.0}
NOISE = {"dvae_spike_exp": 0.2, "dvaepp_power": 0.1, "dvaes_power": 0.15}


def test_gap_change_is_the_difference_of_gaps_with_the_seed_noise_of_four_runs():
    other = {"dvae_spike_exp": 94.0, "dvaepp_power": 95.6, "dvaes_power": 95.2}
    g0, g1, delta, sd = trend.gap_change(BASE, other, NOISE, "dvae_spike_exp")
    assert math.isclose(g0, 2.0) and math.isclose(g1, 1.2) and math.isclose(delta, -0.8)
    assert math.isclose(sd, math.sqrt(2 * 0.15 ** 2 + 2 * 0.2 ** 2))
    assert trend.gap_change(BASE, {"dvae_spike_exp": 94.0}, NOISE, "dvae_spike_exp") is None
    assert trend.gap_change(BASE, other, {"dvaes_power": 0.1}, "dvae_spike_exp") is None


def test_setting_line_reports_the_order_and_which_gaps_moved():
    # DVAE# gains 0.6 nats on DVAE (sd 0.35: within noise) and 0.7 on DVAE++ (sd 0.25: moved), passing DVAE++.
    other = {"dvae_spike_exp": 94.0, "dvaepp_power": 95.6, "dvaes_power": 95.4}
    line = trend.setting_line("cpu-small-100k", BASE, other, NOISE)
    assert "DVAE (spike-exp) 94.00 < DVAE# (power) 95.40 < DVAE++ (power) 95.60" in line
    assert "the order changes (it was DVAE (spike-exp) < DVAE++ (power) < DVAE# (power))" in line
    assert "DVAE# (power) − DVAE (spike-exp): +2.00 → +1.40, Δ = -0.60 ± 0.35, within seed noise" in line
    assert "DVAE# (power) − DVAE++ (power): +0.50 → -0.20, Δ = -0.70 ± 0.25, moved" in line
    same = {b: v - 1.0 for b, v in BASE.items()}
    line = trend.setting_line("cpu-small-paper-sampler", BASE, same, NOISE)
    assert "the same order" in line and "moved" not in line
    assert trend.setting_line("cpu-small-100k", BASE, {"dvaes_power": 95.0}, NOISE).endswith("not measured yet.")


def test_order_sorts_by_test_nll():
    assert trend.order({"a": 3.0, "b": 1.0, "c": 2.0}) == ["b", "c", "a"]
