"""Solve a big geography on a restricted arc set, pricing the arcs left out back in.

With ``solver.arcs: nearest:K`` (``bedplan solve --arcs nearest:K``) the model is built with each
footprint's K nearest sites per service (and its K nearest in its own hub); then, as column
generation over the placement columns (docs/formulation.md, "Restricted arcs and pricing"):

1. *LP relaxation*: solve the LP relaxation, price every left-out arc against its row duals
   (``model/arc_costs.py``), add the ones with a negative reduced cost, rebuild, repeat until
   none is left. The LP relaxation's value is then that of the relaxation over every arc: a lower
   bound valid for the full model.
2. *MIP*: solve the MIP on that arc set; fix its integer decisions at the incumbent and solve the
   LP that is left; price the left-out arcs against that LP's duals; if any would lower the cost,
   add them and solve the MIP again from the incumbent (a feasible MIP start), until none would
   (or too little time is left for another MIP: ``room_for_another_mip``). The plan's
   placements, unmet need, delays and community places are then optimal over every arc for its
   integer decisions.

The MIP's own bound is proven only over the arcs built; the bound over every arc is the LP
relaxation's (step 1), or, when its pricing did not converge, the best round's Lagrangian bound
(``model.arc_costs.lagrangian_bound``). ``ArcReport`` says which of these were reached.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import highspy
import numpy as np

from model.arc_costs import RowDuals, arc_blocks, lagrangian_bound, price_arcs
from model.arcs import choose_arcs, nearest_k, ordered_arcs
from model.config import SolverConfig
from model.first_plan import (
    FirstPlan,
    hub_neighbourhoods,
    hub_search,
    integrality_of,
    lowers,
    plan_cost,
    quiet_highs,
)
from model.formulation import formulate
from model.formulation.builder import Formulation
from model.formulation.levers import named_start, start_map
from model.formulation.roles import Kind
from model.inputs import ModelInputs
from model.solve import Compiled, SolveOutcome, compile_model, gaps, load_columns, run_compiled, solver_output
from model.vocabulary import SolveStatus

log = logging.getLogger(__name__)

MAX_ROUNDS = 50
LP_SHARE = 0.4  # of the time limit, at most, for step 1 (the relaxation's pricing)
RESERVE = 0.1  # of the time limit, kept from each MIP for the LP with the integers fixed
# of which the hub search after the MIP (`solver.hub_search_after`) leaves this share of the limit
# to that LP (1,000 x 1,000 x 5 x 4: the LP took 36 s of the 180 s kept)
AFTER_KEEP = 0.05
# A round of the LP relaxation's pricing that added at most this share of the arcs built starts
# from the last round's vertex by primal simplex, one that added more by interior point. Measured
# (docs/performance.md, "Big geographies", warm rounds): 2,694 arcs added to 15,319 (18%) took
# 43 s from the vertex against 71 s by interior point, 34 added 2 s against 73 s; 31,109 added to
# 36,518 (85%) had not finished in 612 s from the vertex where interior point took 167.5 s.
WARM_SHARE = 0.25
# the MIP's root LP by interior point, as the pricing's relaxations are (a scenario's own
# `solver.options` win): 200 x 300 x 10 x 8's root LP took 242 s by dual simplex, too long to
# finish beside the first plan in the MIP's ~270 s, and 116 s this way, leaving time for a cut
# round (gap 2.49% -> 1.77%, docs/performance.md, "Big geographies"). The MIP's only: the first
# plan's crossover box took 46 s this way against 17 s by dual simplex
MIP_OPTIONS = {"mip_lp_solver": "ipm"}
# The relaxation's pricing stops once its Lagrangian bound is within this share of the solve's
# gap of the relaxation over the arcs built (1e-5 at a 1% gap): another round could raise the
# bound over every arc by no more than that. Each round rebuilds and compiles the model (about
# 21 s at 1,000 x 1,000 x 5 x 4, where in the converged runs of 2026-12-07 the fourth to sixth
# rounds' relaxations priced 27, 1 and 0 arcs and moved by 5e-8 in all; stopped after the fourth,
# its bound was 3.4e-6 below it). At a gap of 0 it never stops early.
CLOSE_SHARE = 0.001


@dataclass
class ArcReport:
    """What the restricted-arc solve did and what it proved."""

    spec: str
    arcs_possible: int
    arcs_initial: int
    arcs_final: int = 0
    rounds: list[dict] = field(default_factory=list)
    lp_priced: bool = False  # step 1 converged: lp_bound is the LP relaxation over every arc
    # step 1 stopped with lp_bound within CLOSE_SHARE of the gap of the relaxation over the arcs
    # built (the arcs still priced in were left to step 2)
    lp_close: bool = False
    lp_bound: float | None = None  # valid over every arc: the best round's Lagrangian bound
    plan_priced: bool = False  # step 2 converged: no left-out arc would lower the plan's cost
    fixed_lp_objective: float | None = None
    # a plan left unpriced: at most this much lower with its integer decisions fixed, over every arc
    # (`lagrangian_bound` with the plan's wards); 0 proves it priced after all
    plan_gain_bound: float | None = None
    # the first MIP's start from `solver.first_plan` (its account): a later MIP starts from the
    # plan before it, so the final outcome has none of its own
    first_plan: dict | None = None
    gap_rel_all_arcs: float | None = None  # (objective - lp_bound) / objective
    bound_from_all_arcs: bool = False  # the MIP's bound was below lp_bound and was raised to it
    build_seconds: float = 0.0
    note: str = ""
    # `solver.hub_search_after`: each MIP's plan searched hub by hub (the search's account)
    searched_after: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def statements(self) -> list[str]:
        """What is proved and what is not, in words (the run's summary and manifest)."""
        out = [f"Placements built on {self.spec} ({self.arcs_initial:,} of {self.arcs_possible:,} "
               f"possible arcs), {self.arcs_final - self.arcs_initial:,} more priced in over "
               f"{len(self.rounds)} round(s)."]
        bounded = ("a Lagrangian bound from the duals of the plan's LP with its integer decisions "
                   "fixed, each arc's placements capped by the plan's own wards at its site")
        gain = self.plan_gain_bound
        if self.plan_priced:
            why = ("has a negative reduced cost" if gain is None else
                   f"can lower its cost ({bounded}, is £{gain:,.0f}: each arc priced in leads to a site "
                   "where the plan keeps no ward of its service in the years it would pay)")
            out.append(f"Proved: with the plan's ward, site and build decisions fixed, no left-out arc "
                       f"{why}, so its placements, unmet need, delays and community places are optimal "
                       "over every arc.")
        else:
            share = (gain or 0.0) / max(abs(self.fixed_lp_objective or 0.0), 1e-9)
            how = (f" ({self.note or 'pricing did not finish'})" if gain is None else
                   f", by at most £{gain:,.0f} ({share:.3%} of it; {bounded}): {self.note}")
            out.append(f"Not proved: arcs left out may still lower the plan's cost for its own ward "
                       f"decisions{how}.")
        if self.lp_priced and self.gap_rel_all_arcs is not None:
            out.append(f"Proved over every arc: within {self.gap_rel_all_arcs:.3%} of the optimum "
                       f"(the LP relaxation over every arc, priced to completion, is a lower bound).")
        elif self.lp_close and self.gap_rel_all_arcs is not None:
            out.append(f"Proved over every arc: within {self.gap_rel_all_arcs:.3%} of the optimum "
                       "(a Lagrangian bound from the LP relaxation's duals over the arcs built; the "
                       f"pricing stopped once it was within {CLOSE_SHARE:g} x the solve's gap of that "
                       "relaxation, leaving the arcs it would still add to the plan's pricing).")
        elif self.gap_rel_all_arcs is not None:
            out.append(f"Proved over every arc: within {self.gap_rel_all_arcs:.3%} of the optimum "
                       "(a Lagrangian bound from the LP relaxation's duals over the arcs built: the "
                       "pricing did not finish, so the bound is weaker than the relaxation's).")
        else:
            out.append("No bound over every arc: no LP relaxation was solved in its share of the time.")
        out.append("The MIP's own gap is proven over the arcs built only; a plan that needs an arc "
                   "left out to pay for a ward decision is ruled out only within the gap over every arc.")
        if self.bound_from_all_arcs:
            out.append("The MIP's search ended below the bound over every arc (its root was not "
                       "finished in its time), so its gap is reported against that bound instead: "
                       "a bound over every arc is one over the arcs built too.")
        return out


def solve_priced(data: ModelInputs, options: SolverConfig, log_file: Path | None = None, stream=None,
                 say: Callable[[str], None] | None = None
                 ) -> tuple[Formulation, SolveOutcome, ArcReport]:
    """Steps 1 and 2 of the module docstring on `data` (built with a ``nearest:K`` arc set)."""
    say = say or (lambda _msg: None)
    deadline = time.perf_counter() + options.time_limit
    blocks = arc_blocks(data)
    report = ArcReport(options.arcs, sum(int(b.allowed.sum()) for b in blocks), len(data.arcs))
    arcs = set(data.arcs)
    per_need = max(1, _k(options.arcs))
    formulation, compiled = _build(data, report)
    lp_deadline = time.perf_counter() + LP_SHARE * options.time_limit
    k = _k(options.arcs)
    lp_logs: list[str] = []  # the relaxations' HiGHS logs, put before the MIP's in the run's log
    relaxed: dict[tuple, float] = {}  # the last relaxation solved: its integer columns, by name
    basis: NamedBasis | None = None  # the next round's start (WARM_SHARE)
    keep_relaxed = options.first_plan in ("lp_neighbourhood", "rolling_horizon")  # its readers
    while len(report.rounds) < MAX_ROUNDS:
        seconds = lp_deadline - time.perf_counter()
        value, duals, status, h = _lp_duals(compiled, formulation, options, seconds, stream, lp_logs,
                                            len(arcs), basis)
        if value is not None and keep_relaxed:
            relaxed = _integer_values(h, compiled)
        if status == highspy.HighsModelStatus.kInfeasible and len(arcs) < report.arcs_possible:
            k *= 2  # nearest:K alone cannot meet the rules (e.g. in-hub shares): widen, not price
            report.note = f"nearest:{_k(options.arcs)} infeasible, widened to nearest:{k}"
            arcs |= set(choose_arcs(data.need_pairs, data.sites, set(data.existing_wards), data.km,
                                    data.config.policy.max_placement_km, f"nearest:{k}",
                                    data.hub_of_footprint, data.hub_of_site))
            data = replace(data, arcs=ordered_arcs(data, arcs))
            formulation, compiled = _build(data, report)
            continue
        if value is None:
            report.note = "the LP relaxation was not solved in its share of the time"
            break
        priced = price_arcs(data, blocks, duals, arcs, per_need)
        bound = value if not priced.added else lagrangian_bound(data, blocks, duals, arcs, value)
        report.lp_bound = bound if report.lp_bound is None else max(report.lp_bound, bound)
        _record(report, "lp", priced, value, len(arcs), bound)
        if priced.added and close_enough(value, bound, options.mip_gap):
            report.lp_close = True
            say(f"pricing arcs (LP relaxation): stopped, its bound over every arc within "
                f"{value - bound:,.0f} of it ({len(priced.added):,} arcs left to the plan's pricing)")
            break
        say(f"pricing arcs (LP relaxation): {len(priced.added):,} added")
        if not priced.added:
            report.lp_priced = True
            break
        basis = named_basis(h, compiled) if len(priced.added) <= WARM_SHARE * len(arcs) else None
        arcs |= set(priced.added)
        data = replace(data, arcs=ordered_arcs(data, arcs))
        formulation, compiled = _build(data, report)
    start = None
    last_value: float | None = None  # the plan's, when the last round added the pass's arcs only
    while True:
        remaining = max(1.0, for_the_mip(deadline - time.perf_counter(), options.time_limit))
        run_options = options.model_copy(update={"time_limit": remaining})
        mip_start = start_map(formulation.model, start)
        # the first-plan heuristic runs only on a MIP without a start
        relaxation = _by_column(compiled, relaxed) if start is None else None
        outcome, h = run_compiled(compiled, run_options, log_file, stream, mip_start, relaxation=relaxation,
                                  mip_defaults=MIP_OPTIONS, hubs=hubs_of(data), progress=say)
        mip_seconds = h.getRunTime()  # HiGHS's MIP alone: the first plan's heuristics have their own
        if start is None:
            report.first_plan = outcome.first_plan
        if not outcome.has_solution:
            report.note = f"the MIP found no solution ({outcome.termination})"
            break
        # only a plan not yet within the gap: a MIP that met it is done, and the search would spend
        # the rest of the limit
        searching = options.hub_search_after and outcome.status == SolveStatus.FEASIBLE
        plan = _search_after(h, compiled, data, options, deadline, report) if searching else None
        if searching and report.searched_after:
            account = report.searched_after[-1]
            say(f"hub search after the MIP: {len(account['steps'])} neighbourhoods, "
                + ("a better plan" if account["improved"] else "no better plan"))
        fixed_began = time.perf_counter()
        value, duals = _fixed_lp(h, compiled, formulation,
                                 max(deadline - time.perf_counter(), RESERVE * options.time_limit), plan)
        fixed_seconds = time.perf_counter() - fixed_began
        if value is None:
            report.note = "the LP with the integer decisions fixed was not solved"
            break
        outcome = _with_objective(outcome, value, options.mip_gap)
        report.fixed_lp_objective = value
        priced = price_arcs(data, blocks, duals, arcs, per_need)
        _record(report, "mip", priced, value, len(arcs), fixed_lp_seconds=fixed_seconds)
        report.plan_priced = not priced.added
        if not priced.added and not lowers(value, last_value):
            # the last round's arcs were the pass below's and the MIP with them found no cheaper
            # plan: another pass would only grow the model (measured: 200 x 300 x 5 x 4 took five
            # such rounds of 4,800 arcs, the plan the same, and the last MIP, cut short by the time
            # on twice the columns of the first, ended at 1.06% where the second had 0.92%)
            report.note = "the arcs that would pay with one more ward did not lower the plan"
            break
        if not priced.added:  # proved; then the arcs that would pay with one more ward
            priced = price_arcs(data, blocks, duals, arcs, per_need, room=_room(formulation))
            _record(report, "mip, a ward more", priced, value, len(arcs))
        last_value = value if report.rounds[-1]["phase"] == "mip, a ward more" else None
        say(f"pricing arcs (plan's LP): {len(priced.added):,} added")
        if not priced.added:
            break
        seconds_left = deadline - time.perf_counter()
        if not room_for_another_mip(seconds_left, options.time_limit, mip_seconds) \
                or len(report.rounds) >= MAX_ROUNDS:
            for_next = max(0.0, for_the_mip(seconds_left, options.time_limit))
            report.note = (f"{len(priced.added):,} arcs still priced in when the time ran out "
                           f"(another MIP would have had {for_next:.0f} s; the last took "
                           f"{mip_seconds:.0f} s)")
            _bound_the_plan(report, data, blocks, duals, arcs, value, formulation)
            break
        start = named_start(formulation.model)
        arcs |= set(priced.added)
        data = replace(data, arcs=ordered_arcs(data, arcs))
        formulation, compiled = _build(data, report)
    report.arcs_final = len(arcs)
    if log_file is not None and lp_logs:
        _prepend(log_file, lp_logs)
    if outcome.objective is not None and report.lp_bound is not None:
        report.gap_rel_all_arcs = max(0.0, outcome.objective - report.lp_bound) / max(
            abs(outcome.objective), 1e-9)
        raised = with_bound(outcome, report.lp_bound)
        report.bound_from_all_arcs = raised is not outcome
        outcome = raised
    return formulation, outcome, report


def _bound_the_plan(report: ArcReport, data: ModelInputs, blocks, duals: RowDuals, arcs: set,
                    value: float, formulation: Formulation) -> None:
    """How much the arcs left out could still lower an unpriced plan with its integer decisions
    fixed (`lagrangian_bound` with its wards); none at all makes it priced."""
    wards = {index: float(var.value or 0.0) for index, var in formulation.model.wards.items()}
    gain = max(0.0, value - lagrangian_bound(data, blocks, duals, arcs, value, wards=wards))
    report.plan_gain_bound = gain
    report.plan_priced = gain <= max(1e-9 * abs(value), 1e-6)


def hubs_of(data: ModelInputs) -> dict[str, str]:
    """Each site's and footprint's hub: the hub search's neighbourhoods."""
    return {**data.hub_of_footprint, **data.hub_of_site}


def with_bound(outcome: SolveOutcome, bound: float) -> SolveOutcome:
    """`outcome` with its bound raised to `bound` (and its gap recomputed) where `bound` is the
    higher; `outcome` itself otherwise. `bound` must be valid for the model solved: a bound over
    every arc is (the model with the arcs built is a restriction of the one with every arc), and
    it is the better one when the MIP's own search stopped before its root LP was solved."""
    if outcome.objective is None or (outcome.bound is not None and outcome.bound >= bound):
        return outcome
    gap_abs, gap_rel = gaps(outcome.objective, bound)
    return replace(outcome, bound=bound, gap_abs=gap_abs, gap_rel=gap_rel)


def close_enough(value: float, bound: float, mip_gap: float) -> bool:
    """True when the Lagrangian `bound` is within `CLOSE_SHARE` of `mip_gap` of the restricted
    relaxation's `value`: more pricing could not move the bound over every arc by more."""
    return value - bound <= CLOSE_SHARE * mip_gap * max(abs(value), 1e-9)


def room_for_another_mip(seconds_left: float, time_limit: float, last_mip_seconds: float = 0.0) -> bool:
    """Whether to solve the MIP again with the arcs just priced in: only with as long for it as
    the last MIP took (`last_mip_seconds`, HiGHS's own run), and at least RESERVE of the time
    limit, besides the RESERVE kept for its fixed LP. Each MIP solves its root again from nothing
    (HiGHS keeps no cuts between runs), so a MIP given less stops with a weaker bound than the
    last one proved, and its result replaces that one. Measured: a 44 x 100 x 5 x 4 run re-solved
    with 1 s a round ended with a 705% gap instead of about 0.3%; at 1,000 x 1,000 x 5 x 4 a MIP
    that met its 1% gap in 806 s was followed by one of 236 s for 433 arcs, which ended in its
    root at 1.75% with a plan £45,000 cheaper. The plan of the last full MIP is kept instead, not
    priced, and the summary says so."""
    return for_the_mip(seconds_left, time_limit) >= max(RESERVE * time_limit, last_mip_seconds)


def for_the_mip(seconds_left: float, time_limit: float) -> float:
    """The seconds a MIP may have of `seconds_left`: the rest is kept (RESERVE of the limit) for
    the LP with its integers fixed."""
    return seconds_left - RESERVE * time_limit


def _k(spec: str) -> int:
    return nearest_k(spec) or 1


def _room(formulation: Formulation) -> set[tuple[str, int]]:
    """(s, t) where the plan's site could hold one more ward."""
    m, data = formulation.model, formulation.data
    max_wards = data.site["max_wards"].to_dict()
    used: dict[tuple[str, int], float] = {}
    for (s, _v, t), var in m.wards.items():
        used[(s, t)] = used.get((s, t), 0.0) + (var.value or 0.0)
    return {key for key, n in used.items() if n + 1 <= max_wards[key[0]] + 1e-6}


def _build(data: ModelInputs, report: ArcReport) -> tuple[Formulation, Compiled]:
    start = time.perf_counter()
    formulation = formulate(data)
    compiled = compile_model(formulation.model)
    report.build_seconds += time.perf_counter() - start
    return formulation, compiled


def _record(report: ArcReport, phase: str, priced, value: float, arcs: int,
            bound: float | None = None, fixed_lp_seconds: float | None = None) -> None:
    """A round's line in the report; a MIP round's with the seconds of its LP with the integers
    fixed (what `RESERVE` keeps time for)."""
    report.rounds.append({"phase": phase, "arcs": arcs, "objective": value,
                          "negative": priced.negative, "added": len(priced.added),
                          "most_negative_gbp": priced.most_negative, "bound_all_arcs": bound,
                          "fixed_lp_seconds": fixed_lp_seconds})
    log.info("arc pricing %s: %d arcs, objective %.6g, %d negative, %d added%s", phase, arcs, value,
             priced.negative, len(priced.added),
             "" if fixed_lp_seconds is None else f" (the LP, integers fixed: {fixed_lp_seconds:.1f} s)")


# The pricing's LPs choose their own method (interior point then crossover, or primal simplex
# from the last round's vertex): the duals must come from a vertex, and the method is what makes
# the big relaxations solvable at all. Every other search option of the solve's (a seed, a
# tolerance, presolve) holds for them as for the MIP.
LP_METHOD_OPTIONS = frozenset({"solver", "simplex_strategy", "run_crossover"})


def _lp_duals(compiled: Compiled, formulation: Formulation, options: SolverConfig, seconds: float,
              stream=None, logs: list[str] | None = None, arcs: int = 0,
              basis: NamedBasis | None = None):
    """The LP relaxation's value and row duals (None if not solved to optimality in time),
    HiGHS's model status and the HiGHS object (None when there was no time to run it). HiGHS's
    log goes to `stream` and is appended to `logs`. With `basis` (the last round's vertex) the
    LP starts from it by primal simplex; without, by interior point."""
    if seconds <= 0:
        return None, {}, highspy.HighsModelStatus.kTimeLimit, None
    h = quiet_highs(options.threads, {key: value for key, value in options.options.items()
                                      if key not in LP_METHOD_OPTIONS})
    h.setOptionValue("time_limit", max(1.0, float(seconds)))
    # Interior point, then crossover to a vertex: on 200 zones x 300 sites x 10 years x 8 services
    # (nearest:8; 101,692 rows, 237,101 columns) 148 s, where dual simplex had not finished in 400 s
    # (docs/performance.md, "Big geographies").
    h.setOptionValue("solver", "ipm")
    lp = compiled.lp
    integrality = lp.integrality_
    lp.integrality_ = []
    try:
        h.passModel(lp)
    finally:
        lp.integrality_ = integrality
    _free_implied(h, compiled, formulation)
    warm = basis is not None and _set_basis(h, compiled, basis)
    if warm:
        # The last round's vertex, with the new arcs' columns at zero and the slacks of any rows
        # they bring (a site-service's capacity no arc used before) basic, is a feasible basis of
        # this LP: primal simplex goes on from it, where interior point would start again from
        # nothing (docs/performance.md, "Big geographies": warm rounds).
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 4)  # primal
    h.setOptionValue("time_limit", h.getRunTime() + max(1.0, float(seconds)))  # its clock runs already
    text = io.StringIO()
    start = ", from the last round's vertex" if warm else ""
    heading = f"=== arc pricing: LP relaxation on {arcs:,} arcs, at most {seconds:.0f} s{start} ===\n"
    for out in (text, stream) if stream is not None else (text,):  # the live log says which round too
        out.write(heading)
    with solver_output(stream, text):
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", True)
        h.run()
    if logs is not None:
        logs.append(text.getvalue())
    value, duals = optimal_duals(h, compiled)
    return value, duals, h.getModelStatus(), h


@dataclass
class NamedBasis:
    """A simplex basis by variable and constraint name and index (a row's occurrence counts a
    ranged constraint's two rows apart), so that a model built again with more arcs can start
    from it: its rows and columns, plus the new arcs' placements and the rows they bring."""

    columns: dict[tuple, highspy.HighsBasisStatus]
    rows: dict[tuple, highspy.HighsBasisStatus]


def named_basis(h: highspy.Highs, compiled: Compiled) -> NamedBasis | None:
    """The basis of the LP `h` solved, by name; None without a valid one (e.g. no crossover)."""
    basis = h.getBasis()
    if not basis.valid:
        return None
    return NamedBasis(dict(zip(map(_name, compiled.columns), basis.col_status, strict=True)),
                      dict(zip(_row_keys(compiled), basis.row_status, strict=True)))


def _row_keys(compiled: Compiled) -> list[tuple]:
    seen: dict[tuple, int] = {}
    keys = []
    for con in compiled.rows:
        key = (con.parent_component().local_name, con.index())
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        keys.append((*key, occurrence))
    return keys


def _set_basis(h: highspy.Highs, compiled: Compiled, named: NamedBasis) -> bool:
    """Give `h` (holding `compiled`'s LP) the basis `named`: a column it does not know (a new
    arc's placement) nonbasic at its lower bound (at zero where it has none), a row it does not
    know basic. HiGHS repairs a basis whose basic columns and rows are not a basis (too many or
    too few, or singular) before its simplex starts; False, and `h` left without a basis, only
    where it refuses one outright.
    """
    lower = highspy.HighsBasisStatus.kLower
    zero = highspy.HighsBasisStatus.kZero
    upper = highspy.HighsBasisStatus.kUpper
    lp = compiled.lp
    basis = highspy.HighsBasis()
    default = [lower if np.isfinite(lo) else upper if np.isfinite(up) else zero
               for lo, up in zip(lp.col_lower_, lp.col_upper_, strict=True)]
    basis.col_status = [named.columns.get(_name(var), default[j]) for j, var in enumerate(compiled.columns)]
    basis.row_status = [named.rows.get(key, highspy.HighsBasisStatus.kBasic) for key in _row_keys(compiled)]
    basis.valid = True
    if h.setBasis(basis) != highspy.HighsStatus.kOk:
        log.info("the last round's basis does not fit this LP; solved from nothing")
        h.clearSolver()
        return False
    return True


def _integer_values(h: highspy.Highs, compiled: Compiled) -> dict[tuple, float]:
    """The integer columns' values in the relaxation `h` solved, by variable name and index: a
    model built again with more arcs has the same integer columns (arcs add placement columns
    only), so its first plan can start from them without solving the relaxation again (the
    neighbourhood's box and the rolling horizon's floors read the ward counts; the crossover
    after the rolling horizon reads them all)."""
    values = h.getSolution().col_value
    integer = integrality_of(compiled.lp) != 0
    return {_name(compiled.columns[j]): values[j] for j in np.flatnonzero(integer)}


def _name(var) -> tuple:
    return var.parent_component().local_name, var.index()


def _by_column(compiled: Compiled, named: dict[tuple, float]) -> np.ndarray | None:
    """`named` (from `_integer_values`) on the integer columns of `compiled`, NaN on every other
    column and on an integer column it has no value for; None when it is empty."""
    if not named:
        return None
    out = np.full(len(compiled.columns), np.nan)
    for j in np.flatnonzero(integrality_of(compiled.lp) != 0):
        out[j] = named.get(_name(compiled.columns[j]), np.nan)
    return out


def _prepend(log_file: Path, lp_logs: list[str]) -> None:
    """The run's solver log: the relaxations' logs, then the MIPs' (HiGHS rewrites the file on
    each MIP, so the relaxations' are put back in front of the last one's)."""
    mip = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("".join(lp_logs) + ("=== the MIP ===\n" + mip if mip else ""), encoding="utf-8")


def _search_after(h: highspy.Highs, compiled: Compiled, data: ModelInputs, options: SolverConfig,
                  deadline: float, report: ArcReport) -> np.ndarray | None:
    """The MIP's plan improved hub by hub (`hub_search`) in the time left but `AFTER_KEEP` of the
    limit (for the LP with the integers fixed): the better plan's column values, or None (no
    better plan, or under a second to search). Its account goes into `report.searched_after`."""
    seconds = deadline - time.perf_counter() - AFTER_KEEP * options.time_limit
    if seconds < 1.0:
        return None
    values = np.asarray(h.getSolution().col_value, dtype=np.double).copy()
    integer = integrality_of(compiled.lp) != 0
    values[integer] = np.round(values[integer])
    before = FirstPlan("after the MIP", plan_cost(compiled.lp, values), 0.0, [])
    tiers = hub_neighbourhoods(compiled.columns, hubs_of(data))
    better, account = hub_search(compiled.lp, values, before, tiers, seconds, options.threads,
                                 options.mip_gap, options.options)
    report.searched_after.append(account.as_dict())
    log.info("hub search after the MIP: %.6g -> %.6g in %.1fs", before.objective, account.objective,
             account.seconds)
    return better if account.improved else None


def _fixed_lp(h: highspy.Highs, compiled: Compiled, formulation: Formulation,
              seconds: float, plan: np.ndarray | None = None) -> tuple[float | None, RowDuals]:
    """Fix the integer columns at the incumbent (or at `plan`, column values of a better plan
    found since), solve the LP left, load its solution (the same integer decisions, its
    placements optimal) and return its value and row duals."""
    values = np.asarray(h.getSolution().col_value if plan is None else plan, dtype=float)
    kinds = compiled.lp.integrality_
    cols = np.array([j for j, kind in enumerate(kinds) if kind == highspy.HighsVarType.kInteger],
                    dtype=np.int32)
    fixed = np.round(values[cols])
    # HiGHS's time limit counts from the object's first run: the MIP's time is already on it.
    h.setOptionValue("time_limit", h.getRunTime() + max(1.0, float(seconds)))
    if len(cols):
        h.changeColsIntegrality(len(cols), cols,
                                np.array([highspy.HighsVarType.kContinuous] * len(cols)))
        h.changeColsBounds(len(cols), cols, fixed, fixed)
    h.setOptionValue("output_flag", False)
    _free_implied(h, compiled, formulation)
    h.run()
    value, duals = optimal_duals(h, compiled)
    if value is not None:
        load_columns(compiled, h.getSolution().col_value)
    return value, duals


def _free_implied(h: highspy.Highs, compiled: Compiled, formulation: Formulation) -> None:
    """Drop the implied rows (role IMPLIED: aggregate capacity, linking) from the LP to price on.

    They remove no solution of the LP relaxation, so its optimum is unchanged and a dual of the LP
    without them is a dual of the LP with them (0 on theirs). With the wards fixed they are rows
    on unmet need alone, and HiGHS's dual may carry unmet need's cost on them instead of on the
    demand rows: valid for the exact pricing, but it hides from the ward pass what an unmet bed
    costs its footprint.
    """
    names = {row.component.local_name for row in formulation.rows if row.role.kind == Kind.IMPLIED}
    rows = np.array([i for i, con in enumerate(compiled.rows) if con.parent_component().local_name in names],
                    dtype=np.int32)
    if len(rows):
        h.changeRowsBounds(len(rows), rows, np.full(len(rows), -np.inf), np.full(len(rows), np.inf))


def optimal_duals(h: highspy.Highs, compiled: Compiled) -> tuple[float | None, RowDuals]:
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, {}
    row_dual = h.getSolution().row_dual
    duals: RowDuals = {}
    for con, y in zip(compiled.rows, row_dual, strict=True):
        if y != 0.0:
            by_index = duals.setdefault(con.parent_component().local_name, {})
            index = con.index()
            by_index[index] = by_index.get(index, 0.0) + y
    return h.getInfo().objective_function_value, duals


def _with_objective(outcome: SolveOutcome, value: float, mip_gap: float) -> SolveOutcome:
    """The outcome of the plan with its placements re-optimised (never above the incumbent): a
    plan now within `mip_gap` of the bound is optimal, as a solve stopped by its limit is."""
    objective = min(value, outcome.objective) if outcome.objective is not None else value
    gap_abs, gap_rel = gaps(objective, outcome.bound)
    status = SolveStatus.OPTIMAL if (outcome.status == SolveStatus.FEASIBLE and gap_rel is not None
                                     and gap_rel <= mip_gap) else outcome.status
    return replace(outcome, objective=objective, gap_abs=gap_abs, gap_rel=gap_rel, status=status)
