"""Solving with HiGHS through Pyomo, with an honest account of what was proven."""

from __future__ import annotations

import io
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse  # noqa: F401  the compiler's matrices; imported with the module, not on the first solve
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.tee import TeeStream, capture_output
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.core.staleflag import StaleFlagManager
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model.config import SolverConfig
from model.first_plan import (
    BUDGET_SHARE,
    FirstPlan,
    column_years,
    crossover,
    disagrees,
    given_relaxation,
    hub_neighbourhoods,
    hub_search,
    integrality_of,
    lowers,
    lp_neighbourhood,
    lp_relaxation,
    plan_cost,
    quiet_highs,
    relax_and_fix,
    relaxation_crossover,
    rolling_horizon,
    rounding_parents,
    set_defaults,
    ward_columns,
    ward_sites,
    widening,
)
from model.vocabulary import SOLVED, SolveStatus

log = logging.getLogger(__name__)


# the candidate starts' checks share this part of the solve's time limit: each is one LP, and a
# start that takes longer to check than this would leave the MIP too little of its own
CHECK_SHARE = 0.1
CHECK_TIME = f"{CHECK_SHARE:.0%} of the limit"  # CHECK_SHARE in the words of the messages
# HiGHS options for a MIP handed a feasible start (a first plan, a sweep variant's checked start),
# where the solve's `solver.options` do not set them: feasibility jump only looks for a first
# plan, which the MIP has (England's MIP from the box's plan, HiGHS seeds 0-4: the same results,
# 0.3-0.6 s sooner each; docs/performance.md).
FEASIBLE_START_OPTIONS = {"mip_heuristic_run_feasibility_jump": False}


@dataclass
class SolveOutcome:
    """What the solver did; `status` is a ``SolveStatus``."""

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap_abs: float | None
    gap_rel: float | None
    seconds: float
    solver: str
    log_file: str | None
    start_used: bool | None = None  # None: no MIP start offered; else whether HiGHS found it feasible
    start_choice: int | None = None  # of several candidate starts, the one used (0 = the first)
    # candidate starts whose feasibility check ran out of its time (`CHECK_SHARE` of the limit): neither
    # used nor found infeasible, so `start_used` False does not say the start was refused
    starts_unchecked: int = 0
    first_plan: dict | None = None  # what `solver.first_plan` (or the crossover) did before HiGHS's search
    earlier_plan: dict | None = None  # `--start-from`: the earlier run's plan offered (model.earlier_plan)

    @property
    def has_solution(self) -> bool:
        return self.status in SOLVED

    @property
    def unchecked_note(self) -> str:
        """What a run's message and a sweep variant's reason say of `starts_unchecked` ("" if none)."""
        if not self.starts_unchecked:
            return ""
        return f"{self.starts_unchecked} start(s) not checked: the checks' time ({CHECK_TIME}) ran out"

    def as_dict(self) -> dict:
        return asdict(self)


def solver_version() -> str:
    version = SolverFactory("highs").version()
    return "HiGHS " + ".".join(str(p) for p in version) if version else f"highspy {highspy.__name__}"


def highs_options(options: SolverConfig) -> dict[str, object]:
    """The HiGHS options of a solve (the benchmark's HiGHS-alone runs use the same)."""
    return {**options.options, "time_limit": float(options.time_limit),
            "mip_rel_gap": float(options.mip_gap), "threads": int(options.threads)}


@dataclass
class FirstPlanFirst:
    """A MIP start (or list of candidates) to fall back on after `solver.first_plan`'s heuristic:
    for a start that is feasible but poor, such as the optimum's plan for a search that must
    move away from it (near-optimal alternatives). A `prepare` callback may return one."""

    fallback: Any


@dataclass
class StartsOrWait:
    """Candidate starts for a solve that would rather wait than start from nothing: when none
    of them is feasible, HiGHS is not run (no solution, termination `noFeasibleStart`) and
    `none_feasible` is set, so that the caller can try again once more plans exist (a sweep
    variant waiting for its neighbours'). A `prepare` callback may return one."""

    candidates: list
    none_feasible: bool = False


@dataclass
class CheapestOf:
    """Candidate starts of which the cheapest feasible one is the start: each is checked (its
    integer values fixed, the rest an LP) and the completion that costs least wins, the first on
    a tie. For plans whose order of merit is not known before the check: an earlier run's plan
    of a saving-breakdown step, which an edit (less need) can leave feasible but far from the
    step's optimum, beside this run's own plans. With `or_relaxation`, the start is then
    crossed with the rounding of the model's LP relaxation, as `BetweenPlans` does with no
    parents. A `prepare` callback may return one."""

    candidates: list
    or_relaxation: bool = False


@dataclass
class BetweenPlans:
    """Candidate starts (best first) and other plans (`parents`, ComponentMaps like a start's,
    feasible or not): the first feasible candidate, completed, is improved by the crossover
    (`model.first_plan.crossover`: the MIP boxed between its integer values and the parents',
    within a share of the limit, its seconds out of the solve's) before HiGHS starts from it.
    For a point of a frontier, whose neighbouring plans share most of its decisions. With
    `or_relaxation`, a start that no parent differs from is crossed with the rounding of the
    model's own LP relaxation instead (a sweep variant whose only plans offered are its start).
    A `prepare` callback may return one."""

    candidates: list
    parents: list
    or_relaxation: bool = False


def solve(m: pyo.ConcreteModel, options: SolverConfig, log_file: Path | None = None,
          stream=None, mip_start=None, first_plan_first: bool = False,
          hubs: dict[str, str] | None = None, progress: Callable[[str], None] | None = None
          ) -> SolveOutcome:
    """Solve `m` with HiGHS; load the solution if there is one. Never raises for a bad status.

    The model goes to HiGHS as matrices (Pyomo's standard-form compiler, then one ``passModel``)
    and the solution comes back as one array, set on the variables by column: no per-row calls
    through a persistent interface. `mip_start` (a ComponentMap {VarData: value}, usually integer
    variables only) is handed to HiGHS as a partial MIP start. A list of them is a list of
    candidates, best first: each is tried in turn (its integer values fixed, the rest an LP) and
    the first feasible one, completed by that LP, is the start (`start_choice` says which).
    `options.first_plan`'s heuristic runs when no start is feasible; with `first_plan_first`,
    before the starts, which are then the fallback (for a start that is feasible but poor, such
    as the optimum's plan for a search that moves away from it). `hubs` (each site's and
    footprint's hub) lets `options.hub_search` improve the heuristic's plan hub by hub.
    `progress` is told of the first plan HiGHS will start from, when a heuristic made one.
    """
    start = time.perf_counter()
    if isinstance(mip_start, FirstPlanFirst):
        mip_start, first_plan_first = mip_start.fallback, True
    wait = mip_start if isinstance(mip_start, StartsOrWait) else None
    if wait is not None:
        mip_start = wait.candidates
    between = mip_start if isinstance(mip_start, BetweenPlans) else None
    if between is not None:
        mip_start = between.candidates
    cheapest = isinstance(mip_start, CheapestOf)
    or_relaxation = between.or_relaxation if between is not None else False
    if cheapest:
        or_relaxation = mip_start.or_relaxation
        mip_start = mip_start.candidates
    try:
        compiled = compile_model(m)
    except InfeasibleConstraintException as exc:  # a row with no free variable left, violated
        log.info("HiGHS not called: %s", exc)
        return _not_run(SolveStatus.INFEASIBLE, "provenInfeasible", start, log_file)
    outcome, _h = run_compiled(compiled, options, log_file, stream, mip_start, start, first_plan_first,
                               wait=wait, parents=between.parents if between else None,
                               or_relaxation=or_relaxation, hubs=hubs,
                               progress=progress, cheapest=cheapest)
    return outcome


def first_plan_message(first: FirstPlan, cost: float | None) -> str:
    """What the command line says before HiGHS's search, which can take a while longer (England:
    a plan at 40 s, proven within 0.1% about 8 s later): the heuristic `first` and the `cost` of
    the plan HiGHS starts from (None: no plan; a crossover that found nothing better keeps its
    start, whose cost this is)."""
    if cost is None:
        return f"first plan ({first.method}): none in {first.seconds:.1f}s; HiGHS searches without one"
    return f"first plan ({first.method}): {cost:,.0f} in {first.seconds:.1f}s; HiGHS proving its gap from it"


def _not_run(status: str, termination: str, since: float, log_file: Path | None) -> SolveOutcome:
    """The outcome of a solve that ended before HiGHS ran: no solution, no bound."""
    return SolveOutcome(status=status, termination=termination, objective=None, bound=None, gap_abs=None,
                        gap_rel=None, seconds=time.perf_counter() - since, solver=solver_version(),
                        log_file=str(log_file) if log_file else None)


def solver_output(stream, text: io.StringIO):
    """A context in which HiGHS's console output (C level included) goes to `text` and, if
    given, `stream`."""
    return capture_output(output=TeeStream(*((stream, text) if stream is not None else (text,))),
                          capture_fd=True)


def write_first_plan_log(log_file: Path, said: list[str]) -> None:
    """Start the solver log with what the first plan's heuristics said (their own HiGHS runs are
    quiet, so without this the log began at the MIP and never said where its start came from).
    HiGHS appends its log to the file after it."""
    if said:
        with open(log_file, "a", encoding="utf-8") as out:
            out.write("=== first plan ===\n" + "".join(line + "\n" for line in said))


def run_compiled(compiled: Compiled, options: SolverConfig, log_file: Path | None = None, stream=None,
                 mip_start=None, start: float | None = None, first_plan_first: bool = False,
                 relaxation: np.ndarray | None = None, wait: StartsOrWait | None = None,
                 parents: list | None = None, or_relaxation: bool = False,
                 mip_defaults: dict | None = None, hubs: dict[str, str] | None = None,
                 progress: Callable[[str], None] | None = None, cheapest: bool = False
                 ) -> tuple[SolveOutcome, highspy.Highs]:
    """Solve a compiled model with HiGHS, load its solution into the Pyomo variables, and return
    the outcome with the HiGHS object (whose duals and model a caller may read or re-solve).
    `relaxation` (column values of an LP relaxation already solved, NaN where it has none) spares
    `lp_neighbourhood` its own. `parents` (plans as ComponentMaps) send a feasible candidate
    start through the crossover with them first (`BetweenPlans`); with `or_relaxation`, a start
    none of them differs from is crossed with the rounding of the LP relaxation (`relaxation`,
    or solved here). `mip_defaults`: HiGHS options for the MIP itself, not its heuristics', where
    `options.options` does not set them. `hubs` (each site's and footprint's hub) lets
    `options.hub_search` improve the first plan hub by hub. `progress`, if given, is told of a
    heuristic's first plan (it runs inside the solver's output capture: a caller that prints must
    print past it, as the command line does). With `cheapest`, the start is the cheapest feasible
    candidate of the list, not the first (`CheapestOf`)."""
    # HiGHS keeps one global thread scheduler per process and refuses a different `threads`
    # on a later solve (status "unknown"); reset it so every solve gets the threads it asks for.
    highspy.Highs.resetGlobalScheduler(True)
    start = time.perf_counter() if start is None else start
    solver_options = {**(mip_defaults or {}), **highs_options(options)}
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    log_text = io.StringIO()  # read back for what HiGHS made of the MIP start
    said: list[str] = []  # what the first plan's heuristics said, for the solver log

    def say(message: str) -> None:
        print(message)
        said.append(message)

    with solver_output(stream, log_text):
        h = highspy.Highs()
        h.setOptionValue("log_to_console", True)
        for key, value in solver_options.items():
            h.setOptionValue(key, value)
        choice, completed, first, unchecked = None, None, None, 0
        if first_plan_first:
            completed, first = _first_plan(compiled, options, relaxation, hubs, say)
        if completed is None and isinstance(mip_start, list):
            choice, completed, unchecked = first_feasible_start(compiled, mip_start, options, cheapest)
        crossing = (parents or or_relaxation) and completed is not None
        integer = integrality_of(compiled.lp) != 0 if crossing else None
        others = widening(completed, [_plan_columns(compiled, p) for p in parents],
                          integer) if parents and crossing else []
        relaxed_step = None
        if not others and or_relaxation and crossing and first is None:
            others, relaxed_step = _relaxation_parents(compiled, options, completed, integer, relaxation)
        if others and first is None:  # one heuristic's seconds a solve
            spent = relaxed_step["seconds"] if relaxed_step else 0.0
            better, first = crossover(compiled.lp, completed, others, float(options.time_limit) - spent,
                                      options.threads, options.mip_gap, options.options)
            completed = better if better is not None else completed
            step = first.steps[-1]
            if relaxed_step:
                first.steps.insert(0, relaxed_step)
                first.seconds += spent
            with_whom = "the LP relaxation" if relaxed_step else f"{len(others)} other plan(s)"
            say(f"crossover with {with_whom}, {step['free_integers']} integers free: "
                  + (f"a plan of {first.objective:.6g} in {first.seconds:.1f}s" if better is not None
                     else f"nothing better than the start in {first.seconds:.1f}s ({step['status']})"))
        if wait is not None and completed is None and not unchecked:  # unchecked: waiting would not help
            wait.none_feasible = True
            log.info("no candidate start is feasible: the solve waits for more plans")
            outcome = _not_run(SolveStatus.NO_SOLUTION, "noFeasibleStart", start, None)
            outcome.start_used = False
            return outcome, h
        if completed is None and first is None and not (mip_start and not isinstance(mip_start, list)):
            completed, first = _first_plan(compiled, options, relaxation, hubs, say)
        if first is not None:  # the heuristic's seconds come out of the solve's time limit
            h.setOptionValue("time_limit", max(1.0, float(options.time_limit) - first.seconds))
            if progress is not None:  # what HiGHS starts from: a crossover may keep its start
                progress(first_plan_message(first, None if completed is None
                                            else plan_cost(compiled.lp, completed)))
        elif relaxed_step:  # a relaxation that freed nothing to cross: its seconds too
            h.setOptionValue("time_limit", max(1.0, float(options.time_limit) - relaxed_step["seconds"]))
        if log_file is not None:  # HiGHS's log of the MIP after what the first plan said
            write_first_plan_log(log_file, said)
            h.setOptionValue("log_file", str(log_file))
        h.passModel(compiled.lp)
        if completed is not None:  # a candidate start or the heuristic's plan, completed
            solution = highspy.HighsSolution()
            solution.col_value = completed
            solution.value_valid = True
            h.setSolution(solution)
            set_defaults(h, FEASIBLE_START_OPTIONS, options.options)
        elif mip_start and not isinstance(mip_start, list):  # one start: HiGHS checks it
            cols, vals = _start_columns(compiled, mip_start)
            h.setSolution(len(cols), cols, vals)
        h.run()
    outcome = _outcome(h, compiled, time.perf_counter() - start, log_file, float(options.mip_gap))
    if mip_start or first is not None:
        outcome.start_used = START_FEASIBLE in log_text.getvalue()
        outcome.start_choice = choice
    outcome.starts_unchecked = unchecked
    if first is not None:
        outcome.first_plan = first.as_dict()
    log.info("HiGHS: %s (%s) objective=%s bound=%s in %.2fs", outcome.status, outcome.termination,
             outcome.objective, outcome.bound, outcome.seconds)
    return outcome, h


def _relaxation_parents(compiled: Compiled, options: SolverConfig, start: np.ndarray, integer: np.ndarray,
                        relaxation: np.ndarray | None = None) -> tuple[list[np.ndarray], dict]:
    """The crossover's parents for a `start` no other plan differs from: the floor and ceiling of
    the LP relaxation (`relaxation` if given, else solved here within `BUDGET_SHARE` of the
    limit) on the `integer` columns, if they free some integer column of the start; and the
    relaxation's step. A column the relaxation does not have (NaN) stays NaN in both, which
    `widening` and `between_box` leave to the start."""
    if relaxation is None:
        relaxed, step = lp_relaxation(compiled.lp, BUDGET_SHARE * float(options.time_limit), options.threads,
                                      options.options)
    else:
        relaxed, step = relaxation, given_relaxation()
    log.info("crossover, the LP relaxation: %s", step)
    if relaxed is None:
        return [], step
    return rounding_parents(start, relaxed, integer), step


CROSSED = {True: "then the crossover with the LP relaxation",
           False: "then the crossover with the LP relaxation, no better plan",
           None: "the LP relaxation's rounding, nothing to cross"}


def _first_plan(compiled: Compiled, options: SolverConfig, relaxation: np.ndarray | None,
                hubs: dict[str, str] | None, say: Callable[[str], None]
                ) -> tuple[np.ndarray | None, FirstPlan | None]:
    """A plan from `options.first_plan` for a MIP that has no start: (column values or None, its
    account), or (None, None) when the option is `highs` or the model has no integer column.
    With `hubs` (each site's and footprint's hub) and `options.hub_search`, the plan is then
    improved hub by hub."""
    if options.first_plan == "highs" or not len(compiled.lp.integrality_):
        return None, None
    if options.first_plan == "relax_and_fix":
        values, first = relax_and_fix(compiled.lp, column_years(compiled.columns), options.time_limit,
                                      options.threads, options.options)
        done = f"relax-and-fix over {len(first.steps)} years"
        failed = first.steps[-1]["status"] if first.steps else "no years"
    elif options.first_plan == "rolling_horizon":
        wards = ward_columns(compiled.columns)  # its floors: the ward counts only
        values, first = rolling_horizon(compiled.lp, column_years(compiled.columns), options.time_limit,
                                        options.threads, None if relaxation is None else
                                        np.where(wards, relaxation, np.nan), options.options)
        done = f"the rolling horizon over {len(first.steps)} years"
        failed = first.steps[-1]["status"] if first.steps else "no years"
        if values is not None and relaxation is not None:  # against its myopia: the whole horizon
            say(f"{done}: a plan of {first.objective:.6g} in {first.seconds:.1f}s")
            values, first = relaxation_crossover(compiled.lp, values, first, relaxation, options.time_limit,
                                                 options.threads, options.mip_gap, options.options)
            done = CROSSED[first.improved]
    else:
        sites = ward_sites(compiled.columns) if options.hold_closed_sites else None
        values, first = lp_neighbourhood(compiled.lp, ward_columns(compiled.columns), options.time_limit,
                                         options.threads, options.mip_gap, relaxation, options.options,
                                         sites)
        done = "the LP relaxation's neighbourhood"
        failed = f"{first.steps[-1]['stage']}: {first.steps[-1]['status']}"
    say(f"{done}: " + (f"a plan of {first.objective:.6g} in {first.seconds:.1f}s" if values is not None
                       else f"no plan ({failed})"))
    if values is not None and hubs and options.hub_search > 0:
        values, first = _hub_search(compiled, options, values, first, hubs, say)
    return values, first


def _hub_search(compiled: Compiled, options: SolverConfig, values: np.ndarray, first: FirstPlan,
                hubs: dict[str, str], say: Callable[[str], None]) -> tuple[np.ndarray, FirstPlan]:
    """`hub_search` on a heuristic's plan within `options.hub_search` of the time limit (and at most
    `BUDGET_SHARE` of what the heuristic left)."""
    limit = float(options.time_limit)
    seconds = min(options.hub_search * limit, BUDGET_SHARE * (limit - first.seconds))
    tiers = hub_neighbourhoods(compiled.columns, hubs)
    before, was = first.objective, len(first.steps)
    values, first = hub_search(compiled.lp, values, first, tiers, seconds, options.threads,
                               options.mip_gap, options.options)
    searched = len(first.steps) - was
    say(f"then the hub search ({searched} of {sum(len(t) for t in tiers)} neighbourhoods): "
          + (f"a plan of {first.objective:.6g}" if first.objective != before else "no better plan")
          + f", {first.seconds:.1f}s in all")
    return values, first


def _start_columns(compiled: Compiled, start) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(compiled.column_of[id(v)], float(x)) for v, x in start.items() if id(v) in compiled.column_of]
    return (np.array([c for c, _ in pairs], dtype=np.int32), np.array([x for _, x in pairs], dtype=np.double))


def _plan_columns(compiled: Compiled, plan) -> np.ndarray:
    """A plan (ComponentMap) as column values, NaN for the columns it does not give."""
    values = np.full(len(compiled.columns), np.nan)
    cols, vals = _start_columns(compiled, plan)
    values[cols] = vals
    return values


class StartCheck(NamedTuple):
    """What `first_feasible_start` found: the first feasible candidate's index and completed
    column values (None, None when none is known feasible), and how many candidates were left
    unchecked because the checks' time ran out (neither feasible nor infeasible)."""

    choice: int | None
    values: np.ndarray | None
    unchecked: int = 0


def first_feasible_start(compiled: Compiled, candidates: list, options: SolverConfig,
                         cheapest: bool = False) -> StartCheck:
    """The first candidate start whose integer values admit a feasible solution: each is checked
    by one LP (its values fixed as bounds), as HiGHS checks one start, all within `CHECK_SHARE` of
    the time limit. A check stopped by that time ends the checking: the candidates from it on are
    `unchecked`, not infeasible (the checks share one clock, so the next would have none). With
    `cheapest`, every candidate is checked and the feasible one whose completion costs least is
    taken (the first on a tie; one whose check ran out of time is not a contender)."""
    check = quiet_highs(options.threads, options.options)  # the solve's tolerances: HiGHS's own check
    check.setOptionValue("time_limit", CHECK_SHARE * float(options.time_limit))
    check.passModel(compiled.lp)
    lower = np.asarray(compiled.lp.col_lower_, dtype=np.double)
    upper = np.asarray(compiled.lp.col_upper_, dtype=np.double)
    every = np.arange(len(compiled.columns), dtype=np.int32)
    integrality = integrality_of(compiled.lp)
    integer = integrality != 0
    best: StartCheck | None = None
    best_cost: float | None = None  # the best's cost, negated for a maximisation (as `lowers` takes it)
    sign = -1.0 if compiled.lp.sense_ == highspy.ObjSense.kMaximize else 1.0
    for index, start in enumerate(candidates):
        if not start:
            continue
        cols, vals = _start_columns(compiled, start)
        lo, up = lower.copy(), upper.copy()
        lo[cols], up[cols] = vals, vals
        check.changeColsBounds(len(every), every, lo, up)
        # an LP when the candidate fixes every integer column (HiGHS's MIP solver took 11 s on an
        # England grid point's check that its LP solver does in 1 s: over the tenth of a 120 s
        # limit on a busy machine, so every start was refused); a small MIP when the variant
        # frees an integer the plan had fixed (a shorter lead time)
        fixed = bool(np.all(lo[integer] == up[integer]))
        check.changeColsIntegrality(len(every), every,
                                    np.zeros_like(integrality) if fixed else integrality)
        check.run()
        status = check.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            values = np.asarray(check.getSolution().col_value, dtype=np.double)
            cost = plan_cost(compiled.lp, values)
            log.info("MIP start: candidate %d of %d is feasible (%.6g)", index + 1, len(candidates), cost)
            if not cheapest:
                return StartCheck(index, values)
            if lowers(sign * cost, best_cost):
                best, best_cost = StartCheck(index, values), sign * cost
            continue
        if status == highspy.HighsModelStatus.kTimeLimit:
            left = sum(1 for c in candidates[index:] if c)
            log.info("MIP start: candidates %d to %d of %d not checked: the checks' time (%s) ran out",
                     index + 1, len(candidates), len(candidates), CHECK_TIME)
            return best._replace(unchecked=left) if best is not None else StartCheck(None, None, left)
        log.info("MIP start: candidate %d of %d is not feasible (%s)", index + 1, len(candidates),
                 check.modelStatusToString(status))
    return best if best is not None else StartCheck(None, None)


# What HiGHS prints when a MIP start (completed for the variables it does not give) is feasible:
# the only place HiGHS says whether it used the start.
START_FEASIBLE = "MIP start solution is feasible"


@dataclass
class Compiled:
    """A Pyomo model as HiGHS's LP/MIP, with the Pyomo variable of every column."""

    lp: highspy.HighsLp
    columns: list  # VarData per column
    column_of: dict[int, int]  # id(VarData) -> column
    model: pyo.ConcreteModel
    rows: list = field(default_factory=list)  # ConstraintData per row (a ranged row gives two)


def compile_model(m: pyo.ConcreteModel) -> Compiled:
    """`m`'s active linear objective and constraints as one HighsLp (fixed variables folded into
    the right-hand sides by the compiler; ranged rows become two rows)."""
    repn = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    columns = repn.columns
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(columns), repn.A.shape[0]
    cost = repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(len(columns))
    lp.col_cost_ = cost
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    if repn.objectives and repn.objectives[0].sense == pyo.maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    bounds = [v.bounds for v in columns]
    lp.col_lower_ = np.array([-np.inf if lo is None else lo for lo, _ in bounds], dtype=np.double)
    lp.col_upper_ = np.array([np.inf if up is None else up for _, up in bounds], dtype=np.double)
    rhs = np.asarray(repn.rhs, dtype=np.double)
    kind = np.array([row.bound_type for row in repn.rows], dtype=np.int8)
    lp.row_lower_ = np.where(kind <= 0, rhs, -np.inf)  # -1: body >= rhs, 0: body == rhs
    lp.row_upper_ = np.where(kind >= 0, rhs, np.inf)  # 1: body <= rhs
    a = repn.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.double)
    integer = [v.is_integer() for v in columns]
    if any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    return Compiled(lp, columns, {id(v): k for k, v in enumerate(columns)}, m,
                    [row.constraint for row in repn.rows])


_TERMINATION = {
    "kOptimal": TerminationCondition.convergenceCriteriaSatisfied,
    "kInfeasible": TerminationCondition.provenInfeasible,
    "kUnboundedOrInfeasible": TerminationCondition.infeasibleOrUnbounded,
    "kUnbounded": TerminationCondition.unbounded,
    "kObjectiveBound": TerminationCondition.objectiveLimit,
    "kObjectiveTarget": TerminationCondition.objectiveLimit,
    "kTimeLimit": TerminationCondition.maxTimeLimit,
    "kIterationLimit": TerminationCondition.iterationLimit,
    "kSolutionLimit": TerminationCondition.iterationLimit,
    "kInterrupt": TerminationCondition.interrupted,
}


def gaps(objective: float | None, bound: float | None) -> tuple[float | None, float | None]:
    """(absolute, relative) gap of a minimisation's `objective` over its `bound`; None without
    either."""
    if objective is None or bound is None:
        return None, None
    gap_abs = max(0.0, objective - bound)
    return gap_abs, gap_abs / max(abs(objective), 1e-9)


def _outcome(h: highspy.Highs, compiled: Compiled, seconds: float, log_file: Path | None,
             mip_gap: float | None = None) -> SolveOutcome:
    """What HiGHS did (as Pyomo's own HiGHS interface would report it); loads the solution.
    The objective is the cost of the columns loaded (`model.first_plan.disagrees`: HiGHS's own
    figure can be another plan's), so the gap is the plan's own.

    A solve stopped by a limit whose proven gap is within `mip_gap` is optimal in our sense
    (proven within the requested gap; its `termination` still says the limit): HiGHS finds its
    plan in a sub-MIP that can run past the limit, and then stops at the limit without testing
    the gap (seen on sweep variants: stopped with 0.06% against a 0.2% target)."""
    term = _TERMINATION.get(h.getModelStatus().name, TerminationCondition.error
                            if "Error" in h.getModelStatus().name else TerminationCondition.unknown)
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # 0 none, 1 infeasible, 2 feasible
    objective = bound = None
    converged = True
    if has_solution:
        values = h.getSolution().col_value
        objective = plan_cost(compiled.lp, np.asarray(values, dtype=np.double))
        # HiGHS's "optimal" was measured from its own figure: then only the gap says optimal
        converged = not disagrees(info.objective_function_value, objective)
        load_columns(compiled, values)
    if info.mip_node_count == -1:  # an LP: its optimum is its own bound
        bound = objective if term == TerminationCondition.convergenceCriteriaSatisfied else None
    else:
        bound = info.mip_dual_bound
    if bound is not None and (math.isinf(bound) or math.isnan(bound)):
        bound = None
    gap_abs, gap_rel = gaps(objective, bound)
    if term in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        status = SolveStatus.INFEASIBLE
    elif has_solution and ((term == TerminationCondition.convergenceCriteriaSatisfied and converged) or (
            mip_gap is not None and gap_rel is not None and gap_rel <= mip_gap)):
        status = SolveStatus.OPTIMAL
    elif has_solution:
        status = SolveStatus.FEASIBLE
    elif term in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                  TerminationCondition.interrupted):
        status = SolveStatus.NO_SOLUTION
    else:
        status = SolveStatus.ERROR
    return SolveOutcome(status=status, termination=term.name, objective=objective, bound=bound,
                        gap_abs=gap_abs, gap_rel=gap_rel, seconds=seconds, solver=solver_version(),
                        log_file=str(log_file) if log_file else None)


def load_columns(compiled: Compiled, values) -> None:
    """Set every column's variable to its value (one pass; no per-variable solver calls).

    A free variable in no active row and with no cost (the compiler leaves it out) gets 0, or
    its bound nearest 0, as HiGHS gives an empty column; never a value left from an earlier solve.
    """
    for var, value in zip(compiled.columns, values, strict=True):
        var.set_value(value, skip_validation=True)
    if len(compiled.columns) < compiled.model.nvariables():
        for var in compiled.model.component_data_objects(pyo.Var, descend_into=True):
            if not var.fixed and id(var) not in compiled.column_of:
                lower, upper = var.bounds
                value = 0.0 if lower is None else max(0.0, lower)
                var.set_value(value if upper is None else min(value, upper), skip_validation=True)
    StaleFlagManager.mark_all_as_stale(delayed=True)
