"""KPIs by hand: a solution's tables written out on a tiny instance, every row checked."""

from __future__ import annotations

import pandas as pd
import pytest

from model.results import Solution, kpis
from tests.factory import Tiny


def _inputs():
    # hub H holds footprint F and sites A and C; hub G holds footprint FG and site B
    tiny = (Tiny().set(horizon_years=2).site("A", wards={"med": 1}).site("C", wards={"med": 1})
            .site("B", footprint="FG", wards={"med": 1}).need("F", "med", 8).need("FG", "med", 6)
            .policy(unmet_km=100.0))
    return tiny.inputs()


def _solution() -> Solution:
    allocation = pd.DataFrame(
        [("F", "A", "med", 2020, 6.0, 0.0), ("FG", "A", "med", 2020, 2.0, 111.0),
         ("FG", "B", "med", 2020, 4.0, 0.0), ("F", "C", "med", 2021, 8.0, 5.0)],
        columns=["footprint", "site", "service", "year", "beds", "km"])
    site_terms = pd.DataFrame(
        [("A", 2020, 800.0, 8.0), ("B", 2020, 400.0, 4.0), ("C", 2020, 100.0, 1.0),
         ("A", 2021, 50.0, 0.5), ("B", 2021, 0.0, 0.0), ("C", 2021, 30.0, 0.3)],
        columns=["site", "year", "cost_gbp", "carbon_t"])
    footprint_terms = pd.DataFrame(
        [("F", 2020, 10.0, 0.0), ("FG", 2020, 20.0, 0.0), ("F", 2021, 0.0, 0.0), ("FG", 2021, 7.0, 0.0)],
        columns=["footprint", "year", "cost_gbp", "carbon_t"])
    unmet = pd.DataFrame(
        [("F", "med", 2020, 1.0, 8.0, 8.0), ("FG", "med", 2020, 0.0, 6.0, 6.0),
         ("F", "med", 2021, 0.0, 8.0, 8.0), ("FG", "med", 2021, 6.0, 6.0, 6.0)],
        columns=["footprint", "service", "year", "unmet_beds", "need_beds", "demand_beds"])
    community = pd.DataFrame(columns=["footprint", "service", "year", "places"])
    delayed = pd.DataFrame([("F", "med", "low", 2021, 0.5)],
                           columns=["footprint", "from_service", "to_service", "year", "delayed_patients"])
    return Solution(wards=pd.DataFrame(), allocation=allocation, unmet=unmet, delayed=delayed,
                    community=community, years=pd.DataFrame(), objective_terms={},
                    site_terms=site_terms, footprint_terms=footprint_terms)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return kpis(_solution(), _inputs(), "optimised").set_index(["scope", "id", "year"])


def test_every_scope_and_year_has_a_row(table):
    # 2 footprints + 2 hubs + England, each for all years and for 2020 and 2021
    assert len(table) == 5 * 3
    assert list(table.index.get_level_values("scope").unique()) == ["footprint", "hub", "england"]
    # within a scope, all years first and then each year, the groups in order of their ids
    assert list(table.loc["footprint"].index) == [("F", "all"), ("FG", "all"), ("F", 2020), ("FG", 2020),
                                                  ("F", 2021), ("FG", 2021)]
    assert list(table.loc["hub"].index) == [("G", "all"), ("H", "all"), ("G", 2020), ("H", 2020),
                                            ("G", 2021), ("H", 2021)]


def test_site_costs_are_shared_by_beds_and_unused_sites_count_at_their_hub(table):
    # 2020: A (800, 8 t) serves F 6 beds and FG 2 beds: F 600 + its own 10 = 610, 6 t;
    # FG 200 + B's 400 + its own 20 = 620, 2 + 4 = 6 t. C is unused in 2020: 100 and 1 t at hub H only.
    assert table.loc[("footprint", "F", 2020), "cost_gbp"] == pytest.approx(610.0)
    assert table.loc[("footprint", "F", 2020), "carbon_t"] == pytest.approx(6.0)
    assert table.loc[("footprint", "FG", 2020), "cost_gbp"] == pytest.approx(620.0)
    assert table.loc[("footprint", "FG", 2020), "carbon_t"] == pytest.approx(6.0)
    assert table.loc[("hub", "H", 2020), "cost_gbp"] == pytest.approx(610.0 + 100.0)
    assert table.loc[("hub", "H", 2020), "carbon_t"] == pytest.approx(6.0 + 1.0)
    assert table.loc[("hub", "G", 2020), "cost_gbp"] == pytest.approx(620.0)
    # 2021: C (30) serves F alone; A (50, 0.5 t) is unused: at H. F 30 + 0 = 30, FG its own 7.
    assert table.loc[("footprint", "F", 2021), "cost_gbp"] == pytest.approx(30.0)
    assert table.loc[("hub", "H", 2021), "cost_gbp"] == pytest.approx(30.0 + 50.0)
    assert table.loc[("hub", "H", 2021), "carbon_t"] == pytest.approx(0.3 + 0.5)
    assert table.loc[("footprint", "FG", 2021), "cost_gbp"] == pytest.approx(7.0)
    # England, all years: 610 + 620 + 100 + 30 + 50 + 7 = 1,417; 6 + 6 + 1 + 0.3 + 0.5 = 13.8 t
    assert table.loc[("england", "England", "all"), "cost_gbp"] == pytest.approx(1417.0)
    assert table.loc[("england", "England", "all"), "carbon_t"] == pytest.approx(13.8)
    assert table.loc[("hub", "H", "all"), "cost_gbp"] == pytest.approx(610.0 + 100.0 + 30.0 + 50.0)


def test_distance_shares_and_counts(table):
    # F 2020: 6 beds at 0 km and 1 unmet bed at the unmet distance, 100 km: 100 km over 7 beds;
    # all 6 placed in its own hub (A is in H), need 8: in-hub share 6 / 8
    f20 = table.loc[("footprint", "F", 2020)]
    assert (f20["patient_km"], f20["placed_beds"], f20["unmet_beds"]) == pytest.approx((100.0, 6.0, 1.0))
    assert f20["mean_km"] == pytest.approx(100.0 / 7)
    assert f20["in_hub_share"] == pytest.approx(6 / 8)
    # FG 2020: 2 beds at A (hub H, 111 km) and 4 at B (its own hub): 222 km over 6 beds, 4 of 6 in hub
    fg20 = table.loc[("footprint", "FG", 2020)]
    assert (fg20["patient_km"], fg20["mean_km"], fg20["in_hub_share"]) == pytest.approx((222.0, 37.0, 4 / 6))
    # England 2020: 100 + 222 = 322 km over 12 placed + 1 unmet; 10 of 14 needed beds in hub
    e20 = table.loc[("england", "England", 2020)]
    assert (e20["mean_km"], e20["in_hub_share"]) == pytest.approx((322.0 / 13, 10 / 14))
    # FG 2021: nothing placed, 6 unmet at 100 km: 600 km, mean 100 km, in-hub share 0 of 6
    fg21 = table.loc[("footprint", "FG", 2021)]
    assert (fg21["patient_km"], fg21["mean_km"], fg21["in_hub_share"]) == pytest.approx((600.0, 100.0, 0.0))
    # delayed discharges: F's 0.5 in 2021, in F, hub H and England, in 2021 and over all years
    for key in (("footprint", "F", 2021), ("hub", "H", "all"), ("england", "England", 2021)):
        assert table.loc[key, "delayed_discharges"] == pytest.approx(0.5)
    assert table.loc[("hub", "G", "all"), "delayed_discharges"] == 0.0
    # need over both years: F 8 + 8, FG 6 + 6
    assert table.loc[("england", "England", "all"), "need_beds"] == pytest.approx(28.0)
