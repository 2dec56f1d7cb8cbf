"""Each constraint family binds on a tiny hand-checkable instance.

Every test states the arithmetic that decides the answer (1 ward = 10 beds at 100% occupancy,
no discounting unless stated), then asserts the exact decision the maths implies.
"""

from __future__ import annotations

import pytest

from model.run import solve_scenario
from tests.factory import Tiny

YEARS = (2020, 2021, 2022)


def solve(tiny: Tiny, tmp_path, name: str = "s"):
    folder = tiny.write(tmp_path / name)
    return solve_scenario(folder, runs_root=None, baseline=False)


def wards(result, site: str, service: str = "med") -> list[int]:
    w = result.solution.wards
    rows = w[(w["site"] == site) & (w["service"] == service)].sort_values("year")
    return rows["wards"].tolist()


def operating(result, site: str) -> list[int]:
    w = result.solution.wards
    return w[w["site"] == site].groupby("year")["operating"].max().tolist()


def action(result, site: str, year: int) -> str:
    d = result.decisions
    return d[(d["site"] == site) & (d["year"] == year)]["action"].item()


def placed(result, site: str, service: str = "med") -> list[float]:
    a = result.solution.allocation
    a = a[(a["site"] == site) & (a["service"] == service)]
    return [float(a[a["year"] == t]["beds"].sum()) for t in YEARS]


# -- demand + site: a unit is decommissioned when demand falls -----------------------------------
def falling_demand() -> Tiny:
    # Two 2-ward units that cannot run below 2 wards. Need falls from 40 to 20 beds: one unit is
    # enough. Closing B (cost factor 1.2) saves its fixed 500k + 2 x 120k ward cost a year; in
    # 2020 its 20 beds are needed (unmet would cost 20k x (1 + 4) = 100k a bed-year).
    return (Tiny()
            .service("med", out_of_area_premium=4.0)
            .site("A", wards={"med": 2}, min_wards=2, fixed_cost_gbp=500_000)
            .site("B", wards={"med": 2}, min_wards=2, fixed_cost_gbp=500_000, cost_factor=1.2)
            .need("F", "med", {2020: 40, 2021: 20, 2022: 20}))


def test_unit_decommissioned_when_demand_falls(tmp_path):
    result = solve(falling_demand(), tmp_path)
    assert operating(result, "B") == [1, 0, 0]
    assert action(result, "B", 2021) == "decommission"
    assert wards(result, "A") == [2, 2, 2]
    assert [action(result, "A", t) for t in YEARS] == ["keep"] * 3
    assert result.solution.unmet["unmet_beds"].sum() == pytest.approx(0)


def test_closure_notice_delays_the_decommissioning(tmp_path):
    # timing family: with 2 years' notice, B cannot close before 2022.
    result = solve(falling_demand().policy(closure_notice_years=2), tmp_path)
    assert operating(result, "B") == [1, 1, 0]
    assert action(result, "B", 2022) == "decommission"


# -- capacity: a unit is commissioned to fill a hub's gap ----------------------------------------
def gap_in_hub(lead_years: int = 1) -> Tiny:
    # A has 2 wards (20 beds, its physical maximum) for 30 beds of need. Unmet costs
    # 20k x (1 + 1) = 40k a bed-year: 400k for the gap. One ward at candidate C costs 200k fixed +
    # 100k ward + 100k beds + 1M capital / 30 years = 433k... minus the unmet 400k it avoids: so
    # make C's fixed cost 150k to make commissioning clearly cheaper (383k < 400k).
    return (Tiny()
            .site("A", wards={"med": 2}, max_wards=2)
            .site("C", wards={"med": 0}, status="candidate", min_wards=1, max_wards=4,
                  fixed_cost_gbp=150_000, lead_years=lead_years)
            .set(asset_life_years=30)
            .need("F", "med", 30))


def test_unit_commissioned_to_fill_gap(tmp_path):
    result = solve(gap_in_hub(lead_years=1), tmp_path)
    assert operating(result, "C") == [0, 1, 1]
    assert wards(result, "C") == [0, 1, 1]
    assert action(result, "C", 2021) == "commission"
    unmet = result.solution.unmet.set_index("year")["unmet_beds"]
    assert unmet[2020] == pytest.approx(10)  # capacity binds: 20 beds for 30 of need
    assert unmet[2021] == pytest.approx(0)
    assert placed(result, "A") == pytest.approx([20, 20, 20])


@pytest.mark.parametrize(("lead_years", "first_year"), [(0, 2020), (2, 2022)])
def test_lead_time_delays_commissioning(tmp_path, lead_years, first_year):
    result = solve(gap_in_hub(lead_years=lead_years), tmp_path)
    expected = [1 if t >= first_year else 0 for t in YEARS]
    assert operating(result, "C") == expected
    assert action(result, "C", first_year) == "commission"


def test_service_build_lead_time_applies_at_existing_sites(tmp_path):
    # A may expand to 3 wards, but new med wards take 1 year: the 2020 gap stays unmet.
    tiny = (Tiny().site("A", wards={"med": 2}, max_wards=3).need("F", "med", 30)
            .set(asset_life_years=30).service("med", new_build_lead_years=1))
    result = solve(tiny, tmp_path)
    assert wards(result, "A") == [2, 3, 3]
    assert action(result, "A", 2021) == "expand"


# -- objective: a higher carbon price flips keep-old vs build-new --------------------------------
def old_or_new(price: float) -> Tiny:
    # A: 1 ward at estate carbon factor 3: 10 beds x 36.5 t/bed-year x 3 = 1,095 tCO2e a year.
    # C: an efficient candidate (factor 0). Replacing A costs 1M / 30 = 33,333 GBP a year, so the
    # switch pays above 33,333 / 1,095 = 30.4 GBP/t.
    return (Tiny()
            .service("med", carbon_kg_per_bed_day=100)
            .site("A", wards={"med": 1}, min_wards=1, max_wards=1, carbon_factor=3.0)
            .site("C", wards={"med": 0}, status="candidate", min_wards=1, max_wards=1,
                  carbon_factor=0.0)
            .set(asset_life_years=30, carbon_price_gbp_per_t=price)
            .need("F", "med", 10))


def test_low_carbon_price_keeps_the_old_unit(tmp_path):
    result = solve(old_or_new(20.0), tmp_path)
    assert operating(result, "A") == [1, 1, 1]
    assert operating(result, "C") == [0, 0, 0]


def test_high_carbon_price_builds_the_efficient_unit(tmp_path):
    result = solve(old_or_new(40.0), tmp_path)
    assert operating(result, "A") == [0, 0, 0]
    assert operating(result, "C") == [1, 1, 1]
    assert action(result, "A", 2020) == "decommission"
    assert action(result, "C", 2020) == "commission"


# -- pathway (a): the in-hub share forces a placement --------------------------------------------
def near_but_out_of_hub(share: float) -> Tiny:
    # F's need of 20 beds. A is in F's hub H but 89 km away; B is in hub G but 11 km away.
    # With travel valued at 1,000 GBP/km every bed goes to B, unless the in-hub share says not.
    # Unmet need costs 20k x (1 + 4) = 100k a bed-year, dearer than any placement here.
    return (Tiny()
            .service("med", out_of_area_premium=4.0)
            .site("A", footprint="F", wards={"med": 2}, lat=52.2)
            .site("B", footprint="FG", wards={"med": 2}, lat=53.1)
            .set(value_of_travel_gbp_per_km=1000.0)
            .service("med", in_hub_share=share)
            .need("F", "med", 20))


def test_without_in_hub_share_patients_go_to_the_nearest_unit(tmp_path):
    result = solve(near_but_out_of_hub(0.0), tmp_path)
    assert placed(result, "B") == pytest.approx([20, 20, 20])
    assert placed(result, "A") == pytest.approx([0, 0, 0])


def test_in_hub_share_forces_placement_in_hub(tmp_path):
    result = solve(near_but_out_of_hub(0.8), tmp_path)
    assert placed(result, "A") == pytest.approx([16, 16, 16])
    assert placed(result, "B") == pytest.approx([4, 4, 4])
    assert wards(result, "B") == [1, 1, 1]  # the spare ward at B is removed


def test_in_hub_share_applies_from_its_start_year(tmp_path):
    result = solve(near_but_out_of_hub(0.8).policy(in_hub_from_year=2022), tmp_path)
    assert placed(result, "A") == pytest.approx([0, 0, 16])


# -- pathway (b): missing step-down capacity shows as delayed discharges -------------------------
def stepdown(low_site_in_reach: bool) -> Tiny:
    # F: 20 med beds, LOS 2 -> 10 discharges a year; half step down to low: 5 a year.
    # F's 10 low beds (LOS 2) turn over 5 places a year, if they are in reach (same hub or 50 km).
    tiny = Tiny()
    tiny.pathway.append({"from_service": "med", "to_service": "low", "share": 0.5})
    tiny.site("A", wards={"med": 3, "low": 0})
    if low_site_in_reach:
        tiny.site("L", footprint="F", wards={"low": 1})
    else:  # in hub G, 111 km away
        tiny.site("L", footprint="FG", wards={"low": 1})
    # unmet need at 100k a bed-year: the delayed patients' extra med beds are placed at A
    tiny.service("med", out_of_area_premium=4.0)
    return (tiny.policy(delayed_discharge_penalty_gbp=1000.0)
            .need("F", "med", 20).need("F", "low", 10))


def test_missing_stepdown_capacity_shows_as_delayed_discharges(tmp_path):
    result = solve(stepdown(low_site_in_reach=False), tmp_path)
    delayed = result.solution.delayed.set_index("year")
    assert delayed["delayed_patients"].tolist() == pytest.approx([5, 5, 5])
    # each delayed patient keeps a med bed for delay_years = 0.5: need = 20 + 0.5 x 5 = 22.5
    need = result.solution.unmet.query("service == 'med'").set_index("year")["need_beds"]
    assert need.tolist() == pytest.approx([22.5, 22.5, 22.5])
    assert placed(result, "A") == pytest.approx([22.5, 22.5, 22.5])


def test_stepdown_capacity_in_reach_means_no_delays(tmp_path):
    result = solve(stepdown(low_site_in_reach=True), tmp_path)
    assert result.solution.delayed["delayed_patients"].sum() == pytest.approx(0)
    assert result.solution.delayed["stepdown_patients"].tolist() == pytest.approx([5, 5, 5])


# -- stability: a limit spreads a closure over years ---------------------------------------------
def closing_unit() -> Tiny:
    # Need falls from 40 beds to 0: A's 4 wards (100k a year each) are no longer needed.
    return Tiny().site("A", wards={"med": 4}).need("F", "med", {2020: 40, 2021: 0, 2022: 0})


def test_without_stability_limit_closure_is_immediate(tmp_path):
    result = solve(closing_unit(), tmp_path)
    assert wards(result, "A") == [4, 0, 0]


def test_displaced_patients_limit_spreads_closure(tmp_path):
    # at most 20 patients (2 full wards) displaced per hub per year
    result = solve(closing_unit().policy(max_displaced_patients_per_hub_year=20), tmp_path)
    assert wards(result, "A") == [4, 2, 0]


def test_ward_changes_limit_spreads_closure(tmp_path):
    result = solve(closing_unit().policy(max_ward_changes_per_hub_year=3), tmp_path)
    assert wards(result, "A") == [4, 1, 0]


# -- ward balance: conversion is chosen over new build when cheaper ------------------------------
def reconfigure(convert_cost_per_bed: float) -> Tiny:
    # A has 2 med wards at its physical maximum; need is 10 med and 10 low. Either convert a med
    # ward to low (10 x convert cost) or remove it and build a low ward (10 x 100k).
    return (Tiny()
            .site("A", wards={"med": 2, "low": 0}, max_wards=2)
            .service("low", capital_convert_bed_gbp=convert_cost_per_bed)
            .set(asset_life_years=30)
            .need("F", "med", 10).need("F", "low", 10))


def test_conversion_chosen_over_new_build_when_cheaper(tmp_path):
    result = solve(reconfigure(50_000), tmp_path)
    w = result.solution.wards.set_index(["service", "year"])
    assert w.loc[("low", 2020), "converted_in"] == 1
    assert w["built"].sum() == 0
    assert wards(result, "A", "low") == [1, 1, 1]
    assert action(result, "A", 2020) == "reconfigure"


def test_new_build_chosen_when_conversion_dearer(tmp_path):
    result = solve(reconfigure(150_000), tmp_path)
    w = result.solution.wards.set_index(["service", "year"])
    assert w.loc[("low", 2020), "built"] == 1
    assert w.loc[("med", 2020), "removed"] == 1
    assert w["converted_in"].sum() == 0


def test_conversion_lead_time_applies(tmp_path):
    tiny = reconfigure(50_000)
    tiny.service("low", conversion_lead_years=1, new_build_lead_years=5)
    result = solve(tiny, tmp_path)
    assert wards(result, "A", "low") == [0, 1, 1]
    assert result.solution.unmet.query("service == 'low'")["unmet_beds"].tolist() == pytest.approx(
        [10, 0, 0])


# -- site: viable minimum and physical maximum ---------------------------------------------------
def small_need(min_wards: int) -> Tiny:
    # 5 beds of need; unmet costs 20k x (1 + 9) = 200k a bed-year, so the unit stays open.
    return (Tiny().site("A", wards={"med": 3}, min_wards=min_wards)
            .service("med", out_of_area_premium=9.0).need("F", "med", 5))


def test_viable_minimum_keeps_wards_open(tmp_path):
    assert wards(solve(small_need(0), tmp_path, "a"), "A") == [1, 1, 1]
    assert wards(solve(small_need(2), tmp_path, "b"), "A") == [2, 2, 2]


def test_physical_maximum_caps_expansion(tmp_path):
    tiny = Tiny().site("A", wards={"med": 2}, max_wards=3).set(asset_life_years=30).need("F", "med", 50)
    result = solve(tiny, tmp_path)
    assert wards(result, "A") == [3, 3, 3]
    assert result.solution.unmet["unmet_beds"].tolist() == pytest.approx([20, 20, 20])


# -- community: places replace part of low secure demand -----------------------------------------
def community(max_share: float) -> Tiny:
    # 20 low beds of need; a community place (5k a year) replaces 1 low bed, up to max_share.
    return (Tiny()
            .service("comm", level="community", beds_per_ward=0, cost_per_occupied_bed_gbp=5_000,
                     cost_per_ward_gbp=0, substitutes="low", substitution_rate=1.0,
                     max_substitution_share=max_share)
            .site("A", wards={"low": 2})
            .need("F", "low", 20))


def test_community_places_replace_low_secure_beds(tmp_path):
    result = solve(community(0.5), tmp_path)
    assert result.solution.community["substitute_places"].tolist() == pytest.approx([10, 10, 10])
    assert wards(result, "A", "low") == [1, 1, 1]
    assert result.solution.unmet["need_beds"].tolist() == pytest.approx([10, 10, 10])


def test_no_substitution_without_community_share(tmp_path):
    result = solve(community(0.0), tmp_path)
    assert wards(result, "A", "low") == [2, 2, 2]


# -- site count: exactly p / at most N operating sites -------------------------------------------
def three_units() -> Tiny:
    # 30 beds of need, three 2-ward units that cannot grow; A costs 300k a year, B and C 400k.
    # Unmet need costs 20k x (1 + 9) = 200k a bed-year, so two units are kept (30 beds fit).
    return (Tiny()
            .site("A", wards={"med": 2}, max_wards=2, fixed_cost_gbp=300_000)
            .site("B", wards={"med": 2}, max_wards=2, fixed_cost_gbp=400_000, lat=52.2)
            .site("C", wards={"med": 2}, max_wards=2, fixed_cost_gbp=400_000, lat=53.8)
            .service("med", out_of_area_premium=9.0)
            .need("F", "med", 30))


def test_max_open_sites_closes_units(tmp_path):
    free = solve(three_units(), tmp_path, "free")
    assert sum(operating(free, s)[0] for s in "ABC") == 2  # 30 beds fit in two 2-ward units
    capped = solve(three_units().policy(max_open_sites=1), tmp_path, "capped")
    assert [operating(capped, s) for s in "ABC"] == [[1, 1, 1], [0, 0, 0], [0, 0, 0]]
    assert capped.solution.unmet["unmet_beds"].tolist() == pytest.approx([10, 10, 10])


def test_min_open_sites_per_hub_keeps_units_open(tmp_path):
    tiny = three_units().policy(open_sites_per_hub={"H": {"min": 3}})
    result = solve(tiny, tmp_path)
    assert [operating(result, s) for s in "ABC"] == [[1, 1, 1]] * 3


def test_disallowing_unmet_forces_every_bed_placed(tmp_path):
    # 25 beds for one 2-ward unit that may grow to 3. Unmet costs 20k x 1.5 = 30k a bed-year:
    # the 5 extra beds (150k) go out of area rather than to a new ward (100k + 50k + 1M capital).
    tiny = (Tiny().site("A", wards={"med": 2}, max_wards=3).service("med", out_of_area_premium=0.5)
            .need("F", "med", 25))
    assert wards(solve(tiny, tmp_path, "a"), "A") == [2, 2, 2]
    result = solve(tiny.copy().policy(allow_unmet=False), tmp_path, "b")
    assert wards(result, "A") == [3, 3, 3]
    assert result.solution.unmet["unmet_beds"].sum() == 0
