"""Solving the points of a frontier, on a worker: each is a full run (``solve_scenario`` with
the model changed by ``add_tradeoff`` before it is solved) written into the frontier folder,
and a record of it. Workers need the scenario and the frontier folder at the same paths as the
command (a local cluster, or a shared file system)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from model.config import deep_merge
from model.errors import InfeasibleError, NoSolutionError
from model.fairness import fairness
from model.formulation.levers import integer_start, named_start, start_map
from model.solve import BetweenPlans, solve
from model.tradeoffs.augmecon import Grid, bypass, grid_label
from model.tradeoffs.minimax import bound_worst_km, footprint_km, minimise_worst_km, worst_km
from model.tradeoffs.objectives import (
    OBJECTIVES,
    TRADEOFF_HIGHS_OPTIONS,
    add_tradeoff,
    from_solution,
    values,
)
from model.tradeoffs.store import RUNS_DIR, read_record, read_start, write_record, write_start

log = logging.getLogger(__name__)


def solution_start(solution: Any) -> list[list[Any]]:
    """The same, from an extracted plan's ward table (every integer decision is in it)."""
    out: list[list[Any]] = []
    w = solution.wards
    for row in w.itertuples():
        index = [row.site, row.service, int(row.year)]
        for name, value in (("wards", row.wards), ("build", row.built), ("remove", row.removed),
                            ("convert_in", row.converted_in), ("convert_out", row.converted_out)):
            out.append([name, index, int(value)])
    for (site, year), value in w.groupby(["site", "year"])["operating"].max().items():
        out.append(["operate", [site, int(year)], int(value)])
    return out


def plan_kpis(solution: Any, inputs: Any, kpis: Any, case: str) -> dict[str, float]:
    """England's headline KPIs of a plan, for frontier.csv."""
    england = kpis[(kpis["scope"] == "england") & (kpis["year"].astype(str) == "all")
                   & (kpis["case"] == case)].iloc[0]
    fair = fairness(solution, inputs, case)
    fair = fair[fair["scope"] == "england"].iloc[0]
    return {"mean_km": float(england["mean_km"]), "in_hub_share": float(england["in_hub_share"]),
            "unmet_beds": float(england["unmet_beds"]),
            "worst_footprint": str(fair["worst_footprint"]),
            "worst_footprint_mean_km": float(fair["worst_mean_km"]),
            "gini_mean_km": float(fair["gini_mean_km"]),
            "share_over_far_km": float(fair["share_over_far_km"])}


def final_wards(solution: Any, years: list[int]) -> dict[str, int]:
    """Wards per site and service in the final year ("site|service"), and sites operating."""
    w = solution.wards
    last = w[w["year"] == years[-1]]
    out = {f"{s}|{v}": int(n) for s, v, n in zip(last["site"], last["service"], last["wards"], strict=True)}
    out.update({f"{s}|open": int(o) for s, o in last.groupby("site")["operating"].max().items()})
    return out


def _record(task: dict[str, Any], label: str, result: Any, started: float, **extra: Any) -> dict[str, Any]:
    outcome = result.outcome
    out = Path(task["out"])
    record = {"label": label, "digest": task["digest"], "status": outcome.status,
              "objectives": from_solution(result.solution, result.inputs),
              "kpis": plan_kpis(result.solution, result.inputs, result.kpis, "optimised"),
              "final_wards": final_wards(result.solution, result.inputs.years),
              "solved_objective": outcome.objective, "bound": outcome.bound,
              "gap_abs": outcome.gap_abs, "gap_rel": outcome.gap_rel,
              "solve_seconds": outcome.seconds, "wall_seconds": time.perf_counter() - started,
              "run_dir": str(result.run_dir.relative_to(out)) if result.run_dir else None}
    record.update(extra)
    return record


def _failed(task: dict[str, Any], label: str, status: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"label": label, "digest": task["digest"], "status": status, "reason": reason, **extra}


def _solve(task: dict[str, Any], prepare, baseline: bool = False, bounded: bool = False):
    """A point's run. `bounded`: the model gets a trade-off row, so HiGHS gets
    `TRADEOFF_HIGHS_OPTIONS` (an option the user set wins)."""
    from model.run import solve_scenario

    overrides = task["overrides"]
    if bounded:
        overrides = deep_merge({"solver": {"options": dict(TRADEOFF_HIGHS_OPTIONS)}}, overrides or {})
    return solve_scenario(task["scenario"], Path(task["out"]) / RUNS_DIR, overrides,
                          baseline=baseline, levers=False, price=False,
                          prepare=prepare)


def solve_weighted(task: dict[str, Any]) -> dict[str, Any]:
    """The usual weighted-sum plan and the do-nothing baseline, for reference on the plots."""
    started = time.perf_counter()
    result = _solve(task, None, baseline=True)
    extra: dict[str, Any] = {"kind": "weighted"}
    if result.baseline is not None:
        extra["do_nothing"] = {"objectives": from_solution(result.baseline, result.inputs),
                               "kpis": plan_kpis(result.baseline, result.inputs, result.kpis,
                                                 "baseline"),
                               "status": result.baseline_outcome.status,
                               "gap_abs": result.baseline_outcome.gap_abs}
    record = _record(task, "weighted", result, started, **extra)
    write_start(Path(task["out"]), "weighted", solution_start(result.solution))
    write_record(Path(task["out"]), "weighted", record)
    return record


def open_segments(plans: list[dict[str, Any]], first: str, second: str,
                  closed: set[tuple[str, str]]) -> list[tuple[float, str, str]]:
    """The dichotomic (NISE) search's next weighted-sum solves: for each pair of neighbouring
    supported plans (by `second`, loosest first) not yet `closed`, (weight, left, right) with the
    weight that makes the two equal, :math:`w = (f_1^{right} - f_1^{left}) / (f_2^{left} -
    f_2^{right})`: the slope of the segment between them."""
    ordered = sorted(plans, key=lambda r: -r["objectives"][second])
    out = []
    for left, right in zip(ordered, ordered[1:], strict=False):
        drop = left["objectives"][second] - right["objectives"][second]
        rise = right["objectives"][first] - left["objectives"][first]
        flat = drop <= 1e-9 * max(abs(left["objectives"][second]), 1.0) or rise <= 0
        if flat or (left["label"], right["label"]) in closed:
            continue
        out.append((rise / drop, left["label"], right["label"]))
    return out


def below_segment(plan: dict[str, Any], left: dict[str, Any], right: dict[str, Any], weight: float,
                  first: str, second: str) -> bool:
    """Whether `plan` (solved at `weight`, the slope between `left` and `right`) is a new corner
    that splits the segment: worth less than the segment at that weight (a real plan below it:
    the segment is not on the frontier's hull, whatever the solve's gap), and apart from both
    ends by more than 1% of the segment's extent in `second` (not the same plan found again
    with a few tonnes' difference inside the solver's gap)."""
    value = plan["objectives"][first] + weight * plan["objectives"][second]
    line = left["objectives"][first] + weight * left["objectives"][second]
    extent = abs(left["objectives"][second] - right["objectives"][second])
    apart = min(abs(plan["objectives"][second] - end["objectives"][second]) for end in (left, right))
    return value < line - 1e-9 * abs(line) and apart > 0.01 * extent


def solve_supported(task: dict[str, Any], weight: float, label: str, candidates: list[str]
                    ) -> dict[str, Any]:
    r"""A supported efficient plan: minimise :math:`f_1 + w f_2` (`task`'s primary and
    constrained objectives, `weight` in the primary's units per unit of the second). Optimal, it
    lies on the frontier; here it is a MIP start for the grid points it meets (a plan whose
    :math:`f_2` is within a point's bound is feasible for that point). Starts from `candidates`
    (labels of plans already solved, best first for this weight: every one is feasible). With two
    (the segment's ends), the start is first improved by the crossover between them
    (`BetweenPlans`): a corner below the segment mixes the two ends' decisions, and where they
    agree it most likely agrees too (`crossover` in the record)."""
    started = time.perf_counter()
    out = Path(task["out"])
    first, second = task["objectives"]
    plans = [(c, n) for c in candidates if (n := read_start(out, c))]
    state: dict[str, Any] = {}

    def prepare(formulation):
        m = formulation.model
        state["m"] = m
        add_tradeoff(formulation, first, weights={second: weight})
        if not plans:
            return None
        start = start_map(m, plans[0][1])
        if len(plans) > 1:
            return BetweenPlans([start], [start_map(m, n) for _, n in plans[1:]])
        return start

    result = _solve(task, prepare)
    write_start(out, label, named_start(state["m"]))
    extra = {}
    if len(plans) > 1 and result.outcome.first_plan:
        extra["crossover"] = {"with": plans[1][0], **result.outcome.first_plan}
    record = _record(task, label, result, started, kind="supported", weight=weight,
                     start_from=plans[0][0] if plans else None, **extra)
    write_record(out, label, record)
    return record


def grid_starts(records: list[dict[str, Any]], primary: str, objective: str, e: float,
                fallback: str) -> list[str]:
    """The labels of the plans to offer a grid point ``objective <= e`` as MIP starts: the plan
    with the least `primary` among `records` (solved plans) that already meets the bound, then
    `fallback` (the payoff row minimising `objective`, which meets every bound)."""
    meeting = [r for r in records if r.get("status") in ("optimal", "feasible")
               and r["objectives"][objective] <= e and r["label"] != fallback]
    best = min(meeting, key=lambda r: r["objectives"][primary], default=None)
    return ([best["label"]] if best else []) + [fallback]


def looser_neighbour(records: list[dict[str, Any]], objective: str, e: float) -> str | None:
    """The label of the solved plan nearest the bound ``objective <= e`` from outside it (the
    least `objective` above e): with the start, which meets the bound, the two plans either side
    of the point, whose shared decisions the crossover keeps (None when no plan is above e)."""
    above = [r for r in records
             if r.get("status") in ("optimal", "feasible") and r["objectives"][objective] > e]
    nearest = min(above, key=lambda r: r["objectives"][objective], default=None)
    return nearest["label"] if nearest else None


def cheaper_plan(record: dict[str, Any], plans: list[dict[str, Any]], primary: str, grid: Grid,
                 scale: float) -> dict[str, Any] | None:
    r"""`record` (a solved grid point, linear bound ``f_2 <= e``) with the cheapest of `plans`
    (records of solved plans) that meets its bound and has a smaller `primary` than its own
    plan; None if there is none. A point solved before that plan was found could not be offered
    it. The point keeps its own proven bound, valid for its slice whatever plan is found, so its
    gap shrinks by the saving; its value is AUGMECON2's objective
    :math:`f_1 - scale \cdot s_2 / r_2` (`scale` = :math:`\varepsilon r_1`), and what its own
    solve found stays in ``own_plan``."""
    e = record["e"]
    own = record["objectives"][primary]
    meeting = [p for p in plans if p["label"] != record["label"]
               and p["objectives"][grid.objective] <= _hair(e)  # as the tightest slice's bound
               and p["objectives"][primary] < own - 1e-9 * max(abs(own), 1.0)]
    best = min(meeting, key=lambda p: p["objectives"][primary], default=None)
    if best is None:
        return None
    slack = max(e - best["objectives"][grid.objective], 0.0)
    value = best["objectives"][primary] - scale * slack / max(grid.range, 1e-9)
    bound = record.get("bound")
    gap = value - bound if bound is not None else None
    mine = record.get("own_plan") or {k: record.get(k) for k in (
        "objectives", "kpis", "final_wards", "run_dir", "slack", "solved_objective", "gap_abs", "gap_rel")}
    return {**record, **{k: best.get(k) for k in ("objectives", "kpis", "final_wards", "run_dir")},
            "slack": slack, "solved_objective": value, "gap_abs": gap,
            "gap_rel": gap / max(abs(value), 1e-9) if gap is not None else None,
            "plan_from": best["label"], "own_plan": mine}


def _hair(value: float) -> float:
    """`value` with a hair of room for rounding only: a solved plan stays feasible."""
    return value + 1e-7 * max(abs(value), 1.0)


def _lexicographic(formulation: Any, order: list[str], start: Any, state: dict[str, Any]) -> Any:
    """Minimise ``order[0]`` (then, with three objectives, ``order[1]`` with ``order[0]`` held),
    and set up the last stage's solve with the ones before it held at their minima. A
    ``worst_km`` stage is a Dinkelbach iteration; when it comes second the last solve minimises
    ``order[0]`` again under ``worst_km <=`` its minimum, which gives the same plan
    (lexicographic) with a gap in the primary's units. Returns the last solve's MIP start."""
    m = formulation.model
    options = formulation.data.config.solver
    terms = footprint_km(formulation) if "worst_km" in order else None
    if order[0] == "worst_km":
        found = minimise_worst_km(formulation, terms, start=start)
        state.update(first={"status": found.iterations[-1]["status"], "gap_abs": found.value - found.bound,
                            "gap_rel": (found.value - found.bound) / max(found.value, 1e-9)},
                     best=found.value, minimax=found.as_dict(), m=m)
        bound_worst_km(formulation, terms, _hair(found.value))
        add_tradeoff(formulation, order[1])
        return integer_start(m)
    add_tradeoff(formulation, order[0])
    first = solve(m, options, mip_start=start)
    if first.status == "infeasible":
        raise InfeasibleError(f"no plan meets every rule (minimising {order[0]})")
    if not first.has_solution:
        raise NoSolutionError(f"no solution minimising {order[0]} within the limits "
                              f"({first.termination}); raise --time-limit")
    best = values(m)[order[0]]
    state.update(first=first.as_dict(), best=best, m=m)
    m.del_component(m.tradeoff_objective)
    if order[1] != "worst_km":
        upper = {order[0]: _hair(best)}
        stages = [first.as_dict()]
        for k in range(1, len(order) - 1):  # three objectives: the middle stage
            add_tradeoff(formulation, order[k], upper=upper)
            middle = solve(m, options, mip_start=integer_start(m))
            if not middle.has_solution:
                raise NoSolutionError(f"no solution minimising {order[k]} with {order[0]} at its "
                                      f"minimum within the limits ({middle.termination})")
            upper[order[k]] = _hair(values(m)[order[k]])
            stages.append(middle.as_dict())
            for name in ("tradeoff_objective", "tradeoff_bound", "TRADEOFF_BOUNDS", "tradeoff_part_sum",
                         "tradeoff_part", "TRADEOFF_PARTS"):
                _drop(formulation, name)
        if len(order) > 2:
            state["stages"] = stages
        add_tradeoff(formulation, order[-1], upper=upper)
        return integer_start(m)
    add_tradeoff(formulation, order[0], upper={order[0]: _hair(best)})
    found = minimise_worst_km(formulation, terms, first=worst_km(terms), start=integer_start(m))
    state["minimax"] = found.as_dict()
    bound_worst_km(formulation, terms, _hair(found.value))
    return integer_start(m)


def _drop(formulation: Any, name: str) -> None:
    """Remove model component `name` (and its rows from the formulation's list)."""
    m = formulation.model
    component = getattr(m, name)
    formulation.rows[:] = [r for r in formulation.rows if r.component is not component]
    m.del_component(component)


def solve_payoff(task: dict[str, Any], order: list[str], label: str,
                 start_label: str | None = "weighted") -> dict[str, Any]:
    """One row of the payoff table by lexicographic optimisation: minimise ``order[0]``, then
    ``order[1]`` with ``order[0]`` held at its minimum (the first solve's incumbent), then (three
    objectives) ``order[2]`` with both held. The first solve starts from the plan of
    `start_label` (the weighted-sum plan: feasible, the same rules; None: no start, the
    scenario's `solver.first_plan` finds one), each later one from the plan before it."""
    started = time.perf_counter()
    state: dict[str, Any] = {}
    out = Path(task["out"])
    start = read_start(out, start_label) if start_label else None

    def prepare(formulation):
        return _lexicographic(formulation, order, start_map(formulation.model, start), state)

    result = _solve(task, prepare, bounded=True)
    write_start(out, label, named_start(state["m"]))
    extra = {k: state[k] for k in ("minimax", "stages") if k in state}
    record = _record(task, label, result, started, kind="payoff", order=order,
                     first_stage=state["first"], lexicographic_best=state["best"],
                     start_from=start_label if start else None, **extra)
    write_record(out, label, record)
    return record


def solve_chunk(task: dict[str, Any], indices: list[int], start_label: str
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """Grid points `indices` (contiguous, loosest first) in order: each skips the points its
    slack covers (bypass) and stops at an infeasible slice (early exit). Points already
    recorded under the same plan are reused. Returns the records and the labels solved now.

    Every point starts from the plan of `start_label`, the payoff row that minimises the
    constrained objective: it meets every slice's bound, so it is always a feasible MIP start.
    The previous point's plan is one only when that point stopped at its limit inside the bound
    (a proven optimum's slack would have bypassed every slice its plan meets).
    With supported plans (``task["supported"]``, their records), a point is first offered the
    cheapest of them, or of the points solved before it, that meets its bound (`grid_starts`),
    usually far closer to its optimum. Only a proven optimum bypasses the slices its slack covers.
    """
    out = Path(task["out"])
    grid = Grid(**task["grid"])
    outer = _outer(task)
    supported = task.get("supported") or []
    records: list[dict[str, Any]] = []
    solved_now: list[str] = []
    position = 0

    def label_of(j: int) -> str:
        return grid_label(j, outer["index"] if outer else None)

    # the plan minimising the primary objective, outside every slice's bound but for the loosest:
    # a looser neighbour for the crossover (two objectives; with three, a slice's own points are)
    ends = [r for r in (read_record(out, "payoff-0", task["digest"]),) if r and not outer]
    linear = OBJECTIVES[grid.objective].linear  # a worst_km slice has no crossover
    while position < len(indices):
        i = indices[position]
        label = label_of(i)
        record = read_record(out, label, task["digest"])
        if record is None:
            offered = grid_starts(supported + records, task["primary"], grid.objective, grid.value(i),
                                  start_label)
            parent = looser_neighbour(ends + supported + records, grid.objective,
                                      grid.value(i)) if linear else None
            record = _solve_point(task, grid, i, [(c, read_start(out, c)) for c in offered],
                                  [(parent, read_start(out, parent))] if parent else [])
            write_record(out, label, record)
            solved_now.append(label)
        records.append(record)
        if record["status"] == "infeasible":
            records += [early_exit(task, record, j) for j in indices[position + 1:]]
            break
        jump = 0
        # only a proven optimum's slack says the next slices have the same optimum: a plan
        # stopped at the limit (with a slack, as when it kept a start far inside the bound) says
        # nothing about them, and they are solved, starting from it if it is the best start
        if record["status"] == "optimal":
            jump = min(bypass(record["slack"], grid.step), len(indices) - position - 1)
            records += [bypassed(task, record, j) for j in indices[position + 1: position + 1 + jump]]
        position += 1 + jump
    return records, solved_now


def bypassed(task: dict[str, Any], record: dict[str, Any], j: int) -> dict[str, Any]:
    """Grid point `j`'s record, bypassed: `record` (a proven optimum whose slack covers j) is its
    plan too. Written down."""
    grid, outer = Grid(**task["grid"]), _outer(task)
    label = grid_label(j, outer["index"] if outer else None)
    same = {**record, "label": label, "status": "bypassed", "same_as": record["label"],
            "e": grid.value(j), "index": j}
    write_record(Path(task["out"]), label, same)
    return same


def early_exit(task: dict[str, Any], record: dict[str, Any], j: int) -> dict[str, Any]:
    """Grid point `j`'s record, infeasible without a solve: tighter than `record`'s slice, which
    is infeasible. Written down."""
    grid, outer = Grid(**task["grid"]), _outer(task)
    label = grid_label(j, outer["index"] if outer else None)
    skipped = _failed(task, label, "infeasible", f"early exit: tighter than {record['label']}, which "
                      "is infeasible", e=grid.value(j), index=j, kind="grid", **_outer_fields(outer))
    write_record(Path(task["out"]), label, skipped)
    return skipped


def _outer(task: dict[str, Any]) -> dict[str, Any] | None:
    """The outer grid's slice a chunk lies in (three objectives): its Grid, index and bound."""
    if not task.get("outer"):
        return None
    grid = Grid(**task["outer"]["grid"])
    index = int(task["outer"]["index"])
    return {"grid": grid, "index": index, "e": grid.value(index)}


def _outer_fields(outer: dict[str, Any] | None) -> dict[str, Any]:
    return {"e3": outer["e"], "index3": outer["index"]} if outer else {}


def _bounded_worst_km(formulation: Any, primary: str, e: float, start: Any,
                      state: dict[str, Any]) -> Any:
    """A grid slice ``worst_km <= e`` (rows K_f <= e N_f, exact): minimise the primary, then
    (in place of AUGMECON2's augmentation, which needs a linear slack) the worst km at that
    primary value by the Dinkelbach iteration, and finally the primary again under
    ``worst_km <=`` that minimum: the lexicographic point, efficient, with a gap in the
    primary's units. If the first solve finds no plan the slice is left as it is, for the
    run to solve and diagnose."""
    m = formulation.model
    terms = footprint_km(formulation)
    state["terms"] = terms
    bound_worst_km(formulation, terms, e)
    add_tradeoff(formulation, primary)
    first = solve(m, formulation.data.config.solver, mip_start=start)
    if not first.has_solution:
        return start
    best = values(m)[primary]
    m.del_component(m.tradeoff_objective)
    add_tradeoff(formulation, primary, upper={primary: _hair(best)})
    found = minimise_worst_km(formulation, terms, first=worst_km(terms), start=integer_start(m))
    state.update(first=first.as_dict(), minimax=found.as_dict())
    bound_worst_km(formulation, terms, min(e, _hair(found.value)))
    return integer_start(m)


def _solve_point(task: dict[str, Any], grid: Grid, i: int, candidates: list[tuple[str, list | None]],
                 parents: list[tuple[str, list | None]] | None = None) -> dict[str, Any]:
    """One grid point; `candidates` (label, plan) are its MIP starts, best first: with one, HiGHS
    checks it; with more, the first feasible one (one LP each) is handed over. With `parents`
    (label, plan: the looser neighbour), the start is first improved by the crossover between
    it and them (`BetweenPlans`), a linear bound only."""
    started = time.perf_counter()
    candidates = [(c, n) for c, n in candidates if n]
    parents = [(c, n) for c, n in parents or [] if n]
    crossing = bool(parents and candidates)  # the crossover improves a start (BetweenPlans)
    listed = len(candidates) > 1 or crossing  # HiGHS gets the first feasible of a list
    named = candidates[-1][1] if candidates else None  # the payoff row: feasible for every slice
    state: dict[str, Any] = {}
    e = grid.value(i)
    outer = _outer(task)
    label = grid_label(i, outer["index"] if outer else None)
    linear = OBJECTIVES[grid.objective].linear
    # the tightest slice is the payoff row's own minimum: a hair of room keeps that plan feasible
    equal = {grid.objective: (_hair(e) if i == grid.points - 1 else e, grid.range)}
    if outer:  # AUGMECON2's slacks in lexicographic order: the inner objective's first
        equal[outer["grid"].objective] = (outer["e"], outer["grid"].range)

    def prepare(formulation):
        state["m"] = formulation.model
        if not linear:
            return _bounded_worst_km(formulation, task["primary"], e,
                                     start_map(formulation.model, named), state)
        add_tradeoff(formulation, task["primary"], equal=equal, eps=task["eps"],
                     primary_range=task["primary_range"])
        starts = [start_map(formulation.model, n) for _, n in candidates]
        if crossing:
            return BetweenPlans(starts, [start_map(formulation.model, n) for _, n in parents])
        return starts if listed else start_map(formulation.model, named)

    try:
        result = _solve(task, prepare, bounded=True)
    except InfeasibleError as exc:
        return _failed(task, label, "infeasible", str(exc), e=e, index=i, kind="grid",
                       **_outer_fields(outer))
    except NoSolutionError as exc:
        return _failed(task, label, "no_solution", str(exc), e=e, index=i, kind="grid",
                       **_outer_fields(outer))
    m = state["m"]
    write_start(Path(task["out"]), label, named_start(m))
    if linear:
        slack = float(pyo.value(m.tradeoff_slack_value[grid.objective]))
        extra = _outer_fields(outer)
        if outer:
            extra["slack3"] = max(float(pyo.value(m.tradeoff_slack_value[outer["grid"].objective])), 0.0)
        if listed:
            choice = result.outcome.start_choice
            extra["start_from"] = candidates[choice][0] if choice is not None else None
        elif candidates:
            extra["start_from"] = candidates[0][0]
        extra["start_used"] = result.outcome.start_used
        if crossing and result.outcome.first_plan:
            extra["crossover"] = {"with": parents[0][0], **result.outcome.first_plan}
        return _record(task, label, result, started, kind="grid", e=e, index=i, slack=max(slack, 0.0),
                       **extra)
    # the slack AUGMECON2's bypass needs, measured: every bound between the plan's worst km
    # and e has the same optimum
    slack = e - worst_km(state["terms"])
    record = _record(task, label, result, started, kind="grid", e=e, index=i, slack=max(slack, 0.0),
                     first_stage=state.get("first"), minimax=state.get("minimax"))
    # the last solve's bound holds only under W <= W*: the point's gap for its slice is from the
    # first stage's bound (min cost under W <= e), wider when that solve stopped at its limit
    bound = (state.get("first") or {}).get("bound")
    if bound is not None and record.get("solved_objective") is not None:
        wide = max(record["solved_objective"] - bound, 0.0)
        if wide > (record.get("gap_abs") or 0.0):
            record.update(gap_abs=wide, gap_rel=wide / max(abs(record["solved_objective"]), 1e-9))
    return record
