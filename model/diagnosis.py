"""Explaining an infeasible model by elastic relaxation.

Every active constraint gets non-negative slack variables (one for each side it bounds), and the
weighted sum of slack is minimised. The constraints left with slack are a smallest-cost set of
rules to break; each is reported by family, hub, service and year.

Policy rules (in-hub share, step-down, stability, site counts, timing) are cheaper to break than
the physics of the model (demand balance, ward stock, capacity, site size), so the diagnosis
points at the rules a planner can change rather than at arithmetic that no one can.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model.config import SolverConfig
from model.formulation.builder import Formulation
from model.formulation.roles import Kind
from model.inputs import ModelInputs
from model.solve import solve

log = logging.getLogger(__name__)

STRUCTURAL_WEIGHT = 1000.0  # structural rows give way only when no policy row can
LOCK_WEIGHT = 0.5  # a planner's fixed decision gives way before a planning rule: it is named first


@dataclass
class Violation:
    family: str
    constraint: str
    index: tuple
    hub: str | None
    service: str | None
    site: str | None
    footprint: str | None
    year: int | None
    amount: float
    decision: str | None = None  # the fixed decision (lock) the row belongs to


def elastic_diagnosis(formulation: Formulation, options: SolverConfig) -> list[Violation]:
    """Relax the model in place (it is not usable afterwards) and return the rules it must
    break. Rows are weighted by their role, not their name."""
    m, data = formulation.model, formulation.data
    # Valid inequalities implied by other rows (aggregate capacity, linking) are dropped, not
    # relaxed: kept hard they would undo the relaxation of the rows they are built from.
    for component in formulation.components(kind=Kind.IMPLIED):
        component.deactivate()
    family_of = {id(r.component): r.family for r in formulation.rows}
    structural = {id(c) for c in formulation.components(kind=Kind.STRUCTURAL)}
    locks = {id(c) for c in formulation.components(kind=Kind.LOCK)}
    rows = []
    for con in list(m.component_data_objects(pyo.Constraint, active=True)):
        parent = con.parent_component()
        rows.append((parent, con.index(), con))
    m.ELASTIC = pyo.RangeSet(0, len(rows) - 1)
    m.slack_up = pyo.Var(m.ELASTIC, domain=pyo.NonNegativeReals)
    m.slack_down = pyo.Var(m.ELASTIC, domain=pyo.NonNegativeReals)
    m.elastic = pyo.ConstraintList()
    weights = {}
    for i, (parent, _idx, con) in enumerate(rows):
        lower, body, upper = con.lower, con.body, con.upper
        con.deactivate()
        if lower is not None:
            m.elastic.add(body + m.slack_up[i] >= lower)
        if upper is not None:
            m.elastic.add(body - m.slack_down[i] <= upper)
        weights[i] = (STRUCTURAL_WEIGHT if id(parent) in structural
                      else LOCK_WEIGHT if id(parent) in locks else 1.0)
    for obj in m.component_data_objects(pyo.Objective, active=True):
        obj.deactivate()
    m.total_slack = pyo.Objective(
        expr=sum(weights[i] * (m.slack_up[i] + m.slack_down[i]) for i in m.ELASTIC))
    outcome = solve(m, SolverConfig(time_limit=options.time_limit, mip_gap=1e-6,
                                    threads=options.threads))
    if not outcome.has_solution:
        log.warning("elastic relaxation found no solution (%s)", outcome.status)
        return []
    violations = []
    for i, (parent, idx, _con) in enumerate(rows):
        amount = pyo.value(m.slack_up[i]) + pyo.value(m.slack_down[i])
        if amount > 1e-6:
            violation = _describe(parent.name, idx, amount, family_of.get(id(parent), parent.name), data)
            if id(parent) in locks:  # lock rows are indexed by the lock's name first
                violation.decision = str(violation.index[0])
            violations.append(violation)
    return violations


def _describe(parent: str, idx: object, amount: float, family: str, data: ModelInputs) -> Violation:
    index = idx if isinstance(idx, tuple) else (idx,)
    footprint = next((x for x in index if x in data.hub_of_footprint), None)
    site = next((x for x in index if x in data.hub_of_site), None)
    service = next((x for x in index if x in data.service.index), None)
    year = next((x for x in index if isinstance(x, int) and x in data.years), None)
    hub = next((x for x in index if x in data.hubs), None)
    if hub is None and footprint is not None:
        hub = data.hub_of_footprint[footprint]
    if hub is None and site is not None:
        hub = data.hub_of_site[site]
    return Violation(family, parent, index, hub, service, site, footprint, year, amount)


def render_diagnosis(violations: list[Violation], findings: list | None = None) -> str:
    """diagnosis.md: the conflicts, grouped by family, hub and service, then every row."""
    lines = ["# Why this scenario is infeasible", ""]
    if findings:
        lines += ["## Found before solving (arithmetic that no decision can change)", ""]
        for f in findings:
            lines.append(f"- **{f.rule}** (hub {f.hub or '-'}, service {f.service or '-'}, "
                         f"year {f.year or '-'}): {f.message}")
        lines.append("")
    locked = [v for v in violations if v.decision]
    if locked:
        lines += ["## Fixed decisions that must give", "",
                  "No plan keeps every fixed decision (fixed_decisions.csv) with the scenario's rules: "
                  "releasing these is the cheapest way to a feasible plan.", "",
                  "| decision | site | service | years | total violation |", "|---|---|---|---|---:|"]
        for decision, group in pd.DataFrame([v.__dict__ for v in locked]).groupby("decision"):
            years = sorted(int(y) for y in group["year"].dropna().unique())
            services = ", ".join(sorted({str(x) for x in group["service"].dropna()})) or "-"
            lines.append(f"| **{decision}** | {group['site'].iloc[0]} | {services} | "
                         f"{', '.join(str(y) for y in years)} | {group['amount'].sum():,.2f} |")
        lines.append("")
    if violations:
        frame = pd.DataFrame([v.__dict__ for v in violations])
        lines += ["## The rules that must give (elastic relaxation)", "",
                  "Breaking these, by the amounts shown, is the cheapest way to make the scenario "
                  "feasible (policy rules are preferred over capacity arithmetic).", "",
                  "| family | constraint | hub | service | years | total violation |",
                  "|---|---|---|---|---|---:|"]
        grouped = frame.fillna({"hub": "-", "service": "-"}).groupby(
            ["family", "constraint", "hub", "service"], dropna=False)
        for (family, constraint, hub, service), group in grouped:
            years = sorted(int(y) for y in group["year"].dropna().unique())
            span = ", ".join(str(y) for y in years) if years else "-"
            lines.append(f"| {family} | `{constraint}` | {hub} | {service} | {span} | "
                         f"{group['amount'].sum():,.2f} |")
        lines += ["", "### Every relaxed row", "", "| constraint | index | violation |", "|---|---|---:|"]
        for v in violations:
            lines.append(f"| `{v.constraint}` | {', '.join(str(x) for x in v.index)} | {v.amount:,.3f} |")
        lines.append("")
    elif not findings:
        lines += ["The solver reported the model infeasible, and the elastic relaxation did not "
                  "finish within the time limit; see solver.log.", ""]
    return "\n".join(lines)


def summary_line(violations: list[Violation], findings: list | None = None) -> str:
    """One line for the terminal."""
    if findings:
        f = findings[0]
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        return f"{f.message}{more}"
    if not violations:
        return "see diagnosis.md"
    locked = sorted({v.decision for v in violations if v.decision})
    if locked:
        return ("fixed decision" + ("s " if len(locked) > 1 else " ")
                + ", ".join(f"'{d}'" for d in locked) + " cannot be kept with the scenario's rules")
    frame = pd.DataFrame([v.__dict__ for v in violations]).fillna({"hub": "-", "service": "-"})
    parts = []
    for (family, hub, service), group in frame.groupby(["family", "hub", "service"]):
        years = sorted(int(y) for y in group["year"].dropna().unique())
        when = f" in {years[0]}" + (f"–{years[-1]}" if len(years) > 1 else "") if years else ""
        parts.append(f"{family}: hub {hub}, service {service}{when}")
    return "; ".join(parts[:4]) + (" ..." if len(parts) > 4 else "")
