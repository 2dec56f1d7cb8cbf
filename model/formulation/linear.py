"""Sums of many linear terms, built in one step.

Python's ``sum`` over Pyomo terms adds them one at a time: each ``+`` goes through Pyomo's
operator dispatch and appends to the growing expression, about three times the cost of building
the same expression from its list of terms. The objective has a term per placement arc and year
in four such sums (England: about a tenth of its build). ``linear_sum`` gives the expression
``sum`` gives, with the same terms in the same order, so the solver sees exactly the same model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.numvalue import native_numeric_types


def linear_sum(terms: Iterable[Any]) -> Any:
    """``sum(terms)`` where each term is a variable or ``coefficient * variable``.

    No terms give 0 and one term gives the term itself, as with ``sum``. A plain number among
    the terms (a constant, which a linear expression holds differently) falls back to ``sum``.
    """
    args = list(terms)
    if len(args) < 2 or any(t.__class__ in native_numeric_types for t in args):
        return sum(args)
    return LinearExpression(args)
