"""Build the Pyomo model: variables, then each constraint family in order, then the objective."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from model.constraints import FAMILIES
from model.inputs import ModelInputs
from model.objective import add_objective
from model.variables import add_variables

log = logging.getLogger(__name__)


def build_model(data: ModelInputs) -> pyo.ConcreteModel:
    """The full planning MIP for `data`."""
    start = time.perf_counter()
    m = pyo.ConcreteModel(name=data.config.name)
    add_variables(m, data)
    m._family_of = {}  # constraint component name -> family, for diagnoses
    for name, add_family in FAMILIES:
        before = {c.name for c in m.component_objects(pyo.Constraint)}
        add_family(m, data)
        for component in m.component_objects(pyo.Constraint):
            if component.name not in before:
                m._family_of[component.name] = name
        log.debug("added constraint family %s", name)
    add_objective(m, data)
    m._build_seconds = time.perf_counter() - start
    return m


# The planner's levers, in the order the saving against doing nothing is built up from them.
LEVERS = ("removals", "conversions", "new_builds", "community")
LEVER_LABELS = {
    "removals": "ward removals and unit closures",
    "conversions": "conversions (reconfiguring wards)",
    "new_builds": "new builds and new sites",
    "community": "community places replacing inpatient beds",
    "rules": "planning rules (in-hub share, site counts, pace of change)",
}
# Rows that state planning policy rather than physics: today's estate may break them, so the
# do-nothing baseline and the lever steps before the last report them instead of obeying them.
RULE_CONSTRAINTS = ("in_hub_share", "hub_capacity", "max_ward_changes",
                    "max_displaced", "open_sites_minimum", "open_sites_maximum")


def _lever_variables(m: pyo.ConcreteModel, data: ModelInputs, lever: str):
    """(variable, value when the lever is off) pairs."""
    if lever == "removals":
        yield from ((m.remove[i], 0) for i in m.remove)
        yield from ((m.operate[s, t], 1) for s in data.sites for t in data.years
                    if data.initially_open[s] and data.site.at[s, "status"] == "existing")
    elif lever == "conversions":
        yield from ((m.convert_in[i], 0) for i in m.convert_in)
        yield from ((m.convert_out[i], 0) for i in m.convert_out)
    elif lever == "new_builds":
        yield from ((m.build[i], 0) for i in m.build)
        yield from ((m.operate[s, t], 0) for s in data.sites for t in data.years
                    if data.site.at[s, "status"] == "candidate")
    elif lever == "community":
        yield from ((m.extra_places[i], 0) for i in m.extra_places)
        yield from ((m.substitute[i], 0) for i in m.substitute)


def restrict(m: pyo.ConcreteModel, data: ModelInputs, levers: tuple[str, ...] = (),
             rules: bool = False) -> Callable[[], None]:
    """Leave only `levers` free in `m` (the others fixed at doing nothing), with the planning
    rules on or off; returns the function that undoes it.

    With no lever and no rules this is the do-nothing baseline: wards stay at their base-year
    numbers (no build, conversion or removal), every unit stays as it is today, no community
    place is added; placements, unmet need and delayed discharges are still optimised, and the
    planning rules (``RULE_CONSTRAINTS``) are lifted because today's estate may break them.
    """
    fixed = []
    for lever in LEVERS:
        if lever in levers:
            continue
        for var, value in _lever_variables(m, data, lever):
            if not var.fixed:
                var.fix(value)
                fixed.append(var)
    deactivated = []
    if not rules:
        for name in RULE_CONSTRAINTS:
            component = getattr(m, name, None)
            if component is not None and component.active:
                component.deactivate()
                deactivated.append(component)

    def undo() -> None:
        for var in fixed:
            var.unfix()
        for component in deactivated:
            component.activate()

    return undo


@contextmanager
def restricted(m: pyo.ConcreteModel, data: ModelInputs, levers: tuple[str, ...] = (),
               rules: bool = False) -> Iterator[pyo.ConcreteModel]:
    """`restrict` for the duration of a `with` block."""
    undo = restrict(m, data, levers, rules)
    try:
        yield m
    finally:
        undo()


def fix_do_nothing(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    """Turn `m` into the do-nothing baseline for good (see `restrict`)."""
    restrict(m, data)


def do_nothing_start(m: pyo.ConcreteModel, data: ModelInputs) -> ComponentMap:
    """The integer part of the do-nothing configuration, as a MIP start for `m`.

    Wards at their base-year numbers, no build, conversion or removal, every site as it is
    today. HiGHS completes placements, step-downs and substitution itself; when the full model's
    rules (in-hub share, site counts, minimum sizes) rule this configuration out, HiGHS drops it.
    """
    start = ComponentMap()
    for (s, v) in data.site_services:
        for t in data.years:
            start[m.wards[s, v, t]] = data.existing_wards[(s, v)]
            start[m.build[s, v, t]] = 0
            start[m.remove[s, v, t]] = 0
    for idx in m.convert_in:
        start[m.convert_in[idx]] = 0
        start[m.convert_out[idx]] = 0
    for s in data.sites:
        for t in data.years:
            start[m.operate[s, t]] = 1 if data.initially_open[s] else 0
    return ComponentMap((var, value) for var, value in start.items() if not var.fixed)


def integer_start(m: pyo.ConcreteModel) -> ComponentMap:
    """The current values of the unfixed integer variables, as a MIP start."""
    start = ComponentMap()
    for var in m.component_data_objects(pyo.Var, active=True):
        if not var.fixed and (var.is_integer() or var.is_binary()) and var.value is not None:
            start[var] = round(var.value)
    return start


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    """Counts of active (unfixed) variables and active constraints, by kind."""
    variables = [v for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed]
    integer = sum(1 for v in variables if v.is_integer() or v.is_binary())
    constraints = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    return {"variables": len(variables), "integer_variables": integer, "constraints": constraints}
