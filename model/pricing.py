"""The price of each fixed decision: the plan with every lock against the plan with that one lock
released, and what releasing it changes in cost, carbon, patient-km and unmet need.

Releasing a lock only removes rows, so the locked plan is feasible without it: each re-solve
starts from it (a MIP start), and its objective can only be lower or equal. Both solves stop
within their proven gaps, so the true price lies within ``price ± (gap_locked + gap_released)``:
a price smaller than the two gaps together is reported as not distinguishable from zero, not as
a number.

The re-solves are independent: on one worker they share the model already built; on several
(``workers`` > 1, or a Dask ``scheduler``) each worker builds the model from the inputs and runs
on the sweep engine's cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from model.config import SolverConfig
from model.errors import Problem, ScenarioError
from model.formulation import Formulation, formulate
from model.formulation.families.fixed_decisions import release
from model.formulation.levers import named_start, start_map
from model.inputs import ModelInputs
from model.results import Solution, extract, kpis
from model.solve import SolveOutcome, solve

log = logging.getLogger(__name__)

#: the KPIs compared between the locked and the released plan (England, all years)
COMPARED = {"carbon_t": "carbon_t", "patient_km": "patient_km", "unmet_beds": "unmet_beds"}


@dataclass
class Released:
    """One re-solve with a lock released."""

    decision: str
    outcome: SolveOutcome
    totals: dict[str, float]


def england_totals(solution: Solution, data: ModelInputs) -> dict[str, float]:
    """Carbon, patient-km and unmet beds of a plan, England, all years (as kpis.csv has them)."""
    table = kpis(solution, data, "plan")
    row = table[(table["scope"] == "england") & (table["year"] == "all")].iloc[0]
    return {key: float(row[column]) for key, column in COMPARED.items()}


def resolve_released(formulation: Formulation, decision: str, start: list[list[Any]],
                     options: SolverConfig) -> Released:
    """Solve `formulation` with `decision` released, from `start`; the lock is restored after."""
    m = formulation.model
    release(m, decision)
    try:
        outcome = solve(m, options, mip_start=start_map(m, start))
        data = formulation.data
        totals = england_totals(extract(m, data), data) if outcome.has_solution else {}
    finally:
        release(m, decision, active=True)
    return Released(decision, outcome, totals)


def _remote(inputs: ModelInputs, decision: str, start: list[list[Any]],
            options: SolverConfig) -> Released:
    """On a Dask worker: build the model from the inputs, then as `resolve_released`."""
    return resolve_released(formulate(inputs), decision, start, options)


def price_decisions(formulation: Formulation, locked: SolveOutcome, locked_solution: Solution,
                    options: SolverConfig, decisions: list[str] | None = None, workers: int = 1,
                    scheduler: str | None = None,
                    say: Callable[[str], None] = lambda _m: None) -> pd.DataFrame:
    """The price table: one row per fixed decision (all of them, or `decisions`).

    The model must hold the locked plan's solution (extract it first: the re-solves overwrite it).
    """
    data = formulation.data
    known = [lock.decision for lock in data.locks]
    names = decisions if decisions is not None else known
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ScenarioError([Problem("price_only", None, None, name, "no fixed decision of this name")
                             for name in unknown])
    if not names or not locked.has_solution:
        return pd.DataFrame()
    start = named_start(formulation.model)  # the locked plan, portable to other processes
    base = england_totals(locked_solution, data)
    began = time.perf_counter()
    if workers <= 1 and scheduler is None:
        released = []
        for k, name in enumerate(names, start=1):
            say(f"pricing fixed decision {k}/{len(names)}: {name}")
            released.append(resolve_released(formulation, name, start, options))
    else:
        from model.sweep.runner import dask_client

        say(f"pricing {len(names)} fixed decisions on {workers if not scheduler else 'the'} Dask "
            f"worker{'s' if scheduler or workers > 1 else ''}")
        with dask_client(workers, scheduler) as client:
            shared = client.scatter(data, broadcast=True)
            futures = [client.submit(_remote, shared, name, start, options, pure=False) for name in names]
            released = client.gather(futures)
    log.info("priced %d fixed decisions in %.1fs", len(names), time.perf_counter() - began)
    return price_table(data, locked, base, released)


def price_table(data: ModelInputs, locked: SolveOutcome, base: dict[str, float],
                released: list[Released]) -> pd.DataFrame:
    """One row per released lock: objectives, price, the gaps it must beat, and the changes."""
    lock_of = {lock.decision: lock for lock in data.locks}
    rows = []
    for item in released:
        lock = lock_of[item.decision]
        row: dict[str, Any] = {"decision": item.decision, "what": lock.describe(), "note": lock.note,
                               "status_locked": locked.status, "status_released": item.outcome.status,
                               "objective_locked_gbp": locked.objective,
                               "objective_released_gbp": item.outcome.objective}
        if item.outcome.has_solution:
            price = locked.objective - item.outcome.objective
            gaps = (locked.gap_abs or 0.0) + (item.outcome.gap_abs or 0.0)
            row.update(price_gbp=price, gaps_gbp=gaps, distinguishable=abs(price) > gaps)
            for key in COMPARED:
                row[f"{key}_change"] = base[key] - item.totals[key]
            row["verdict"] = verdict(price, gaps)
        else:
            row.update(price_gbp=None, gaps_gbp=None, distinguishable=False,
                       verdict=f"not priced: the re-solve found no solution ({item.outcome.status})")
        row["seconds"] = item.outcome.seconds
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(price: float, gaps: float) -> str:
    """What a price means, given the gaps it must beat (GBP, discounted)."""
    if abs(price) > gaps:
        return f"costs £{price:,.0f} over the horizon"
    if gaps < 0.5 and abs(price) < 0.5:
        return "costs nothing: the plan makes this decision anyway"
    return (f"not distinguishable from zero (£{price:,.0f} is within the solves' proven gaps of "
            f"£{gaps:,.0f})")


def render_prices(prices: pd.DataFrame) -> list[str]:
    """The summary's section on the fixed decisions (markdown lines)."""
    if prices is None or prices.empty:
        return []
    lines = ["## What the fixed decisions cost", "",
             "Each fixed decision (fixed_decisions.csv) against the plan without it (all other "
             "decisions still fixed): the discounted objective with it minus without it, and what "
             "releasing it would change. A price within the two solves' proven gaps is not "
             "distinguishable from zero.", "",
             "| decision | what | price (GBP) | carbon (tCO2e) | patient-km | unmet beds | verdict |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in prices.itertuples(index=False):
        if r.price_gbp is None or pd.isna(r.price_gbp):
            lines.append(f"| {r.decision} | {r.what} | – | – | – | – | {r.verdict} |")
            continue
        lines.append(f"| {r.decision} | {r.what} | {r.price_gbp:,.0f} | {r.carbon_t_change:+,.1f} | "
                     f"{r.patient_km_change:+,.0f} | {r.unmet_beds_change:+,.1f} | {r.verdict} |")
    lines += ["", "Changes are the locked plan's figure minus the released plan's (all years): "
              "a positive number is what the lock adds.", ""]
    return lines
