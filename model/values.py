"""Values of a solved model's variables and expressions, each named expression evaluated once.

The results read the same named expressions at several levels: ``footprint_cost[k, f, t]``
inside ``cost[k, t]`` inside ``objective_terms[k]``. ``pyo.value`` walks every level down to
the variables again, with Pyomo's general-purpose visitor (a stack of frames per node), so on a
10,000-arc model extracting the results took longer than building the model. `ModelValues`
applies each node's own operation (``_apply_operation``, as Pyomo's evaluator does) to its
children's values, and remembers the value of every named expression it has evaluated: the
arithmetic, and so every value, is the same as ``pyo.value``'s, done once per node.

Make one per solution: the remembered values belong to the variables' values at the time.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types, native_types
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression


class ModelValues:
    """``values(component)``: ``pyo.value(component, exception=False)`` as a float, 0.0 where
    Pyomo gives no value (a variable without one), with named expressions evaluated once."""

    def __init__(self) -> None:
        self._named: dict[int, object] = {}

    def __call__(self, component) -> float:
        try:
            value = self._eval(component)
        except (ValueError, TypeError):  # what pyo.value(..., exception=False) turns into None
            return 0.0
        return 0.0 if value is None else float(value)

    def _eval(self, node):
        if node.__class__ in native_types:
            return node
        if node.is_expression_type():
            if node.is_named_expression_type():
                key = id(node)
                if key not in self._named:
                    self._named[key] = node._apply_operation((self._eval(node.expr),))
                return self._named[key]
            if node.__class__ is LinearExpression:
                return node._apply_operation(self._linear_terms(node))
            return node._apply_operation([self._eval(arg) for arg in node.args])
        if node.is_variable_type():
            return node.value
        if node.is_numeric_type() or node.is_logical_type():
            return pyo.value(node, exception=False)
        return node

    def _linear_terms(self, node) -> list:
        """The values of a linear expression's terms, a ``number * variable`` term multiplied
        here rather than through two more levels of `_eval` (the same product, the same sum:
        a placement arc's term in the cost sums is one of these, and there are millions)."""
        values = []
        for arg in node.args:
            if arg.__class__ is MonomialTermExpression:
                coef, var = arg.args
                if coef.__class__ in native_numeric_types and var.is_variable_type():
                    values.append(coef * var.value)  # no value: a TypeError, as the general path
                    continue
            values.append(self._eval(arg))
        return values
