"""Rules with a direction, checked on small random scenarios (hypothesis).

- A pathway route with no capacity added downstream never lowers delays upstream.
- Allowing community substitution never lowers delays into community below what the places
  that are not filled by diverted patients allow.
- The objective never rewards adding a ward and removing it within its asset life.
"""

from __future__ import annotations

import pyomo.environ as pyo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.common.collections import ComponentMap

from model.data import load_scenario
from model.formulation import build_model
from model.inputs import build_inputs
from model.run import solve_scenario
from model.solve import solve
from tests.factory import Tiny

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _delayed(result, source: str, target: str) -> float:
    d = result.solution.delayed
    return float(d[(d["from_service"] == source) & (d["to_service"] == target)]
                 ["delayed_patients"].sum())


@st.composite
def pathways(draw):
    med = draw(st.integers(5, 30))
    low = draw(st.integers(0, 20))
    share = draw(st.sampled_from([0.25, 0.5, 1.0]))
    low_wards = draw(st.integers(0, 3))
    los_low = draw(st.sampled_from([1.0, 2.0, 3.0]))
    grow = draw(st.booleans())
    return med, low, share, low_wards, los_low, grow


def _chain(med, low, share, low_wards, los_low, grow, route: bool) -> Tiny:
    tiny = Tiny()
    tiny.pathway.append({"from_service": "med", "to_service": "low", "share": share})
    tiny.site("A", wards={"med": 4, "low": 0})
    tiny.site("L", footprint="F", wards={"low": low_wards}, max_wards=4 if grow else max(low_wards, 1))
    tiny.service("low", mean_los_years=los_low, out_of_area_premium=2.0)
    if route:
        tiny.service("comm", level="community", beds_per_ward=0, cost_per_ward_gbp=0)
        tiny.pathway.append({"from_service": "low", "to_service": "comm", "share": 1.0})
    # delays dearer than anything else: the solver minimises them first
    tiny.policy(delayed_discharge_penalty_gbp=1e8).set(asset_life_years=30)
    tiny.need("F", "med", med)
    if low:
        tiny.need("F", "low", low)
    return tiny


@SETTINGS
@given(case=pathways())
def test_zero_capacity_route_never_lowers_upstream_delays(tmp_path, case):
    without = solve_scenario(_chain(*case, route=False).write(tmp_path / "a"), runs_root=None,
                             baseline=False)
    with_route = solve_scenario(_chain(*case, route=True).write(tmp_path / "b"), runs_root=None,
                                baseline=False)
    assert _delayed(with_route, "med", "low") >= _delayed(without, "med", "low") - 1e-6


@st.composite
def substitutions(draw):
    return (draw(st.integers(4, 30)), draw(st.integers(0, 12)), draw(st.sampled_from([0.5, 1.0])),
            draw(st.sampled_from([0.1, 0.2, 0.5])), draw(st.sampled_from([1.0, 2.0, 3.0])),
            draw(st.sampled_from([1_000, 20_000])))


@SETTINGS
@given(case=substitutions())
def test_substitution_never_lowers_delays_below_what_free_places_allow(tmp_path, case):
    low, base_places, rate, share, los_comm, place_cost = case
    tiny = Tiny().service("comm", level="community", beds_per_ward=0, cost_per_ward_gbp=0,
                          cost_per_occupied_bed_gbp=place_cost, mean_los_years=los_comm,
                          substitutes="low", substitution_rate=rate, max_substitution_share=share)
    tiny.pathway.append({"from_service": "low", "to_service": "comm", "share": 1.0})
    tiny.site("A", wards={"low": 4}).service("low", out_of_area_premium=2.0).need("F", "low", low)
    if base_places:
        tiny.need("F", "comm", base_places)
    result = solve_scenario(tiny.write(tmp_path / "s"), runs_root=None, baseline=False)
    comm = result.solution.community.set_index("year")
    for t in (2020, 2021, 2022):
        diverted = comm.at[t, "substitute_places"] * rate
        discharges = (low - diverted) / 2.0  # low LOS 2: patients in treatment / LOS
        free_places = comm.at[t, "places"] - comm.at[t, "substitute_places"]
        d = result.solution.delayed.set_index("year")
        assert d.at[t, "delayed_patients"] >= discharges - free_places / los_comm - 1e-6
        # and the places filled by diverted patients are within the substitution ceiling
        assert diverted <= share * low + 1e-6


@st.composite
def estates(draw):
    need = [draw(st.integers(0, 40)) for _ in range(3)]
    existing = draw(st.integers(1, 3))  # an existing unit with no ward is closed for good
    build_year = draw(st.sampled_from([2020, 2021]))
    remove_after = draw(st.sampled_from([1, 2]))
    return need, existing, build_year, min(build_year + remove_after, 2022)


@SETTINGS
@given(case=estates())
def test_adding_and_removing_a_ward_is_never_rewarded(tmp_path, case):
    # Solve; then add to the optimal plan one more ward built at A in `built` and removed in
    # `removed` (within the 30-year asset life), every placement as it was, and let only the
    # residual-value bookkeeping (`standing_*`) re-optimise. The objective must rise by at least
    # the ward's capital less the most residual value it could earn: 10 beds x 100k x (1 -
    # residual share of its year) > 0 (the ward may be booked as replacing an older one).
    need, existing, built, removed = case
    tiny = (Tiny().site("A", wards={"med": existing}, max_wards=8)
            .site("B", wards={"med": 1}, max_wards=8, lat=53.2)
            .set(asset_life_years=30).service("med", out_of_area_premium=3.0)
            .need("F", "med", dict(zip((2020, 2021, 2022), need, strict=True))))
    folder = tiny.write(tmp_path / "s")
    data = build_inputs(load_scenario(folder))
    m = build_model(data)
    best = solve(m, data.config.solver)
    assert best.status == "optimal"
    integers = [v for v in m.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary()]
    plan = ComponentMap((v, round(v.value or 0)) for v in integers)
    if plan[m.wards["A", "med", 2022]] >= 8 or any(plan[m.wards["A", "med", t]] >= 8
                                                  for t in (2020, 2021, 2022)):
        return  # no room for one more ward at A
    for var, value in plan.items():
        var.fix(value)
    for name in ("place", "unmet", "stepdown", "delayed", "extra_places", "substitute"):
        for var in getattr(m, name).values():
            var.fix(var.value or 0.0)
    m.build["A", "med", built].fix(plan[m.build["A", "med", built]] + 1)
    m.remove["A", "med", removed].fix(plan[m.remove["A", "med", removed]] + 1)
    for t in (2020, 2021, 2022):
        extra = 1 if built <= t < removed else 0
        m.wards["A", "med", t].fix(plan[m.wards["A", "med", t]] + extra)
        m.operate["A", t].fix(1 if plan[m.wards["A", "med", t]] + extra > 0 else plan[m.operate["A", t]])
    forced = solve(m, data.config.solver)
    assert forced.status == "optimal"
    capital = 10 * 100_000
    share = data.residual_share[built]
    assert forced.objective >= best.objective + capital * (1 - share) - 1e-3
    assert forced.objective > best.objective


def test_residual_share_rises_with_the_year_spent(tmp_path):
    folder = (Tiny().site("A", wards={"med": 1}).need("F", "med", 1).set(asset_life_years=30)
              .set(discount_rate=0.035).write(tmp_path / "s"))
    share = build_inputs(load_scenario(folder)).residual_share
    assert 0.0 < share[2020] < share[2021] < share[2022] < 1.0
