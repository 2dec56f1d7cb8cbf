"""Where the saving against doing nothing comes from: the levers switched on one at a time.

The do-nothing baseline keeps today's estate (no ward built, converted or removed, no unit
opened or closed, no community place added), optimises only where patients are placed (so
re-placement is in every step, the baseline included) and lifts the planning rules that today's
estate may break (in-hub share, site counts, pace-of-change limits). From there the levers are
switched on in the order of ``model.formulation.LEVERS``, each step re-solved with the levers before
it still on; the last step switches the planning rules back on, which gives the recommended
plan. Each step's saving is the fall in the objective it brings, so the steps add up to the
whole saving exactly (a telescoping sum); a step whose saving is smaller than the two solves'
proven gaps is marked as not distinguishable from zero. The order matters where levers
interact (a conversion and a new build can fill the same gap): the table says the order.

Each step starts from the plan of the step before, which stays feasible as a lever is freed.
The last lever's step frees every lever with the rules still lifted, so the recommended plan
(every lever, every rule) is feasible there too; it is offered beside the step before's plan,
the cheaper first. Without it that step had only a plan without the last lever to start from
and proved its gap only after HiGHS's own search found a plan near the recommended one. Started
from the cheaper of the two, it can no longer end dearer than the recommended plan, so switching
the rules on never shows a saving.

The removals and conversions steps' starts are first crossed with the rounding of the step's
LP relaxation (`CROSSED_STEPS`): the step before's plan holds no removal (no conversion), and
HiGHS took up to twice as long to find and prove the step's plan from it alone.

Each step's plan is kept (`Step.plan`), and a run folder's ``plan_start.json`` holds them, so
that a later run started from it (`bedplan solve --start-from`) offers each step the earlier
run's plan of the same step first (`earlier`): after a small edit it is usually feasible and
nearer that step's optimum than the step before's plan; the cheaper feasible of the two (at the
last step, of the three) is the step's start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from model.config import SolverConfig
from model.formulation import LEVER_LABELS, LEVERS, Formulation, integer_start, restrict
from model.results import Solution, extract
from model.solve import CheapestOf, SolveOutcome, solve

log = logging.getLogger(__name__)


@dataclass
class Step:
    lever: str  # "do_nothing", a lever of LEVERS, or "rules"
    outcome: SolveOutcome
    terms: dict[str, float]
    plan: ComponentMap | None = None  # the step's integer decisions (`integer_start`, nothing fixed)
    from_earlier: bool | None = None  # None: no earlier run's plan offered; else whether it was the start


def _terms(m: pyo.ConcreteModel) -> dict[str, float]:
    return {k: float(pyo.value(m.objective_terms[k])) for k in m.objective_terms}


@dataclass
class KnownPlan:
    """A plan already solved: its integer values (a MIP start) and its objective."""

    start: ComponentMap
    objective: float


def last_step_starts(previous: KnownPlan, recommended: KnownPlan | None) -> ComponentMap | list[ComponentMap]:
    """The starts offered to the last lever's step: the step before's plan alone, or with the
    `recommended` plan, the cheaper first (`solve` starts from the first feasible one; both are
    feasible there, so the cheaper wins and the other is the fallback)."""
    if recommended is None:
        return previous.start
    ranked = sorted((previous, recommended), key=lambda plan: plan.objective)
    return [plan.start for plan in ranked]


# Steps whose start is crossed with the rounding of the step's own LP relaxation before HiGHS
# starts from it. England's conversions step took 23-33 s from the removals step's plan, which
# holds no conversion, and 10-15 s crossed (HiGHS seeds 0-2; less need too); the removals step
# with less need 16-17 s from the do-nothing plan and 8.5 s crossed, at a cost of 0.4-0.8 s where
# it is quick (2-3 s). The new builds step was 2.7 s slower crossed, and the community step no
# faster (docs/performance.md).
CROSSED_STEPS = ("removals", "conversions")


def step_start(lever: str, earlier: ComponentMap | None, starts: ComponentMap | list[ComponentMap]
               ) -> ComponentMap | list[ComponentMap] | CheapestOf:
    """What the step of `lever` starts from: `starts` (this run's own plans) with an earlier run's
    plan of the same step in front, if there is one, the cheapest feasible of them to be the
    start (`CheapestOf`), crossed with the step's relaxation for `CROSSED_STEPS`. Not simply the
    first feasible: after less need the earlier plan stays feasible but has wards to spare, and
    England's new builds and community steps started from it took 26-32 s against 5-10 s from the
    step before's plan (docs/performance.md)."""
    crossed = lever in CROSSED_STEPS
    if not earlier and not crossed:
        return starts
    own = starts if isinstance(starts, list) else [starts]
    return CheapestOf([earlier, *own] if earlier else own, or_relaxation=crossed)


def baseline_and_steps(formulation: Formulation, options: SolverConfig,
                       levers: bool = True, stream=None,
                       say: Callable[[str], None] = lambda _m: None,
                       recommended: KnownPlan | None = None,
                       earlier: dict[str, ComponentMap] | None = None,
                       ) -> tuple[Solution | None, SolveOutcome, list[Step]]:
    """Solve the do-nothing baseline (extracted as a Solution) and, if `levers`, each lever step.

    The model's values are overwritten (extract the recommended plan first). `recommended` (the
    recommended plan, taken before anything else re-solved the model) is a start for the last
    lever's step. `earlier` (a lever's name -> an earlier run's plan of that step, mapped onto
    this model) is offered to that step before its other starts. Returns the baseline solution
    (None if it found none), its outcome, and the steps (the baseline first; the "rules" step is
    added by `breakdown`), each with its plan.
    """
    m, data = formulation.model, formulation.data
    say("evaluating the do-nothing baseline")
    undo = restrict(formulation)
    outcome = solve(m, options, stream=stream)
    undo()
    if not outcome.has_solution:
        return None, outcome, []
    baseline = extract(m, data)
    steps = [Step("do_nothing", outcome, _terms(m), integer_start(m) if levers else None)]
    if not levers:
        return baseline, outcome, steps
    earlier = earlier or {}
    for k, lever in enumerate(LEVERS, start=1):
        say(f"saving breakdown: + {LEVER_LABELS[lever]}")
        start = steps[-1].plan  # the previous step's plan is feasible here: fewer fixings
        if k == len(LEVERS):
            start = last_step_starts(KnownPlan(start, steps[-1].outcome.objective), recommended)
        offered = earlier.get(lever)
        undo = restrict(formulation, LEVERS[:k])
        step = solve(m, options, stream=stream, mip_start=step_start(lever, offered, start))
        undo()  # before the plan is taken: `integer_start` leaves fixed variables out
        if not step.has_solution:
            log.warning("saving breakdown: step %s found no solution (%s)", lever, step.status)
            break
        steps.append(Step(lever, step, _terms(m), integer_start(m),
                          step.start_choice == 0 if offered else None))
    return baseline, outcome, steps


def breakdown(steps: list[Step], recommended: SolveOutcome, terms: dict[str, float],
              with_locks: bool = False) -> pd.DataFrame:
    """The saving table: one row per step, savings adding up to baseline - recommended.

    With fixed decisions (`with_locks`) the last step also switches the locks on, and says so.
    """
    if not steps:
        return pd.DataFrame()
    chain = [*steps]
    complete = len(steps) == len(LEVERS) + 1
    if complete:
        chain.append(Step("rules", recommended, terms))
    rows = []
    for previous, step in zip(chain, chain[1:], strict=False):
        before, after = previous.outcome.objective, step.outcome.objective
        gaps = (previous.outcome.gap_abs or 0.0) + (step.outcome.gap_abs or 0.0)
        saving = before - after
        label = LEVER_LABELS[step.lever]
        if step.lever == "rules" and with_locks:
            label = label.replace("planning rules", "planning rules and fixed decisions")
        row = {"step": len(rows) + 1, "lever": step.lever, "label": label,
               "objective_before_gbp": before, "objective_after_gbp": after,
               "saving_gbp": saving, "gaps_gbp": gaps,
               "distinguishable": abs(saving) > gaps, "status": step.outcome.status}
        for k, value in step.terms.items():
            row[f"saving_{k}"] = previous.terms[k] - value
        rows.append(row)
    table = pd.DataFrame(rows)
    if not complete:
        log.warning("saving breakdown incomplete: a step found no solution")
    return table
