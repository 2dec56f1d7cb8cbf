"""An earlier run's plan as a new solve's start (`bedplan solve --start-from`, model/earlier_plan.py):
every run keeps its plan, a start that is feasible is taken, one that is not is dropped, and a
start never changes what is proved."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from model.cli import app
from model.earlier_plan import PLAN_START
from model.errors import ScenarioError
from model.formulation import LEVERS
from model.run import solve_scenario
from tests.factory import Tiny
from tests.formulation.test_families import falling_demand, operating

runner = CliRunner()


def _solve(folder, runs, **kwargs):
    return solve_scenario(folder, runs_root=runs, baseline=False, price=False, **kwargs)


def _record(run_dir) -> dict:
    return json.loads((run_dir / PLAN_START).read_text(encoding="utf-8"))


def _value(record: dict, name: str, index: list) -> int:
    return next(v for n, i, v in record["decisions"] if n == name and i == index)


def test_a_run_keeps_its_plan_and_a_solve_from_it_proves_the_same(tmp_path):
    """falling_demand: need falls from 40 to 20 beds in 2021, so B (cost factor 1.2) closes in 2021
    and A keeps its 2 wards (tests/formulation/test_families.py). plan_start.json holds that plan;
    a solve of the same scenario started from it takes it (feasible) and ends at the same cost."""
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    cold = _solve(folder, runs)
    record = _record(cold.run_dir)
    assert record["run_id"] == cold.manifest["run_id"] and record["scenario"] == "tiny"
    assert record["objective_gbp"] == pytest.approx(cold.outcome.objective)
    assert [_value(record, "operate", ["B", t]) for t in (2020, 2021, 2022)] == [1, 0, 0]
    assert [_value(record, "wards", ["A", "med", t]) for t in (2020, 2021, 2022)] == [2, 2, 2]
    assert cold.manifest["start_from"] is None

    warm = _solve(folder, runs, start_from=cold.run_dir)
    account = warm.manifest["start_from"]
    assert account["feasible"] and account["checked"]
    assert account["run_id"] == cold.manifest["run_id"]
    assert account["decisions_matched"] == account["decisions_given"] == len(record["decisions"])
    assert warm.outcome.objective == pytest.approx(cold.outcome.objective, rel=1e-9)
    assert operating(warm, "B") == [1, 0, 0]
    summary = (warm.run_dir / "summary.md").read_text(encoding="utf-8")
    assert "**Start.** Started from the plan of run " + cold.manifest["run_id"] in summary


def test_a_plan_the_edited_scenario_forbids_is_dropped(tmp_path):
    """The same plan offered to falling_demand with 2 years' closure notice: B cannot close before
    2022, so the plan (B closed in 2021) breaks closure_notice. The start is refused and the solve
    finds that scenario's own optimum, B open in 2020-2021 and closed in 2022, as a cold solve does."""
    runs = tmp_path / "runs"
    earlier = _solve(falling_demand().write(tmp_path / "s"), runs)
    edited = falling_demand().policy(closure_notice_years=2).write(tmp_path / "edited")
    cold = _solve(edited, None)
    warm = _solve(edited, runs, start_from=earlier.run_dir / PLAN_START)
    assert warm.manifest["start_from"]["feasible"] is False
    assert operating(warm, "B") == [1, 1, 0]
    assert warm.outcome.objective == pytest.approx(cold.outcome.objective, rel=1e-9)
    summary = (warm.run_dir / "summary.md").read_text(encoding="utf-8")
    assert "but it is not feasible here, so the solve went on as without it" in summary


@pytest.mark.parametrize("edit", ["more_need", "less_need", "new_candidate", "dearer_b"])
def test_a_start_never_changes_the_optimum(tmp_path, edit):
    """Whatever the edit, the solve from the earlier plan ends at the cold solve's objective (each
    tiny case is solved to optimality): a start changes how soon, not what."""
    earlier = _solve(falling_demand().write(tmp_path / "s"), tmp_path / "runs")
    need = {"more_need": {2020: 40, 2021: 40, 2022: 40},  # B closed leaves 20 unmet: still feasible
            "less_need": {2020: 20, 2021: 20, 2022: 20}}.get(edit, {2020: 40, 2021: 20, 2022: 20})
    tiny = (Tiny()
            .service("med", out_of_area_premium=4.0)
            .site("A", wards={"med": 2}, min_wards=2, fixed_cost_gbp=500_000)
            .site("B", wards={"med": 2}, min_wards=2, cost_factor=1.2,
                  fixed_cost_gbp=900_000 if edit == "dearer_b" else 500_000)
            .need("F", "med", need))
    if edit == "new_candidate":  # a site the earlier plan never saw: its decisions are left free
        tiny = tiny.site("C", wards={"med": 0}, status="candidate", min_wards=1, max_wards=4,
                         fixed_cost_gbp=150_000, lead_years=1)
    folder = tiny.write(tmp_path / "edited")
    cold = _solve(folder, None)
    warm = _solve(folder, None, start_from=earlier.run_dir)
    assert warm.outcome.objective == pytest.approx(cold.outcome.objective, rel=1e-9)
    assert warm.outcome.earlier_plan["decisions_matched"] <= warm.outcome.earlier_plan["decisions_given"]


def test_start_from_last_takes_the_newest_complete_run(tmp_path):
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    _solve(folder, runs)
    second = _solve(folder, runs)
    # a newer run folder that never finished (no manifest.json) and holds junk is passed over
    unfinished = runs / "tiny" / "99991231T000000000Z-000000"
    unfinished.mkdir()
    (unfinished / PLAN_START).write_text("not json", encoding="utf-8")
    warm = _solve(folder, runs, start_from="last")
    assert warm.manifest["start_from"]["run_id"] == second.manifest["run_id"]
    assert warm.manifest["start_from"]["feasible"]


def _problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_every_problem_of_a_bad_plan_file_is_reported_at_once(tmp_path):
    folder = falling_demand().write(tmp_path / "s")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 7, "decisions": [["wards", [], 3], ["operate", ["B", 2021], "x"], 5,
                                                          ["wards", ["A", "med", 2020], 1.5]],
                               "objective_gbp": "lots"}), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        _solve(folder, tmp_path / "runs", start_from=bad)
    problems = _problems(exc)
    assert len(problems) == 6
    assert problems[0].startswith(f"{bad}, key 'format': unknown format")
    assert all(f"key 'decisions[{k}]'" in " ".join(problems) for k in (1, 2, 3, 4))  # 1.5 wards: not whole
    assert not (tmp_path / "runs").exists()  # refused before anything was written

    bad.write_text('{"format": 1,\n "decisions": [', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        _solve(folder, None, start_from=bad)
    assert _problems(exc)[0].startswith(f"{bad}, line 2: not JSON")


def test_a_start_needs_every_arc(tmp_path):
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    earlier = _solve(folder, runs)
    with pytest.raises(ScenarioError) as exc:
        solve_scenario(folder, runs_root=None, baseline=False, price=False, start_from=earlier.run_dir,
                       overrides={"solver": {"arcs": "nearest:1"}})
    assert "without --start-from" in _problems(exc)[0]


def test_the_command_line_starts_from_the_last_run_and_refuses_a_missing_one(tmp_path):
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    args = ["solve", str(folder), "--runs-dir", str(runs), "--no-report", "--no-baseline"]
    missing = runner.invoke(app, [*args, "--start-from", "last"])
    assert missing.exit_code == 2, missing.output
    assert "no complete run of scenario 'tiny'" in " ".join(missing.output.split())
    assert not runs.exists()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "--start-from", "last"])
    assert second.exit_code == 0, second.output
    assert "it is feasible here" in " ".join(second.output.split())
    nowhere = runner.invoke(app, [*args, "--start-from", str(tmp_path / "nowhere")])
    assert nowhere.exit_code == 2
    assert f"no {PLAN_START} here" in " ".join(nowhere.output.split())


def test_what_the_summary_says_of_each_kind_of_start():
    from model.earlier_plan import start_statement

    base = {"run_id": "R1", "scenario": "tiny", "decisions_given": 10, "decisions_matched": 8,
            "feasible": True, "checked": True, "crossed": None}
    assert start_statement(None) is None
    said = start_statement(base)
    assert said.startswith("Started from the plan of run R1 (tiny): 8 of its 10 decisions apply here; "
                           "it is feasible here, and HiGHS proved its gap from it.")
    assert "which found a cheaper plan" in start_statement({**base, "crossed": True})
    assert "(no cheaper plan there)" in start_statement({**base, "crossed": False})
    assert "not feasible here" in start_statement({**base, "feasible": False})
    assert "its check ran out" in start_statement({**base, "feasible": False, "checked": False})
    assert "none of its decisions apply here" in start_statement({**base, "feasible": False,
                                                                  "decisions_matched": 0})


def test_a_hand_edited_plan_naming_other_components_is_only_a_poorer_start(tmp_path):
    """Rows naming a constraint or a variable index the model lacks are left out, not a crash; the
    rows left (B's sites operating in every year) still make a feasible start."""
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    plan = tmp_path / "edited.json"
    plan.write_text(json.dumps({"format": 1, "decisions": [
        ["site_maximum", ["B", 2021], 1], ["wards", ["Z", "med", 2020], 3], ["nothing", ["B"], 0],
        ["operate", ["B", 2020], 1], ["operate", ["B", 2021], 0], ["operate", ["B", 2022], 0]]}),
        encoding="utf-8")
    warm = _solve(folder, runs, start_from=plan)
    account = warm.manifest["start_from"]
    assert (account["decisions_given"], account["decisions_matched"]) == (6, 3)
    assert account["feasible"] and operating(warm, "B") == [1, 0, 0]


def _with_breakdown(folder, runs, **kwargs):
    return solve_scenario(folder, runs_root=runs, baseline=True, levers=True, price=False, **kwargs)


def _step_objectives(result) -> dict[str, float]:
    return result.saving.set_index("lever")["objective_after_gbp"].to_dict()


def test_each_step_of_the_breakdown_starts_from_the_earlier_runs_plan_of_that_step(tmp_path):
    """falling_demand with the saving breakdown. The do-nothing baseline keeps B open; every step
    from `removals` on closes B in 2021 (its fixed 500k + 2 x 120k of wards a year outweigh nothing:
    the 20 beds of 2021-2022 fit in A). plan_start.json keeps each lever step's plan; a run of the
    same scenario started from it offers each step that plan first, every one is feasible and is
    taken, and every step ends at the cold run's objective (each is solved to optimality)."""
    folder, runs = falling_demand().write(tmp_path / "s"), tmp_path / "runs"
    cold = _with_breakdown(folder, runs)
    record = _record(cold.run_dir)
    assert list(record["steps"]) == list(LEVERS)
    for lever in LEVERS:
        closed = [v for t in (2020, 2021, 2022) for n, i, v in record["steps"][lever]
                  if n == "operate" and i == ["B", t]]
        assert closed == [1, 0, 0], lever
    assert all(s["from_earlier_run"] is None for s in cold.manifest["saving_steps"])

    warm = _with_breakdown(folder, runs, start_from="last")
    flags = {s["lever"]: s["from_earlier_run"] for s in warm.manifest["saving_steps"]}
    assert flags == {"do_nothing": None, **dict.fromkeys(LEVERS, True)}
    assert warm.manifest["start_from"]["steps"] == dict.fromkeys(LEVERS, True)
    assert _step_objectives(warm) == pytest.approx(_step_objectives(cold), rel=1e-9)
    summary = " ".join((warm.run_dir / "summary.md").read_text(encoding="utf-8").split())
    assert "4 of 4 started from it." in summary

    # a plan file of a run without the breakdown (or written before it kept the steps) offers none
    del record["steps"]
    (tmp_path / "plain.json").write_text(json.dumps(record), encoding="utf-8")
    plain = _with_breakdown(folder, None, start_from=tmp_path / "plain.json")
    assert all(s["from_earlier_run"] is None for s in plain.manifest["saving_steps"])
    assert "steps" not in start_statement_of(plain)


def start_statement_of(result) -> str:
    from model.earlier_plan import start_statement

    return start_statement(result.outcome.earlier_plan)


def test_a_step_plan_the_edit_forbids_is_passed_over_for_the_runs_own(tmp_path):
    """The same plans offered to falling_demand with 2 years' closure notice (a rule the breakdown
    keeps in every step): each step's earlier plan closes B in 2021, which the notice forbids, so
    every step starts from this run's own plan instead (the step before's), and ends where the
    cold run of the edited scenario ends: B open in 2020-2021, closed in 2022."""
    runs = tmp_path / "runs"
    earlier = _with_breakdown(falling_demand().write(tmp_path / "s"), runs)
    edited = falling_demand().policy(closure_notice_years=2).write(tmp_path / "edited")
    cold = _with_breakdown(edited, None)
    warm = _with_breakdown(edited, None, start_from=earlier.run_dir)
    assert warm.manifest["start_from"]["steps"] == dict.fromkeys(LEVERS, False)
    assert _step_objectives(warm) == pytest.approx(_step_objectives(cold), rel=1e-9)
    assert "0 of 4 started from it (the others from this run's own plans)" in start_statement_of(warm)


def test_every_problem_of_a_plan_files_steps_is_reported_at_once(tmp_path):
    folder = falling_demand().write(tmp_path / "s")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 1, "decisions": [["operate", ["B", 2021], 0]],
                               "steps": {"removals": [["operate", ["B", 2021], 0.5]], "builds": [],
                                         "conversions": "all", "community": [["wards", [], 1]]}}),
                   encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        _with_breakdown(folder, tmp_path / "runs", start_from=bad)
    problems = _problems(exc)
    assert len(problems) == 4
    said = " ".join(problems)
    assert "key 'steps.removals[1]'" in said and "key 'steps.community[1]'" in said
    assert "key 'steps': not a lever of the saving breakdown" in said and "'builds'" in said
    assert "key 'steps.conversions': must be a list" in said
    bad.write_text(json.dumps({"format": 1, "decisions": [], "steps": [1]}), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        _with_breakdown(folder, None, start_from=bad)
    assert "must be an object" in _problems(exc)[0]
    assert not (tmp_path / "runs").exists()
