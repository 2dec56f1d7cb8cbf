"""The formulation stage: inputs -> a Pyomo model (variables, shared terms, constraint families
with their roles, objective), and the levers that switch decisions off for the baseline."""

from model.formulation.builder import Formulation, build_model, formulate, model_size, presolve_checks
from model.formulation.families import FAMILIES
from model.formulation.levers import (
    LEVER_LABELS,
    LEVERS,
    do_nothing_start,
    integer_start,
    restrict,
)

__all__ = ["FAMILIES", "LEVERS", "LEVER_LABELS", "Formulation", "build_model", "do_nothing_start",
           "formulate", "integer_start", "model_size", "presolve_checks", "restrict"]
