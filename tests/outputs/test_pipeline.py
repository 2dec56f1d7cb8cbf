"""`bedplan solve` end to end on the demo scenario: every output, the baseline, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from model.results import ACTIONS, check_kpis_total
from tests.conftest import DEMO, ROOT

EXPECTED_FILES = {"manifest.json", "decisions.csv", "wards.csv", "allocation.csv", "kpis.csv",
                  "summary.md", "solver.log", "objective_by_year.csv", "unmet.csv", "pathway.csv",
                  "community.csv"}


def test_run_writes_every_output(demo_run):
    names = {p.name for p in demo_run.run_dir.iterdir()}
    assert names >= EXPECTED_FILES
    assert not any(p.name.startswith(".incomplete") for p in demo_run.run_dir.parent.iterdir())


def test_manifest_records_what_was_run(demo_run):
    manifest = json.loads((demo_run.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "optimal"
    assert manifest["scenario"] == "demo"
    assert manifest["gap_rel"] <= 1e-4 + 1e-12
    assert manifest["gap_abs_gbp"] >= 0
    assert set(manifest["objective_terms"]) == {"cost_gbp", "carbon_gbp", "travel_gbp",
                                                "delay_penalty_gbp"}
    assert sum(manifest["objective_terms"].values()) == pytest.approx(manifest["objective"], rel=1e-9)
    assert manifest["versions"]["pyomo"] and manifest["solver"].startswith("HiGHS")
    assert len(manifest["input_sha256"]["demand.csv"]) == 64
    assert manifest["build_seconds"] > 0 and manifest["solve_seconds"] > 0
    assert manifest["baseline"]["status"] == "optimal"
    assert "HiGHS" in (demo_run.run_dir / "solver.log").read_text()


def test_decisions_table(demo_run):
    d = pd.read_csv(demo_run.run_dir / "decisions.csv")
    assert set(d["action"]) <= set(ACTIONS)
    for col in ("site", "year", "wards_before_medium", "wards_after_medium", "beds_before_low",
                "beds_after_low"):
        assert col in d.columns
    # after of one year is before of the next
    for _site, rows in d.sort_values("year").groupby("site"):
        assert (rows["wards_before_medium"].iloc[1:].to_numpy()
                == rows["wards_after_medium"].iloc[:-1].to_numpy()).all()


def test_allocation_meets_capacity(demo_run):
    alloc = pd.read_csv(demo_run.run_dir / "allocation.csv")
    wards = pd.read_csv(demo_run.run_dir / "wards.csv")
    used = alloc.groupby(["site", "service", "year"])["beds"].sum()
    cap = wards.set_index(["site", "service", "year"])["beds"] * 0.9
    assert (used <= cap.reindex(used.index) + 1e-6).all()
    assert {"footprint", "site", "service", "year", "beds", "km"} <= set(alloc.columns)


def test_kpis_cover_every_scope_and_reconcile(demo_run):
    k = pd.read_csv(demo_run.run_dir / "kpis.csv")
    assert set(k["case"]) == {"optimised", "baseline"}
    assert set(k["scope"]) == {"england", "hub", "footprint"}
    assert set(k[k["scope"] == "hub"]["id"]) == {"YH", "EM"}
    assert len(set(k[k["scope"] == "footprint"]["id"])) == 5
    assert set(k["year"].astype(str)) == {"all", "2017", "2018", "2019", "2020", "2021"}
    for col in ("cost_gbp", "carbon_t", "patient_km", "in_hub_share", "unmet_beds",
                "delayed_discharges"):
        assert col in k.columns
    opt = demo_run.kpis[demo_run.kpis["case"] == "optimised"]
    assert check_kpis_total(opt, demo_run.solution) == pytest.approx(0, abs=1.0)
    # footprints add up to England for patient-based measures
    eng = opt[(opt["scope"] == "england") & (opt["year"] == "all")].iloc[0]
    fps = opt[(opt["scope"] == "footprint") & (opt["year"] == "all")]
    # (costs of empty wards belong to hubs, not footprints, so cost is not compared here)
    for col in ("unmet_beds", "patient_km", "delayed_discharges", "placed_beds"):
        assert fps[col].sum() == pytest.approx(eng[col], rel=1e-6)


def test_recommended_beats_do_nothing(demo_run):
    assert demo_run.solution.objective <= demo_run.baseline.objective + 1e-6
    base_wards = demo_run.baseline.wards
    existing = {(s, v): w for (s, v), w in demo_run.inputs.existing_wards.items()}
    for row in base_wards.itertuples():
        assert row.wards == existing[(row.site, row.service)]


def test_summary_reads_like_a_briefing(demo_run):
    text = (demo_run.run_dir / "summary.md").read_text()
    assert "Against doing nothing" in text
    assert "What changes, where and when" in text
    assert "Settings without effect" not in text  # the demo's settings all take effect
    changed = demo_run.decisions[demo_run.decisions["action"] != "keep"]
    for name in changed["name"].unique():
        assert name in text


def test_runs_never_collide(tmp_path):
    from model.run import solve_scenario

    first = solve_scenario(DEMO, runs_root=tmp_path, baseline=False)
    second = solve_scenario(DEMO, runs_root=tmp_path, baseline=False)
    assert first.run_dir != second.run_dir
    assert (first.run_dir / "manifest.json").exists() and (second.run_dir / "manifest.json").exists()


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_cli_validate_ok():
    out = _cli("validate", str(DEMO))
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout


def test_cli_solve_writes_a_run(tmp_path):
    out = _cli("solve", str(DEMO), "--runs-dir", str(tmp_path), "--time-limit", "30")
    assert out.returncode == 0, out.stderr
    assert "optimal" in out.stdout
    runs = list((tmp_path / "demo").iterdir())
    assert len(runs) == 1 and (runs[0] / "manifest.json").exists()


def test_cli_says_the_first_plan_while_highs_output_is_captured(tmp_path):
    """The first plan is found inside the capture of HiGHS's output (fd 1, read back for what
    HiGHS made of the start and shown only with --log); the command line says it on its own
    standard output all the same, without --log."""
    out = _cli("solve", str(DEMO), "--runs-dir", str(tmp_path), "--time-limit", "30",
               "--first-plan", "lp_neighbourhood", "--no-baseline", "--no-price", "--no-report")
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())  # rich wraps long lines (and puts its source on the right)
    first = said.index("first plan (lp_neighbourhood): ")
    assert said.index("solving (") < first < said.index("proving its gap from it") < said.index("extracting")


def test_the_stage_messages_close_the_descriptor_they_opened(tmp_path, monkeypatch):
    """The stage messages go to a duplicate of standard output's descriptor; it is closed when
    the stages end (a process that runs many solves would otherwise keep one open a solve). The
    messages reach the file behind standard output."""
    import os
    import sys

    from model.cli import _stages

    with open(tmp_path / "stdout.txt", "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        before = len(os.listdir("/proc/self/fd"))
        for round_ in range(3):
            with _stages() as say:
                assert len(os.listdir("/proc/self/fd")) == before + 1  # the duplicate
                say(f"stage {round_}")
            assert len(os.listdir("/proc/self/fd")) == before
    said = (tmp_path / "stdout.txt").read_text()
    assert all(f"stage {k}" in said for k in range(3))


def test_cli_invalid_input_exits_2_without_traceback(tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(DEMO, bad)
    sites = (bad / "sites.csv").read_text().replace(",existing,", ",existng,", 1)
    (bad / "sites.csv").write_text(sites)
    demand = (bad / "demand.csv").read_text().splitlines()
    demand[1] = demand[1].rsplit(",", 1)[0] + ",-3"
    (bad / "demand.csv").write_text("\n".join(demand) + "\n")
    out = _cli("solve", str(bad), "--runs-dir", str(tmp_path / "runs"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "sites.csv, row 2, column 'status'" in out.stderr
    assert "demand.csv, row 2, column 'beds'" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_cli_infeasible_exits_3(tmp_path):
    from tests.factory import Tiny

    # in-hub share 1.0 but the only unit is in another hub: no placement is allowed, and unmet
    # counts against the share, so no solution exists.
    folder = (Tiny().site("B", footprint="FG", wards={"med": 1})
              .service("med", in_hub_share=1.0).need("F", "med", 5).write(tmp_path / "inf"))
    out = _cli("solve", str(folder), "--runs-dir", str(tmp_path / "runs"))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "infeasible" in out.stderr.lower()
