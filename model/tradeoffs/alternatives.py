r"""`bedplan alternatives`: near-optimal plans as different as possible from the optimum and
from each other (modelling to generate alternatives, as PyPSA's MGA and Calliope's SPORES do).

The optimum is solved as usual (objective :math:`z^*`, the incumbent). Alternative k keeps every
rule and adds the budget row `alternative_budget`

.. math::

    \sum_t \beta_t(\dots) \le (1+\sigma)\, z^*

(the whole weighted objective, ``total_cost``'s expression, within the slack :math:`\sigma` of
the optimum), and maximises, as `alternative_objective`, its distance on site and ward
decisions from the optimum and alternatives 1..k-1 (the plans P):

.. math::

    \max \sum_{p\in P} \sum_{s,v,t} d(wards_{s,v,t}; w^p_{s,v,t}, U_s),\qquad
    d(x; x^p, U) = \begin{cases} (x - x^p)/U & x^p < U/2 \\ (x^p - x)/U & \text{otherwise}\end{cases}

each ward count pushed towards the far end of its range from where plan p has it, scaled by
its range :math:`U` (the site's ``max_wards``), so emptying or filling a site counts 1. It is
linear, with no extra variable; ``operate`` is left out on purpose (a site kept open without a
ward would score for nothing). The distance reported (``model.tradeoffs.plans.distance``) is
exact: site-years where one plan has wards and the other none, plus ward-years of difference.

The alternatives are solved one after another (each depends on all before it), on the Dask
cluster of ``--workers``/``--scheduler`` like the other commands; each starts from the latest
plan found (the optimum's for the first), which meets the budget, or with
``solver.first_plan: relax_and_fix`` from a plan found year by year for the distance objective
(the latest plan when that finds none); each is a full run folder. An alternative that
repeats a plan already found is recorded as a ``repeat`` and ends the search: with the same
plans to move away from, every later one would repeat it too. A rerun reuses what the same
scenario and slack already solved (after the same plans).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from model.config import SCENARIO_FILE
from model.data import load_scenario
from model.errors import InfeasibleError, NoSolutionError, Problem, ScenarioError
from model.formulation.levers import named_start, start_map
from model.formulation.roles import POLICY, Row
from model.solve import FirstPlanFirst
from model.sweep.bundle import content_digest
from model.sweep.runner import dask_client
from model.sweep.store import sweep_lock
from model.tradeoffs.alt_report import write_alternatives_report
from model.tradeoffs.objectives import from_solution
from model.tradeoffs.plans import distance, plan_vector
from model.tradeoffs.points import RUNS_DIR, plan_kpis
from model.tradeoffs.store import (
    plan_digest,
    read_record,
    read_start,
    write_plan,
    write_record,
    write_start,
)

log = logging.getLogger(__name__)
ALTERNATIVES_DIR = "alternatives"


@dataclass
class AlternativesRun:
    folder: Path
    records: list[dict[str, Any]] = field(default_factory=list)  # the optimum first
    solved: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def add_alternative(formulation: Any, budget: float, plans: list[dict[str, int]]) -> None:
    """The budget row and the distance objective of the module docstring."""
    m = formulation.model
    m.alternative_budget = pyo.Constraint(expr=m.total_cost.expr <= budget)
    formulation.rows.append(Row("alternative", m.alternative_budget, POLICY))
    m.total_cost.deactivate()
    weights = ComponentMap()

    def push(var, key: str, span: float) -> None:
        if span <= 0:
            return
        for plan in plans:
            sign = 1.0 if plan.get(key, 0) < span / 2 else -1.0
            weights[var] = weights.get(var, 0.0) + sign / span

    for (s, v, t), var in m.wards.items():
        push(var, f"w|{s}|{v}|{t}", float(var.ub or 0))
    m.alternative_objective = pyo.Objective(expr=sum(w * var for var, w in weights.items() if w),
                                            sense=pyo.maximize)


def _solve(task: dict[str, Any], prepare):
    from model.run import solve_scenario

    return solve_scenario(task["scenario"], Path(task["out"]) / RUNS_DIR, task["overrides"],
                          baseline=False, levers=False, price=False, prepare=prepare)


def _record(task: dict[str, Any], label: str, result: Any, started: float, **extra: Any) -> dict[str, Any]:
    out = Path(task["out"])
    outcome = result.outcome
    return {"label": label, "digest": task["digest"], "status": outcome.status,
            "objective": result.solution.objective, "objectives": from_solution(result.solution),
            "kpis": plan_kpis(result.solution, result.inputs, result.kpis, "optimised"),
            "plan": plan_vector(result.solution), "solved_objective": outcome.objective,
            "gap_abs": outcome.gap_abs, "gap_rel": outcome.gap_rel, "solve_seconds": outcome.seconds,
            "wall_seconds": time.perf_counter() - started,
            "run_dir": str(result.run_dir.relative_to(out)) if result.run_dir else None, **extra}


def solve_optimum(task: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    state: dict[str, Any] = {}

    def prepare(formulation):
        state["m"] = formulation.model

    result = _solve(task, prepare)
    out = Path(task["out"])
    write_start(out, "optimum", named_start(state["m"]))
    record = _record(task, "optimum", result, started, kind="optimum")
    write_record(out, "optimum", record)
    return record


def solve_alternative(task: dict[str, Any], label: str, budget: float,
                      plans: list[dict[str, int]], after: str) -> dict[str, Any]:
    started = time.perf_counter()
    out = Path(task["out"])
    # the latest plan found: within the budget, like the optimum, but already some way from the
    # plans before it (the optimum's plan scores nothing on the distance objective)
    start_from = task.get("latest") or "optimum"
    start = read_start(out, start_from) or read_start(out, "optimum")
    state: dict[str, Any] = {}

    def prepare(formulation):
        add_alternative(formulation, budget, plans)
        state["m"] = formulation.model
        # with `solver.first_plan: relax_and_fix`, a plan found year by year for the distance
        # objective first; the latest plan if that finds none
        return FirstPlanFirst(start_map(formulation.model, start))

    try:
        result = _solve(task, prepare)
    except (InfeasibleError, NoSolutionError) as exc:
        record = {"label": label, "digest": task["digest"], "status": "no_solution",
                  "reason": str(exc), "kind": "alternative", "budget": budget, "after": after}
        write_record(out, label, record)
        return record
    outcome = result.outcome
    record = _record(task, label, result, started, kind="alternative", budget=budget, after=after,
                     distance_objective=float(pyo.value(state["m"].alternative_objective)),
                     start_from="relax-and-fix" if outcome.first_plan and outcome.first_plan["objective"]
                     is not None else start_from,
                     start_used=outcome.start_used)
    write_start(out, label, named_start(state["m"]))
    write_record(out, label, record)
    return record


def run_alternatives(scenario: str | Path, slack: float = 0.02, count: int = 5,
                     runs_root: str | Path = "runs", overrides: dict[str, Any] | None = None,
                     workers: int | None = None, scheduler: str | None = None, client: Any = None,
                     on_event: Any = None) -> AlternativesRun:
    """The optimum and `count` alternatives within `slack` of it, into
    RUNS_ROOT/alternatives/<scenario>-slack<slack>/, and their report."""
    problems = []
    if not 0 < slack <= 1:
        problems.append(Problem("command line", None, None, slack, "--slack: a share in (0, 1], e.g. 0.02"))
    if not 1 <= count <= 50:
        problems.append(Problem("command line", None, None, count, "--count: 1 to 50"))
    if problems:
        raise ScenarioError(problems)
    started = time.perf_counter()
    emit = on_event or (lambda _kind, _info: None)
    scenario = Path(scenario).resolve()
    config = load_scenario(scenario, overrides).config
    out = Path(runs_root).resolve() / ALTERNATIVES_DIR / f"{config.name}-slack{slack:g}"
    settings = {"slack": slack, "overrides": overrides or {}}
    digest = plan_digest(scenario, settings)
    task = {"scenario": str(scenario), "out": str(out), "digest": digest, "overrides": overrides}
    run = AlternativesRun(folder=out)
    with sweep_lock(out):
        write_plan(out, {"scenario": config.name, "scenario_file": str(scenario / SCENARIO_FILE),
                         **settings, "count": count, "digest": digest})
        if client is not None:
            _solve_all(client, task, slack, count, run, emit)
        else:
            with dask_client(workers or 1, scheduler) as own:
                _solve_all(own, task, slack, count, run, emit)
        run.seconds = time.perf_counter() - started
        run.files = write_alternatives_report(out, scenario, slack, run.records, run.seconds)
    return run


def _solve_all(client: Any, task: dict[str, Any], slack: float, count: int, run: AlternativesRun,
               emit: Any) -> None:
    out = Path(task["out"])
    optimum = read_record(out, "optimum", task["digest"])
    if optimum is None:
        optimum = client.submit(solve_optimum, task, pure=False).result()
        run.solved.append("optimum")
    else:
        run.reused.append("optimum")
    run.records.append(optimum)
    emit("plan", optimum)
    z = optimum["solved_objective"]
    budget = z + slack * abs(z)
    plans = [optimum["plan"]]
    for k in range(1, count + 1):
        label = f"alt-{k:02d}"
        record = read_record(out, label, task["digest"])
        after = content_digest(plans)  # a record made after other plans is solved again
        if record is None or record.get("budget") != budget or record.get("after") != after:
            latest = next((r["label"] for r in reversed(run.records) if r.get("plan")), "optimum")
            record = client.submit(solve_alternative, {**task, "latest": latest}, label, budget,
                                   list(plans), after, pure=False).result()
            run.solved.append(label)
        else:
            run.reused.append(label)
        repeats = [r["label"] for r in run.records
                   if r.get("plan") and record.get("plan") and distance(r["plan"], record["plan"]) == 0]
        if repeats and record["status"] != "repeat":
            # the distance objective gave back a plan already found: with the same plans to
            # move away from, every later alternative would too
            reason = f"the same site and ward decisions as {repeats[0]}"
            if record["status"] == "feasible":  # stopped by the limit, not proved to be all there is
                reason += (": the solve stopped at its time limit before it found a more distant "
                           "plan (raise --time-limit)")
            record = {**record, "status": "repeat", "same_as": repeats[0], "reason": reason}
            write_record(out, label, record)
        run.records.append(record)
        emit("plan", record)
        if record["status"] == "repeat":
            log.info("%s repeats %s: no further distinct plan from the distance objective", label,
                     record["same_as"])
            break
        if record.get("plan"):
            plans.append(record["plan"])
