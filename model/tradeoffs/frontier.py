"""`bedplan frontier`: the efficient trade-off between two or three objectives by AUGMECON2,
its points solved in parallel on Dask (the sweep engine's cluster), resumable, then reported.
The phases below are the two-objective ones; with three (``_phases3``) the payoff table has
three lexicographic rows and the grid is points x points, one outer slice a task.

Phases 0 and 1 (in parallel): the usual weighted-sum plan with the do-nothing baseline (for
reference on the plots, and the start of the payoff row minimising the primary objective, which
waits for it) and the payoff table, one lexicographic optimisation per objective; the row
minimising a linear bounded objective is its first stage only. Then the corners
(``--supported``). Phase 2 (in parallel): the grid between the payoff table's best and worst
values of the bounded objective, cut into contiguous runs, one a worker, each solved in order
from the loosest point so that the bypass and the early exit work within it; every point starts
from the neighbouring plan that is feasible for it, the payoff row minimising the bounded
objective. The loosest point is the first payoff row's plan; the tightest is the second row's
second stage, solved with the grid (its own plan when the row is lexicographic: worst_km).
Last, each solved point takes a cheaper plan found after it that meets its bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.config import SCENARIO_FILE
from model.data import load_scenario
from model.errors import InfeasibleError, NoSolutionError, Problem, ScenarioError
from model.sweep.runner import dask_client
from model.sweep.store import sweep_lock
from model.tradeoffs.augmecon import Grid, chunks
from model.tradeoffs.objectives import OBJECTIVES
from model.tradeoffs.points import (
    below_segment,
    cheaper_plan,
    grid_label,
    open_segments,
    solve_chunk,
    solve_payoff,
    solve_supported,
    solve_weighted,
)
from model.tradeoffs.report import write_frontier_report
from model.tradeoffs.report3 import write_frontier_report3
from model.tradeoffs.store import plan_digest, read_record, read_start, write_plan, write_record

log = logging.getLogger(__name__)
FRONTIERS_DIR = "frontiers"
EPS = 1e-3


@dataclass
class FrontierRun:
    folder: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    solved: list[str] = field(default_factory=list)  # labels solved in this run
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def _result(future: Any, base: dict[str, Any], label: str) -> dict[str, Any]:
    """A task's record; an infeasible or unsolved scenario ends the command with its status,
    a lost worker is recorded (and solved again on the next run)."""
    try:
        return future.result()
    except (InfeasibleError, NoSolutionError):
        raise
    except Exception as exc:
        record = {"label": label, "digest": base["digest"], "status": "error",
                  "reason": f"{type(exc).__name__}: {exc}"}
        write_record(Path(base["out"]), label, record)
        raise NoSolutionError(f"{label} failed: {record['reason']}") from exc


def check_objectives(objectives: list[str]) -> None:
    problems = []
    if len(objectives) not in (2, 3):
        problems.append(Problem("command line", None, None, ",".join(objectives),
                                "--objectives: give two or three objectives, e.g. cost,carbon or "
                                "cost,carbon,patient_km"))
    if len(objectives) == 3:
        problems += [Problem("command line", None, None, name,
                             f"--objectives: {name} is only a two-objective frontier's bounded "
                             f"objective (e.g. cost,{name})")
                     for name in objectives if name in OBJECTIVES and not OBJECTIVES[name].linear]
    for name in objectives:
        if name not in OBJECTIVES:
            problems.append(Problem("command line", None, None, name,
                                    f"--objectives: unknown objective; choose from {', '.join(OBJECTIVES)}"))
    if len(objectives) == 2 and objectives[0] in OBJECTIVES and not OBJECTIVES[objectives[0]].linear:
        problems.append(Problem("command line", None, None, ",".join(objectives),
                                f"--objectives: {objectives[0]} can be the bounded (second) objective "
                                f"only, e.g. cost,{objectives[0]}"))
    if len(set(objectives)) != len(objectives):
        problems.append(Problem("command line", None, None, ",".join(objectives),
                                "--objectives: each objective once"))
    if problems:
        raise ScenarioError(problems)


def run_frontier(scenario: str | Path, objectives: list[str], points: int = 9,
                 runs_root: str | Path = "runs", overrides: dict[str, Any] | None = None,
                 workers: int | None = None, scheduler: str | None = None, client: Any = None,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None,
                 supported: int = 0) -> FrontierRun:
    """Solve and report a frontier into RUNS_ROOT/frontiers/<scenario>-<obj1>-<obj2>/.

    `supported` > 0 (two linear objectives only): that many weighted-sum solves between the
    payoff table and the grid, whose plans start the grid points (`solve_supported`)."""
    check_objectives(objectives)
    if points < 2:
        raise ScenarioError([Problem("command line", None, None, points, "--points: at least 2")])
    if supported < 0 or (supported and (len(objectives) != 2 or not OBJECTIVES[objectives[1]].linear)):
        raise ScenarioError([Problem("command line", None, None, supported,
                                     "--supported: a count >= 0, for two objectives that are both "
                                     "linear (not worst_km, not three objectives)")])
    started = time.perf_counter()
    emit = on_event or (lambda _kind, _info: None)
    scenario = Path(scenario).resolve()
    config = load_scenario(scenario, overrides).config  # invalid input: exit 2 before any work
    out = Path(runs_root).resolve() / FRONTIERS_DIR / f"{config.name}-{'-'.join(objectives)}"
    settings = {"objectives": objectives, "points": points, "overrides": overrides or {}, "eps": EPS}
    digest = plan_digest(scenario, settings)
    base = {"scenario": str(scenario), "out": str(out), "digest": digest, "overrides": overrides,
            "eps": EPS, "primary": objectives[0], "objectives": objectives, "supported": supported}
    run = FrontierRun(folder=out)
    with sweep_lock(out):
        write_plan(out, {"scenario": config.name, "scenario_folder": str(scenario),
                         "scenario_file": str(scenario / SCENARIO_FILE), **settings, "digest": digest})
        phases = _phases if len(objectives) == 2 else _phases3
        if client is not None:
            phases(client, base, objectives, points, run, emit)
        else:
            with dask_client(workers, scheduler) as own:
                phases(own, base, objectives, points, run, emit)
        run.seconds = time.perf_counter() - started
        report = write_frontier_report if len(objectives) == 2 else write_frontier_report3
        run.files = report(out, objectives, points, run.records, run.seconds)
    return run


def payoff_orders(objectives: list[str]) -> dict[str, list[str]]:
    """The payoff table's rows: row k minimises objective k first, then the others in the order
    given (lexicographic). On a two-objective frontier whose bounded objective is linear, the
    row minimising it is its first stage only: the grid needs only that minimum, and the row's
    second stage (the least primary at that minimum) is the grid's tightest point, solved with
    the grid's starts and crossover instead of before the grid can begin."""
    orders = {f"payoff-{k}": [name] + [o for o in objectives if o != name]
              for k, name in enumerate(objectives)}
    if len(objectives) == 2 and OBJECTIVES[objectives[1]].linear:
        orders["payoff-1"] = [objectives[1]]
    return orders


def _weighted_and_payoff(client: Any, base: dict[str, Any], objectives: list[str], run: FrontierRun,
                         emit: Callable[[str, dict[str, Any]], None]) -> None:
    """Phases 0 and 1: the weighted-sum plan (with doing nothing) and the payoff table. The row
    minimising the primary objective starts from the weighted-sum plan (nearly its optimum:
    HiGHS may find no plan of its own on a large instance within the limit), so it waits for
    it; the other rows start at once beside it, from the scenario's own first plan
    (`solver.first_plan`): the weighted plan is far from their optima, and waiting for it left
    a worker idle."""
    out = Path(base["out"])
    orders = payoff_orders(objectives)
    pending: dict[str, Any] = {}
    weighted = read_record(out, "weighted", base["digest"])
    if weighted is None or read_start(out, "weighted") is None:
        pending["weighted"] = client.submit(solve_weighted, base, pure=False)
    else:
        run.records["weighted"] = weighted
        run.reused.append("weighted")
    for label, order in orders.items():
        record = read_record(out, label, base["digest"])
        if record is not None and record.get("order") == order:
            run.records[label] = record
            run.reused.append(label)
        elif label != "payoff-0":
            pending[label] = client.submit(solve_payoff, base, order, label, None, pure=False)
    todo = len(pending) + ("payoff-0" not in run.records)
    if todo:
        emit("start", {"phase": "weighted-sum plan, doing nothing and the payoff table", "todo": todo})
    if "weighted" in pending:
        run.records["weighted"] = _result(pending.pop("weighted"), base, "weighted")
        run.solved.append("weighted")
        emit("point", run.records["weighted"])
    if "payoff-0" not in run.records:
        pending["payoff-0"] = client.submit(solve_payoff, base, orders["payoff-0"], "payoff-0", "weighted",
                                            pure=False)
    for label, future in pending.items():
        run.records[label] = _result(future, base, label)
        run.solved.append(label)
        emit("point", run.records[label])


def _phases(client: Any, base: dict[str, Any], objectives: list[str], points: int, run: FrontierRun,
            emit: Callable[[str, dict[str, Any]], None]) -> None:
    out = Path(base["out"])
    first, second = objectives
    _weighted_and_payoff(client, base, objectives, run, emit)
    low, high = run.records["payoff-0"], run.records["payoff-1"]
    grid = Grid(objective=second, best=high["objectives"][second], worst=low["objectives"][second],
                points=points)
    # r_1 from the plans at the two ends (the least-carbon row's first stage costs at least its
    # lexicographic plan: an upper estimate, used only to scale the augmentation)
    primary_range = max(high["objectives"][first] - low["objectives"][first], 1e-9)
    # the tightest point is the payoff row's own plan when that row was lexicographic (worst_km),
    # else the row's second stage, solved here
    whole = len(high["order"]) > 1
    for i, record in ((0, low), (points - 1, high)) if whole else ((0, low),):
        write_record(out, grid_label(i), {**record, "label": grid_label(i), "kind": "grid",
                                          "e": grid.value(i), "index": i, "slack": 0.0,
                                          "same_as": record["label"]})
    todo = list(range(1, points - 1 if whole else points))
    # the corners first (`--supported`): points of the frontier themselves, and the grid's starts
    supported = _supported(client, base, run, emit) if grid.range > 0 else []
    run.records.update({r["label"]: r for r in supported})
    if grid.range <= 0 or not todo:
        log.info("the objectives do not conflict (or no point to solve): the frontier is the "
                 "payoff table")
        for i in todo:
            write_record(out, grid_label(i), {**low, "label": grid_label(i), "status": "bypassed",
                                              "same_as": "payoff-0", "e": grid.value(i), "index": i})
    else:
        task = {**base, "grid": {"objective": grid.objective, "best": grid.best, "worst": grid.worst,
                                 "points": grid.points},
                "primary_range": primary_range}
        task["supported"] = supported
        n = len(client.scheduler_info().get("workers", {})) or 1
        runs = chunks(todo, n)
        emit("start", {"phase": "grid", "todo": len(todo)})
        pending = [client.submit(solve_chunk, task, part, "payoff-1", pure=False) for part in runs]
        for future in pending:
            records, solved_now = future.result()
            run.solved += solved_now
            for record in records:
                emit("point", record)
    for i in range(points):
        record = read_record(out, grid_label(i), base["digest"])
        if record is not None:
            run.records[grid_label(i)] = record
    if grid.range > 0 and OBJECTIVES[second].linear:
        _adopt_cheaper_plans(out, run, grid, first, base["eps"] * primary_range)


def _adopt_cheaper_plans(out: Path, run: FrontierRun, grid: Grid, primary: str, scale: float) -> None:
    """Each solved grid point takes the cheapest plan found anywhere in the run that meets its
    bound more cheaply than its own (`cheaper_plan`): a point solved early cannot have been
    offered a plan found after it."""
    plans = [r for r in run.records.values() if r.get("status") in ("optimal", "feasible")
             and r.get("objectives")]
    for i in range(grid.points):
        label = grid_label(i)
        record = run.records.get(label)
        if record is None or record.get("same_as") or record.get("status") not in ("optimal", "feasible"):
            continue
        better = cheaper_plan(record, plans, primary, grid, scale)
        if better is not None:
            write_record(out, label, better)
            run.records[label] = better


def _supported(client: Any, base: dict[str, Any], run: FrontierRun,
               emit: Callable[[str, dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Phase 1b (``--supported N``): up to N weighted-sum solves by the dichotomic (NISE)
    search, round by round in parallel: each solves at the slope between two neighbouring
    supported plans (the payoff rows to begin with); a plan found below that segment, apart from
    its ends, splits it; otherwise the segment is closed. Each starts from the better of the
    segment's two plans for its weight. Their records (plans) start the grid points."""
    out = Path(base["out"])
    first, second = base["objectives"]
    known = {label: run.records[label] for label in ("payoff-0", "payoff-1")}
    closed: set[tuple[str, str]] = set()
    found: list[dict[str, Any]] = []
    count = 0
    while count < base["supported"]:
        segments = open_segments(list(known.values()), first, second, closed)[:base["supported"] - count]
        if not segments:
            break
        futures = {}
        for weight, left, right in segments:
            count += 1
            label = f"supported-{count:02d}"
            record = read_record(out, label, base["digest"])
            if record is not None and read_start(out, label) is not None \
                    and abs(record.get("weight", -1) - weight) <= 1e-9 * weight:
                run.reused.append(label)
                futures[label] = (record, weight, left, right)
                continue
            order = sorted((left, right), key=lambda c: known[c]["objectives"][first]
                           + weight * known[c]["objectives"][second])
            futures[label] = (client.submit(solve_supported, base, weight, label, order, pure=False),
                              weight, left, right)
        todo = sum(not isinstance(f, dict) for f, *_rest in futures.values())
        if todo:
            emit("start", {"phase": "corners of the frontier (--supported)", "todo": todo})
        for label, (future, weight, left, right) in futures.items():
            try:
                record = future if isinstance(future, dict) else _result(future, base, label)
            except (InfeasibleError, NoSolutionError) as exc:  # a start the grid can do without
                log.info("%s: %s", label, exc)
                closed.add((left, right))
                continue
            if not isinstance(future, dict):
                run.solved.append(label)
                emit("point", record)
            found.append(record)
            if record["status"] in ("optimal", "feasible") and below_segment(
                    record, known[left], known[right], weight, first, second):
                known[label] = record
            else:
                closed.add((left, right))
    return found


def _phases3(client: Any, base: dict[str, Any], objectives: list[str], points: int, run: FrontierRun,
             emit: Callable[[str, dict[str, Any]], None]) -> None:
    """Three objectives: minimise the first with the second (inner) and third (outer) bounded
    on a points x points grid, each between its best in the payoff table and its worst there.
    Each outer slice is one task, solved loosest-first on a worker (bypass on the inner slack,
    early exit within the slice); slices run in parallel."""
    first, second, third = objectives
    _weighted_and_payoff(client, base, objectives, run, emit)
    payoff = [run.records[f"payoff-{k}"]["objectives"] for k in range(3)]
    inner, outer = (Grid(objective=name, best=payoff[k][name], worst=max(p[name] for p in payoff),
                         points=points) for k, name in ((1, second), (2, third)))
    primary_range = max(max(p[first] for p in payoff) - payoff[0][first], 1e-9)
    task = {**base, "grid": _grid_dict(inner), "primary_range": primary_range}
    emit("start", {"phase": "grid", "todo": points * points})
    pending = [client.submit(solve_chunk, {**task, "outer": {"grid": _grid_dict(outer), "index": i3}},
                             list(range(points)), "payoff-1", pure=False) for i3 in range(points)]
    for future in pending:
        records, solved_now = future.result()
        run.solved += solved_now
        for record in records:
            emit("point", record)
            run.records[record["label"]] = record


def _grid_dict(grid: Grid) -> dict[str, Any]:
    return {"objective": grid.objective, "best": grid.best, "worst": grid.worst, "points": grid.points}
