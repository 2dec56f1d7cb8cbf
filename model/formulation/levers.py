"""The planner's levers and the do-nothing baseline: which decision variables each lever frees,
and switching levers and planning rules off and on again on a built model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from model.formulation.builder import Formulation
from model.inputs import ModelInputs

# The planner's levers, in the order the saving against doing nothing is built up from them.
LEVERS = ("removals", "conversions", "new_builds", "community")
LEVER_LABELS = {
    "removals": "ward removals and unit closures",
    "conversions": "conversions (reconfiguring wards)",
    "new_builds": "new builds and new sites",
    "community": "community places replacing inpatient beds",
    "rules": "planning rules (in-hub share, site counts, pace of change)",
}
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


def restrict(formulation: Formulation, levers: tuple[str, ...] = (),
             rules: bool = False) -> Callable[[], None]:
    """Leave only `levers` free in `m` (the others fixed at doing nothing), with the planning
    rules on or off; returns the function that undoes it.

    With no lever and no rules this is the do-nothing baseline: wards stay at their base-year
    numbers (no build, conversion or removal), every unit stays as it is today, no community
    place is added; placements, unmet need and delayed discharges are still optimised, and the
    planning rules (rows whose role is not ``in_baseline``) are lifted because today's estate
    may break them.
    """
    m, data = formulation.model, formulation.data
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
        for component in formulation.components(in_baseline=False):
            if component.active:
                component.deactivate()
                deactivated.append(component)

    def undo() -> None:
        for var in fixed:
            var.unfix()
        for component in deactivated:
            component.activate()

    return undo


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


def named_start(m: pyo.ConcreteModel) -> list[list[Any]]:
    """The integer variables' values as [component, index, value]: a MIP start another process
    (another build of the same model) can use."""
    return named_rows(integer_start(m))


def named_rows(start: ComponentMap) -> list[list[Any]]:
    """A MIP start (`integer_start`) as [component, index, value] rows."""
    out = []
    for var, value in start.items():
        index = var.index()
        out.append([var.parent_component().name, list(index) if isinstance(index, tuple) else [index],
                    value])
    return out


def start_map(m: pyo.ConcreteModel, named: list[list[Any]] | None) -> ComponentMap | None:
    """A MIP start for `m` from [component, index, value] rows (rows `m` has no variable for,
    e.g. conversions where a site hosts one service, are skipped; so are rows naming another
    kind of component, which a hand-edited plan file can)."""
    if not named:
        return None
    start = ComponentMap()
    for name, index, value in named:
        component = m.find_component(name)
        key = tuple(index) if len(index) > 1 else index[0]
        if component is None or component.ctype is not pyo.Var or key not in component:
            continue
        var = component[key]
        if not var.fixed:
            start[var] = value
    return start
