"""Where the saving against doing nothing comes from: the levers switched on one at a time.

The do-nothing baseline keeps today's estate (no ward built, converted or removed, no unit
opened or closed, no community place added), optimises only where patients are placed (so
re-placement is in every step, the baseline included) and lifts the planning rules that today's
estate may break (in-hub share, site counts, pace-of-change limits). From there the levers are
switched on in the order of ``model.builder.LEVERS``, each step re-solved with the levers before
it still on; the last step switches the planning rules back on, which gives the recommended
plan. Each step's saving is the fall in the objective it brings, so the steps add up to the
whole saving exactly (a telescoping sum); a step whose saving is smaller than the two solves'
proven gaps is marked as not distinguishable from zero. The order matters where levers
interact (a conversion and a new build can fill the same gap): the table says the order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model.config import SolverConfig
from model.formulation import LEVER_LABELS, LEVERS, Formulation, integer_start, restrict
from model.results import Solution, extract
from model.solve import SolveOutcome, solve

log = logging.getLogger(__name__)


@dataclass
class Step:
    lever: str  # "do_nothing", a lever of LEVERS, or "rules"
    outcome: SolveOutcome
    terms: dict[str, float]


def _terms(m: pyo.ConcreteModel) -> dict[str, float]:
    return {k: float(pyo.value(m.objective_terms[k])) for k in m.objective_terms}


def baseline_and_steps(formulation: Formulation, options: SolverConfig,
                       levers: bool = True, stream=None,
                       say: Callable[[str], None] = lambda _m: None,
                       ) -> tuple[Solution | None, SolveOutcome, list[Step]]:
    """Solve the do-nothing baseline (extracted as a Solution) and, if `levers`, each lever step.

    The model must hold the recommended plan's solution; its values are overwritten (extract the
    recommended plan first). Returns the baseline solution (None if it found none), its outcome,
    and the steps (the baseline first; the "rules" step is added by `breakdown`).
    """
    m, data = formulation.model, formulation.data
    say("evaluating the do-nothing baseline")
    undo = restrict(formulation)
    outcome = solve(m, options, stream=stream)
    undo()
    if not outcome.has_solution:
        return None, outcome, []
    baseline = extract(m, data)
    steps = [Step("do_nothing", outcome, _terms(m))]
    if not levers:
        return baseline, outcome, steps
    for k, lever in enumerate(LEVERS, start=1):
        say(f"saving breakdown: + {LEVER_LABELS[lever]}")
        start = integer_start(m)  # the previous step's plan is feasible here: fewer fixings
        undo = restrict(formulation, LEVERS[:k])
        step = solve(m, options, stream=stream, mip_start=start)
        undo()
        if not step.has_solution:
            log.warning("saving breakdown: step %s found no solution (%s)", lever, step.status)
            break
        steps.append(Step(lever, step, _terms(m)))
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
