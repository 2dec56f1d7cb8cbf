"""The fairness rules bind on a tiny hand-checkable instance, and the fairness KPIs are what the
arithmetic says.

Instance: footprint F (hub H) needs 20 med beds a year, FG (hub G) 10. Site A is in F (0 km
from F) with 1 ward (10 beds) and room for 2; site B is at FG's reference point (1 degree of
latitude north of F: 6371 km x pi/180 = 111.19 km from F, 0 km from FG) with 2 wards. No unmet
need. Each patient-km costs £1 (so patients go to the nearest free bed: F's 10 beds at B cost
10 x 111.19 = £1,112 a year). A new ward at A costs 10 beds x 100k = 1m capital (asset life
1 year: no residual value) + 100k a year to run; F's second ten beds fit in B's spare ward for
nothing more. So without the rules F places 10 beds at A and 10 at B every year and nothing is
built.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from model.fairness import fairness, gini, weighted_quantile
from model.run import solve_scenario
from tests.factory import Tiny

KM_FB = 6371.0 * math.pi / 180.0  # 111.19 km


def two_hubs() -> Tiny:
    return (Tiny()
            .site("A", wards={"med": 1}, max_wards=2)
            .site("B", footprint="FG", wards={"med": 2})
            .need("F", "med", 20).need("FG", "med", 10)
            .policy(allow_unmet=False).set(value_of_travel_gbp_per_km=1.0))


def solve(tiny: Tiny, tmp_path, name: str = "s"):
    return solve_scenario(tiny.write(tmp_path / name), runs_root=None, baseline=False)


def wards(result, site: str) -> list[int]:
    w = result.solution.wards
    return w[(w["site"] == site) & (w["service"] == "med")].sort_values("year")["wards"].tolist()


def row(table, key: str):
    return table[table["id"] == key].iloc[0]


def test_without_the_rules_f_uses_b_and_nothing_is_built(tmp_path):
    result = solve(two_hubs(), tmp_path)
    assert wards(result, "A") == [1, 1, 1]
    table = fairness(result.solution, result.inputs, "optimised")
    f, fg, england = row(table, "F"), row(table, "FG"), row(table, "England")
    # F: 10 bed-years at 0 km and 10 at 111.19 km a year -> mean 55.6 km; the 90th percentile is
    # 111.19 (only half are at 0 km); in-hub 10/20; half farther than 100 km
    assert f["mean_km"] == pytest.approx(KM_FB / 2, rel=1e-4)
    assert f["p90_km"] == pytest.approx(KM_FB, rel=1e-4)
    assert f["max_km"] == pytest.approx(KM_FB, rel=1e-4)
    assert f["in_hub_share"] == pytest.approx(0.5)
    assert f["share_over_far_km"] == pytest.approx(0.5)
    assert (fg["mean_km"], fg["p90_km"], fg["in_hub_share"]) == (0.0, 0.0, 1.0)
    assert bool(f["worst"]) and not bool(fg["worst"])
    # England: 30 patients a year, 10 of them 111.19 km away -> mean 37.06, a third over 100 km
    assert england["mean_km"] == pytest.approx(KM_FB / 3, rel=1e-4)
    assert england["share_over_far_km"] == pytest.approx(1 / 3)
    assert england["in_hub_share"] == pytest.approx(2 / 3)
    assert england["worst_footprint"] == "F"
    assert england["worst_mean_km"] == pytest.approx(KM_FB / 2, rel=1e-4)
    # weights by patients (no population): w_F = 60, w_FG = 30 bed-years; x_F = 55.6, x_FG = 0;
    # mean x = 60 x 55.6 / 90; G = 2 w_F w_FG x_F / (2 W^2 mean) = w_FG / W = 30 / 90 = 1/3
    assert england["weight_basis"] == "patients"
    assert england["gini_mean_km"] == pytest.approx(1 / 3)
    # agrees with kpis.csv's footprint mean km and in-hub share
    k = result.kpis
    kf = k[(k["scope"] == "footprint") & (k["id"] == "F") & (k["year"] == "all")].iloc[0]
    assert kf["mean_km"] == pytest.approx(f["mean_km"])
    assert kf["in_hub_share"] == pytest.approx(f["in_hub_share"])


def test_mean_km_cap_forces_a_ward_at_a(tmp_path):
    # cap 50 km: with 10 beds at A (its one ward), F's other 10 at B give 55.6 km > 50; a share x
    # at B needs 111.19 x / 20 <= 50, x <= 8.99 beds, so A needs an 11th bed: its second ward.
    # Once built, every F patient goes to A (same bed cost) and B removes its spare ward.
    result = solve(two_hubs().policy(max_footprint_mean_km=50.0), tmp_path)
    assert wards(result, "A") == [2, 2, 2]
    assert wards(result, "B") == [1, 1, 1]
    f = row(fairness(result.solution, result.inputs, "optimised"), "F")
    assert f["mean_km"] <= 50.0 + 1e-6


def test_mean_km_cap_above_today_changes_nothing(tmp_path):
    # 60 km >= 55.6: the cap holds as things are
    result = solve(two_hubs().policy(max_footprint_mean_km=60.0), tmp_path)
    assert wards(result, "A") == [1, 1, 1]


def test_in_hub_floor_forces_a_ward_at_a(tmp_path):
    # floor 0.75: F places 10 of 20 beds in hub H (A) = 0.5 < 0.75; only a second ward at A
    # (in hub H) raises it (to 20/20). FG is in hub G with B: 10/10.
    result = solve(two_hubs().policy(min_footprint_in_hub_share=0.75), tmp_path)
    assert wards(result, "A") == [2, 2, 2]
    f = row(fairness(result.solution, result.inputs, "optimised"), "F")
    assert f["in_hub_share"] >= 0.75 - 1e-9


def test_rules_start_with_the_in_hub_rule(tmp_path):
    # a new ward takes a year (none before 2021), so the floor can only hold from 2021: with
    # in_hub_from_year 2021, 2020 keeps today's estate and A's second ward comes in 2021
    tiny = two_hubs().service("med", new_build_lead_years=1)
    result = solve(tiny.policy(min_footprint_in_hub_share=0.75, in_hub_from_year=2021), tmp_path)
    assert wards(result, "A") == [1, 2, 2]


def test_population_weights_when_every_footprint_has_one(tmp_path):
    import pandas as pd

    folder = two_hubs().write(tmp_path / "s")
    footprints = pd.read_csv(folder / "footprints.csv")
    footprints["population"] = [100.0, 300.0]  # F, FG
    footprints.to_csv(folder / "footprints.csv", index=False)
    result = solve_scenario(folder, runs_root=None, baseline=False)
    england = row(fairness(result.solution, result.inputs, "optimised"), "England")
    # G = w_FG / W with population weights: 300 / 400
    assert england["weight_basis"] == "population"
    assert england["gini_mean_km"] == pytest.approx(0.75)


def test_weighted_quantile_and_gini_by_hand():
    import numpy as np

    # 10 at 0 km, 5 at 111: 66.7% at 0 -> p90 = 111; p50 = 0
    km, beds = np.array([111.0, 0.0]), np.array([5.0, 10.0])
    assert weighted_quantile(km, beds, 0.9) == 111.0
    assert weighted_quantile(km, beds, 0.5) == 0.0
    # exactly 90% at or below 10 km: p90 = 10
    assert weighted_quantile(np.array([10.0, 50.0]), np.array([9.0, 1.0]), 0.9) == 10.0
    assert gini(np.array([20.0, 20.0]), np.array([1.0, 3.0])) == 0.0
    # x = 10, 30 with equal weights: mean 20, sum |d| w w = 2 x 20 = 40, / (2 x 4 x 20) = 0.25
    assert gini(np.array([10.0, 30.0]), np.array([1.0, 1.0])) == pytest.approx(0.25)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(loose=st.floats(0.0, 120.0), tighter=st.floats(0.0, 60.0))
@example(loose=5.960464477539063e-08, tighter=1.0)  # once failed on solver tolerances (below)
def test_a_tighter_cap_never_costs_less(tmp_path_factory, loose, tighter):
    # more freedom never costs more: lowering the cap by `tighter` km cannot lower the objective
    # (caps below 0 km leave no plan; keep both at or above A's 0 km... F's best mean with two
    # wards at A is 0, so every cap >= 0 is feasible)
    tight = max(loose - tighter, 0.0)
    folder = tmp_path_factory.mktemp("cap")
    a = solve(two_hubs().policy(max_footprint_mean_km=loose), folder, "loose")
    b = solve(two_hubs().policy(max_footprint_mean_km=tight), folder, "tight")
    # compared through the loose plan's proven bound: the two objectives may differ by solver
    # tolerances (a found example: 2,800,000.0000036 loose against 2,800,000.0 tight)
    floor = min(a.outcome.objective, a.outcome.bound if a.outcome.bound is not None else math.inf)
    assert b.outcome.objective >= floor - 1e-9 * abs(floor)
