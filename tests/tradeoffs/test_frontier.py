"""The cost-carbon frontier (AUGMECON2) on a two-site case whose every plan can be enumerated
by hand, on a real Dask LocalCluster.

Instance (one year, 2020; no discounting; asset life 1 year, so capital is charged in full):
footprint F needs 20 med beds (two wards of 10; no unmet need). Candidate sites A and B in F
(0 km), each up to 2 wards, nothing there today. A ward costs 10 beds x 100k = 1m to build
plus 100k x k_s to run, each occupied bed 10k x k_s; estate carbon is 1 t a bed-year x 10 beds
x e_s a ward. A: k = 1.0, e = 3 (30 t a ward); B: k = 1.5, e = 1 (10 t a ward). With a wards at
A and b at B (a + b >= 2), beds go to A first (cheaper), so

    cost(a, b) = 1m (a + b) + 100k (a + 1.5 b) + 10k x (10 min(a, 2) + 1.5 x 10 max(0, 2 - a))
    carbon(a, b) = 30 a + 10 b

(2,0): 2.4m, 60 t; (1,1): 2.5m, 40 t; (0,2): 2.6m, 20 t; (2,1): 3.55m, 70 t; (1,2): 3.65m,
50 t; (2,2): 4.7m, 80 t. The efficient set is (2,0), (1,1), (0,2): £100k more buys 20 t less,
£5,000 a tonne. With 5 grid points the carbon bound steps 60, 50, 40, 30, 20 (step 10): at 50
the plan is (1,1) with slack 10, which covers 40 too (bypass); at 30 it is (0,2).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from model.cli import app
from model.errors import ScenarioError
from model.sweep import dask_client
from model.tradeoffs import run_frontier
from model.tradeoffs.augmecon import Grid, bypass, chunks, dominated_by, knee
from model.tradeoffs.report import efficient_points
from model.tradeoffs.store import POINTS_DIR
from tests.factory import Tiny


def two_sites() -> Tiny:
    return (Tiny().set(horizon_years=1)
            .service("med", estate_carbon_t_per_bed_year=1.0)
            .site("A", wards={"med": 0}, status="candidate", max_wards=2, carbon_factor=3.0)
            .site("B", wards={"med": 0}, status="candidate", max_wards=2, cost_factor=1.5)
            .need("F", "med", 20).policy(allow_unmet=False))


def enumerated() -> dict[tuple[int, int], tuple[float, float]]:
    plans = {}
    for a, b in itertools.product(range(3), range(3)):
        if a + b < 2:
            continue
        at_a = 10 * min(a, 2)
        cost = 1e6 * (a + b) + 1e5 * (a + 1.5 * b) + 1e4 * (at_a + 1.5 * (20 - at_a))
        plans[(a, b)] = (cost, 30.0 * a + 10.0 * b)
    return plans


def efficient_set(values: list[tuple[float, float]]) -> set[tuple[float, float]]:
    return {v for v in values if not any(w[0] <= v[0] and w[1] <= v[1] and w != v for w in values)}


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def frontier(tmp_path_factory, client):
    root = tmp_path_factory.mktemp("frontier")
    folder = two_sites().write(root / "two_sites")
    run = run_frontier(folder, ["cost", "carbon"], points=5, runs_root=root / "runs", client=client)
    return root, folder, run


def test_the_frontier_is_the_enumerated_efficient_set(frontier):
    _root, _folder, run = frontier
    table = pd.read_csv(run.folder / "frontier.csv")
    points = table[(table["kind"] == "frontier") & table["point"].notna()].drop_duplicates("point")
    got = sorted((round(c), round(e, 6)) for c, e in zip(points["cost"], points["carbon"], strict=True))
    assert got == sorted((round(c), e) for c, e in efficient_set(list(enumerated().values())))
    assert got == [(2_400_000, 60.0), (2_500_000, 40.0), (2_600_000, 20.0)]


def test_no_point_is_weakly_dominated(frontier):
    _root, _folder, run = frontier
    table = pd.read_csv(run.folder / "frontier.csv")
    points = table[(table["kind"] == "frontier") & table["point"].notna()]
    assert (points["dominated_by"].astype("string").fillna("") == "").all()
    for cost, carbon in zip(points["cost"], points["carbon"], strict=True):
        for other_cost, other_carbon in enumerated().values():
            weakly_better = (other_cost <= cost - 1e-3 and other_carbon <= carbon + 1e-6) or (
                other_carbon <= carbon - 1e-6 and other_cost <= cost + 1e-3)
            assert not weakly_better, (cost, carbon, other_cost, other_carbon)


def test_bypass_early_ends_and_every_point_a_run_folder(frontier):
    _root, _folder, run = frontier
    table = pd.read_csv(run.folder / "frontier.csv").set_index("label")
    # grid-01 (carbon <= 50) gives (1,1) with slack 10: grid-02 (<= 40) is bypassed
    assert table.at["grid-01", "status"] == "optimal"
    assert table.at["grid-01", "slack"] == pytest.approx(10.0)
    assert table.at["grid-02", "status"] == "bypassed"
    assert table.at["grid-02", "same_as"] == "grid-01"
    assert table.at["grid-02", "carbon"] == pytest.approx(40.0)
    # the grid's ends are the payoff rows: the loosest minimises cost, then carbon at that cost
    # ((2,0), 60 t); the tightest minimises carbon (20 t), then cost at 20 t: (0,2), £2.6m.
    # grid-03 (<= 30) finds the same plan, with slack 10
    assert table.at["grid-00", "same_as"] == "payoff-0"
    assert table.at["grid-03", "carbon"] == pytest.approx(20.0)
    assert table.at["grid-03", "slack"] == pytest.approx(10.0)
    assert table.at["grid-04", "same_as"] == "payoff-1"
    assert table.at["grid-04", "carbon"] == pytest.approx(20.0)
    assert table.at["grid-04", "cost"] == pytest.approx(2.6e6)
    payoff = {k: json.loads((run.folder / POINTS_DIR / f"{k}.json").read_text())
              for k in ("payoff-0", "payoff-1")}
    assert payoff["payoff-0"]["order"] == ["cost", "carbon"]
    assert payoff["payoff-1"]["order"] == ["carbon", "cost"]
    assert payoff["payoff-1"]["objectives"]["carbon"] == pytest.approx(20.0)
    assert payoff["payoff-1"]["objectives"]["cost"] == pytest.approx(2.6e6)
    # the row minimising cost starts from the weighted-sum plan; the other did not wait for it
    assert payoff["payoff-0"]["start_from"] == "weighted" and payoff["payoff-1"]["start_from"] is None
    for run_dir in table["run_dir"].dropna().unique():
        files = {p.name for p in (run.folder / run_dir).iterdir()}
        assert {"manifest.json", "decisions.csv", "kpis.csv", "fairness.csv", "map.png"} <= files
    # weighted sum (no carbon price): the cheapest plan; doing nothing builds nothing and so
    # places no one: with unmet need refused it has no solution
    assert table.at["weighted", "cost"] == pytest.approx(2.4e6)
    for name in ("frontier.csv", "summary.md", "cost_carbon.png", "cost_patient_km.png"):
        assert (run.folder / name).exists()


def test_summary_names_the_knee_prices_and_changes(frontier):
    _root, _folder, run = frontier
    text = (run.folder / "summary.md").read_text()
    # normalised to the ranges: P1 (0, 1), P2 (0.5, 0.5), P3 (1, 0): P2 is closest to the ideal
    assert "**Knee: P2**" in text
    # £100k for 20 t between neighbours: £5,000 a tonne
    assert text.count("| 5,000 |") == 2
    assert "P1 → P2: A med 2→1; B med 0→1" in text
    assert "P2 → P3: A med 1→0; B med 1→2" in text
    # each point's gap in the primary's units (here proven optima: £0.00m)
    p1 = next(line for line in text.splitlines() if line.startswith("| P1 "))
    assert p1.split(" | ")[6] == "£0.00m"


def test_a_rerun_solves_nothing(frontier, client):
    root, folder, run = frontier
    again = run_frontier(folder, ["cost", "carbon"], points=5, runs_root=root / "runs", client=client)
    assert again.solved == []
    assert set(again.reused) == {"payoff-0", "payoff-1", "weighted"}
    assert pd.read_csv(again.folder / "frontier.csv")["status"].tolist() == \
        pd.read_csv(run.folder / "frontier.csv")["status"].tolist()
    plan = json.loads((again.folder / "plan.json").read_text())
    assert plan["points"] == 5


def test_bad_objectives_exit_2(tmp_path):
    folder = two_sites().write(tmp_path / "s")
    result = CliRunner().invoke(app, ["frontier", str(folder), "--objectives", "cost,money",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "unknown objective" in result.output
    result = CliRunner().invoke(app, ["frontier", str(folder), "--points", "1",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2


def test_grid_bypass_and_chunks_by_hand():
    grid = Grid("carbon", best=20.0, worst=60.0, points=5)
    assert [grid.value(i) for i in range(5)] == [60.0, 50.0, 40.0, 30.0, 20.0]
    assert bypass(10.0, grid.step) == 1 and bypass(9.99, grid.step) == 0 and bypass(35.0, 10.0) == 3
    assert chunks([1, 2, 3], 2) == [[1, 2], [3]]
    values = np.array([[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 1.0]])
    # (2, 3) is dominated by (1, 3) (better cost) and by (2, 2) (better carbon)
    assert dominated_by(values) == [[], [], [0, 1], []]
    assert knee(np.array([[0.0, 10.0], [4.0, 4.0], [10.0, 0.0]])) == 1


def test_a_payoff_rows_gap_is_in_the_primary_objectives_units():
    from model.tradeoffs.report import primary_gap

    # payoff-0 minimised cost (gap £1,000), then carbon at that cost (gap 5 t): its cost gap
    # is the first stage's; payoff-1 minimised carbon, then cost: its last solve's
    first = {"order": ["cost", "carbon"], "first_stage": {"gap_abs": 1000.0, "gap_rel": 1e-4},
             "gap_abs": 5.0, "gap_rel": 1e-3}
    second = {"order": ["carbon", "cost"], "first_stage": {"gap_abs": 2.0, "gap_rel": 1e-5},
              "gap_abs": 800.0, "gap_rel": 2e-4}
    assert primary_gap(first, "cost") == (1000.0, 1e-4)
    assert primary_gap(second, "cost") == (800.0, 2e-4)
    assert primary_gap({"gap_abs": 7.0, "gap_rel": 0.1}, "cost") == (7.0, 0.1)


def test_early_exit_on_an_infeasible_slice(tmp_path):
    # a grid reaching below the least carbon any plan has (20 t): e = 60, 40, 20, 0, -20.
    # 60 -> (2,0) with slack 0; 40 -> (1,1); 20 -> (0,2); 0 is infeasible (solved, diagnosed)
    # and -20, tighter, is recorded infeasible without a solve
    from model.tradeoffs.points import solve_chunk

    folder = two_sites().write(tmp_path / "s")
    task = {"scenario": str(folder), "out": str(tmp_path / "out"), "digest": "d", "overrides": None,
            "eps": 1e-3, "primary": "cost", "primary_range": 2e5,
            "grid": {"objective": "carbon", "best": -20.0, "worst": 60.0, "points": 5}}
    records, solved = solve_chunk(task, [0, 1, 2, 3, 4], "none")
    assert [r["status"] for r in records] == ["optimal", "optimal", "optimal", "infeasible", "infeasible"]
    assert [r.get("objectives", {}).get("carbon") for r in records[:3]] == [60.0, 40.0, 20.0]
    assert solved == ["grid-00", "grid-01", "grid-02", "grid-03"]
    assert "early exit" in records[4]["reason"]


def test_dichotomic_search_and_grid_starts_by_hand():
    from model.tradeoffs.points import below_segment, grid_starts, open_segments

    def plan(label, cost, carbon, gap=0.0):
        return {"label": label, "status": "optimal", "gap_abs": gap,
                "objectives": {"cost": cost, "carbon": carbon}}

    p0, p1 = plan("payoff-0", 2.4e6, 60.0), plan("payoff-1", 2.6e6, 20.0)
    # the payoff rows' segment: £200k for 40 t, £5,000/t
    assert open_segments([p1, p0], "cost", "carbon", set()) == [
        (pytest.approx(5000.0), "payoff-0", "payoff-1")]
    # at £5,000/t the segment is worth 2.4m + 60 x 5,000 = 2.7m: a plan at 2.45m, 40 t is worth
    # 2.65m, below it (a new corner; a gap of £60k does not make the plan any less real); one at
    # 2.5m, 40 t is on it; one at 2.39m, 59.9 t is below (2.6895m) but within 1% of the
    # segment's 40 t of an end (0.1 t from 60 t): the same plan again, not a corner
    assert below_segment(plan("s", 2.45e6, 40.0), p0, p1, 5000.0, "cost", "carbon")
    assert below_segment(plan("s", 2.45e6, 40.0, gap=6e4), p0, p1, 5000.0, "cost", "carbon")
    assert not below_segment(plan("s", 2.5e6, 40.0), p0, p1, 5000.0, "cost", "carbon")
    assert not below_segment(plan("s", 2.39e6, 59.9), p0, p1, 5000.0, "cost", "carbon")
    # the split: (2.45m - 2.4m) / (60 - 40) = £2,500/t and (2.6m - 2.45m) / (40 - 20) = £7,500/t
    s = plan("s", 2.45e6, 40.0)
    assert open_segments([p0, s, p1], "cost", "carbon", set()) == [
        (pytest.approx(2500.0), "payoff-0", "s"), (pytest.approx(7500.0), "s", "payoff-1")]
    assert open_segments([p0, s, p1], "cost", "carbon", {("payoff-0", "s")}) == [
        (pytest.approx(7500.0), "s", "payoff-1")]
    assert open_segments([p0, plan("same", 2.4e6, 60.0)], "cost", "carbon", set()) == []
    plans = [{"label": "s1", "status": "optimal", "objectives": {"cost": 2.4e6, "carbon": 60.0}},
             {"label": "s2", "status": "feasible", "objectives": {"cost": 2.5e6, "carbon": 40.0}},
             {"label": "s3", "status": "optimal", "objectives": {"cost": 2.6e6, "carbon": 20.0}},
             {"label": "s4", "status": "no_solution"}]
    # carbon <= 50: s2 (40 t) is the cheapest plan meeting it; <= 10: none, the payoff row only
    assert grid_starts(plans, "cost", "carbon", 50.0, "payoff-1") == ["s2", "payoff-1"]
    assert grid_starts(plans, "cost", "carbon", 60.0, "payoff-1") == ["s1", "payoff-1"]
    assert grid_starts(plans, "cost", "carbon", 10.0, "payoff-1") == ["payoff-1"]


def test_supported_plans_start_the_grid_and_change_no_point(frontier, client, tmp_path):
    """--supported 2 on the two-site case, whose three efficient plans lie on one line: the
    first weighted-sum solve is at the payoff rows' slope, £5,000/t, where every efficient plan
    is worth 2.7m ((2,0): 2.4m + 60 x 5,000; (1,1): 2.5m + 40 x 5,000; (0,2): 2.6m + 20 x 5,000).
    Whichever it returns lies on the segment, which closes it: one solve, not two. Grid point
    carbon <= 50 starts from it if it meets 50 t, else from the payoff row. The frontier is the
    same as without it. The corner starts from one end of its segment, crossed with the other
    (the box: 0-2 wards at each site)."""
    _root, _folder, plain = frontier
    folder = two_sites().write(tmp_path / "two_sites")
    run = run_frontier(folder, ["cost", "carbon"], points=5, runs_root=tmp_path / "runs",
                       client=client, supported=2)
    assert "supported-01" in run.solved and "supported-02" not in run.solved
    records = {p.stem: json.loads(p.read_text()) for p in (run.folder / POINTS_DIR).glob("*.json")
               if not p.stem.endswith(".start")}
    found = records["supported-01"]
    assert found["weight"] == pytest.approx(5000.0)
    assert found["objectives"]["cost"] + 5000.0 * found["objectives"]["carbon"] == pytest.approx(2.7e6)
    segment_ends = {"payoff-0", "payoff-1"}
    assert found["start_from"] in segment_ends and found["crossover"]["method"] == "crossover"
    assert found["crossover"]["with"] == (segment_ends - {found["start_from"]}).pop()
    expected = "supported-01" if found["objectives"]["carbon"] <= 50.0 else "payoff-1"
    assert records["grid-01"]["start_from"] == expected
    columns = ["label", "status", "cost", "carbon", "point"]
    table, before = (pd.read_csv(r.folder / "frontier.csv") for r in (run, plain))
    grid = table[table["kind"] == "frontier"][columns].reset_index(drop=True)
    assert grid.equals(before[before["kind"] == "frontier"][columns].reset_index(drop=True))
    # the supported point is one of the three efficient plans, named as the grid names it
    row = table[table["label"] == "supported-01"].iloc[0]
    assert row["kind"] == "supported" and row["status"] == "optimal"
    assert row["point"] in set(grid["point"].dropna()) and not isinstance(row["dominated_by"], str)
    again = run_frontier(folder, ["cost", "carbon"], points=5, runs_root=tmp_path / "runs",
                         client=client, supported=2)
    assert again.solved == [] and "supported-01" in again.reused
    # no interior grid point (--points 2): the corners are still sought, and are the frontier's
    # middle
    ends = run_frontier(folder, ["cost", "carbon"], points=2, runs_root=tmp_path / "ends",
                        client=client, supported=1)
    assert "supported-01" in ends.solved
    # and the tightest point is the least-carbon row's second stage: the least cost at 20 t,
    # (0,2) at 2.6m, without a solve of its own
    assert "grid-01" not in ends.solved
    tightest = json.loads((ends.folder / POINTS_DIR / "grid-01.json").read_text())
    assert tightest["objectives"]["cost"] == pytest.approx(2.6e6) and tightest["same_as"] == "payoff-1"
    assert (pd.read_csv(ends.folder / "frontier.csv")["kind"] == "supported").sum() == 1
    with pytest.raises(ScenarioError, match="--supported"):
        run_frontier(folder, ["cost", "carbon", "patient_km"], points=3, runs_root=tmp_path / "runs",
                     client=client, supported=2)


def test_only_a_proven_optimum_bypasses(tmp_path, monkeypatch):
    """A point stopped at its limit with a plan well inside its bound (slack 25 t on a 10 t step)
    says nothing about the next slices: they are solved, offered that plan first (it meets
    their bounds and is the cheapest that does). A proven optimum with the same slack bypasses
    two slices. (The solves are stand-ins: a tiny model cannot be made to stop at its limit.)"""
    from model.tradeoffs import points

    offered = {}

    def fake_point(task, grid, i, candidates, parents=None):
        offered[i] = [label for label, _plan in candidates]
        status = task["status_of"](i)
        return {"label": points.grid_label(i), "status": status, "slack": 25.0, "e": grid.value(i),
                "objectives": {"cost": 100.0 + i, "carbon": grid.value(i) - 25.0}}

    monkeypatch.setattr(points, "_solve_point", fake_point)
    monkeypatch.setattr(points, "read_start", lambda _out, label: [["wards", [label], 1]])
    grid = {"objective": "carbon", "best": 20.0, "worst": 60.0, "points": 5}  # 60, 50, 40, 30, 20
    base = {"out": str(tmp_path / "a"), "digest": "d", "primary": "cost", "grid": grid}
    records, solved = points.solve_chunk({**base, "status_of": lambda i: "feasible"}, [1, 2, 3], "payoff-1")
    assert solved == ["grid-01", "grid-02", "grid-03"]
    # grid-02 (<= 40): grid-01's plan has 25 t (50 - 25) and is the cheapest meeting 40
    assert offered[2] == ["grid-01", "payoff-1"] and offered[1] == ["payoff-1"]
    base["out"] = str(tmp_path / "b")
    records, solved = points.solve_chunk({**base, "status_of": lambda i: "optimal"}, [1, 2, 3], "payoff-1")
    assert solved == ["grid-01"] and [r["status"] for r in records] == ["optimal", "bypassed", "bypassed"]


def test_a_plan_found_twice_shows_its_least_gap():
    """A grid point stopped at its limit on a supported plan (gap £186m against its slice's
    bound) and the weighted sum that found the plan (gap £2.5m): one point, shown with £2.5m."""
    from model.tradeoffs.report import frontier_table

    def rec(label, cost, carbon, gap, **extra):
        return {"label": label, "status": "optimal" if gap < 1e7 else "feasible", "gap_abs": gap,
                "objectives": {"cost": cost, "carbon": carbon, "patient_km": 1.0},
                "run_dir": f"runs/{label}", **extra}

    records = {"grid-00": rec("grid-00", 4.99e9, 558e3, 1.7e7),
               "grid-01": rec("grid-01", 5.216e9, 513e3, 1.86e8, e=548e3),
               "supported-01": rec("supported-01", 5.216e9, 513e3, 2.5e6, weight=6789.0)}
    table = frontier_table(["cost", "carbon"], 2, records)
    efficient = efficient_points(table, ["cost", "carbon"])
    assert efficient["label"].tolist() == ["grid-00", "supported-01"]
    assert efficient["gap_abs"].tolist() == [1.7e7, 2.5e6]
    named = table.set_index("label")["point"]
    assert named["grid-01"] == named["supported-01"] != named["grid-00"]


def test_a_grid_point_starts_from_the_crossover_of_its_neighbours(frontier):
    """grid-01 (carbon <= 50) starts from payoff-1, (0,2) at 2.6m, 20 t; its looser neighbour is
    payoff-0, (2,0) at 60 t. Between them each site may have 0-2 wards, so the crossover finds
    (1,1), 2.5m and 40 t, worth 2.5m - 1e-3 x 200k x 10 / 40 = 2,499,950 with its 10 t of slack
    (AUGMECON2's augmentation: eps x cost range x slack / carbon range), the point's optimum."""
    root, _folder, run = frontier
    record = json.loads((run.folder / POINTS_DIR / "grid-01.json").read_text())
    assert record["start_from"] == "payoff-1"
    assert record["crossover"]["with"] == "payoff-0" and record["crossover"]["method"] == "crossover"
    assert record["crossover"]["objective"] == pytest.approx(2_499_950.0)
    assert record["objectives"]["cost"] == pytest.approx(2.5e6)


def test_a_bounded_objective_is_summed_from_its_yearly_parts():
    """A trade-off row bounds one column a year (`tradeoff_part`), each held equal to its
    objective's part in that year: the parts of every linear objective sum to the objective,
    coefficient by coefficient (three years, discounting at 3.5%, a delay penalty, carbon and
    travel priced), and the bound row has one column a year plus the slack."""
    from pyomo.repn import generate_standard_repn

    from model.formulation.builder import formulate
    from model.tradeoffs.objectives import LINEAR, OBJECTIVES, add_tradeoff

    tiny = (two_sites().set(horizon_years=3, discount_rate=0.035, carbon_price_gbp_per_t=50.0,
                            value_of_travel_gbp_per_km=2.0)
            .site("L", wards={"low": 1}).need("FG", "med", 10).need("F", "low", 5)
            .policy(delayed_discharge_penalty_gbp=1000.0))
    tiny.pathway.append({"from_service": "med", "to_service": "low", "share": 1.0})  # delays exist

    def coefficients(expr):
        repn = generate_standard_repn(expr, compute_values=True)
        out = {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
        return {k: v for k, v in out.items() if abs(v) > 1e-12}, repn.constant

    formulation = formulate(tiny.inputs())
    m = formulation.model
    for name in LINEAR:
        whole, whole_constant = coefficients(OBJECTIVES[name].expr(m))
        parts, parts_constant = coefficients(sum(OBJECTIVES[name].yearly(formulation, t) for t in m.T))
        assert whole and parts.keys() == whole.keys(), name
        if name == "cost":  # the penalty's columns are in it
            assert any(k.startswith("delayed[") for k in whole)
        assert all(parts[k] == pytest.approx(whole[k], rel=1e-12) for k in whole), name
        assert parts_constant == pytest.approx(whole_constant), name
    add_tradeoff(formulation, "cost", equal={"carbon": (50.0, 40.0)})
    row = generate_standard_repn(m.tradeoff_epsilon["carbon"].body)
    assert sorted(v.name for v in row.linear_vars) == sorted(
        [f"tradeoff_part[carbon,{t},0]" for t in m.T] + ["tradeoff_slack[carbon]"])
    assert len(m.tradeoff_part_sum) == 3 and m.tradeoff_part_sum["carbon", 2020, 0].equality


def test_a_yearly_part_is_cut_into_blocks_that_add_up_to_it(monkeypatch):
    """With one column a part row (`PART_COLUMNS`; 500 in use), each year's carbon (30 t a
    ward at A, 10 t at B) is held by two rows `tradeoff_part_sum[carbon, t, b]`, one column
    each plus the part's own, and the blocks of a year add up to that year's carbon
    coefficient by coefficient (and constant by constant); the bound row sums every block of
    every year, times the bound's size: 50 t here."""
    from pyomo.repn import generate_standard_repn

    from model.formulation.builder import formulate
    from model.tradeoffs import objectives
    from model.tradeoffs.objectives import OBJECTIVES, add_tradeoff

    monkeypatch.setattr(objectives, "PART_COLUMNS", 1)
    tiny = two_sites().set(horizon_years=2)
    formulation = formulate(tiny.inputs())
    m = formulation.model
    add_tradeoff(formulation, "cost", upper={"carbon": 50.0})
    for t in m.T:
        year = generate_standard_repn(OBJECTIVES["carbon"].yearly(formulation, t), compute_values=True)
        whole = {v.name: c for v, c in zip(year.linear_vars, year.linear_coefs, strict=True)}
        blocks = [b for (k, y, b) in m.TRADEOFF_PARTS if (k, y) == ("carbon", t)]
        assert len(whole) == 2 and len(blocks) == 2
        summed: dict[str, float] = {}
        constant = 0.0
        for b in blocks:
            row = generate_standard_repn(m.tradeoff_part_sum["carbon", t, b].body, compute_values=True)
            columns = {v.name: c for v, c in zip(row.linear_vars, row.linear_coefs, strict=True)}
            assert columns.pop(f"tradeoff_part[carbon,{t},{b}]") == pytest.approx(1.0)
            assert len(columns) == 1
            for name, c in columns.items():  # the row is part - block / size == 0
                summed[name] = summed.get(name, 0.0) - c * 50.0
            constant -= row.constant * 50.0
        assert summed.keys() == whole.keys()
        assert all(summed[k] == pytest.approx(whole[k], rel=1e-12) for k in whole)
        assert constant == pytest.approx(year.constant)
    bound = generate_standard_repn(m.tradeoff_bound["carbon"].body)
    assert len(bound.linear_vars) == len(m.TRADEOFF_PARTS)


def test_a_bounded_solve_keeps_highs_aggregator_off_unless_the_user_says(monkeypatch):
    """A payoff row or grid point asks HiGHS not to aggregate (`TRADEOFF_HIGHS_OPTIONS`), over
    the scenario's options; a `presolve_rule_off` the user gave wins."""
    import model.run
    from model.tradeoffs import points

    seen = []
    monkeypatch.setattr(model.run, "solve_scenario", lambda _s, _r, overrides, **_k: seen.append(overrides))
    task = {"scenario": "s", "out": "o", "overrides": {"solver": {"time_limit": 5}}}
    points._solve(task, None)
    points._solve(task, None, bounded=True)
    own = {"solver": {"options": {"presolve_rule_off": 0}}}
    points._solve({**task, "overrides": own}, None, bounded=True)
    assert seen == [{"solver": {"time_limit": 5}},
                    {"solver": {"time_limit": 5, "options": {"presolve_rule_off": 4096}}},
                    {"solver": {"options": {"presolve_rule_off": 0}}}]


def test_a_bound_on_billions_keeps_every_column_highs_sees():
    """The two-site case with every cost 10,000 times larger (a ward £10bn to build: England's
    whole cost is ~£5bn): least cost (2,0), £24bn and 60 t; then least carbon with cost held at
    that, which only (2,0) meets: 60 t. A part column divided by the bound's size (1/2.4e10)
    would be below the size HiGHS keeps (1e-9) and the bound row infeasible: the rows are in
    units of the bound's size, each column's coefficient 1."""
    from model.formulation.builder import formulate
    from model.solve import compile_model, solve
    from model.tradeoffs.objectives import add_tradeoff, values

    tiny = two_sites()
    for service in tiny.services:
        for key in ("cost_per_occupied_bed_gbp", "cost_per_ward_gbp", "capital_new_bed_gbp"):
            service[key] *= 1e4
    formulation = formulate(tiny.inputs())
    m = formulation.model
    add_tradeoff(formulation, "cost")
    options = formulation.data.config.solver
    assert solve(m, options).status == "optimal"
    best = values(m)["cost"]
    assert best == pytest.approx(2.4e10)
    m.del_component(m.tradeoff_objective)
    add_tradeoff(formulation, "carbon", upper={"cost": best * (1 + 1e-7)})
    compiled = compile_model(m)
    rows = [k for k, row in enumerate(compiled.rows)
            if row.parent_component().local_name.startswith("tradeoff")]
    a = compiled.lp.a_matrix_
    matrix = sp.csc_matrix((a.value_, a.index_, a.start_), shape=(compiled.lp.num_row_, compiled.lp.num_col_))
    part_columns = [k for k, v in enumerate(compiled.columns)
                    if v.parent_component().local_name == "tradeoff_part"]
    assert np.abs(matrix[rows][:, part_columns].data).min() == pytest.approx(1.0)
    outcome = solve(m, options)
    assert outcome.status == "optimal" and values(m)["carbon"] == pytest.approx(60.0)


def test_a_point_takes_a_cheaper_plan_found_after_it(tmp_path):
    """grid-01 (carbon <= 50, on the grid 60 .. 20, r_2 = 40) stopped at its limit on a plan at
    2.55m and 45 t with a proven bound of 2.45m. grid-02's plan, found later, (1,1) at 2.5m and
    40 t, meets 50 t and is cheaper: the point takes it with slack 10 and value
    2.5m - eps r_1 x 10 / 40 = 2.5m - 200 x 0.25 = 2,499,950 (eps r_1 = 1e-3 x 200k), and keeps
    its own bound, so its gap is 2,499,950 - 2,450,000 = 49,950. The cheapest plan (2.4m) has
    60 t and does not meet the bound; payoff-1 (2.6m, 20 t) meets it but is dearer."""
    from model.tradeoffs.points import cheaper_plan
    from model.tradeoffs.report import frontier_table

    def rec(label, cost, carbon, **extra):
        return {"label": label, "status": "optimal", "objectives": {"cost": cost, "carbon": carbon,
                                                                    "patient_km": 1.0},
                "kpis": {"mean_km": float(carbon)}, "run_dir": f"runs/{label}", **extra}

    grid = Grid("carbon", best=20.0, worst=60.0, points=5)
    point = rec("grid-01", 2.55e6, 45.0, status="feasible", e=50.0, slack=5.0, bound=2.45e6,
                solved_objective=2.55e6 - 200 * 5 / 40, gap_abs=1e5 - 25, gap_rel=0.04)
    plans = [point, rec("grid-02", 2.5e6, 40.0, e=40.0, bound=2.5e6), rec("supported-01", 2.4e6, 60.0),
             rec("payoff-1", 2.6e6, 20.0)]
    better = cheaper_plan(point, plans, "cost", grid, 1e-3 * 2e5)
    assert better["plan_from"] == "grid-02" and better["run_dir"] == "runs/grid-02"
    assert better["objectives"]["cost"] == 2.5e6 and better["kpis"] == {"mean_km": 40.0}
    assert better["slack"] == 10.0
    assert better["solved_objective"] == pytest.approx(2_499_950.0)
    assert better["gap_abs"] == pytest.approx(49_950.0)
    assert better["own_plan"]["objectives"]["cost"] == 2.55e6 and better["status"] == "feasible"
    assert better["e"] == 50.0 and better["label"] == "grid-01"
    # taken once, nothing cheaper is left; a plan a hair dearer or above the bound is not taken
    assert cheaper_plan(better, plans, "cost", grid, 200.0) is None
    assert cheaper_plan(point, [point, rec("x", 2.55e6 - 1e-4, 40.0), rec("y", 2.0e6, 50.1)],
                        "cost", grid, 200.0) is None
    # on the frontier the point is now the same point as grid-02, shown with the lesser gap
    table = frontier_table(["cost", "carbon"], 5, {"grid-01": better,
                                                    "grid-02": {**plans[1], "gap_abs": 1e4}})
    named = table.set_index("label")["point"]
    assert named["grid-01"] == named["grid-02"]
    assert table.set_index("label").at["grid-01", "plan_from"] == "grid-02"
    # after the grid, the run does it for every solved grid point and writes it down; a
    # bypassed point (it names the plan it shares) is left as it is
    from model.tradeoffs.frontier import FrontierRun, _adopt_cheaper_plans
    from model.tradeoffs.store import read_record

    records = {p["label"]: {**p, "digest": "d"} for p in plans}
    records["grid-03"] = {**point, "label": "grid-03", "same_as": "grid-02", "status": "bypassed",
                          "digest": "d"}
    (tmp_path / "runs" / "grid-02").mkdir(parents=True)
    (tmp_path / "runs" / "grid-02" / "manifest.json").write_text("{}")  # a record needs its run
    run = FrontierRun(folder=tmp_path, records=records)
    _adopt_cheaper_plans(tmp_path, run, grid, "cost", 200.0)
    written = read_record(tmp_path, "grid-01", "d")
    assert written["plan_from"] == "grid-02" and written["gap_abs"] == pytest.approx(49_950.0)
    assert run.records["grid-01"] == written
    assert read_record(tmp_path, "grid-03", "d") is None and "plan_from" not in run.records["grid-03"]


def test_the_grid_gives_points_out_as_workers_come_free(tmp_path, monkeypatch):
    """`_solve_grid` on a grid of 9 (e = 80, 70, .., 0; step 10), points 1-8 in two lanes, 1-4
    and 5-8, on two in-process workers (so the stand-in solves below run in this process; a
    tiny model cannot be made to take a chosen time or stop at its limit).

    Lane 1 is quick and lane 2 slow (1 s a point): once lane 1 is done its worker takes the
    tightest point of lane 2 (8) while lane 2's worker keeps its next (6). Point 1 is a
    proven optimum with 25 of slack: it covers the next two points (2 and 3: bypassed, without
    a solve). Each point is offered the grid plans finished before it."""
    import time as clock

    from distributed import Client

    from model.tradeoffs import points
    from model.tradeoffs.frontier import FrontierRun, _solve_grid

    seen: dict[int, dict] = {}

    def fake_point(task, grid, i, candidates, parents=None):
        started = clock.perf_counter()
        if i >= 5:
            clock.sleep(1.0)
        seen[i] = {"start": started, "end": clock.perf_counter(),
                   "offered": [r["label"] for r in task["supported"]]}
        return {"label": points.grid_label(i), "digest": "d", "status": "optimal" if i == 1 else "feasible",
                "slack": 25.0 if i == 1 else 0.0, "e": grid.value(i), "index": i,
                "objectives": {"cost": 100.0 + i, "carbon": grid.value(i)}}

    monkeypatch.setattr(points, "_solve_point", fake_point)
    monkeypatch.setattr(points, "read_start", lambda _out, label: [["wards", [label], 1]])
    task = {"out": str(tmp_path), "digest": "d", "primary": "cost", "supported": [],
            "grid": {"objective": "carbon", "best": 0.0, "worst": 80.0, "points": 9}}
    run = FrontierRun(folder=tmp_path)
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        _solve_grid(client, task, list(range(1, 9)), run, lambda _kind, _info: None)
    assert sorted(seen) == [1, 4, 5, 6, 7, 8]
    assert sorted(run.solved) == ["grid-01", "grid-04", "grid-05", "grid-06", "grid-07", "grid-08"]
    from model.tradeoffs.store import read_record

    for j in (2, 3):
        record = read_record(tmp_path, points.grid_label(j), "d")
        assert record["status"] == "bypassed" and record["same_as"] == "grid-01"
    # the quick lane's worker took 8 while the slow lane was on 5 (6 and 7 left, its own worker
    # to take 6)
    assert seen[8]["start"] < seen[5]["end"]
    # point 4 came after point 1 had finished: it was offered point 1's plan
    assert "grid-01" in seen[4]["offered"]


def test_an_infeasible_slice_ends_every_tighter_point_not_given_out(tmp_path, monkeypatch):
    """The same grid, lane 2 quick and lane 1 slow: point 6 is infeasible, so 7 and 8 (tighter,
    not yet given out) are recorded infeasible by the early exit without a solve."""
    import time as clock

    from distributed import Client

    from model.tradeoffs import points
    from model.tradeoffs.frontier import FrontierRun, _solve_grid
    from model.tradeoffs.store import read_record

    solved = []

    def fake_point(task, grid, i, candidates, parents=None):
        if i < 5:
            clock.sleep(1.0)
        solved.append(i)
        if i == 6:
            return {"label": points.grid_label(i), "digest": "d", "status": "infeasible", "e": grid.value(i),
                    "index": i}
        return {"label": points.grid_label(i), "digest": "d", "status": "feasible", "slack": 0.0,
                "e": grid.value(i), "index": i, "objectives": {"cost": 100.0 + i, "carbon": grid.value(i)}}

    monkeypatch.setattr(points, "_solve_point", fake_point)
    monkeypatch.setattr(points, "read_start", lambda _out, label: [["wards", [label], 1]])
    task = {"out": str(tmp_path), "digest": "d", "primary": "cost", "supported": [],
            "grid": {"objective": "carbon", "best": 0.0, "worst": 80.0, "points": 9}}
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        _solve_grid(client, task, list(range(1, 9)), FrontierRun(folder=tmp_path), lambda *_a: None)
    assert sorted(solved) == [1, 2, 3, 4, 5, 6]
    for j in (7, 8):
        record = read_record(tmp_path, points.grid_label(j), "d")
        assert record["status"] == "infeasible" and "early exit" in record["reason"]
