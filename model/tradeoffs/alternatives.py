r"""`bedplan alternatives`: near-optimal plans as different as possible from the optimum and
from each other (modelling to generate alternatives, as PyPSA's MGA and Calliope's SPORES do).

The optimum is solved as usual (objective :math:`z^*`, the incumbent); an alternative's
*budget* is :math:`(1+\sigma)\, z^*`, the whole weighted objective (``total_cost``'s expression)
within the slack :math:`\sigma` of the optimum. Its distance from the plans P found so far (the
optimum and alternatives 1..k-1) is measured on site and ward decisions by the linear score

.. math::

    D(x) = \sum_{p\in P} \sum_{s,v,t} d(wards_{s,v,t}; w^p_{s,v,t}, U_s),\qquad
    d(x; x^p, U) = \begin{cases} (x - x^p)/U & x^p < U/2 \\ (x^p - x)/U & \text{otherwise}\end{cases}

each ward count pushed towards the far end of its range from where plan p has it, scaled by
its range :math:`U` (the site's ``max_wards``), so emptying or filling a site counts 1. It has
no extra variable; ``operate`` is left out on purpose (a site kept open without a ward would
score for nothing). The distance reported (``model.tradeoffs.plans.distance``) is exact:
site-years where one plan has wards and the other none, plus ward-years of difference.

Two methods (``--method``):

``distance``
    The budget row `alternative_budget`, :math:`\text{objective} \le (1+\sigma) z^*`, and
    :math:`\max D(x)` as `alternative_objective`: the most distant plan within the budget, when
    the solve is proven. On England HiGHS finds no plan better than its start in minutes: the
    pure distance objective's relaxation says little about where the cheap plans are.
``price`` (the default)
    No budget row: :math:`\min\ \text{objective} - \lambda\, D(x)/|P|` (`alternative_objective`;
    :math:`D/|P|` is `alternative_distance`), a price :math:`\lambda` per unit of distance from
    the plans found, as Calliope's SPORES prices a plan's likeness to the last. Each solve is
    like a weighted-sum corner of the frontier, which HiGHS solves in seconds to minutes. The
    plan's objective is then checked against the budget exactly. The price is searched: the
    first is :math:`\sigma |z^*| / 25` (25 units of distance, say one service emptied at five
    sites for five years, worth the whole slack), later alternatives start at the price the one
    before kept. Prices are tried in rounds of as many as the cluster has workers (the first
    round: the price and 4, 16, ... times it; or, when an alternative before found a price over
    its budget, the price and points evenly between it and the latest such on a log scale,
    while that is above it): after a plan over the budget the next round is below the least
    such price (a quarter, a sixteenth, ...), after plans that repeat one already found or are
    within the budget (to seek a more distant one) above the greatest (4, 16, ... times), and
    once both ends are known it is spaced evenly between them on a log scale (one worker: their
    geometric mean). After ``tries`` solves (default 2) the plan within the budget farthest from
    its nearest earlier plan is kept; up to three more solves are made while none is within it.
    Every try is a run folder and a row of ``tries.csv``. What is proved: each plan kept is
    within the budget (checked on the plan, whatever the gap), and differs from every plan
    before it; not that no plan within the budget is more distant.

The alternatives are solved one after another (each depends on all before it), on the Dask
cluster of ``--workers``/``--scheduler`` like the other commands; each starts from the latest
plan found (the optimum's for the first), or with a ``solver.first_plan`` heuristic from a plan
it found for its objective (the latest plan when that finds none); each is a
full run folder. An alternative that repeats a plan already found (at every price tried) is
recorded as a ``repeat`` and ends the search: with the same plans to move away from, every
later one would repeat it too. A rerun reuses what the same scenario, slack and method already
solved (after the same plans).
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
METHODS = ("price", "distance")
#: the first price spreads the slack over this much distance (see the module docstring)
FIRST_PRICE_UNITS = 25.0
PRICE_STEP = 4.0
#: solves a price search may add while none of its plans is within the budget
EXTRA_TRIES = 3
TRY_FIELDS = ("label", "price", "verdict", "status", "objective", "distance_to_nearest", "gap_abs",
              "solve_seconds", "run_dir")


@dataclass
class AlternativesRun:
    folder: Path
    records: list[dict[str, Any]] = field(default_factory=list)  # the optimum first
    solved: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def similarity_weights(m: Any, plans: list[dict[str, int]]) -> ComponentMap:
    """Each ward variable's coefficient in the distance score D of the module docstring (its
    constant part left out: it moves no decision)."""
    weights = ComponentMap()
    for (s, v, t), var in m.wards.items():
        span = float(var.ub or 0)
        if span <= 0:
            continue
        for plan in plans:
            sign = 1.0 if plan.get(f"w|{s}|{v}|{t}", 0) < span / 2 else -1.0
            weights[var] = weights.get(var, 0.0) + sign / span
    return weights


def add_alternative(formulation: Any, budget: float, plans: list[dict[str, int]]) -> None:
    """Method `distance`: the budget row and the distance objective of the module docstring."""
    m = formulation.model
    m.alternative_budget = pyo.Constraint(expr=m.total_cost.expr <= budget)
    formulation.rows.append(Row("alternative", m.alternative_budget, POLICY))
    m.total_cost.deactivate()
    weights = similarity_weights(m, plans)
    m.alternative_objective = pyo.Objective(expr=sum(w * var for var, w in weights.items() if w),
                                            sense=pyo.maximize)


def add_priced_alternative(formulation: Any, price: float, plans: list[dict[str, int]]) -> None:
    """Method `price`: the objective less `price` per unit of mean distance from `plans`."""
    m = formulation.model
    weights = similarity_weights(m, plans)
    m.alternative_distance = pyo.Expression(
        expr=sum(w * var for var, w in weights.items() if w) / len(plans))
    m.total_cost.deactivate()
    m.alternative_objective = pyo.Objective(expr=m.total_cost.expr - price * m.alternative_distance)


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


def _solve_from_latest(task: dict[str, Any], label: str, add: Any, score: str,
                       base: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Solve one alternative: `add(formulation)` sets its objective (and rows); the solve starts
    from the latest plan found (`task["latest"]`, else the optimum's) or, with
    a `solver.first_plan` heuristic, from a plan it found for that objective first.
    Returns its record (with the value of the model's `score` component) and whether it has a
    plan; the caller writes it."""
    started = time.perf_counter()
    out = Path(task["out"])
    # the latest plan found is already some way from the plans before it (the optimum's plan
    # scores nothing on the distance)
    start_from = task.get("latest") or "optimum"
    start = read_start(out, start_from) or read_start(out, "optimum")
    state: dict[str, Any] = {}

    def prepare(formulation):
        add(formulation)
        state["m"] = formulation.model
        return FirstPlanFirst(start_map(formulation.model, start))

    try:
        result = _solve(task, prepare)
    except (InfeasibleError, NoSolutionError) as exc:
        return {"label": label, "digest": task["digest"], **base, "status": "no_solution",
                "reason": str(exc)}, False
    outcome = result.outcome
    record = _record(task, label, result, started, **base,
                     distance_objective=float(pyo.value(getattr(state["m"], score))),
                     start_from=outcome.first_plan["method"].replace("_", "-") if outcome.first_plan
                     and outcome.first_plan["objective"] is not None else start_from,
                     start_used=outcome.start_used)
    write_start(out, label, named_start(state["m"]))
    return record, True


def solve_alternative(task: dict[str, Any], label: str, budget: float,
                      plans: list[dict[str, int]], after: str) -> dict[str, Any]:
    """Method `distance`: the plan most distant from `plans` within `budget`."""
    record, _found = _solve_from_latest(
        task, label, lambda f: add_alternative(f, budget, plans), "alternative_objective",
        {"kind": "alternative", "budget": budget, "after": after})
    write_record(Path(task["out"]), label, record)
    return record


def solve_priced(task: dict[str, Any], label: str, price: float, budget: float,
                 plans: list[dict[str, int]], after: str) -> dict[str, Any]:
    """One try of method `price`: the plan that minimises the objective less `price` per unit
    of distance from `plans`, checked against `budget`, and its distance from the nearest."""
    record, found = _solve_from_latest(
        task, label, lambda f: add_priced_alternative(f, price, plans), "alternative_distance",
        {"kind": "alternative", "method": "price", "price": price, "budget": budget, "after": after})
    if not found:
        record["verdict"] = "no plan"
    else:
        nearest = min((distance(q, record["plan"]), i) for i, q in enumerate(plans))
        record["distance_to_nearest"], record["nearest"] = nearest
        record["verdict"] = ("over budget" if record["objective"] > budget + 1e-9 * abs(budget)
                             else "repeat" if nearest[0] == 0 else "within budget")
    write_record(Path(task["out"]), label, record)
    return record


def first_round(price: float, over: float | None, width: int = 1) -> list[float]:
    """An alternative's first round of `width` prices from `price`: with no price known to be
    over the budget, it and PRICE_STEP, PRICE_STEP^2, ... times it; with `over` (the least price
    an earlier search found over its budget) above it, it and points evenly between the two on
    a log scale (width 2: their geometric mean), so that the round does not spend a try on a
    price that has overspent before."""
    if over is None or over <= price:
        return [price * PRICE_STEP**j for j in range(width)]
    return [price * (over / price) ** (j / width) for j in range(width)]


def next_prices(low: float | None, high: float | None, width: int = 1) -> list[float]:
    """The next round of `width` prices: between a price whose plan was within the budget or a
    repeat (`low`) and one whose plan was over it (`high`), evenly spaced on a log scale (one:
    their geometric mean); else steps of PRICE_STEP past the one end known."""
    if low is not None and high is not None:
        return [low * (high / low) ** ((j + 1) / (width + 1)) for j in range(width)]
    if high is not None:
        return [high / PRICE_STEP ** (j + 1) for j in range(width)]
    assert low is not None
    return [low * PRICE_STEP ** (j + 1) for j in range(width)]


def keep_plan(tries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of a price search's tries, the plan within the budget farthest from its nearest earlier
    plan (the cheaper of two as far); None when no try was within it."""
    fits = [t for t in tries if t.get("verdict") == "within budget"]
    return min(fits, key=lambda t: (-t["distance_to_nearest"], t["objective"])) if fits else None


def run_alternatives(scenario: str | Path, slack: float = 0.02, count: int = 5,
                     runs_root: str | Path = "runs", overrides: dict[str, Any] | None = None,
                     workers: int | None = None, scheduler: str | None = None, client: Any = None,
                     on_event: Any = None, method: str = "price", tries: int = 2) -> AlternativesRun:
    """The optimum and `count` alternatives within `slack` of it by `method` (`tries` solves
    each for `price`), into RUNS_ROOT/alternatives/<scenario>-slack<slack>/ (with `-distance`
    for that method), and their report."""
    problems = []
    if method not in METHODS:
        problems.append(Problem("command line", None, None, method, f"--method: one of {', '.join(METHODS)}"))
    if not 1 <= tries <= 10:
        problems.append(Problem("command line", None, None, tries, "--tries: 1 to 10"))
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
    suffix = "" if method == "price" else f"-{method}"
    out = Path(runs_root).resolve() / ALTERNATIVES_DIR / f"{config.name}-slack{slack:g}{suffix}"
    settings = {"slack": slack, "overrides": overrides or {}, "method": method}
    if method == "price":
        settings["tries"] = tries
    digest = plan_digest(scenario, settings)
    task = {"scenario": str(scenario), "out": str(out), "digest": digest, "overrides": overrides}
    run = AlternativesRun(folder=out)
    with sweep_lock(out):
        write_plan(out, {"scenario": config.name, "scenario_file": str(scenario / SCENARIO_FILE),
                         **settings, "count": count, "digest": digest})
        if client is not None:
            _solve_all(client, task, slack, count, run, emit, tries if method == "price" else 0)
        else:
            with dask_client(workers or 1, scheduler) as own:
                _solve_all(own, task, slack, count, run, emit, tries if method == "price" else 0)
        run.seconds = time.perf_counter() - started
        run.files = write_alternatives_report(out, scenario, slack, run.records, run.seconds, method)
    return run


def _solve_all(client: Any, task: dict[str, Any], slack: float, count: int, run: AlternativesRun,
               emit: Any, tries: int) -> None:
    """The optimum, then the alternatives in turn: by the price search when `tries` > 0, else
    by the distance objective within the budget row."""
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
    price = max(slack * abs(z) / FIRST_PRICE_UNITS, 1.0)  # £1 a unit when the optimum costs nothing
    over = None  # the least price the latest search to find one found over its budget
    for k in range(1, count + 1):
        label = _plan_label(k)
        record = read_record(out, label, task["digest"])
        after = content_digest(plans)  # a record made after other plans is solved again
        if not _asked(record, budget=budget, after=after):
            latest = next((r["label"] for r in reversed(run.records) if r.get("plan")), "optimum")
            if tries:
                record = _price_search(client, {**task, "latest": latest}, label, price, budget, plans,
                                       after, tries, run, emit, over)
                write_record(out, label, record)
            else:
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
            log.info("%s repeats %s: no further distinct plan", label, record.get("same_as"))
            break
        if not record.get("plan"):  # with the same plans to move away from, the next would fail too
            break
        plans.append(record["plan"])
        # the next search starts where this one kept its plan, below the least price found over
        # the budget so far (by this search, or else by one before)
        price, over = record.get("price") or price, record.get("price_over") or over


def _price_search(client: Any, task: dict[str, Any], label: str, first_price: float, budget: float,
                  plans: list[dict[str, int]], after: str, tries: int, run: AlternativesRun,
                  emit: Any, over: float | None = None) -> dict[str, Any]:
    """Method `price` for one alternative (module docstring): its tries, in rounds of as many
    prices as the cluster has workers, each a record `<label>.try<i>` reused by a rerun, and
    the record of the plan kept (with every try)."""
    out = Path(task["out"])
    width = max(1, len(client.scheduler_info().get("workers", {})))
    done: list[dict[str, Any]] = []
    low = high = None
    prices = first_round(first_price, over, width)
    while prices:
        kept = keep_plan(done)
        start = {**task, "latest": kept["label"]} if kept else task  # the farthest plan yet
        pending = []
        for price in prices:
            key = f"{label}.try{len(done) + len(pending) + 1}"
            record = read_record(out, key, task["digest"])
            if not _asked(record, budget=budget, after=after, price=price):
                pending.append(client.submit(solve_priced, start, key, price, budget, list(plans), after,
                                             pure=False))
                run.solved.append(key)
            else:
                pending.append(record)
                run.reused.append(key)
        stop = False
        for item in pending:
            record = item if isinstance(item, dict) else item.result()
            done.append(record)
            emit("try", record)
            log.info("%s at £%.4g a unit of distance: %s", record["label"], record["price"],
                     record.get("verdict"))
            if record.get("verdict") == "over budget":
                high = record["price"] if high is None else min(high, record["price"])
            elif record.get("verdict") in ("within budget", "repeat"):
                low = record["price"] if low is None else max(low, record["price"])
            else:  # no plan within the time limit: nothing learnt about the price
                stop = True
        left = tries + EXTRA_TRIES - len(done)
        closed = low is not None and high is not None and high / low < 1.5
        if stop or closed or left <= 0 or (keep_plan(done) and len(done) >= tries):
            break
        prices = next_prices(low, high, width)[:left]
    summary = [{k: getattr(t.get(k), "value", t.get(k)) for k in TRY_FIELDS} for t in done]  # enums as text
    kept = keep_plan(done)
    if kept is not None:
        return {**kept, "label": label, "tries": summary, "kept_try": kept["label"], "price_over": high}
    repeats = [t for t in done if t.get("verdict") == "repeat"]
    prices = sorted(t["price"] for t in done)
    if repeats:
        status = "repeat"
        reason = (f"at every price tried (£{prices[0]:,.4g} to £{prices[-1]:,.4g} a unit of distance) the "
                  "plan repeated one already found or cost more than the budget")
    else:
        status = "no_solution"
        reason = (f"no plan within the budget at the prices tried (£{prices[0]:,.4g} to £{prices[-1]:,.4g} "
                  "a unit of distance)" if done and done[-1].get("verdict") == "over budget"
                  else done[-1].get("reason", "no plan"))
    return {"label": label, "digest": task["digest"], "kind": "alternative", "method": "price",
            "status": status, "reason": reason, "budget": budget, "after": after, "tries": summary,
            **({"same_as": _plan_label(repeats[-1]["nearest"])} if repeats else {})}


def _asked(record: dict[str, Any] | None, **asked: Any) -> bool:
    """Whether a stored record answers the same question (budget, plans before it, price): only
    then is it reused."""
    return record is not None and all(record.get(k) == v for k, v in asked.items())


def _plan_label(index: int) -> str:
    """The label of plans[index] in the search (the optimum, then the alternatives in turn)."""
    return "optimum" if index == 0 else f"alt-{index:02d}"
