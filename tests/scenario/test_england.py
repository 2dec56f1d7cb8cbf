"""The England default dataset and the Yorkshire and Humber case study (issue 3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from model.data import load_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "data" / "scenarios"
ENGLAND = SCENARIOS / "england"
YH = SCENARIOS / "yorkshire-humber"
BUILD = REPO / "scripts" / "build_england.py"
YH_FOOTPRINTS = {"E54000005", "E54000006", "E54000009"}


@pytest.fixture(scope="module")
def england():
    return load_scenario(ENGLAND)


def test_footprints_and_hubs(england):
    assert len(england.footprints) == 44
    assert england.footprints["footprint"].is_unique
    assert len(england.hubs) == 9
    assert set(england.hubs["hub"]) == {"NEC", "YH", "NW", "WM", "EM", "EOE", "LDN", "SW", "SE"}
    assert set(england.footprints["hub"]) == set(england.hubs["hub"])
    # real populations: ONS mid-2018 England total
    assert england.footprints["population"].sum() == 55_977_178


def _beds_by_level(data) -> dict[str, int]:
    svc = data.services.set_index("service")
    ss = data.site_services.merge(svc[["level", "beds_per_ward"]], left_on="service",
                                  right_index=True)
    ss["beds"] = ss["wards"].astype(int) * ss["beds_per_ward"].astype(int)
    return ss.groupby("level")["beds"].sum().to_dict()


def test_national_bed_totals(england):
    beds = _beds_by_level(england)
    assert abs(beds["medium"] - 3500) <= 350
    assert abs(beds["low"] - 3000) <= 300


def test_services_cover_the_cohorts(england):
    svc = england.services.set_index("service")
    assert {"medium_m", "medium_f", "low_m", "low_f", "low_ld", "community"} <= set(svc.index)
    assert svc.at["community", "level"] == "community"
    assert svc.at["community", "substitutes"] == "low_m"
    # a full ward at target occupancy costs the published figure per bed-year
    for v, published in (("medium_m", 165_000), ("low_m", 152_000), ("low_f", 152_000)):
        row = svc.loc[v]
        per_bed = row["cost_per_occupied_bed_gbp"] + row["cost_per_ward_gbp"] / (
            row["beds_per_ward"] * row["target_occupancy"])
        assert per_bed == pytest.approx(published, abs=1)


def test_sites(england):
    sites = england.sites
    assert 100 <= len(sites) <= 200
    assert sites["site"].is_unique
    candidates = sites[sites["status"] == "candidate"]
    hub = england.footprints.set_index("footprint")["hub"]
    per_hub = candidates["footprint"].map(hub).value_counts()
    assert set(per_hub.index) == set(england.hubs["hub"]) and per_hub.min() >= 2
    assert (candidates["lead_years"] >= 1).all()
    hosted = set(england.site_services["site"])
    assert set(sites["site"]) <= hosted  # every site can host some service
    # estate age differs between units: the optimiser has real choices
    existing = sites[sites["status"] == "existing"]
    assert existing["carbon_factor"].nunique() > 50
    assert existing["carbon_factor"].max() > 1.2 > 0.9 > existing["carbon_factor"].min()


def test_every_site_inside_its_footprint(england):
    sites = england.sites
    points = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326",
                           index=sites["site"])
    polygons = england.geometry.geometry
    outside = [s for s, fp in zip(sites["site"], sites["footprint"], strict=True)
               if not polygons.loc[fp].contains(points.loc[s])]
    assert outside == []
    footprints = england.footprints.set_index("footprint")
    ref = gpd.GeoSeries(gpd.points_from_xy(footprints["lon"], footprints["lat"]),
                        crs="EPSG:4326", index=footprints.index)
    assert all(polygons.loc[fp].contains(ref.loc[fp]) for fp in footprints.index)


def test_demand_calibrated_to_national_totals(england):
    demand = england.demand.merge(england.services[["service", "level"]], on="service")
    base = demand[demand["year"] == england.config.base_year].groupby("level")["beds"].sum()
    assert base["medium"] == pytest.approx(0.92 * 3500, rel=0.02)
    assert base["low"] == pytest.approx(0.92 * 3000, rel=0.02)
    last = demand[demand["year"] == england.config.years[-1]].groupby("level")["beds"].sum()
    assert last["medium"] < base["medium"] and last["community"] > base["community"]


def test_in_hub_rule_starts_after_new_build_lead_time(england):
    lead = int(england.services["new_build_lead_years"].max())
    assert england.config.policy.in_hub_from_year == england.config.base_year + lead


def test_attribution_kept():
    line = ("Source: Office for National Statistics licensed under the Open Government Licence "
            "v.3.0. Contains OS data © Crown copyright and database right 2017.")
    for path in (ENGLAND / "ASSUMPTIONS.md", REPO / "data" / "reference" / "README.md"):
        assert line in " ".join(path.read_text(encoding="utf-8").split()), path
    shared = (REPO / "data" / "reference" / "SOURCES.md").read_text(encoding="utf-8")
    assert "Source: Office for National Statistics licensed under the" in shared


def test_build_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for sub in ("scenarios/england", "reference"):
        built = sorted(p.name for p in (tmp_path / sub).iterdir())
        committed = sorted(p.name for p in (REPO / "data" / sub).iterdir())
        assert built == committed, sub
        for name in built:
            assert (tmp_path / sub / name).read_bytes() == (REPO / "data" / sub / name).read_bytes(), \
                f"{sub}/{name} differs from a fresh build: run `make data`"


def test_yorkshire_humber_scope():
    yh = load_scenario(YH)
    assert yh.config.name == "yorkshire-humber"
    assert list(yh.hubs["hub"]) == ["YH"]
    assert set(yh.footprints["footprint"]) == YH_FOOTPRINTS
    assert set(yh.sites["footprint"]) <= YH_FOOTPRINTS
    assert set(yh.demand["footprint"]) == YH_FOOTPRINTS
    names = set(yh.sites["name"])
    for unit in ("Newton Lodge", "Forest Lodge", "Clifton House", "Stockton Hall", "Humber Centre",
                 "Bretton Centre"):
        assert unit in names
    ss = yh.site_services.set_index(["site", "service"])["wards"]
    assert ss["YH-NEWTON", "medium_m"] * 15 + ss["YH-NEWTON", "medium_f"] * 15 == 90
    assert ss["YH-FOREST", "low_m"] * 11 == 22


@pytest.mark.parametrize("name", ["england-high-carbon", "england-no-new-builds"])
def test_variants_layer_on_england(name, england):
    variant = load_scenario(SCENARIOS / name)
    assert len(variant.footprints) == 44
    pd.testing.assert_frame_equal(variant.sites, england.sites)
    if name == "england-high-carbon":
        assert variant.config.carbon_price(2017) > england.config.carbon_price(2017)
    else:
        assert variant.config.policy.allow_new_builds is False


def test_yorkshire_humber_solves_quickly():
    from model.run import solve_scenario

    result = solve_scenario(YH, runs_root=None, baseline=False,
                            overrides={"solver": {"time_limit": 15, "mip_gap": 0.01}})
    assert result.outcome.has_solution


def test_yorkshire_humber_plan_is_credible():
    """make solve on Y&H: no ward removed before the notice allows, no ward added and removed
    within the horizon without its stranded capital charged, and the saving by lever adds up to
    the whole saving."""
    from model.run import solve_scenario

    result = solve_scenario(YH, runs_root=None,
                            overrides={"solver": {"time_limit": 60, "mip_gap": 0.005}})
    data = result.inputs
    wards = result.solution.wards
    notice = data.config.policy.ward_removal_notice_years
    assert wards[wards["year"] < data.years[0] + notice]["removed"].sum() == 0
    # residual value is credited only for added wards that still stand at the end
    last = wards[wards["year"] == data.years[-1]].set_index(["site", "service"])["wards"]
    standing = wards.groupby(["site", "service"])["standing_at_end"].sum()
    added = wards.assign(added=wards["built"] + wards["converted_in"]).groupby(
        ["site", "service"])["added"].sum()
    for key, value in standing.items():
        assert value <= last[key] + 1e-6
        assert value <= added[key] + 1e-6
    saving = result.saving
    total = result.baseline.objective - result.outcome.objective
    assert saving["saving_gbp"].sum() == pytest.approx(total, abs=1.0)
    assert list(saving["lever"]) == ["removals", "conversions", "new_builds", "community", "rules"]


def test_approved_unit_example_validates():
    """The England example of changes and fixed decisions: its locks pass the conflict checks
    (the approved unit's own lead time makes 2019 reachable) and its changes touch what they say."""
    from model.inputs import build_inputs

    scenario = load_scenario(SCENARIOS / "england-approved-unit")
    inputs = build_inputs(scenario)
    assert [lock.decision for lock in inputs.locks] == ["approved-newsam-2019", "keep-stockton"]
    assert [c["rows"] for c in scenario.changes] == [54, 1]  # 3 footprints x 6 services x 3 years
    assert inputs.earliest_build[("YH-C1", "low_m")] == 2019
    england = load_scenario(ENGLAND)
    yh = england.footprints.loc[england.footprints["hub"] == "YH", "footprint"]
    before = england.demand[england.demand["footprint"].isin(yh) & (england.demand["year"] >= 2019)]
    after = scenario.demand[scenario.demand["footprint"].isin(yh) & (scenario.demand["year"] >= 2019)]
    assert after["beds"].sum() == pytest.approx(1.15 * before["beds"].sum())


def test_approved_unit_example_on_yorkshire_humber_solves_with_its_prices():
    from model.run import solve_scenario

    result = solve_scenario(SCENARIOS / "yorkshire-humber-approved-unit", runs_root=None, baseline=False,
                            overrides={"solver": {"time_limit": 30, "mip_gap": 0.01}})
    wards = result.solution.wards
    opens = wards[wards["site"] == "YH-C1"].groupby("year")["operating"].max()
    assert opens.to_dict() == {2017: 0, 2018: 0, 2019: 1, 2020: 1, 2021: 1}
    stockton = wards[wards["site"] == "YH-STOCKTON"].groupby("service")["wards"].agg(set)
    assert stockton.to_dict() == {"low_f": {0}, "low_m": {2}, "medium_m": {6}}
    assert set(result.prices["decision"]) == {"approved-newsam-2019", "keep-stockton"}
    assert result.prices["gaps_gbp"].notna().all()


@pytest.mark.slow
def test_england_approved_unit_with_its_price_report():
    """make bench: the England example at full size, its run (with price.csv) kept in runs/."""
    from model.run import solve_scenario

    result = solve_scenario(SCENARIOS / "england-approved-unit", runs_root=REPO / "runs", workers=2)
    assert (result.run_dir / "price.csv").exists()
    assert result.prices["status_released"].isin(["optimal", "feasible"]).all()
