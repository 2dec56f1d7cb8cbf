"""`bedplan frontier`: the efficient trade-off between two or three objectives by AUGMECON2,
its points solved in parallel on Dask (the sweep engine's cluster), resumable, then reported.
The phases below are the two-objective ones; with three (``_phases3``) the payoff table has
three lexicographic rows and the grid is points x points, one outer slice a task.

Phases 0 and 1 (in parallel): the usual weighted-sum plan with the do-nothing baseline (for
reference on the plots, and the start of the payoff row minimising the primary objective, which
waits for it) and the payoff table, one lexicographic optimisation per objective; the other rows
start beside the weighted-sum plan. Then the corners (``--supported``), each solved as its
segment opens. Phase 2 (in parallel): the grid between the payoff table's best and worst values
of the bounded objective, one point a task as workers come free, in contiguous lanes solved from
the loosest point so that the bypass and the early exit work along them; every point starts from
the cheapest plan found so far that meets its bound, else the payoff row minimising the bounded
objective. The loosest point is the first payoff row's plan, the tightest the second row's.
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
from model.tradeoffs.augmecon import Grid, bypass, chunks, grid_label
from model.tradeoffs.objectives import OBJECTIVES
from model.tradeoffs.points import (
    below_segment,
    bypassed,
    cheaper_plan,
    early_exit,
    open_segments,
    solve_chunk,
    solve_payoff,
    solve_supported,
    solve_weighted,
)
from model.tradeoffs.report import write_frontier_report
from model.tradeoffs.report3 import write_frontier_report3
from model.tradeoffs.store import (
    POINTS_DIR,
    plan_digest,
    read_record,
    read_start,
    write_plan,
    write_record,
)

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
    given (lexicographic). The second stage of the row minimising the bounded objective (the
    least primary at that minimum) is the grid's tightest point, solved in the row's own task:
    it needs only the row's first stage, so it runs beside the weighted-sum plan and the other
    row. (Solved with the grid, from the corners' plans and their crossover, it never found a
    better plan on England, and it ran last, alone, for two minutes.)"""
    return {f"payoff-{k}": [name] + [o for o in objectives if o != name]
            for k, name in enumerate(objectives)}


def _weighted_and_payoff(client: Any, base: dict[str, Any], objectives: list[str], run: FrontierRun,
                         emit: Callable[[str, dict[str, Any]], None]) -> None:
    """Phases 0 and 1: the weighted-sum plan (with doing nothing) and the payoff table. The row
    minimising the primary objective starts from the weighted-sum plan, nearly its optimum, so
    it waits for it (from nothing England's row took 484 s against 171 + 244 s for the two, and
    stopped further from its optimum); the other rows start at once beside it, from the
    scenario's own first plan (`solver.first_plan`): the weighted plan is far from their optima,
    and waiting for it left a worker idle."""
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
    # r_1 from the payoff rows' plans (the ends of the frontier), to scale the augmentation
    primary_range = max(high["objectives"][first] - low["objectives"][first], 1e-9)
    # the grid's ends are the payoff rows' plans (the tightest: the row's second stage)
    for i, record in ((0, low), (points - 1, high)):
        write_record(out, grid_label(i), {**record, "label": grid_label(i), "kind": "grid",
                                          "e": grid.value(i), "index": i, "slack": 0.0,
                                          "same_as": record["label"]})
    todo = list(range(1, points - 1))
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
        emit("start", {"phase": "grid", "todo": len(todo)})
        _solve_grid(client, task, todo, run, emit)
    for i in range(points):
        record = read_record(out, grid_label(i), base["digest"])
        if record is not None:
            run.records[grid_label(i)] = record
    if grid.range > 0 and OBJECTIVES[second].linear:
        _adopt_cheaper_plans(out, run, grid, first, base["eps"] * primary_range)


def _solve_grid(client: Any, task: dict[str, Any], todo: list[int], run: FrontierRun,
                emit: Callable[[str, dict[str, Any]], None]) -> None:
    """The grid points `todo`, one task each, one a worker at a time. `todo` is cut into
    contiguous lanes, one a worker, each solved loosest first, so that a proven optimum's slack
    bypasses the next points and an infeasible slice ends every tighter one (early exit). A
    worker whose lane is done takes the tightest point of the lane with the most left, when that
    lane has two or more (its own worker keeps the next): the grid's points are not equally
    hard, and fixed lanes left one worker idle for minutes on England. Each point is offered, as
    starts and crossover neighbours, the corners and every grid plan finished before it."""
    from distributed import as_completed

    grid = Grid(**task["grid"])
    n = len(client.scheduler_info().get("workers", {})) or 1
    lanes = chunks(todo, n)
    finished: list[dict[str, Any]] = []  # grid plans so far
    flying: dict[Any, tuple[int, int]] = {}  # task -> (lane, point)
    queue = as_completed([])

    def submit(lane: int, i: int) -> None:
        future = client.submit(solve_chunk, {**task, "supported": task["supported"] + finished}, [i],
                               "payoff-1", pure=False)
        flying[future] = (lane, i)
        queue.add(future)

    def take(lane: int) -> None:
        if lanes[lane]:
            submit(lane, lanes[lane].pop(0))
            return
        other = max(range(len(lanes)), key=lambda k: len(lanes[k]))
        if len(lanes[other]) >= 2:
            submit(lane, lanes[other].pop())

    for lane in range(len(lanes)):
        take(lane)
    while flying:
        future = next(queue)
        lane, i = flying.pop(future)
        records, solved_now = future.result()
        run.solved += solved_now
        record = records[0]
        emit("point", record)
        if record["status"] in ("optimal", "feasible") and record.get("objectives"):
            finished.append(record)
        # the points not yet given out that this one settles: every tighter one (infeasible),
        # or those its slack covers (a proven optimum only)
        follow = early_exit if record["status"] == "infeasible" else bypassed
        upto = {"infeasible": grid.points, "optimal": i + bypass(record.get("slack") or 0.0, grid.step)
                }.get(record["status"], i)
        for k, points in enumerate(lanes):
            for j in points:
                if i < j <= upto:
                    emit("point", follow(task, record, j))
            lanes[k] = [j for j in points if not i < j <= upto]
        take(lane)


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
    search: each solves at the slope between two neighbouring supported plans (the payoff rows
    to begin with); a plan found below that segment, apart from its ends, splits it; otherwise
    the segment is closed. A segment is solved as soon as it opens, beside those in flight (not
    round by round: a worker does not wait for the slower solve of a round). Each starts from
    the better of the segment's two plans for its weight. A solve of an earlier run at the same
    weight is reused. Their records (plans) start the grid points."""
    from distributed import as_completed

    out = Path(base["out"])
    first, second = base["objectives"]
    known = {label: run.records[label] for label in ("payoff-0", "payoff-1")}
    earlier = _earlier_corners(out, base["digest"])
    used = {r["label"] for r in earlier}
    closed: set[tuple[str, str]] = set()
    flying: set[tuple[str, str]] = set()
    found: list[dict[str, Any]] = []
    ready: list[tuple[dict[str, Any], tuple[str, str]]] = []  # corners to read, with their segment
    by_future: dict[Any, tuple[str, float, tuple[str, str]]] = {}
    queue = as_completed([])
    count = 0
    while True:
        submitted = 0
        for weight, left, right in open_segments(list(known.values()), first, second, closed | flying):
            if count >= base["supported"]:
                break
            count += 1
            flying.add((left, right))
            same = next((r for r in earlier if abs(r["weight"] - weight) <= 1e-9 * weight), None)
            if same is not None:
                earlier.remove(same)
                run.reused.append(same["label"])
                ready.append((same, (left, right)))
                continue
            label = next(f"supported-{k:02d}" for k in range(1, 10 ** 4) if f"supported-{k:02d}" not in used)
            used.add(label)
            order = sorted((left, right), key=lambda c: known[c]["objectives"][first]
                           + weight * known[c]["objectives"][second])
            future = client.submit(solve_supported, base, weight, label, order, pure=False)
            by_future[future] = (label, weight, (left, right))
            queue.add(future)
            submitted += 1
        if submitted:
            emit("start", {"phase": "corners of the frontier (--supported)", "todo": submitted})
        if not ready and not by_future:
            return found
        if not ready:
            future = next(queue)
            label, weight, segment = by_future.pop(future)
            try:
                record = _result(future, base, label)
            except (InfeasibleError, NoSolutionError) as exc:  # a start the grid can do without
                log.info("%s: %s", label, exc)
                flying.discard(segment)
                closed.add(segment)
                continue
            run.solved.append(label)
            emit("point", record)
            ready.append((record, segment))
        record, (left, right) = ready.pop(0)
        flying.discard((left, right))
        found.append(record)
        if record["status"] in ("optimal", "feasible") and below_segment(
                record, known[left], known[right], record["weight"], first, second):
            known[record["label"]] = record
        else:
            closed.add((left, right))


def _earlier_corners(out: Path, digest: str) -> list[dict[str, Any]]:
    """The corners an earlier run of this plan solved (with their plans), any weight."""
    labels = sorted(p.stem for p in (out / POINTS_DIR).glob("supported-*.json")
                    if not p.stem.endswith(".start"))
    records = [read_record(out, label, digest) for label in labels]
    return [r for r in records if r is not None and "weight" in r and read_start(out, r["label"]) is not None]


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
