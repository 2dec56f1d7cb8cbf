"""A first plan for solves HiGHS would start from nothing: relax-and-fix over the years, or the
neighbourhood of the LP relaxation's ward counts; and a better start than a given one, from the
decisions it shares with other plans (the crossover).

On England the bound is within 0.1% of the optimum after about 45 s, but HiGHS's first plan comes
from the sub-MIP it runs at the end of the root, minutes later (and with one thread, as a sweep
variant runs, often not within its limit). Relax-and-fix finds a plan in a fraction of that by
solving the years one at a time: step k keeps the integer columns of years <= k integer, fixes
those of years < k at the values the earlier steps chose, and relaxes those of later years to
continuous, so every step still sees the whole horizon (as an LP beyond year k):

.. math::

    \\min c^\\top x \\;\\text{s.t.}\\; Ax \\lessgtr b,\\;
    x_j = \\hat x_j \\;(t_j < k),\\; x_j \\in \\mathbb{Z} \\;(t_j = k),\\;
    x_j \\in \\mathbb{R} \\;(t_j > k)

where :math:`t_j` is the year of integer column j (the last index of its variable). Integer
columns with no year stay integer in every step. The last step's solution is feasible for the
whole model: it is handed to HiGHS as a complete MIP start. It proves nothing (each step stops at
a 1% gap), and a step that finds no solution (an earlier year's choice left none) ends the
heuristic without a plan; the solve then goes on as without it.

The rolling horizon (`rolling_horizon`) also goes year by year but leaves later years out instead
of relaxing them, so each step is a MIP of one year's decisions rather than an LP of the whole
horizon: the one start here for models too big for their relaxation. It is myopic (each year
sees only its own costs); with restricted arcs it is held at the pricing's relaxed ward counts
rounded down where a plan allows.

The neighbourhood (`lp_neighbourhood`, after Berthold's RENS, widened by one ward up where the
relaxation's count is whole) solves the LP relaxation :math:`\\bar x`, then the whole MIP with each
ward count (:math:`j \\in W`) boxed near it,

.. math::

    \\lfloor \\bar x_j \\rfloor \\le x_j \\le \\lceil \\bar x_j \\rceil \\ (\\bar x_j \\notin \\mathbb{Z}),
    \\qquad \\bar x_j \\le x_j \\le \\bar x_j + 1 \\ (\\bar x_j \\in \\mathbb{Z}) \\qquad (j \\in W)

and every other column as in the model. The box keeps the wards where the relaxation puts them
(with one ward more where its count is whole: the exact box [floor, ceil] had no plan on England,
where a service the relaxation spreads thinly over sites needs a whole ward at one) and
leaves sites, builds, removals, conversions and placements free, so HiGHS's own search on that
smaller MIP finds a plan close to the relaxation's value quickly. Its plan is a complete start;
it proves nothing about the whole model, and a box with no plan in its time leaves none.

The crossover (`crossover`, after Rothberg's solution polishing) starts from a feasible plan
:math:`x^0` and other plans :math:`x^1, \\dots, x^k` (which need not be feasible: on a frontier,
the neighbouring plan on the looser side of the bound) and solves the MIP with every integer
column boxed between them,

.. math::

    \\min_i x^i_j \\le x_j \\le \\max_i x^i_j \\quad (j \\text{ integer}),

so the decisions the plans share are fixed and only the ones they differ on are searched (on
England's cost-carbon frontier about 400 of 7,153 integers between two neighbouring plans). It
starts from :math:`x^0`, so its plan is never worse; it proves nothing about the whole model.
A start no other plan differs from (a sweep variant offered only its own start) can be crossed
with the rounding of the model's own LP relaxation :math:`\\bar x` instead: the parents are
:math:`\\lfloor \\bar x \\rfloor` and :math:`\\lceil \\bar x \\rceil` on the integer columns
(`rounding`), so each integer column lies between :math:`x^0_j` and the integers either side of
:math:`\\bar x_j`. Boxing the ward counts alone would free nothing: the build, removal and
conversion columns, fixed at the start's, fix the wards through the ward balance.

The hub search (`hub_search`, a large-neighbourhood search after Shaw's, a hub a neighbourhood)
improves a feasible plan :math:`x^0` one hub at a time: the columns of the hub's sites and
footprints free (:math:`N_h`: its wards and sites' decisions, the placements at its sites and of its
footprints, its footprints' unmet need), every other column fixed at the current plan,

.. math::

    x_j = x^0_j \\quad (j \\notin N_h),

each hub's MIP from the current plan, its plan kept only where cheaper; then each pair of hubs a
placement joins, :math:`N_a \\cup N_b`, the same way. Every plan is feasible for the whole model (a
box around a feasible plan); it proves nothing. At the big sizes HiGHS's MIP had never improved
its first plan: it spends its time on the root's bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import highspy
import numpy as np

from model.config import STOP_OPTIONS

log = logging.getLogger(__name__)

STEP_GAP = 0.01  # each year's MIP stops here: the plan is a start, not an answer
BUDGET_SHARE = 0.5  # of the solve's time limit, at most, for all the steps together
# the crossover after a heuristic stops at this share of the solve's gap: at the solve's own gap
# the box's search stops as soon as its plan is within it of the box's bound, far above the box's
# optimum (200 x 300 x 10 x 8, 1%: 0.01% better than the rolling horizon's plan in 13 s; at 0.01%,
# 0.75% better in 124 s)
CROSSOVER_GAP_SHARE = 0.1
# and within this share of the solve's time limit: its seconds are the MIP's, whose root LP and
# cut rounds give the bound (1,000 x 1,000 x 5 x 4: a box of 309 s for 0.03% left the MIP 296 s,
# not enough for its cut rounds: 1.87% against 1.22%)
CROSSOVER_TIME_SHARE = 0.1
# the hub search's MIPs stop at this share of the solve's gap, as the crossover's (a hub's
# optimum, not the first plan within the solve's gap of its bound)
HUB_GAP_SHARE = 0.1
# The box's own HiGHS options, where the solve's `solver.options` do not set them. Feasibility
# jump spends the box's first seconds on a quick plan far from the relaxation; the box is there
# for the plan HiGHS's sub-MIP finds near it after the root (England's box, HiGHS seeds 0-4: the
# same plans, 1.3-6.4 s sooner each). A restart presolves the box again once its root has fixed
# many columns, which the box's bounds have mostly done already (with it off as well: the same
# plans, 0.9-2.7 s sooner each; docs/performance.md).
BOX_OPTIONS = {"mip_heuristic_run_feasibility_jump": False, "mip_allow_restart": False}
NEVER = np.iinfo(np.int64).max  # the step of a column in no row
# HiGHS's objective and the cost of the columns it returns differ by more than this (relative):
# not rounding noise (an integer 1e-6 off, times a site's fixed cost, is about 1e-8 of a plan)
DISAGREES = 1e-6


@dataclass
class FirstPlan:
    """What a first-plan heuristic did: `objective` is None when it found no plan; `improved`
    (where a crossover ran) whether the crossover's plan is better than the start it was given."""

    method: str
    objective: float | None
    seconds: float
    steps: list[dict]
    improved: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def quiet_highs(threads: int, options: dict | None = None) -> highspy.Highs:
    """A HiGHS instance with no output, on `threads` threads, with `options` (the solve's own
    HiGHS search options, `solver.options`, but its `STOP_OPTIONS`: a heuristic searches as the
    solve it serves does, so that a seed or a tolerance set for the solve holds for its first plan
    too, and stops by its own time and gap, not by the solve's node limits). HiGHS keeps one
    thread scheduler a process and answers "Not Set" to a solve asking for other threads than the
    last one's (a heuristic on 1 thread after a 2-thread solve found no plan): it is reset first."""
    highspy.Highs.resetGlobalScheduler(True)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        if key not in STOP_OPTIONS:
            h.setOptionValue(key, value)
    return h


def set_defaults(h: highspy.Highs, defaults: dict, options: dict | None) -> None:
    """`defaults` set on `h`, each unless the solve's own `options` (`solver.options`) set it."""
    for key, value in defaults.items():
        if key not in (options or {}):
            h.setOptionValue(key, value)


def column_years(columns: list) -> np.ndarray:
    """The year of each column (the last index of its variable when that is an int), else -1."""
    years = np.full(len(columns), -1, dtype=np.int64)
    for k, var in enumerate(columns):
        index = var.index()
        last = index[-1] if isinstance(index, tuple) and index else index
        if isinstance(last, (int, np.integer)) and not isinstance(last, bool):
            years[k] = int(last)
    return years


def relax_and_fix(lp: highspy.HighsLp, years: np.ndarray, time_limit: float, threads: int,
                  options: dict | None = None) -> tuple[np.ndarray | None, FirstPlan]:
    """(the column values of a feasible plan or None, the account) for the MIP `lp`, solving the
    years of its integer columns in turn within `BUDGET_SHARE` of `time_limit`; `options` as in
    `quiet_highs`."""
    start = time.perf_counter()
    integer = integrality_of(lp) != 0
    stages = sorted({int(y) for y in years[integer] if y >= 0})
    budget = BUDGET_SHARE * float(time_limit)
    steps: list[dict] = []
    lower0 = np.asarray(lp.col_lower_, dtype=np.double)
    upper0 = np.asarray(lp.col_upper_, dtype=np.double)
    chosen = np.full(lp.num_col_, np.nan)
    values = None
    if not stages:
        return None, FirstPlan("relax_and_fix", None, 0.0, steps)
    h = _year_solver(lp, threads, options)
    every = np.arange(lp.num_col_, dtype=np.int32)
    for position, year in enumerate(stages):
        share = _share_left(budget, start, len(stages) - position, steps, year)
        if share is None:
            values = None
            break
        later = integer & (years > year)
        kinds = np.where(later, highspy.HighsVarType.kContinuous.value,
                         np.where(integer, highspy.HighsVarType.kInteger.value,
                                  highspy.HighsVarType.kContinuous.value)).astype(np.uint8)
        h.changeColsIntegrality(len(every), every, kinds)
        earlier = integer & (years >= 0) & (years < year)
        lower, upper = lower0.copy(), upper0.copy()
        lower[earlier] = upper[earlier] = chosen[earlier]
        h.changeColsBounds(len(every), every, lower, upper)
        step_start = time.perf_counter()
        run_within(h, share)
        steps.append({"year": year, **_step(h, step_start)})
        log.info("relax-and-fix %s: %s", year, steps[-1])
        if steps[-1]["objective"] is None:
            values = None
            break
        values = np.asarray(h.getSolution().col_value, dtype=np.double)
        now = integer & (years == year)
        chosen[now] = np.round(values[now])
    if values is not None:
        # the last step's integer columns are integral to HiGHS's tolerance: round them exactly
        values = values.copy()
        values[integer] = np.round(values[integer])
    objective = steps[-1]["objective"] if values is not None else None
    return values, FirstPlan("relax_and_fix", objective, time.perf_counter() - start, steps)


def _year_solver(lp: highspy.HighsLp, threads: int, options: dict | None) -> highspy.Highs:
    """The HiGHS instance a year-by-year heuristic re-solves step after step: `lp`, each step's
    MIP stopped at `STEP_GAP`."""
    h = quiet_highs(threads, options)
    h.setOptionValue("mip_rel_gap", STEP_GAP)
    h.passModel(lp)
    return h


def _share_left(budget: float, since: float, steps_to_come: int, steps: list[dict], year: int
                ) -> float | None:
    """The next step's share of what is left of `budget` seconds counted from `since`, shared by
    the steps still to come (an easy year leaves more for a hard one); None when none is left,
    and then `year`'s step is recorded in `steps` as having had no time."""
    left = budget - (time.perf_counter() - since)
    if left <= 0:
        steps.append({"year": year, "status": "no time left"})
        return None
    return left / steps_to_come


def run_within(h: highspy.Highs, seconds: float) -> None:
    """Run `h` for at most `seconds` more. HiGHS's time limit counts from the first run of the
    object, not from this one, so a heuristic that re-solves one object step after step sets it
    past the run time already spent (else each step gets its share less every earlier step's)."""
    h.setOptionValue("time_limit", h.getRunTime() + max(0.0, float(seconds)))
    h.run()


def _nonzeros(lp: highspy.HighsLp) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every nonzero of `lp`'s matrix, stored by column or by row."""
    starts = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
    index = np.asarray(lp.a_matrix_.index_, dtype=np.int64)
    if lp.a_matrix_.format_ == highspy.MatrixFormat.kRowwise:
        return np.repeat(np.arange(lp.num_row_), np.diff(starts)), index
    return index, np.repeat(np.arange(lp.num_col_), np.diff(starts))


def row_years(lp: highspy.HighsLp, years: np.ndarray) -> np.ndarray:
    """The latest year among each row's columns (-1 for a row whose columns have no year): the
    step of `rolling_horizon` at which the row is first enforced."""
    rows, columns = _nonzeros(lp)
    latest = np.full(lp.num_row_, -1, dtype=np.int64)
    np.maximum.at(latest, rows, years[columns])
    return latest


def enforced_span(lp: highspy.HighsLp, latest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column, the first and the last step (row year, see `row_years`) at which a row
    holding it is enforced: (NEVER, -1) for a column in no row."""
    rows, columns = _nonzeros(lp)
    first = np.full(lp.num_col_, NEVER, dtype=np.int64)
    last = np.full(lp.num_col_, -1, dtype=np.int64)
    np.minimum.at(first, columns, latest[rows])
    np.maximum.at(last, columns, latest[rows])
    return first, last


def rolling_horizon(lp: highspy.HighsLp, years: np.ndarray, time_limit: float, threads: int,
                    relaxed: np.ndarray | None = None, options: dict | None = None
                    ) -> tuple[np.ndarray | None, FirstPlan]:
    """(the column values of a feasible plan or None, the account) for the MIP `lp`, built one
    year at a time with no look-ahead, within `BUDGET_SHARE` of `time_limit`.

    Step k solves the model truncated to the years up to k: every row whose latest column year
    (`row_years`) is after k is left out (its bounds freed) and every column of a later year is
    fixed at the value nearest 0 within its bounds. An integer column is chosen at its own
    year's step and fixed from then on; a continuous one stays free until the last row holding it
    is enforced (a placement, in its year's rows only, is fixed after its year; a residual-value
    column, also in the last year's row, stays free to the end). So each step is a MIP of one
    year's integer columns, each row is enforced from the step of its latest column on, and the
    last step's solution is feasible for the whole model. A column with no year counts as of the
    first step that enforces a row holding it. Each year sees only its own costs (a ward built
    is charged its capital with no later use in view), so the plan is a start, not an answer; a
    step with no plan (an earlier year's choice left none) ends the heuristic without one.
    `relaxed`, an LP relaxation's column values (NaN where it has none; the arc pricing's ward
    counts), holds each step's integer columns at least at their relaxed values rounded down
    (`relaxation_floors`), against that myopia; a step no plan of which meets them is solved
    again without them (its account says `floors`: kept or dropped). `options` as in
    `quiet_highs`."""
    start = time.perf_counter()
    integer = integrality_of(lp) != 0
    stages = sorted({int(y) for y in years if y >= 0})
    steps: list[dict] = []
    if not stages:
        return None, FirstPlan("rolling_horizon", None, 0.0, steps)
    budget = BUDGET_SHARE * float(time_limit)
    lower0 = np.asarray(lp.col_lower_, dtype=np.double)
    upper0 = np.asarray(lp.col_upper_, dtype=np.double)
    row_lower0 = np.asarray(lp.row_lower_, dtype=np.double)
    row_upper0 = np.asarray(lp.row_upper_, dtype=np.double)
    latest = row_years(lp, years)
    first_row, last_row = enforced_span(lp, latest)
    # a column with no year counts from the first step enforcing a row that holds it (a row with
    # no year is enforced from the first step of all)
    active_from = np.maximum(np.where(years >= 0, years, first_row), stages[0])
    settled_at = np.where(integer, active_from, np.maximum(active_from, last_row))
    resting = np.clip(0.0, lower0, upper0)  # a later year's column, out of the step's rows
    cost = np.asarray(lp.col_cost_, dtype=np.double)
    chosen = np.full(lp.num_col_, np.nan)
    every_col = np.arange(lp.num_col_, dtype=np.int32)
    every_row = np.arange(lp.num_row_, dtype=np.int32)
    h = _year_solver(lp, threads, options)
    values = None
    for position, year in enumerate(stages):
        share = _share_left(budget, start, len(stages) - position, steps, year)
        if share is None:
            values = None
            break
        dropped = latest > year  # a row of no year (-1) is enforced from the first step
        h.changeRowsBounds(len(every_row), every_row, np.where(dropped, -highspy.kHighsInf, row_lower0),
                           np.where(dropped, highspy.kHighsInf, row_upper0))
        later, settled = active_from > year, settled_at < year
        lower = np.where(settled, chosen, np.where(later, resting, lower0))
        upper = np.where(settled, chosen, np.where(later, resting, upper0))
        # the settled columns' cost out of the objective, so that the step's gap is a share of
        # its own year's cost, not of every earlier year's too (1% of the whole horizon's cost
        # would let the last year's choice be a tenth off); added back in its account
        settled_cost = float(np.dot(cost[settled], chosen[settled]))
        h.changeObjectiveOffset(-settled_cost)  # replaces the model's own offset
        step_start = time.perf_counter()
        floors = None
        if relaxed is not None:
            floored = relaxation_floors(relaxed, lower, upper, integer & (active_from == year))
            h.changeColsBounds(len(every_col), every_col, floored, upper)
            run_within(h, share)
            floors = "kept" if h.getInfo().primal_solution_status == 2 else "dropped"
        if floors != "kept":  # no floors, or none of the year's plans meets them: the year alone
            h.changeColsBounds(len(every_col), every_col, lower, upper)
            run_within(h, max(1.0, share - (time.perf_counter() - step_start)))
        steps.append({"year": year, **_step(h, step_start, settled_cost + lp.offset_)}
                     | ({"floors": floors} if floors else {}))
        log.info("rolling horizon %s: %s", year, steps[-1])
        if steps[-1]["objective"] is None:
            values = None
            break
        values = np.asarray(h.getSolution().col_value, dtype=np.double).copy()
        values[integer] = np.round(values[integer])
        chosen[settled_at == year] = values[settled_at == year]
    objective = steps[-1]["objective"] if values is not None else None
    return values, FirstPlan("rolling_horizon", objective, time.perf_counter() - start, steps)


def relaxation_floors(relaxed: np.ndarray, lower: np.ndarray, upper: np.ndarray, now: np.ndarray,
                      tolerance: float = 1e-6) -> np.ndarray:
    """Lower bounds with each `now` column the relaxation has (not NaN) held at least at its
    relaxed value rounded down (`tolerance` as in `ward_box`), within its bounds."""
    floored = lower.copy()
    given = now & ~np.isnan(relaxed)
    floored[given] = np.minimum(upper[given], np.maximum(lower[given], np.floor(relaxed[given] + tolerance)))
    return floored


def ward_columns(columns: list, name: str = "wards") -> np.ndarray:
    """Which columns belong to the variable `name` (the ward counts the neighbourhood boxes)."""
    return np.array([var.parent_component().local_name == name for var in columns], dtype=bool)


def ward_sites(columns: list, wards: str = "wards", operate: str = "operate") -> np.ndarray:
    """The column of each `wards[site, service, year]` column's `operate[site, year]`, -1 for
    every other column (and for a ward count whose site-year has no `operate` column)."""
    of_site_year = {var.index(): k for k, var in enumerate(columns)
                    if var.parent_component().local_name == operate}
    sites = np.full(len(columns), -1, dtype=np.int64)
    for k, var in enumerate(columns):
        index = var.index()
        if var.parent_component().local_name == wards and isinstance(index, tuple) and len(index) == 3:
            site, _service, year = index
            sites[k] = of_site_year.get((site, year), -1)
    return sites


def closed_by_relaxation(relaxed: np.ndarray, sites: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Which columns are ward counts at a site-year the relaxation closes: `sites` as from
    `ward_sites`, the site-year's relaxed `operate` within `tolerance` of 0 (NaN: not closed)."""
    has_site = sites >= 0
    closed = np.zeros(len(sites), dtype=bool)
    operate = relaxed[sites[has_site]]
    closed[has_site] = ~np.isnan(operate) & (operate <= tolerance)
    return closed


def ward_box(relaxed: np.ndarray, lower: np.ndarray, upper: np.ndarray, wards: np.ndarray,
             tolerance: float = 1e-6, closed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of the neighbourhood on `wards`, within the model's own bounds: [floor, ceil] of
    a fractional relaxed value, [value, value + 1] of a whole one; every other column keeps its
    bounds. (England's plan at HiGHS's default seed leaves no fractional count's rounding, and
    12 whole counts, 11 of them 0, by one ward up: docs/performance.md, "The neighbourhood's box
    over HiGHS's seeds".) A `closed` column (`closed_by_relaxation`: its site-year shut in the
    relaxation) gets no ward more than its value: [value, value].
    `tolerance` treats a value within it of an integer as that integer (floor(1.9999999) is 2).
    A ward column whose relaxed value is NaN (not in the relaxation given) keeps its bounds."""
    box_lower = relaxation_floors(relaxed, lower, upper, wards, tolerance)
    box_upper = upper.copy()
    wards = wards & ~np.isnan(relaxed)  # a column the relaxation did not have keeps its bounds
    more = np.abs(relaxed - np.round(relaxed)) <= tolerance  # a whole value: one ward more
    if closed is not None:
        more &= ~closed
    box_upper[wards] = np.minimum(upper[wards], np.ceil(relaxed[wards] - tolerance) + more[wards])
    return box_lower, box_upper


def lp_neighbourhood(lp: highspy.HighsLp, wards: np.ndarray, time_limit: float, threads: int,
                     gap: float, relaxed: np.ndarray | None = None, options: dict | None = None,
                     sites: np.ndarray | None = None) -> tuple[np.ndarray | None, FirstPlan]:
    """(the column values of a feasible plan or None, the account) for the MIP `lp`: its LP
    relaxation, then the MIP with the `wards` columns boxed by `ward_box`, solved to `gap`,
    both within `BUDGET_SHARE` of `time_limit`. `relaxed`, an LP relaxation's column values
    solved already (NaN for a column it did not have), replaces the first step. `options` as in
    `quiet_highs`. With `sites` (`ward_sites`), a ward count at a site-year the relaxation closes
    is held at its relaxed value (`solver.hold_closed_sites`)."""
    start = time.perf_counter()
    budget = BUDGET_SHARE * float(time_limit)
    integrality = integrality_of(lp)
    integer = integrality != 0
    every = np.arange(lp.num_col_, dtype=np.int32)
    h = quiet_highs(threads, options)
    h.setOptionValue("time_limit", budget)
    h.passModel(lp)
    if relaxed is None:
        relaxed, step = _relax(h, lp)
        steps = [step]
        log.info("LP neighbourhood, relaxation: %s", steps[-1])
        if relaxed is None:
            return None, FirstPlan("lp_neighbourhood", None, time.perf_counter() - start, steps)
    else:
        steps = [given_relaxation()]
    closed = None if sites is None else closed_by_relaxation(relaxed, sites)
    lower, upper = ward_box(relaxed, np.asarray(lp.col_lower_, dtype=np.double),
                            np.asarray(lp.col_upper_, dtype=np.double), wards & integer, closed=closed)
    h.changeColsIntegrality(len(every), every, integrality)
    h.changeColsBounds(len(every), every, lower, upper)
    h.setOptionValue("mip_rel_gap", float(gap))
    set_defaults(h, BOX_OPTIONS, options)
    box_start = time.perf_counter()
    run_within(h, max(1.0, budget - (time.perf_counter() - start)))
    steps.append({"stage": "neighbourhood", **_step(h, box_start)})
    log.info("LP neighbourhood, the box: %s", steps[-1])
    if steps[-1]["objective"] is None:
        return None, FirstPlan("lp_neighbourhood", None, time.perf_counter() - start, steps)
    values = np.asarray(h.getSolution().col_value, dtype=np.double).copy()
    values[integer] = np.round(values[integer])  # integral to HiGHS's tolerance: exactly so
    return values, FirstPlan("lp_neighbourhood", steps[-1]["objective"], time.perf_counter() - start, steps)


def between_box(start: np.ndarray, parents: list[np.ndarray], lower: np.ndarray, upper: np.ndarray,
                integer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of the crossover: each integer column between the least and the greatest of
    its values in `start` and `parents` (fixed where they agree), within the model's bounds;
    a parent's NaN (a column it does not give) leaves that column's box to the others; every
    continuous column keeps its bounds."""
    values = np.vstack([start, *parents])
    least, most = np.fmin.reduce(values, axis=0), np.fmax.reduce(values, axis=0)
    box_lower = np.where(integer, np.maximum(lower, np.round(least)), lower)
    box_upper = np.where(integer, np.minimum(upper, np.round(most)), upper)
    return box_lower, box_upper


def widening(start: np.ndarray, parents: list[np.ndarray], integer: np.ndarray) -> list[np.ndarray]:
    """The `parents` that would free an integer column of `start` in `between_box`: those that
    differ from it on some integer column they give. A parent equal to the start on every one (a
    sweep variant's own start among the plans offered) boxes nothing, so the crossover would be
    the start again at the cost of a MIP."""
    return [p for p in parents
            if np.any(integer & ~np.isnan(p) & (np.abs(np.round(np.nan_to_num(p)) - np.round(start)) > 0.5))]


def crossover(lp: highspy.HighsLp, start: np.ndarray, parents: list[np.ndarray], time_limit: float,
              threads: int, gap: float, options: dict | None = None) -> tuple[np.ndarray | None, FirstPlan]:
    """(the column values of a plan at least as good as `start`, or None; the account) for the
    MIP `lp`: the MIP with every integer column boxed between `start` (a feasible plan's column
    values) and `parents` (other plans' values, NaN where they give none) by `between_box`,
    from `start`, to `gap` within `BUDGET_SHARE` of `time_limit`. None when the box found
    nothing better than `start` (which it was given), or nothing at all in its time. `options`:
    the solve's own HiGHS search options (`solver.options`), as in `quiet_highs`."""
    began = time.perf_counter()
    integer = integrality_of(lp) != 0
    lower, upper = between_box(start, parents, np.asarray(lp.col_lower_, dtype=np.double),
                               np.asarray(lp.col_upper_, dtype=np.double), integer)
    every = np.arange(lp.num_col_, dtype=np.int32)
    h = quiet_highs(threads, options)
    h.setOptionValue("time_limit", BUDGET_SHARE * float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.passModel(lp)
    h.changeColsBounds(len(every), every, lower, upper)
    solution = highspy.HighsSolution()
    solution.col_value = start
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    free = int(np.count_nonzero(integer & (upper > lower)))
    step = {"stage": "between plans", "free_integers": free, **_step(h, began)}
    if step["objective"] is None:
        log.info("crossover: %s", step)
        return None, FirstPlan("crossover", None, time.perf_counter() - began, [step], improved=False)
    values = np.asarray(h.getSolution().col_value, dtype=np.double).copy()
    values[integer] = np.round(values[integer])  # integral to HiGHS's tolerance: exactly so
    cost = plan_cost(lp, values)
    if disagrees(step["objective"], cost):
        step["highs_objective"] = step["objective"]
    step["objective"] = cost
    log.info("crossover: %s", step)
    sign = -1.0 if lp.sense_ == highspy.ObjSense.kMaximize else 1.0
    if not lowers(sign * cost, sign * plan_cost(lp, start)):
        return None, FirstPlan("crossover", cost, time.perf_counter() - began, [step], improved=False)
    return values, FirstPlan("crossover", cost, time.perf_counter() - began, [step], improved=True)


def plan_cost(lp: highspy.HighsLp, values: np.ndarray) -> float:
    """The objective of the plan `values` in `lp`: what its columns cost (c·x plus the offset)."""
    return float(np.dot(np.asarray(lp.col_cost_, dtype=np.double), values) + lp.offset_)


def disagrees(reported: float, cost: float) -> bool:
    """Whether HiGHS's `reported` objective is not the `cost` of the columns it returned (by more
    than `DISAGREES`); logged, since the plan's cost is what is used.

    HiGHS's objective is not always that cost: a MIP started from a plan (`setSolution`) that
    ends on the start itself can report the value the start had in its presolved model, and hand
    back the start's columns, which cost more (seen on a crossover's box: 5,905,387,306 reported,
    5,906,157,017 for the columns returned, and no plan with those integers below 5,906,147,804)."""
    if abs(reported - cost) <= DISAGREES * max(1.0, abs(cost)):
        return False
    log.warning("HiGHS reported %.6f for a plan whose columns cost %.6f; the plan's cost is used",
                reported, cost)
    return True


def lowers(value: float, before: float | None) -> bool:
    """Whether a plan of `value` is cheaper than the plan `before` (any plan is, without one), by
    more than HiGHS's own feasibility noise (a relative 1e-9). A maximisation's values are given
    negated."""
    return before is None or value < before - 1e-9 * max(1.0, abs(before))


def relaxation_crossover(lp: highspy.HighsLp, plan: np.ndarray, first: FirstPlan, relaxed: np.ndarray,
                         time_limit: float, threads: int, gap: float, options: dict | None = None
                         ) -> tuple[np.ndarray, FirstPlan]:
    """A heuristic's `plan` (its account `first`) crossed with the rounding of the LP relaxation
    `relaxed` (NaN where it has none), as Danna, Rothberg and Le Pape's RINS crosses an incumbent
    with the relaxation: (the better plan, or `plan`; `first` with the crossover's step, seconds
    and plan added). The box's MIP runs to `CROSSOVER_GAP_SHARE` of `gap` within `BUDGET_SHARE` of
    what the heuristic left of the solve's `time_limit`, and at most `CROSSOVER_TIME_SHARE` of it.
    Nothing is run when the rounding frees no integer column or less than a second is left."""
    integer = integrality_of(lp) != 0
    parents = rounding_parents(plan, relaxed, integer)
    limit = float(time_limit)
    seconds = min(BUDGET_SHARE * (limit - first.seconds), CROSSOVER_TIME_SHARE * limit)
    if not parents or seconds < 1.0:  # nothing to cross, or no time left for it
        return plan, first
    better, crossed = crossover(lp, plan, parents, seconds / BUDGET_SHARE, threads, CROSSOVER_GAP_SHARE * gap,
                                options)
    account = FirstPlan(first.method, crossed.objective if better is not None else first.objective,
                        first.seconds + crossed.seconds, first.steps + crossed.steps,
                        improved=better is not None)
    return (better if better is not None else plan), account


def rounding_parents(start: np.ndarray, relaxed: np.ndarray, integer: np.ndarray) -> list[np.ndarray]:
    """The crossover's parents from an LP relaxation: the `rounding` of `relaxed`, kept by
    `widening` only if it frees some integer column of `start`."""
    return widening(start, rounding(relaxed, integer), integer)


def lp_relaxation(lp: highspy.HighsLp, time_limit: float, threads: int, options: dict | None = None
                  ) -> tuple[np.ndarray | None, dict]:
    """(the column values of the MIP `lp`'s LP relaxation, or None if it was not solved to
    optimality within `time_limit`; the step's account). `options` as in `quiet_highs`."""
    h = quiet_highs(threads, options)
    h.setOptionValue("time_limit", max(1.0, float(time_limit)))
    h.passModel(lp)
    return _relax(h, lp)


def rounding(relaxed: np.ndarray, integer: np.ndarray, tolerance: float = 1e-6) -> list[np.ndarray]:
    """The floor and the ceiling of an LP relaxation's values on the `integer` columns, NaN on the
    others: as the crossover's parents, they box each integer column between a start's value
    and the integers either side of the relaxation's (`tolerance` as in `ward_box`)."""
    floor = np.where(integer, np.floor(relaxed + tolerance), np.nan)
    ceiling = np.where(integer, np.ceil(relaxed - tolerance), np.nan)
    return [floor, ceiling]


def given_relaxation() -> dict:
    """The account of a relaxation step a caller solved already (none of its seconds here)."""
    return {"stage": "relaxation", "status": "given", "objective": None, "seconds": 0.0}


def _relax(h: highspy.Highs, lp: highspy.HighsLp) -> tuple[np.ndarray | None, dict]:
    """Solve the model `h` holds (`lp`) with every column continuous: (its column values or None,
    the step's account). `h` keeps the columns continuous; a caller resets their integrality."""
    began = time.perf_counter()
    every = np.arange(lp.num_col_, dtype=np.int32)
    h.changeColsIntegrality(len(every), every, np.zeros(lp.num_col_, dtype=np.uint8))
    h.run()
    step = {"stage": "relaxation", **_step(h, began)}
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, step
    return np.asarray(h.getSolution().col_value, dtype=np.double), step


def integrality_of(lp: highspy.HighsLp) -> np.ndarray:
    """Each column's HiGHS variable type as a number (0 continuous), all 0 for an LP (whose
    integrality list is empty)."""
    if not len(lp.integrality_):
        return np.zeros(lp.num_col_, dtype=np.uint8)
    return np.asarray([int(v) for v in lp.integrality_], dtype=np.uint8)


def _step(h: highspy.Highs, since: float, left_out: float = 0.0) -> dict:
    """A step's account: HiGHS's status, the objective of its solution (None without one; plus
    `left_out`, a part the step's objective was given without), and the seconds since `since`."""
    info = h.getInfo()
    found = info.primal_solution_status == 2
    return {"status": h.modelStatusToString(h.getModelStatus()),
            "objective": info.objective_function_value + left_out if found else None,
            "seconds": round(time.perf_counter() - since, 3)}


def hub_neighbourhoods(columns: list, hub_of: dict[str, str]) -> list[dict[str, np.ndarray]]:
    """The hub search's neighbourhoods as column masks, in two tiers searched in turn: each hub's
    columns (those with a site or footprint of the hub in their index: its wards, sites'
    decisions, placements at its sites and of its footprints, its footprints' unmet need); then
    each pair of hubs some column joins (a placement across their border), both hubs' columns."""
    touched: list[frozenset] = []
    for column in columns:
        index = column.index()
        keys = index if isinstance(index, tuple) else (index,)
        touched.append(frozenset(hub_of[k] for k in keys if isinstance(k, str) and k in hub_of))
    hubs = sorted(set().union(*touched)) if touched else []
    single = {h: np.fromiter((h in t for t in touched), dtype=bool, count=len(touched)) for h in hubs}
    joined = sorted({tuple(sorted(t)) for t in touched if len(t) == 2})
    return [single, {f"{a}+{b}": single[a] | single[b] for a, b in joined}]


def hub_search(lp: highspy.HighsLp, plan: np.ndarray, first: FirstPlan, tiers: list[dict[str, np.ndarray]],
               seconds: float, threads: int, gap: float, options: dict | None = None
               ) -> tuple[np.ndarray, FirstPlan]:
    """A feasible `plan` (its account `first`) improved one neighbourhood at a time (module
    docstring): `tiers` of neighbourhoods, each a mask of the columns it frees
    (`hub_neighbourhoods`), every other column fixed at the current plan. Each MIP, from the
    current plan, stops at `HUB_GAP_SHARE` of `gap` within what is left of `seconds` shared among
    the neighbourhoods of its tier still to come (a later tier gets only what the earlier left;
    none runs on less than a second). Returns the best plan and `first` with a step a
    neighbourhood added and `improved` set when any of them lowered the plan."""
    began = time.perf_counter()
    integer = integrality_of(lp) != 0
    queue = [(label, mask, len(tier) - k) for tier in tiers for k, (label, mask) in enumerate(tier.items())]
    lower0 = np.asarray(lp.col_lower_, dtype=np.double)
    upper0 = np.asarray(lp.col_upper_, dtype=np.double)
    every = np.arange(lp.num_col_, dtype=np.int32)
    sign = -1.0 if lp.sense_ == highspy.ObjSense.kMaximize else 1.0
    current, cost = plan, plan_cost(lp, plan)
    steps: list[dict] = []
    for label, free, to_come in queue:
        share = (seconds - (time.perf_counter() - began)) / to_come
        if share < 1.0:
            break
        h = quiet_highs(threads, options)
        h.setOptionValue("time_limit", share)
        h.setOptionValue("mip_rel_gap", HUB_GAP_SHARE * float(gap))
        h.passModel(lp)
        h.changeColsBounds(len(every), every, np.where(free, lower0, current),
                           np.where(free, upper0, current))
        solution = highspy.HighsSolution()
        solution.col_value = current
        solution.value_valid = True
        h.setSolution(solution)
        step_began = time.perf_counter()
        h.run()
        step = {"stage": f"hub {label}", "free_columns": int(free.sum()), **_step(h, step_began)}
        if step["objective"] is not None:
            values = np.asarray(h.getSolution().col_value, dtype=np.double).copy()
            values[integer] = np.round(values[integer])
            value = plan_cost(lp, values)
            if disagrees(step["objective"], value):
                step["highs_objective"] = step["objective"]
            step["objective"] = value
            if lowers(sign * value, sign * cost):
                current, cost = values, value
        steps.append(step)
        log.info("hub search: %s", step)
    improved = cost != plan_cost(lp, plan)
    return current, FirstPlan(first.method, cost if improved else first.objective,
                              first.seconds + time.perf_counter() - began, first.steps + steps,
                              improved=bool(first.improved) or improved)
