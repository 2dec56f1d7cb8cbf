"""The formulation stage: inputs -> a Pyomo model (variables, shared terms, constraint families
with their roles, objective), and the levers that switch decisions off for the baseline."""

from model.formulation.builder import Formulation, build_model, formulate, model_size, presolve_checks
from model.formulation.families import FAMILIES
from model.formulation.levers import (
    LEVER_LABELS,
    LEVERS,
    do_nothing_start,
    fix_do_nothing,
    integer_start,
    restrict,
    restricted,
)

__all__ = ["FAMILIES", "LEVERS", "LEVER_LABELS", "Formulation", "build_model", "do_nothing_start",
           "fix_do_nothing", "formulate", "integer_start", "model_size", "presolve_checks",
           "restrict", "restricted"]
