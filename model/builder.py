"""Build the Pyomo model: variables, then each constraint family in order, then the objective."""

from __future__ import annotations

import logging
import time

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


def fix_do_nothing(m: pyo.ConcreteModel, data: ModelInputs) -> None:
    """Turn `m` into the do-nothing baseline: today's estate kept, only placements optimised.

    Wards stay at their base-year numbers, no site opens or closes, no community substitution,
    and the in-hub rule and the site-count limits are lifted (today's estate may not meet them; the
    baseline reports them instead).
    """
    for (s, v) in data.site_services:
        for t in data.years:
            m.wards[s, v, t].fix(data.existing_wards[(s, v)])
            m.build[s, v, t].fix(0)
            m.remove[s, v, t].fix(0)
    for idx in m.convert:
        m.convert[idx].fix(0)
    for s in data.sites:
        for t in data.years:
            m.operate[s, t].fix(1 if data.initially_open[s] else 0)
    for idx in m.substitute:
        m.substitute[idx].fix(0)
    m.in_hub_share.deactivate()
    for name in ("closure_notice", "max_ward_changes", "max_displaced", "open_sites_minimum",
                 "open_sites_maximum", "hub_capacity"):
        getattr(m, name).deactivate()


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
    for idx in m.convert:
        start[m.convert[idx]] = 0
    for s in data.sites:
        for t in data.years:
            start[m.operate[s, t]] = 1 if data.initially_open[s] else 0
    return ComponentMap((var, value) for var, value in start.items() if not var.fixed)


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    """Counts of active (unfixed) variables and active constraints, by kind."""
    variables = [v for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed]
    integer = sum(1 for v in variables if v.is_integer() or v.is_binary())
    constraints = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    return {"variables": len(variables), "integer_variables": integer, "constraints": constraints}
