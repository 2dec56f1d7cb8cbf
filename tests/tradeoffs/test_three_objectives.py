"""The cost / carbon / patient-km frontier (AUGMECON2 with two bounded objectives) on a case whose
every plan can be enumerated by hand, on a real Dask LocalCluster.

Instance (one year, 2020; no discounting; every ward existing, removals free): footprint F (at
latitude 53.0) needs 20 med beds, two wards of 10. Occupied beds cost nothing and emit nothing:
a ward costs 100k x the site's cost factor a year and emits 1 t a bed-year x 10 beds x its
carbon factor; each of its patients is its km from F. Three sites, 2 wards each:

    A at F (0 km):              cost factor 3.0 (300k a ward), carbon 1.0 (10 t a ward)
    B at 53.6 (66.72 km):       cost factor 1.0 (100k a ward), carbon 3.0 (30 t a ward)
    C at 54.0 (111.19 km):      cost factor 2.0 (200k a ward), carbon 0.5 (5 t a ward)

Two wards hold every patient; a plan with more wards costs and emits more and places patients
no nearer than the two nearest it keeps, so only these six can be efficient (the test
enumerates all 23 and filters):

    AA: 600k, 20 t, 0 km        AB: 400k, 40 t, 667.2 km      AC: 500k, 15 t, 1,111.9 km
    BB: 200k, 60 t, 1,334.3 km  BC: 300k, 35 t, 1,779.1 km    CC: 400k, 10 t, 2,223.9 km

and none dominates another (each is the cheapest below some carbon and km): all six are the
efficient set. Payoff table (lexicographic): cost first -> BB; carbon first -> CC; km first ->
AA. Grid of 4 x 4: carbon (inner) 60, 43.3, 26.7, 10; km (outer) 2,223.9, 1,482.6, 741.3, 0.
The cheapest plan in each cell:

    km <= 2,223.9:  BB, BC, CC, CC
    km <= 1,482.6:  BB, AB, AC, infeasible (CC is the only plan at <= 10 t)
    km <=   741.3:  AB, AB (bypassed: AB's slack 20 t > one step of 16.7), AA, infeasible
    km <=       0:  AA, AA, AA (both bypassed: slack 40 t), infeasible

Neighbours along carbon: BB -> BC costs 100k for 25 t (4,000 a tonne), BC -> CC 100k for 25 t
(4,000), BB -> AB 200k for 20 t (10,000), AB -> AC 100k for 25 t (4,000), AB -> AA 200k for
20 t (10,000). Along km: BB -> AB 200k for 667.2 km (299.77 a km), AB -> AA 200k for 667.2 km.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.distances import EARTH_RADIUS_KM
from model.sweep import dask_client
from model.tradeoffs import run_frontier
from tests.factory import Tiny

KM = {"A": 0.0, "B": EARTH_RADIUS_KM * math.radians(0.6), "C": EARTH_RADIUS_KM * math.radians(1.0)}
COST = {"A": 3e5, "B": 1e5, "C": 2e5}
CARBON = {"A": 10.0, "B": 30.0, "C": 5.0}
OBJECTIVES = ["cost", "carbon", "patient_km"]


def three_sites() -> Tiny:
    return (Tiny().set(horizon_years=1)
            .service("med", cost_per_occupied_bed_gbp=0, estate_carbon_t_per_bed_year=1.0)
            .site("A", wards={"med": 2}, max_wards=2, cost_factor=3.0, carbon_factor=1.0)
            .site("B", wards={"med": 2}, max_wards=2, lat=53.6, cost_factor=1.0, carbon_factor=3.0)
            .site("C", wards={"med": 2}, max_wards=2, lat=54.0, cost_factor=2.0, carbon_factor=0.5)
            .need("F", "med", 20).policy(allow_unmet=False))


def enumerated() -> dict[tuple[int, int, int], tuple[float, float, float]]:
    """Every plan (wards kept at A, B, C): cost, carbon, and patient-km with the 20 patients
    in the nearest beds kept."""
    plans = {}
    for kept in itertools.product(range(3), repeat=3):
        if sum(kept) < 2:
            continue
        wards = dict(zip("ABC", kept, strict=True))
        beds = sorted(b for site, n in wards.items() for b in [KM[site]] * (10 * n))[:20]
        plans[kept] = (sum(COST[s] * n for s, n in wards.items()),
                       sum(CARBON[s] * n for s, n in wards.items()), sum(beds))
    return plans


def efficient_set(values) -> set[tuple[float, float, float]]:
    def key(v):
        return (round(v[0]), round(v[1], 6), round(v[2], 3))

    return {key(v) for v in values
            if not any(all(w[i] <= v[i] + 1e-9 for i in range(3)) and w != v for w in values)}


@pytest.fixture(scope="module")
def frontier(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    folder = three_sites().write(root / "three_sites")
    with dask_client(workers=2) as client:
        run = run_frontier(folder, OBJECTIVES, points=4, runs_root=root / "runs", client=client)
    return run


def test_the_enumeration_by_hand():
    plans = enumerated()
    assert len(plans) == 27 - 4  # fewer than two wards cannot hold 20 beds
    expected = {(6e5, 20.0, 0.0), (4e5, 40.0, 10 * KM["B"]), (5e5, 15.0, 10 * KM["C"]),
                (2e5, 60.0, 20 * KM["B"]), (3e5, 35.0, 10 * (KM["B"] + KM["C"])), (4e5, 10.0, 20 * KM["C"])}
    assert efficient_set(plans.values()) == efficient_set(expected) and len(efficient_set(expected)) == 6


def test_the_frontier_is_the_enumerated_efficient_set(frontier):
    table = pd.read_csv(frontier.folder / "frontier.csv")
    points = table[(table["kind"] == "frontier") & table["point"].notna()].drop_duplicates("point")
    got = {(round(c), round(e, 6) + 0.0, round(k, 3) + 0.0)
           for c, e, k in zip(points["cost"], points["carbon"], points["patient_km"], strict=True)}
    assert got == efficient_set(enumerated().values())


def test_no_point_is_weakly_dominated(frontier):
    table = pd.read_csv(frontier.folder / "frontier.csv")
    points = table[(table["kind"] == "frontier") & table["point"].notna()]
    assert (points["dominated_by"].astype("string").fillna("") == "").all()
    for mine in points[OBJECTIVES].itertuples(index=False):
        for other in enumerated().values():
            no_worse = all(o <= v + 1e-6 * max(1.0, abs(v)) for o, v in zip(other, mine, strict=True))
            better = any(o < v - 1e-6 * max(1.0, abs(v)) for o, v in zip(other, mine, strict=True))
            assert not (no_worse and better), (tuple(mine), other)


def test_the_grid_bypass_and_early_exit(frontier):
    table = pd.read_csv(frontier.folder / "frontier.csv").set_index("label")
    # the cells of the module docstring (outer km index, inner carbon index)
    assert table.at["grid-00-00", "e"] == pytest.approx(60.0)
    assert table.at["grid-01-00", "e3"] == pytest.approx(20 * KM["C"] - 20 * KM["C"] / 3)
    cost = {label: table.at[label, "cost"] for label in table.index if str(label).startswith("grid-")}
    assert [cost[f"grid-00-0{i}"] for i in range(4)] == [2e5, 3e5, 4e5, 4e5]
    assert [cost[f"grid-01-0{i}"] for i in range(3)] == [2e5, 4e5, 5e5]
    assert [cost[f"grid-02-0{i}"] for i in range(3)] == [4e5, 4e5, 6e5]
    assert [cost[f"grid-03-0{i}"] for i in range(3)] == [6e5] * 3
    # bypass on the inner slack: AB at 60 t has 20 t to spare (one step is 16.7 t); AA 40 t
    assert table.at["grid-02-00", "slack"] == pytest.approx(20.0)
    assert table.at["grid-02-01", "status"] == "bypassed"
    assert table.at["grid-03-01", "status"] == "bypassed" and table.at["grid-03-02", "status"] == "bypassed"
    # carbon <= 10 t holds with CC only (2,223.9 km): infeasible at every tighter km bound
    assert [table.at[f"grid-0{i}-03", "status"] for i in (1, 2, 3)] == ["infeasible"] * 3
    # the payoff table's rows, each lexicographic over the three
    payoff = pd.read_json(frontier.folder / "points" / "payoff-2.json", typ="series")
    assert payoff["order"] == ["patient_km", "cost", "carbon"]
    assert payoff["objectives"]["cost"] == pytest.approx(6e5)


def test_summary_prices_along_each_axis_and_projections(frontier):
    text = (frontier.folder / "summary.md").read_text()
    assert "## Along carbon (tCO2e) (patient-km bound held)" in text
    assert "## Along patient-km (carbon (tCO2e) bound held)" in text
    along_carbon, along_km = text.split("## Along patient-km")
    # BB -> BC and BC -> CC: 100k for 25 t; BB -> AB 200k for 20 t (see the module docstring)
    assert along_carbon.count("| 4,000 |") == 3 and along_carbon.count("| 10,000 |") == 2
    assert along_km.count(f"| {2e5 / (10 * KM['B']):,.2f} |") == 2
    assert "A med 0→1; B med 2→1" in along_km
    for name in ("cost_carbon.png", "cost_patient_km.png", "carbon_patient_km.png", "frontier.csv"):
        assert (frontier.folder / name).exists()


def test_three_objectives_refuse_worst_km(tmp_path):
    folder = three_sites().write(tmp_path / "s")
    result = CliRunner().invoke(app, ["frontier", str(folder), "--objectives", "cost,carbon,worst_km",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "only a two-objective frontier's bounded objective" in result.output
    result = CliRunner().invoke(app, ["frontier", str(folder), "--objectives", "cost,carbon,patient_km,cost",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
