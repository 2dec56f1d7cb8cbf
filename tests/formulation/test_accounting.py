"""The accounting principles of docs/formulation.md, each on a tiny hand-checkable case.

The base instance (tests/factory.py): 1 ward = 10 beds at 100% occupancy, no discounting, no
carbon price, years 2020-2022. Every test states the arithmetic, then asserts the exact number.
"""

from __future__ import annotations

import pytest

from model.inputs import residual_share
from model.run import solve_scenario
from tests.factory import Tiny

PENNY = 0.01  # money to the penny (and places, patients and tonnes to a hundredth)


def solve(tiny: Tiny, tmp_path, name: str = "s"):
    return solve_scenario(tiny.write(tmp_path / name), runs_root=None, baseline=False)


def delayed(result, source: str, target: str) -> list[float]:
    d = result.solution.delayed
    rows = d[(d["from_service"] == source) & (d["to_service"] == target)].sort_values("year")
    return rows["delayed_patients"].tolist()


def community_column(result, column: str) -> list[float]:
    return result.solution.community.sort_values("year")[column].tolist()


def years_column(result, column: str) -> list[float]:
    return result.solution.years.sort_values("year")[column].tolist()


def wards(result, site: str, service: str) -> list[int]:
    w = result.solution.wards
    return w[(w["site"] == site) & (w["service"] == service)].sort_values("year")["wards"].tolist()


# -- 1. a community place is counted once -------------------------------------------------------
def diverted_places() -> Tiny:
    # F: 10 beds of low need (LOS 2), every discharge steps down to community (LOS 2), no base
    # community places. Substitution: 0.5 low beds avoided per place, at most 20% of low need:
    # 0.5 x places <= 0.2 x 10 -> at most 4 places, which divert 2 beds. Places cost 1k a year,
    # far less than the 2 beds (10k each) they save, so all 4 are commissioned and filled.
    tiny = Tiny().service("comm", level="community", beds_per_ward=0, cost_per_occupied_bed_gbp=1_000,
                          cost_per_ward_gbp=0, mean_los_years=2.0, substitutes="low",
                          substitution_rate=0.5, max_substitution_share=0.2)
    tiny.pathway.append({"from_service": "low", "to_service": "comm", "share": 1.0})
    return (tiny.site("A", wards={"low": 2}).service("low", out_of_area_premium=9.0)
            .need("F", "low", 10))


def test_places_filled_by_diverted_patients_take_no_stepdowns(tmp_path):
    result = solve(diverted_places(), tmp_path)
    assert community_column(result, "substitute_places") == pytest.approx([4, 4, 4], rel=0, abs=PENNY)
    # 10 - 2 diverted = 8 inpatients in treatment discharge 8 / 2 = 4 a year; the 4 places are
    # full of diverted patients and there are no base places, so all 4 are delayed (the old
    # accounting counted the 4 places twice: 2 step-downs, 3 delayed).
    assert delayed(result, "low", "comm") == pytest.approx([4, 4, 4], rel=0, abs=PENNY)
    assert result.solution.delayed["stepdown_patients"].sum() == pytest.approx(0, rel=0, abs=PENNY)
    # need = 10 - 2 + 0.5 x 4 delayed holding their beds = 10
    assert result.solution.unmet["need_beds"].tolist() == pytest.approx([10, 10, 10], rel=0, abs=PENNY)


def test_spare_commissioned_places_do_take_stepdowns(tmp_path):
    # A place commissioned but not filled by a diverted patient turns over like any other.
    # With no substitution allowed (share 0) nothing is commissioned; with base places of 6
    # (LOS 2: 3 a year) 3 of the 5 discharges step down and 2 are delayed.
    tiny = diverted_places().service("comm", max_substitution_share=0.0).need("F", "comm", 6)
    result = solve(tiny, tmp_path)
    assert delayed(result, "low", "comm") == pytest.approx([2, 2, 2], rel=0, abs=PENNY)


# -- 2. a blocked bed does not turn over --------------------------------------------------------
def chain(downstream_route: bool) -> Tiny:
    # F: 20 medium beds (LOS 2) discharge 10 a year, all to low. F's 10 low beds (LOS 2, in
    # reach at L) admit 5 a year: 5 medium -> low discharges are delayed. A low -> community
    # route with no community place at all delays all 5 low discharges, whose beds (0.5 x 5 =
    # 2.5) add to low need, but those beds hold nobody in treatment: still 5 admissions a year.
    tiny = Tiny()
    tiny.pathway.append({"from_service": "med", "to_service": "low", "share": 1.0})
    tiny.site("A", wards={"med": 4, "low": 0})
    tiny.site("L", footprint="F", wards={"low": 2})
    if downstream_route:
        tiny.service("comm", level="community", beds_per_ward=0, cost_per_ward_gbp=0)
        tiny.pathway.append({"from_service": "low", "to_service": "comm", "share": 1.0})
    tiny.service("med", out_of_area_premium=4.0).service("low", out_of_area_premium=4.0)
    return (tiny.policy(delayed_discharge_penalty_gbp=1_000_000.0)
            .need("F", "med", 20).need("F", "low", 10))


def test_downstream_bottleneck_never_helps_upstream(tmp_path):
    without = solve(chain(False), tmp_path, "without")
    with_route = solve(chain(True), tmp_path, "with")
    assert delayed(without, "med", "low") == pytest.approx([5, 5, 5], rel=0, abs=PENNY)
    # the old accounting gave 3.75: the 12.5 low beds (2.5 blocked) were taken to turn over
    assert delayed(with_route, "med", "low") == pytest.approx([5, 5, 5], rel=0, abs=PENNY)
    assert delayed(with_route, "low", "comm") == pytest.approx([5, 5, 5], rel=0, abs=PENNY)


# -- 3. building and removing costs what it costs -----------------------------------------------
def spike(need: dict[int, float]) -> Tiny:
    # Candidate A (free to open) has room for wards but none today. A ward costs 1M of capital
    # (10 beds x 100k), 500k a year to run and 10k a bed-year; unmet need costs (10k + 50k) x 5
    # = 300k a bed-year, so a 10-bed gap (3M a year) is always worth a ward. Asset life 30
    # years, no discounting.
    return (Tiny().site("A", wards={"med": 0}, max_wards=3, status="candidate")
            .service("med", cost_per_ward_gbp=500_000, out_of_area_premium=4.0)
            .set(asset_life_years=30).need("F", "med", need))


def test_ward_built_for_a_spike_and_removed_is_charged_in_full(tmp_path):
    result = solve(spike({2020: 10, 2021: 0, 2022: 0}), tmp_path)
    assert wards(result, "A", "med") == [1, 0, 0]
    # built 2020, removed 2021: capital 1M in full (no residual value: the ward is gone) +
    # 2020 running 500k + 100k. Kept idle instead: 1M - 0.9M residual + 3 x 500k + 100k = 1.7M.
    # (The old annuity accounting charged 1M / 30 a year to 2022: 100k for the whole spike.)
    assert result.outcome.objective == pytest.approx(1_600_000, rel=0, abs=PENNY)
    assert years_column(result, "cost_capital_gbp") == pytest.approx([1_000_000, 0, 0], rel=0, abs=PENNY)
    assert years_column(result, "cost_residual_gbp") == pytest.approx([0, 0, 0], rel=0, abs=PENNY)


def test_ward_that_stands_at_the_end_keeps_its_residual_value(tmp_path):
    result = solve(spike(10), tmp_path)
    # residual share of 2020 spending: 30-year life, 3 years used -> 27/30 = 0.9
    assert years_column(result, "cost_residual_gbp") == pytest.approx([-900_000, 0, 0], rel=0, abs=PENNY)
    # 1M - 0.9M + 3 x (500k + 100k) = 1.9M
    assert result.outcome.objective == pytest.approx(1_900_000, rel=0, abs=PENNY)


def closing(notice: int = 0, decommission_bed_gbp: float = 0.0) -> Tiny:
    # A's 4 wards (100k a year each) are not needed after 2020.
    return (Tiny().site("A", wards={"med": 4})
            .service("med", decommission_bed_gbp=decommission_bed_gbp)
            .policy(ward_removal_notice_years=notice)
            .need("F", "med", {2020: 40, 2021: 0, 2022: 0}))


def test_ward_removal_needs_notice(tmp_path):
    assert wards(solve(closing(0), tmp_path, "a"), "A", "med") == [4, 0, 0]
    # no removal before 2020 + 2
    assert wards(solve(closing(2), tmp_path, "b"), "A", "med") == [4, 4, 0]


def test_ward_removal_has_a_cost(tmp_path):
    # 5k a bed space: 4 wards x 10 beds x 5k = 200k, less than 2 years x 4 x 100k = 800k
    cheap = solve(closing(0, 5_000), tmp_path, "cheap")
    assert wards(cheap, "A", "med") == [4, 0, 0]
    assert years_column(cheap, "cost_decommission_gbp") == pytest.approx([0, 200_000, 0], rel=0, abs=PENNY)
    # 30k a bed space: 1.2M to remove, 800k to keep: the wards stay
    dear = solve(closing(0, 30_000), tmp_path, "dear")
    assert wards(dear, "A", "med") == [4, 4, 4]


# -- 4. one time basis ---------------------------------------------------------------------------
def test_residual_share_matches_the_annuity_within_the_horizon():
    # r = 0: straight line. 30-year life, spent in the first of 3 years: 27/30 left.
    assert residual_share(0.0, 30, 2020, 2022) == pytest.approx(0.9, rel=0, abs=PENNY)
    assert residual_share(0.0, 30, 2022, 2022) == pytest.approx(29 / 30, rel=0, abs=PENNY)
    assert residual_share(0.0, 2, 2020, 2022) == 0.0  # life over within the horizon
    # r > 0: spending less its residual share is the present value of the equal payments
    # (at the start of each year of the life) that fall within the horizon.
    r, life = 0.035, 30
    payment = 1.0 / sum((1 + r) ** -k for k in range(life))
    within = sum(payment * (1 + r) ** -k for k in range(3))
    assert 1.0 - residual_share(r, life, 2020, 2022) == pytest.approx(within, rel=0, abs=PENNY)


def test_embodied_carbon_and_opening_cost_on_the_capital_basis(tmp_path):
    # Candidate C opens in 2020 (open cost 300k) with one new ward (1M capital, 10 beds x 5 t
    # embodied = 50 t) for 10 beds of need; carbon 100 GBP/t. Both the capital and the embodied
    # carbon are charged in 2020 and 90% of each (27 of 30 years) is credited back: the plan
    # pays 0.1 x (1M + 300k) and 0.1 x 50 t x 100 GBP.
    tiny = (Tiny().site("C", wards={"med": 0}, status="candidate", open_cost_gbp=300_000)
            .service("med", embodied_t_per_new_bed=5.0, out_of_area_premium=9.0)
            .set(asset_life_years=30, carbon_price_gbp_per_t=100.0).need("F", "med", 10))
    result = solve(tiny, tmp_path)
    assert years_column(result, "cost_capital_gbp") == pytest.approx([1_300_000, 0, 0], rel=0, abs=PENNY)
    assert years_column(result, "cost_residual_gbp") == pytest.approx([-1_170_000, 0, 0], rel=0, abs=PENNY)
    assert years_column(result, "carbon_embodied_t") == pytest.approx([50, 0, 0], rel=0, abs=PENNY)
    assert years_column(result, "carbon_embodied_residual_t") == pytest.approx([-45, 0, 0], rel=0, abs=PENNY)
    assert result.solution.objective_terms["carbon_gbp"] == pytest.approx(500, rel=0, abs=PENNY)


def test_closure_cost_charged_once_when_it_happens(tmp_path):
    # B closes in 2021 (need falls to 0): its 250k closure cost is charged in 2021, once.
    # (unmet need costs 20k x 10 = 200k a bed-year: B is needed in 2020)
    tiny = (Tiny().site("B", wards={"med": 1}, close_cost_gbp=250_000, fixed_cost_gbp=1_000_000)
            .service("med", out_of_area_premium=9.0)
            .need("F", "med", {2020: 10, 2021: 0, 2022: 0}))
    result = solve(tiny, tmp_path)
    assert years_column(result, "cost_closure_gbp") == pytest.approx([0, 250_000, 0], rel=0, abs=PENNY)


# -- 5. community places are a service, not a switch ---------------------------------------------
def community(**changes) -> Tiny:
    # 20 low beds of need; a community place (5k a year) replaces 1 low bed, up to half the need
    # (ceiling 10 places). A low ward costs 100k + 10 x 10k a year, so 10 places (50k) pay.
    return (Tiny()
            .service("comm", level="community", beds_per_ward=0, cost_per_occupied_bed_gbp=5_000,
                     cost_per_ward_gbp=0, substitutes="low", substitution_rate=1.0,
                     max_substitution_share=0.5, **changes)
            .site("A", wards={"low": 2})
            .need("F", "low", 20))


def test_community_places_wait_for_their_lead_time(tmp_path):
    result = solve(community(new_build_lead_years=1), tmp_path)
    assert community_column(result, "substitute_places") == pytest.approx([0, 10, 10], rel=0, abs=PENNY)


def test_community_places_ramp_up(tmp_path):
    # at most half the ceiling (5 places) added a year
    result = solve(community(max_new_places_share=0.5), tmp_path)
    assert community_column(result, "extra_places") == pytest.approx([5, 10, 10], rel=0, abs=PENNY)


def test_community_places_cost_a_setup_fee_and_persist(tmp_path):
    # need falls to 0 in 2022: the 10 places stay commissioned (and paid), empty. Set-up 2k a
    # place: 20k in 2020. Cost: places 3 x 50k + 20k set-up + 2020-21 beds 2 x (100k + 100k)
    # for the 10 remaining low beds (one ward removed in 2020: free, no notice).
    tiny = community(setup_cost_per_place_gbp=2_000)
    tiny.demand = [row for row in tiny.demand if row["year"] != 2022]
    result = solve(tiny, tmp_path)
    assert community_column(result, "extra_places") == pytest.approx([10, 10, 10], rel=0, abs=PENNY)
    assert community_column(result, "substitute_places") == pytest.approx([10, 10, 0], rel=0, abs=PENNY)
    assert years_column(result, "cost_community_setup_gbp") == pytest.approx([20_000, 0, 0], rel=0, abs=PENNY)
    assert result.outcome.objective == pytest.approx(3 * 50_000 + 20_000 + 2 * 200_000, rel=0, abs=PENNY)


# -- 6. conversions keep bed spaces; an empty ward still emits -----------------------------------
def test_conversion_creates_no_bed_spaces(tmp_path):
    # A has two 11-bed low wards (22 spaces) and may convert them to 15-bed medium wards; 30
    # medium beds are needed, nothing else, and no new build is allowed. 22 spaces hold one
    # 15-bed ward, not two: 15 beds placed, 15 unmet.
    tiny = (Tiny().site("A", wards={"med": 0, "low": 2}, max_wards=2)
            .service("med", beds_per_ward=15, out_of_area_premium=9.0)
            .service("low", beds_per_ward=11)
            .policy(allow_new_builds=False).need("F", "med", 30))
    result = solve(tiny, tmp_path)
    w = result.solution.wards.set_index(["service", "year"])
    assert w.loc[("med", 2020), "converted_in"] == 1
    assert w.loc[("low", 2020), "converted_out"] == 2
    assert wards(result, "A", "med") == [1, 1, 1]
    assert result.solution.unmet["unmet_beds"].tolist() == pytest.approx([15, 15, 15], rel=0, abs=PENNY)


def test_empty_ward_still_emits_estate_carbon(tmp_path):
    # One 10-bed ward nobody uses, which cannot be removed within the horizon (notice 5 years):
    # 10 bed spaces x 2 t a year x estate factor 1.5 = 30 t a year; no occupied bed-day.
    tiny = (Tiny().site("A", wards={"med": 1}, carbon_factor=1.5)
            .service("med", estate_carbon_t_per_bed_year=2.0, carbon_kg_per_bed_day=50)
            .policy(ward_removal_notice_years=5))
    tiny.site("L", wards={"low": 1}).need("F", "low", 1)
    result = solve(tiny, tmp_path)
    assert years_column(result, "carbon_estate_t") == pytest.approx([30, 30, 30], rel=0, abs=PENNY)
    assert years_column(result, "carbon_operational_t") == pytest.approx([0, 0, 0], rel=0, abs=PENNY)


# -- the cost no decision can avoid (the base of `gap_rel_controllable`) ------------------------
def test_unavoidable_cost_by_hand():
    """Need that no decision can avoid, at its cheapest occupied-bed cost (no discounting, three
    years). med: 5 beds a year, at A (factor 1.0: 10,000) or B (factor 0.8: 8,000), out of area
    20,000 x 2 = 40,000: 8,000 a bed; community places may replace at most 20% of it, so 80%
    is unavoidable: 3 x 5 x 0.8 x 8,000 = 96,000. low: 1 bed a year, only at C (factor 2.0:
    2 x 50,000 = 100,000), out of area (50,000 + 100,000 / 10 beds) x (1 + 0) = 60,000, the
    cheaper: 3 x 1 x 60,000 = 180,000. In all 276,000."""
    from model.run import unavoidable_cost

    tiny = (Tiny().service("comm", level="community", beds_per_ward=0, cost_per_ward_gbp=0,
                           substitutes="med", substitution_rate=0.5, max_substitution_share=0.2)
            .service("low", cost_per_occupied_bed_gbp=50_000, out_of_area_premium=0.0)
            .site("A", wards={"med": 1}).site("B", wards={"med": 0}, cost_factor=0.8)
            .site("C", wards={"low": 1}, cost_factor=2.0)
            .need("F", "med", 5).need("F", "low", 1))
    assert unavoidable_cost(tiny.inputs()) == pytest.approx(276_000, abs=PENNY)
