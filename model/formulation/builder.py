"""Build the Pyomo model: variables, shared terms, each constraint family in order, then the
objective."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pyomo.environ as pyo

from model.checks import Finding
from model.checks import presolve_checks as estate_checks
from model.formulation.families import FAMILIES
from model.formulation.families.in_hub import check_in_hub_capacity
from model.formulation.objective import add_objective
from model.formulation.roles import Kind, Row
from model.formulation.terms import SharedTerms, build_terms
from model.formulation.variables import add_variables
from model.gc_pause import cycle_collection_paused
from model.inputs import ModelInputs

log = logging.getLogger(__name__)


@dataclass
class Formulation:
    """The model and what the builder knows about it: every constraint component with its
    family and role, and the shared terms."""

    model: pyo.ConcreteModel
    data: ModelInputs
    terms: SharedTerms
    rows: list[Row] = field(default_factory=list)

    def components(self, kind: Kind | None = None, in_baseline: bool | None = None) -> list[pyo.Constraint]:
        return [r.component for r in self.rows
                if (kind is None or r.role.kind == kind)
                and (in_baseline is None or r.role.in_baseline == in_baseline)]



def formulate(data: ModelInputs) -> Formulation:
    """The full planning MIP for `data`, with its rows' families and roles."""
    with cycle_collection_paused():  # half of the build's time otherwise (model/gc_pause.py)
        m = pyo.ConcreteModel(name=data.config.name)
        add_variables(m, data)
        terms = build_terms(m, data)
        rows: list[Row] = []
        for name, add_family in FAMILIES:
            rows += [Row(name, component, role) for component, role in add_family(m, data, terms)]
            log.debug("added constraint family %s", name)
        add_objective(m, data, terms)
    return Formulation(model=m, data=data, terms=terms, rows=rows)


def build_model(data: ModelInputs) -> pyo.ConcreteModel:
    """The full planning MIP for `data` (the model alone)."""
    return formulate(data).model


def presolve_checks(data: ModelInputs) -> list[Finding]:
    """Conflicts that simple sums prove before any model is built: the in-hub rule's own check
    (with its family) and the estate checks of ``model.checks``."""
    return check_in_hub_capacity(data) + estate_checks(data)


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    """Counts of active (unfixed) variables and active constraints, by kind."""
    variables = [v for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed]
    integer = sum(1 for v in variables if v.is_integer() or v.is_binary())
    constraints = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    return {"variables": len(variables), "integer_variables": integer, "constraints": constraints}
