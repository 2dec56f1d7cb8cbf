"""Sensitivity sweeps (issue 5): the sweep file, designs, variant content keys, and runs on a real
dask.distributed LocalCluster (2 worker processes, 1 thread each) with the demo scenario: bad
variants fail alone, a killed sweep resumes without solving again what it had finished."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from model.cli import app
from model.data import load_scenario
from model.errors import ScenarioError
from model.sweep import (
    RESULTS_FILE,
    VARIANTS_DIR,
    build_variants,
    dask_client,
    design_points,
    load_sweep,
    materialise,
    pending,
    run_sweep,
)
from model.sweep.report import ATTRIBUTION, MAP_FILE, SCATTER_FILE, TORNADO_FILE
from tests.conftest import DEMO, ROOT

SOLVER = {"time_limit": 30, "mip_gap": 0.01, "threads": 1}


def write_sweep(folder: Path, name: str, base: Path = DEMO, **content) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"name": name, "base": os.path.relpath(base, folder), "solver": SOLVER, **content}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def client():
    """The sweep's own LocalCluster: worker processes (not threads), no dashboard."""
    with dask_client(workers=2) as c:
        assert [w["nthreads"] for w in c.scheduler_info()["workers"].values()] == [1, 1]
        pids = set(c.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids  # two worker processes
        yield c


# ---- the sweep file -------------------------------------------------------------------------


def test_invalid_sweep_file_lists_every_problem_and_exits_2(tmp_path):
    path = write_sweep(tmp_path, "bad", design="grid", parameters=[
        {"name": "price", "key": "carbon_price", "values": [1]},  # unknown key
        {"name": "beds", "table": "demand", "column": "bed", "op": "scale", "values": [1.1]},
        {"name": "hub_beds", "table": "demand", "column": "beds", "op": "scale", "hub": "ZZ",
         "values": [1.1]},
        {"name": "nothing", "table": "sites", "column": "max_wards", "op": "scale",
         "where": {"site": "NOPE"}, "values": [2]},
        {"name": "no_range", "key": "discount_rate"},  # neither values nor low/high
        {"name": "extra", "key": "discount_rate", "values": [0.1], "colour": "red"},
    ])
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    text = "\n".join(str(p) for p in info.value.problems)
    assert len(info.value.problems) == 6, text
    for expected in ("unknown scenario key 'carbon_price' (did you mean 'carbon_price_gbp_per_t'?)",
                     "unknown column of demand", "unknown hub", "matches no rows of sites",
                     "give `values`, or `low` and `high`", "parameters.extra.colour"):
        assert expected in text
    first = path.read_text().splitlines().index("- name: price") + 1
    assert f"bad.yaml, line {first}, key 'parameters.price'" in text  # where it is in the YAML
    result = CliRunner().invoke(app, ["sweep", str(path)])
    assert result.exit_code == 2
    assert "6 problem(s)" in result.output


def test_missing_base_is_reported(tmp_path):
    path = write_sweep(tmp_path, "nobase", base=tmp_path / "nowhere", design="grid",
                       parameters=[{"name": "p", "key": "discount_rate", "values": [0.1]}])
    with pytest.raises(ScenarioError, match="not a scenario folder"):
        load_sweep(path)


# ---- designs --------------------------------------------------------------------------------


def test_designs_grid_one_at_a_time_and_latin_hypercube(tmp_path):
    params = [{"name": "price", "key": "carbon_price_gbp_per_t", "values": [0, 69, 200]},
              {"name": "growth", "table": "demand", "column": "beds", "op": "growth",
               "low": -0.02, "high": 0.04}]
    grid = load_sweep(write_sweep(tmp_path, "g", design="grid", parameters=[
        params[0], {**params[1], "levels": 4}]))
    assert len(design_points(grid.spec)) == 12
    oat = load_sweep(write_sweep(tmp_path, "o", design="oat", parameters=params))
    points = design_points(oat.spec, oat.scenario.config.model_dump(mode="json"))
    # base (price 69, growth 0) + price 0 and 200 (69 is the base) + growth low and high
    assert [label for label, _ in points] == ["base", "price=0", "price=200", "growth=-0.02",
                                              "growth=0.04"]
    assert points[0][1] == {"price": 69.0, "growth": 0.0}
    lhs_path = write_sweep(tmp_path, "l", design="lhs", variants=20, seed=7, parameters=params)
    lhs = design_points(load_sweep(lhs_path).spec)
    assert len(lhs) == 20 and lhs == design_points(load_sweep(lhs_path).spec)  # seeded
    assert {v["price"] for _, v in lhs} <= {0, 69, 200}
    growth = sorted(v["growth"] for _, v in lhs)
    assert growth[0] >= -0.02 and growth[-1] <= 0.04
    # Latin hypercube: one sample in each of the 20 equal strata
    assert sorted(int((g + 0.02) / 0.06 * 20) for g in growth) == list(range(20))
    other = design_points(load_sweep(write_sweep(tmp_path, "l2", design="lhs", variants=20, seed=8,
                                                 parameters=params)).spec)
    assert other != lhs


# ---- materialising variants and their content keys -------------------------------------------


def _table(variant, name: str, base: Path = DEMO) -> pd.DataFrame:
    """A table of the variant, as the loader gives it with the variant's changes applied."""
    changes = {"changes": variant.overrides.get("changes", [])}
    return load_scenario(base, changes).tables[name.removesuffix(".csv")]


def test_table_changes_follow_filters_and_keys_follow_content(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "m", design="grid", parameters=[
        {"name": "yh_medium", "table": "demand", "column": "beds", "op": "scale", "hub": "YH",
         "where": {"service": ["medium"], "year": [2019, 2020]}, "values": [1.1]},
        {"name": "em_max", "table": "sites", "column": "max_wards", "op": "add", "hub": "EM",
         "values": [2]},
        {"name": "price", "key": "carbon_price_gbp_per_t", "values": [69]},
    ]))
    base = pd.read_csv(DEMO / "demand.csv")
    hub = pd.read_csv(DEMO / "footprints.csv").set_index("footprint")["hub"]
    variant = materialise(sweep, {"yh_medium": 1.1, "em_max": 2, "price": 69})
    demand = _table(variant, "demand.csv")
    hit = ((base["footprint"].map(hub) == "YH") & (base["service"] == "medium")
           & base["year"].isin([2019, 2020]))
    assert hit.sum() > 0 and (~hit).sum() > 0
    assert demand.loc[hit, "beds"].tolist() == pytest.approx((base.loc[hit, "beds"] * 1.1).tolist())
    assert demand.loc[~hit, "beds"].tolist() == base.loc[~hit, "beds"].tolist()
    sites = _table(variant, "sites.csv")
    base_sites = pd.read_csv(DEMO / "sites.csv")
    em = base_sites["footprint"].map(hub) == "EM"
    assert (sites["max_wards"] - base_sites["max_wards"]).tolist() == [2 if e else 0 for e in em]
    # the same content gives the same key, whatever way it was reached; other content, another key
    untouched = materialise(sweep, {"yh_medium": 1.0, "em_max": 0, "price": 69.0})
    assert "changes" not in untouched.overrides
    assert untouched.key == materialise(sweep, {}).key
    assert variant.key == materialise(sweep, {"yh_medium": 1.1, "em_max": 2}).key
    assert variant.key != untouched.key
    assert materialise(sweep, {"price": 70}).key != untouched.key


def test_growth_compounds_from_the_base_year(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "gr", design="grid", parameters=[
        {"name": "g", "table": "demand", "column": "beds", "op": "growth", "values": [0.05]}]))
    demand = _table(materialise(sweep, {"g": 0.05}), "demand.csv")
    base = pd.read_csv(DEMO / "demand.csv")
    factor = 1.05 ** (base["year"] - sweep.scenario.config.base_year)
    assert demand["beds"].tolist() == pytest.approx((base["beds"] * factor).tolist())


def test_a_range_filter_selects_years_as_a_scenario_change_does(tmp_path):
    # the sweep's `where` takes the same {min, max} ranges as `changes:` in scenario.yaml
    sweep = load_sweep(write_sweep(tmp_path, "rg", design="grid", parameters=[
        {"name": "late", "table": "demand", "column": "beds", "op": "scale",
         "where": {"year": {"min": 2020}}, "values": [2.0]}]))
    demand = _table(materialise(sweep, {"late": 2.0}), "demand.csv")
    base = pd.read_csv(DEMO / "demand.csv")
    factor = (base["year"] >= 2020).map({True: 2.0, False: 1.0})
    assert 0 < (base["year"] >= 2020).sum() < len(base)
    assert demand["beds"].tolist() == pytest.approx((base["beds"] * factor).tolist())


def test_editing_the_base_changes_the_keys_of_what_it_touches(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(DEMO, base)
    sweep_path = write_sweep(tmp_path, "e", base=base, design="grid", parameters=[
        {"name": "price", "key": "carbon_price_gbp_per_t", "values": [0, 100]}])
    before = [v.key for v in build_variants(load_sweep(sweep_path))]
    assert before == [v.key for v in build_variants(load_sweep(sweep_path))]  # stable
    demand = (base / "demand.csv").read_text()
    (base / "demand.csv").write_text(demand.replace("67.6", "68.6", 1))
    after = [v.key for v in build_variants(load_sweep(sweep_path))]
    assert len(set(after) | set(before)) == 4  # every variant reads demand: all re-solved


# ---- on a real LocalCluster -----------------------------------------------------------------


def test_bad_variants_fail_alone_and_a_rerun_solves_nothing(tmp_path, client):
    path = write_sweep(tmp_path, "failsoft", design="oat", parameters=[
        {"name": "carbon_price", "key": "carbon_price_gbp_per_t", "values": [0, 300]},
        {"name": "demand_yh", "table": "demand", "column": "beds", "op": "scale", "hub": "YH",
         "values": [1.2]},
        {"name": "reach", "key": "policy.stepdown_reach_km", "values": [-5]},  # invalid input
        {"name": "unmet", "key": "policy.allow_unmet", "values": [False]},  # infeasible
        {"name": "beds", "table": "demand", "column": "beds", "op": "scale", "values": [-1]},  # invalid
    ])
    runs = tmp_path / "runs"
    run = run_sweep(path, runs_root=runs, client=client)
    results = pd.read_parquet(run.folder / RESULTS_FILE).set_index("label")
    assert len(results) == 7 and len(run.solved) == 7 and run.skipped == []
    status = results["status"].to_dict()
    assert status == {"base": "optimal", "carbon_price=0": "optimal", "carbon_price=300": "optimal",
                      "demand_yh=1.2": "optimal", "reach=-5": "invalid", "unmet=False": "infeasible",
                      "beds=-1": "invalid"}
    assert "stepdown_reach_km" in results.at["reach=-5", "reason"]
    assert "must be >= 0" in results.at["beds=-1", "reason"]
    assert "allow_unmet" in results.at["unmet=False", "reason"]
    assert "<variant>" in results.at["reach=-5", "reason"] and str(tmp_path) not in results.at[
        "reach=-5", "reason"]
    solved = results[results["status"] == "optimal"]
    assert (solved["gap_rel"] <= SOLVER["mip_gap"] + 1e-9).all() and (solved["solve_seconds"] > 0).all()
    for col in ("objective", "term_cost_gbp", "term_carbon_gbp", "cost_gbp", "carbon_t", "patient_km",
                "unmet_beds", "in_hub_share", "wall_seconds", "worker"):
        assert solved[col].notna().all(), col
    assert results.at["carbon_price=300", "carbon_price"] == 300
    assert results.at["base", "carbon_price"] == 69 and results.at["base", "demand_yh"] == 1.0
    assert results.at["demand_yh=1.2", "demand_beds"] > results.at["base", "demand_beds"]
    assert len({w for w in solved["worker"]}) >= 1
    decisions = pd.read_parquet(run.folder / "decisions.parquet")
    assert set(decisions["variant"]) == set(solved["variant"])
    assert {"variant", "site", "year", "action", "wards"} <= set(decisions.columns)
    summary = (run.folder / "summary.md").read_text()
    assert "Robustness per site" in summary and "| reach=-5 | invalid |" in summary
    # which cluster and how many workers solved the variants, said in the summary
    assert run.workers == 2 and run.cluster.startswith("local Dask cluster at tcp://")
    assert "2 worker(s)" in run.cluster and f"on {run.cluster}" in summary
    assert "## Results per variant" in summary and "| carbon_price=300 | " in summary
    for chart in (MAP_FILE, TORNADO_FILE, SCATTER_FILE):
        assert (run.folder / chart).stat().st_size > 10_000, chart
    assert "Open Government Licence" in ATTRIBUTION
    robust = pd.read_csv(run.folder / "robustness.csv")
    assert robust["kept"].between(0, 1).all() and set(robust["site"]) >= {"NL", "HC"}
    book = openpyxl.load_workbook(run.folder / "plan.xlsx")  # one row per variant
    assert book.sheetnames == ["README", "variants", "robustness"]
    rows = list(book["variants"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(results) and rows[0][0] == "variant"
    objective = [r[rows[0].index("objective (GBP)")] for r in rows[1:]]
    assert sum(v for v in objective if v is not None) == pytest.approx(results["objective"].sum())

    again = run_sweep(path, runs_root=runs, client=client)
    assert again.solved == [] and sorted(again.skipped) == sorted(results["variant"])
    assert pd.read_parquet(run.folder / RESULTS_FILE)["status"].tolist() == results["status"].tolist()


def test_killed_sweep_resumes_without_solving_finished_variants(tmp_path, client):
    path = write_sweep(tmp_path, "resume", design="lhs", variants=12, seed=3, parameters=[
        {"name": "carbon_price", "key": "carbon_price_gbp_per_t", "low": 0, "high": 400},
        {"name": "travel", "key": "value_of_travel_gbp_per_km", "low": 0.1, "high": 5.0},
        {"name": "demand", "table": "demand", "column": "beds", "op": "scale", "low": 0.9, "high": 1.1},
    ])
    runs = tmp_path / "runs"
    vdir = runs / "sweeps" / "resume" / VARIANTS_DIR
    proc = subprocess.Popen([sys.executable, "-m", "model", "sweep", str(path), "--workers", "2",
                             "--runs-dir", str(runs)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # the loop ends once two variants are written; the deadline only bounds a failure (a busy
        # machine needs minutes for the base plan and two variants)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(list(vdir.glob("*.json"))) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, mid-sweep
        proc.wait(timeout=30)
    finished = {p.stem: p.stat().st_mtime_ns for p in vdir.glob("*.json")}
    assert 2 <= len(finished) < 12
    sweep = load_sweep(path)
    todo, done = pending(sweep, build_variants(sweep), runs)
    assert {v.key for v in done} == set(finished)

    run = run_sweep(sweep, runs_root=runs, client=client)
    assert set(run.skipped) == set(finished)
    assert set(run.solved) == {v.key for v in todo}  # only what had not finished
    assert not set(run.solved) & set(finished)
    assert {p.stem: p.stat().st_mtime_ns for p in vdir.glob("*.json") if p.stem in finished} == finished
    results = pd.read_parquet(run.folder / RESULTS_FILE)
    assert len(results) == 12 and (results["status"] == "optimal").all()
    plan = json.loads((run.folder / "sweep.json").read_text())
    assert [v["variant"] for v in plan["variants"]] == results["variant"].tolist()


# ---- the example sweeps ---------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "data" / "sweeps").glob("*.yaml"))


@pytest.mark.skipif(not (ROOT / "data" / "scenarios" / "england" / "scenario.yaml").exists(),
                    reason="the England scenario is not built")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_sweeps_are_valid_against_england(path):
    sweep = load_sweep(path)  # every key, table, column and filter checked against the base
    assert sweep.name == path.stem and sweep.spec.base == "../scenarios/england"
    variants = build_variants(sweep)
    assert 2 <= len(variants) <= 100 and len({v.key for v in variants}) == len(variants)
    assert sweep.spec.solver.threads == 1


# ---- the store is checked, not trusted (issue 16) ---------------------------------------------

def test_tampered_records_are_solved_again(tmp_path, client, caplog):
    path = write_sweep(tmp_path, "tamper", design="oat", parameters=[
        {"name": "carbon_price", "key": "carbon_price_gbp_per_t", "values": [0, 300]},
        {"name": "travel", "key": "value_of_travel_gbp_per_km", "values": [5]}])
    runs = tmp_path / "runs"
    run = run_sweep(path, runs_root=runs, client=client)
    keys = sorted(run.solved)
    assert len(keys) == 4
    vdir = run.folder / VARIANTS_DIR
    # another variant's record under this key; an empty record; a truncated decisions file
    (vdir / f"{keys[0]}.json").write_text((vdir / f"{keys[1]}.json").read_text())
    (vdir / f"{keys[2]}.json").write_text("{}")
    decisions = vdir / f"{keys[3]}.decisions.parquet"
    decisions.write_bytes(decisions.read_bytes()[:20])
    sweep = load_sweep(path)
    with caplog.at_level("WARNING", logger="model.sweep.runner"):
        todo, done = pending(sweep, build_variants(sweep), runs)
    assert sorted(v.key for v in todo) == sorted([keys[0], keys[2], keys[3]])
    assert [v.key for v in done] == [keys[1]]
    text = caplog.text
    assert "belongs to another variant" in text and "not a variant record" in text
    assert "decisions file is missing or unreadable" in text
    again = run_sweep(path, runs_root=runs, client=client)
    assert sorted(again.solved) == sorted([keys[0], keys[2], keys[3]])
    results = pd.read_parquet(again.folder / RESULTS_FILE)
    assert (results["status"] == "optimal").all()


def test_two_sweeps_cannot_write_one_folder(tmp_path):
    from model.errors import OutputError
    from model.sweep.store import LOCK_FILE, sweep_lock

    out = tmp_path / "sweep"
    with sweep_lock(out):
        assert (out / LOCK_FILE).read_text() == str(os.getpid())
        with pytest.raises(OutputError, match="another sweep"), sweep_lock(out):
            pass
    assert not (out / LOCK_FILE).exists()
    (out / LOCK_FILE).parent.mkdir(exist_ok=True)
    (out / LOCK_FILE).write_text("999999999")  # a process that no longer runs: taken over
    with sweep_lock(out):
        assert (out / LOCK_FILE).read_text() == str(os.getpid())


def test_a_sweep_on_a_scenario_with_changes_keeps_them(tmp_path):
    # base: the demo scenario with demand x 2 said as a change; the variant adds 1 bed to every
    # row: 2 x beds + 1, not beds + 1 (a variant's copy of a table must not drop the base's change)
    child = tmp_path / "child"
    child.mkdir()
    (child / "scenario.yaml").write_text(yaml.safe_dump({
        "name": "child", "extends": os.path.relpath(DEMO, child),
        "changes": [{"table": "demand", "column": "beds", "op": "scale", "value": 2}]}))
    sweep = load_sweep(write_sweep(tmp_path, "ch", base=child, design="grid", parameters=[
        {"name": "plus", "table": "demand", "column": "beds", "op": "add", "values": [1]}]))
    demand = _table(materialise(sweep, {"plus": 1}), "demand.csv", base=child)
    base = pd.read_csv(DEMO / "demand.csv")
    assert demand["beds"].tolist() == pytest.approx((base["beds"] * 2 + 1).tolist())
    assert "changes" not in sweep.bundle.config
