"""An earlier run's plan as the start of a new solve (`bedplan solve --start-from`).

A planner edits a scenario and solves it again, often many times a day. Every complete run
folder keeps its recommended plan's integer decisions (wards, builds, conversions, removals,
sites operating) in ``plan_start.json``, by variable name and index, so that
another build of the model (the same scenario, or an edited one) can take them as a MIP start.
The new solve checks that start as a sweep variant's is checked (`model.solve.first_feasible_start`:
its integer values fixed, the rest an LP; a small MIP where it leaves some integer free, e.g. a
site the earlier scenario did not have). A feasible start is crossed with the rounding of the
new model's LP relaxation, as a sweep variant's start with nothing else to cross is
(`model.first_plan.crossover`), and handed to HiGHS, which then mostly has to prove its gap; a
start that is not feasible (more demand than the earlier plan's wards can take, a new rule) is
dropped and the solve goes on as without it (`solver.first_plan`).

The file also keeps the plan of each step of the saving breakdown (``steps``: a lever's name
-> its step's decisions, `model.saving`), and a run started from it offers each step the
earlier run's plan of that step beside this run's own (the step before's plan), the cheaper
feasible of them to be the step's start.

What a start changes is how soon the gap is proved, never what is proved: the plan returned is
within the run's proven gap of the best plan either way, and it may differ from a cold solve's
plan by as much as that gap. The manifest and the summary say which plan the solve started from
and whether it was feasible.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from model.errors import Problem, ScenarioError
from model.formulation.levers import LEVERS, named_rows, start_map
from model.outputs import write_atomic
from model.solve import BetweenPlans

PLAN_START = "plan_start.json"
LAST = "last"  # `--start-from last`: the newest complete run of the same scenario
FORMAT = 1


@dataclass(frozen=True)
class EarlierPlan:
    """A plan read from a run folder's ``plan_start.json``."""

    file: Path
    run_id: str
    scenario: str
    objective: float | None
    decisions: list[list[Any]]  # [variable, index, value] rows (`named_rows`)
    steps: dict[str, list[list[Any]]] = field(default_factory=dict)  # lever -> its step's rows


def plan_record(integers: ComponentMap, scenario: str, run_id: str, objective: float | None,
                gap_rel: float | None, steps: dict[str, ComponentMap] | None = None) -> dict[str, Any]:
    """What ``plan_start.json`` holds: the plan's integer decisions (`integer_start` of the solved
    model), where they came from, and the saving breakdown's step plans by lever (`steps`; only
    the levers of `LEVERS`: the do-nothing baseline's decisions are all fixed)."""
    record = {"format": FORMAT, "scenario": scenario, "run_id": run_id, "objective_gbp": objective,
              "gap_rel": gap_rel, "decisions": _rows(integers)}
    kept = {lever: _rows(plan) for lever, plan in (steps or {}).items() if lever in LEVERS and plan}
    if kept:
        record["steps"] = kept
    return record


def _rows(integers: ComponentMap) -> list[list[Any]]:
    return [[name, [_plain(i) for i in index], _plain(value)] for name, index, value in named_rows(integers)]


def write_plan(record: dict[str, Any], path: Path) -> None:
    """``plan_start.json``: the account's fields, then one decision a line (diffable, and a
    fraction of the size an indented dump of ~7,000 rows would be); the steps' plans likewise."""
    head = {k: v for k, v in record.items() if k not in ("decisions", "steps")}
    text = json.dumps(head, indent=2)[:-2] + f',\n  "decisions": {_lines(record["decisions"], 4)}'
    if record.get("steps"):
        steps = ",\n".join(f"    {json.dumps(lever)}: {_lines(rows, 6)}"
                            for lever, rows in record["steps"].items())
        text += f',\n  "steps": {{\n{steps}\n  }}'
    write_atomic(path, (text + "\n}\n").encode("utf-8"))


def _lines(rows: list[list[Any]], indent: int) -> str:
    """A JSON list, one row a line at `indent`."""
    if not rows:
        return "[]"
    pad = " " * indent
    return ("[\n" + pad + f",\n{pad}".join(json.dumps(row, separators=(", ", ": ")) for row in rows)
            + "\n" + " " * (indent - 2) + "]")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def resolve_start(spec: str | Path, runs_root: str | Path | None, scenario: str) -> Path:
    """The ``plan_start.json`` that `spec` names: the file itself, a run folder holding one, or
    `LAST` (the newest run of `scenario` under `runs_root` that is complete and has one). Raises
    ScenarioError naming what was looked for."""
    if str(spec) == LAST:
        return _last_run(runs_root, scenario)
    path = Path(spec)
    if path.is_dir():
        path = path / PLAN_START
    if not path.is_file():
        raise _error(str(spec), None, f"--start-from: no {PLAN_START} here (give a run folder "
                                      f"of `bedplan solve`, its {PLAN_START}, or `{LAST}`)")
    return path


def _last_run(runs_root: str | Path | None, scenario: str) -> Path:
    folder = Path(runs_root) / scenario if runs_root is not None else None
    runs = sorted(folder.iterdir(), reverse=True) if folder is not None and folder.is_dir() else []
    for run in runs:  # run ids sort by time; the manifest is written last, so it marks a complete run
        if (run / "manifest.json").is_file() and (run / PLAN_START).is_file():
            return run / PLAN_START
    where = str(folder) if folder is not None else "(no runs folder)"
    raise _error(where, None, f"--start-from {LAST}: no complete run of scenario '{scenario}' "
                              f"with a {PLAN_START} here")


def read_earlier_plan(path: Path) -> EarlierPlan:
    """``plan_start.json`` read and checked; every problem found is reported at once."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(str(path), None, f"cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError([Problem(str(path), exc.lineno, None, None, f"not JSON: {exc.msg}")]) from None
    if not isinstance(record, dict):
        raise _error(str(path), None, f"not a {PLAN_START} (a JSON object is expected)",
                     type(record).__name__)
    problems = []
    if record.get("format") != FORMAT:
        problems.append(Problem(str(path), None, "format", record.get("format"),
                                f"unknown format (this bedplan reads format {FORMAT})"))
    decisions = record.get("decisions")
    if not isinstance(decisions, list):
        problems.append(Problem(str(path), None, "decisions", _short(decisions), "must be a list"))
        decisions = []
    problems += _row_problems(path, "decisions", decisions)
    steps = record.get("steps", {})
    if not isinstance(steps, dict):
        problems.append(Problem(str(path), None, "steps", _short(steps),
                                "must be an object: a lever's name -> its step's decisions"))
        steps = {}
    for lever, rows in steps.items():
        if lever not in LEVERS:
            problems.append(Problem(str(path), None, "steps", lever,
                                    f"not a lever of the saving breakdown ({', '.join(LEVERS)})"))
        elif not isinstance(rows, list):
            problems.append(Problem(str(path), None, f"steps.{lever}", _short(rows), "must be a list"))
        else:
            problems += _row_problems(path, f"steps.{lever}", rows)
    objective = record.get("objective_gbp")
    if objective is not None and not (isinstance(objective, int | float) and math.isfinite(objective)):
        problems.append(Problem(str(path), None, "objective_gbp", objective, "must be a number or null"))
    if problems:
        raise ScenarioError(problems)
    return EarlierPlan(path, str(record.get("run_id", "")), str(record.get("scenario", "")),
                       None if objective is None else float(objective), decisions, steps)


def _row_problems(path: Path, key: str, rows: list) -> list[Problem]:
    return [Problem(str(path), None, f"{key}[{k}]", row, "must be [variable name, [index...], whole number]")
            for k, row in enumerate(rows, start=1) if not _valid_row(row)]


def _valid_row(row: Any) -> bool:
    return (isinstance(row, list) and len(row) == 3 and isinstance(row[0], str)
            and isinstance(row[1], list) and len(row[1]) > 0
            and all(isinstance(i, str | int) and not isinstance(i, bool) for i in row[1])
            and isinstance(row[2], int | float) and not isinstance(row[2], bool) and math.isfinite(row[2])
            and float(row[2]).is_integer())  # integer decisions: a fraction would pass the LP check


def _short(value: Any) -> Any:
    return value if not isinstance(value, dict | list) else type(value).__name__


def _error(file: str, column: str | None, rule: str, value: Any = None) -> ScenarioError:
    return ScenarioError([Problem(file, None, column, value, rule)])


def start_for(m: pyo.ConcreteModel, plan: EarlierPlan) -> tuple[BetweenPlans, dict[str, Any]]:
    """The start for `m` from `plan`, as `model.solve.solve` takes it: a candidate checked before
    HiGHS gets it and, where feasible, crossed with the rounding of `m`'s LP relaxation (no other
    plan to cross it with); and the manifest's account of it (decisions given and matched: a
    decision of a site, service or year the model does not have, or one the scenario fixes, is
    left out). The crossover costs England about 4 s where the plan is already close (the same
    scenario, another carbon price) and saves much more where it is not (less need: a plan with
    wards to spare; docs/performance.md)."""
    start = start_map(m, plan.decisions) or {}
    return BetweenPlans([start], [], or_relaxation=True), {
        "file": str(plan.file), "run_id": plan.run_id, "scenario": plan.scenario,
        "objective_gbp": plan.objective, "decisions_given": len(plan.decisions),
        "decisions_matched": len(start)}


def step_starts(m: pyo.ConcreteModel, plan: EarlierPlan) -> dict[str, ComponentMap]:
    """The earlier run's saving-breakdown step plans mapped onto `m` (built, nothing restricted
    yet), by lever; a step none of whose decisions apply is left out."""
    mapped = {lever: start_map(m, rows) for lever, rows in plan.steps.items()}
    return {lever: start for lever, start in mapped.items() if start}


def steps_account(steps: list) -> dict[str, bool]:
    """For the manifest: each saving-breakdown step offered an earlier run's plan (`model.saving.Step`)
    and whether that plan was its start (False: not feasible after the edit, or not checked)."""
    return {step.lever: step.from_earlier for step in steps if step.from_earlier is not None}


def start_statement(account: dict[str, Any] | None) -> str | None:
    """One sentence for the summary and the command line on the start a solve was given."""
    if not account:
        return None
    source = f"the plan of run {account['run_id'] or '?'} ({account['scenario'] or '?'})"
    matched = f"{account['decisions_matched']:,} of its {account['decisions_given']:,} decisions apply here"
    said = _main_statement(account, source, matched)
    steps = account.get("steps") or {}
    if steps:
        used = sum(1 for started in steps.values() if started)
        others = " (the others from this run's own plans)" if used < len(steps) else ""
        said += (f" The saving breakdown's steps were offered that run's plan of the same step: {used} of "
                 f"{len(steps)} started from it{others}.")
    return said


def _main_statement(account: dict[str, Any], source: str, matched: str) -> str:
    if not account["decisions_matched"]:
        return (f"Offered {source} as a start, but none of its decisions apply here, so the solve went "
                "on as without it.")
    if not account.get("checked", True):
        return (f"Offered {source} as a start: {matched}, but its check ran out of its share of the "
                "time limit, so the solve went on as without it.")
    if account.get("feasible"):
        crossed = {True: "crossed with the rounding of this scenario's LP relaxation, which found a "
                         "cheaper plan, and HiGHS proved its gap from that",
                   False: "crossed with the rounding of this scenario's LP relaxation (no cheaper plan "
                          "there), and HiGHS proved its gap from it"}.get(account.get("crossed"),
                                                                         "and HiGHS proved its gap from it")
        return (f"Started from {source}: {matched}; it is feasible here, {crossed}. A start changes how "
                "soon the gap is proved, not what is proved.")
    return (f"Offered {source} as a start: {matched}, but it is not feasible here, so the solve went "
            "on as without it.")
