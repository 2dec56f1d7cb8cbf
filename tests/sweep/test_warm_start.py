"""Sweep variants start from the base plan or the nearest solved variant (a MIP start): the
candidates' order by hand, and on a real LocalCluster that a warm start changes no result beyond
the solves' gaps, says where each start came from, and that the base plan is solved once."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from model.sweep import RESULTS_FILE, dask_client, run_sweep, starts
from model.sweep.starts import StartPool, distance, spans_of
from model.sweep.store import BASE_PLAN_FILE, Variant
from tests.factory import Tiny
from tests.sweep.test_sweep import write_sweep


def _variant(index: int, **values) -> Variant:
    return Variant(index=index, label=",".join(f"{k}={v}" for k, v in values.items()), values=values)


def test_nearest_solved_variants_come_first_then_the_base_plan(monkeypatch):
    # carbon spans 0..400, demand 0.9..1.1 over the sweep. From (100, 1.05):
    # a = (0, 1.1): 100/400 + 0.05/0.2 = 0.25 + 0.25 = 0.5
    # b = (400, 1.05): 300/400 + 0 = 0.75
    # c = (200, 0.9): 100/400 + 0.15/0.2 = 0.25 + 0.75 = 1.0
    # d = (150, 1.05): 50/400 = 0.125  -> d, a, b, c, then the base plan; with NEAREST = 2,
    # d and a only
    a, b, c, d = (_variant(1, carbon=0, demand=1.1), _variant(2, carbon=400, demand=1.05),
                  _variant(3, carbon=200, demand=0.9), _variant(4, carbon=150, demand=1.05))
    target = _variant(5, carbon=100, demand=1.05)
    spans = spans_of([a, b, c, d, target])
    assert spans == {"carbon": 400, "demand": pytest.approx(0.2)}
    assert distance(target.values, a.values, spans) == pytest.approx(0.5)
    assert distance(target.values, d.values, spans) == pytest.approx(0.125)
    pool = StartPool([a, b, c, d, target], base_plan=[["operate", ["X", 2020], 1]])
    for v in (a, b, c, d):
        pool.add(v, [["wards", ["X", "med", 2020], v.index]])
    pool.add(target, None)  # a variant without a plan offers nothing
    plans, labels = pool.candidates(target)
    assert labels == ["variant carbon=150,demand=1.05", "variant carbon=0,demand=1.1",
                      "variant carbon=400,demand=1.05", "variant carbon=200,demand=0.9", "base plan"]
    assert [p[0][2] for p in plans[:4]] == [4, 1, 2, 3] and plans[4] == [["operate", ["X", 2020], 1]]
    monkeypatch.setattr(starts, "NEAREST", 2)
    plans, labels = pool.candidates(target)
    assert labels == ["variant carbon=150,demand=1.05", "variant carbon=0,demand=1.1", "base plan"]
    # a text parameter counts 1 when it differs
    assert distance({"policy": "a"}, {"policy": "b"}, {}) == 1.0
    # the nearest solved variant with a plan, for the waiting variant to go first: the target's
    # is d (0.125); with nothing solved yet, infinitely far
    assert pool.nearest_distance(target) == pytest.approx(0.125)
    assert StartPool([a, target], base_plan=None).nearest_distance(target) == float("inf")


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def test_warm_start_changes_nothing_beyond_the_gaps(tmp_path, client):
    parameters = [
        {"name": "carbon_price", "key": "carbon_price_gbp_per_t", "values": [0, 300]},
        {"name": "demand_yh", "table": "demand", "column": "beds", "op": "scale", "hub": "YH",
         "values": [0.9, 1.2]},
    ]
    base_solver = {"time_limit": 60, "mip_gap": 0.0005, "threads": 1}  # the base plan's own settings
    warm = write_sweep(tmp_path / "warm", "warm", design="oat", parameters=parameters,
                       base_solver=base_solver)
    cold = write_sweep(tmp_path / "cold", "cold", design="oat", parameters=parameters, warm_start=False)
    runs = tmp_path / "runs"
    warm_run = run_sweep(warm, runs_root=runs, client=client)
    cold_run = run_sweep(cold, runs_root=runs, client=client)
    w = pd.read_parquet(warm_run.folder / RESULTS_FILE).set_index("label")
    c = pd.read_parquet(cold_run.folder / RESULTS_FILE).set_index("label")
    assert (w["status"] == "optimal").all() and (c["status"] == "optimal").all()
    # each objective is within its own gap of the optimum, so two solves of one variant differ by
    # at most the sum of their absolute gaps
    for label in w.index:
        assert abs(w.at[label, "objective"] - c.at[label, "objective"]) <= (
            w.at[label, "gap_abs"] + c.at[label, "gap_abs"] + 1e-6), label

    records = {json.loads(p.read_text())["label"]: json.loads(p.read_text())
               for p in (warm_run.folder / "variants").glob("*.json")}
    # a price changes no rule, so some plan already found (the base plan or a solved variant's)
    # is always a feasible start for it
    for label in ("base", "carbon_price=0", "carbon_price=300"):
        assert records[label]["start_from"] != "none" and records[label]["start_used"] is True, label
    assert all(r["start_from"] == "none" or r["start_used"] for r in records.values())
    cold_records = [json.loads(p.read_text()) for p in (cold_run.folder / "variants").glob("*.json")]
    assert all(r["start_from"] == "none" and r["start_used"] is None for r in cold_records)

    plan = json.loads((warm_run.folder / BASE_PLAN_FILE).read_text())
    assert plan["status"] == "optimal" and plan["start"] and plan["digest"]
    assert plan["gap_rel"] <= base_solver["mip_gap"] + 1e-12
    assert not (cold_run.folder / BASE_PLAN_FILE).exists()

    # a new variant in the same sweep reuses the stored base plan: it is not solved again
    before = (warm_run.folder / BASE_PLAN_FILE).stat().st_mtime_ns
    parameters[0]["values"] = [0, 300, 150]
    write_sweep(tmp_path / "warm", "warm", design="oat", parameters=parameters, base_solver=base_solver)
    again = run_sweep(warm, runs_root=runs, client=client)
    assert len(again.solved) == 1
    assert (warm_run.folder / BASE_PLAN_FILE).stat().st_mtime_ns == before


def test_a_variant_without_a_feasible_start_waits_for_a_neighbours_plan(tmp_path, client):
    """One unit A in hub H (1 ward of 10 beds, up to 10), all of F's medium need in the hub:
    the base (10 beds) keeps 1 ward, and so does x 0.9 (9 beds, from the base plan); that plan
    is infeasible for x 1.1 and x 1.2 (11 and 12 beds need 2 wards). Both wait (however the
    workers interleave, every plan they are offered has 1 ward); with nothing else running, the
    one farthest from every plan goes ahead without a start: x 1.2 (|1.2 - 0.9| / 0.3 = 1.0
    against x 1.1's 0.2 / 0.3), and its plan (2 wards, 20 beds) then starts x 1.1. Each optimum
    is a cold sweep's.

    The crossover: x 0.9 is offered the base plan only, its own start, so it is crossed with its
    LP relaxation (0.9 of a ward: the box lets A have 0 or 1, 0 holds no bed, nothing better);
    x 1.2 goes without a start, so none runs; x 1.1 is
    offered x 1.2's plan (its start) and x 0.9's (1 ward, the second nearest): the box lets A
    have 1 or 2 wards, 1 cannot hold 11 beds, so the crossover runs and finds nothing better
    than the start. With `crossover: false` it never runs."""
    tiny = (Tiny().site("A", wards={"med": 1}).service("med", in_hub_share=1.0).need("F", "med", 10))
    base = tiny.write(tmp_path / "tiny")
    parameters = [{"name": "need", "table": "demand", "column": "beds", "op": "scale",
                   "values": [1.1, 1.2, 0.9]}]
    events: list[tuple[str, dict]] = []
    runs = tmp_path / "runs"
    warm = run_sweep(write_sweep(tmp_path / "warm", "warm", base=base, design="grid", parameters=parameters),
                     runs_root=runs, client=client, on_event=lambda kind, info: events.append((kind, info)))
    cold = run_sweep(write_sweep(tmp_path / "cold", "cold", base=base, design="grid", parameters=parameters,
                                 warm_start=False), runs_root=runs, client=client)
    w = pd.read_parquet(warm.folder / RESULTS_FILE).set_index("label")
    c = pd.read_parquet(cold.folder / RESULTS_FILE).set_index("label")
    label = {round(float(need), 1): name for name, need in w["need"].items()}
    waited = {info["variant"] for kind, info in events if kind == "waiting"}
    assert waited == set(w.loc[[label[1.1], label[1.2]], "variant"])
    assert (w["status"] == "optimal").all() and len(w) == 3
    assert w.at[label[0.9], "start_from"] == "base plan"
    assert w.at[label[1.2], "start_from"] == "none"
    assert w.at[label[1.1], "start_from"] == f"variant {label[1.2]}"
    for name in w.index:
        assert w.at[name, "objective"] == pytest.approx(c.at[name, "objective"], rel=1e-9), name
    assert pd.isna(w.at[label[1.2], "crossover_seconds"]) and pd.isna(w.at[label[1.2], "crossover_with"])
    assert w.at[label[0.9], "crossover_with"] == "relaxation" and not w.at[label[0.9], "crossover_improved"]
    assert w.at[label[1.1], "crossover_seconds"] > 0 and not w.at[label[1.1], "crossover_improved"]
    assert w.at[label[1.1], "crossover_with"] == "plans"
    assert c["crossover_seconds"].isna().all()
    plain = run_sweep(write_sweep(tmp_path / "plain", "plain", base=base, design="grid",
                                  parameters=parameters, crossover=False), runs_root=runs, client=client)
    p = pd.read_parquet(plain.folder / RESULTS_FILE).set_index("label")
    assert p["crossover_seconds"].isna().all() and (p["status"] == "optimal").all()
    for name in p.index:
        assert p.at[name, "objective"] == pytest.approx(c.at[name, "objective"], rel=1e-9), name
    # a wait is never written as a result: one record a variant, the solved one
    records = [json.loads(p.read_text()) for p in (warm.folder / "variants").glob("*.json")]
    assert sorted(r["status"] for r in records) == ["optimal"] * 3


def test_a_variant_whose_start_checks_ran_out_of_time_says_so(tmp_path):
    """A solved variant's record: `start_used` False alone would read as a refused start, so a
    count of unchecked starts (their check stopped by its time) is said in `reason`."""
    from dataclasses import replace

    from model.run import solve_scenario
    from model.sweep.runner import _solved_record

    tiny = Tiny().site("A", wards={"med": 1}).need("F", "med", 5)
    result = solve_scenario(tiny.write(tmp_path / "s"), runs_root=None, baseline=False)
    assert _solved_record(result)["reason"] == ""
    result.outcome = replace(result.outcome, start_used=False, starts_unchecked=2)
    record = _solved_record(result)
    assert record["start_used"] is False
    assert record["reason"] == "2 start(s) not checked: the checks' time (10% of the limit) ran out"
