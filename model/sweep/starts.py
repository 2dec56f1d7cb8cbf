"""Where each variant's MIP start comes from: the nearest solved variants' plans, then the base plan.

A start never changes what is optimal (HiGHS only learns a plan it can improve on), so the choice
is about speed alone. A variant that changes only prices can always start from the base plan; one
that raises demand may find the base plan infeasible (too few wards in a hub for the in-hub rule),
and a solved variant with more demand nearby is then the better start. The solve tries the
candidates in order and uses the first one that is feasible (`model.solve.first_feasible_start`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from model.sweep.store import Variant

# plans kept in memory for later variants (each is a few hundred kB for England)
KEPT_PLANS = 32
# solved variants offered to a variant, nearest first, before the base plan: the nearest in the
# parameters is often not feasible for a variant that raises demand (it needs a plan with at least
# its demand, which may be further off in the other parameters), and one that is not costs its LP
# check a fraction of a second
NEAREST = 8
# the plans, nearest first, that bound the crossover of a variant's start (`crossover` in the sweep
# file): the box between the start and them is where the variant's own plan most likely lies, and
# each one more frees more integers (England, demand x 0.963: its start from the base plan and the
# x 0.953 plan freed 272 and found a plan within 0.2% in 24 s at one thread; docs/performance.md)
CROSSOVER_PARENTS = 2


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def distance(a: dict[str, Any], b: dict[str, Any], spans: dict[str, float]) -> float:
    """Distance between two variants' parameter values: numbers scaled by the parameter's span
    over the sweep, anything else 0 when equal and 1 when not."""
    total = 0.0
    for name in sorted(set(a) | set(b)):  # a fixed order: the same sum, so the same ties
        x, y = _number(a.get(name)), _number(b.get(name))
        if x is not None and y is not None:
            total += (abs(x - y) / spans[name]) if spans.get(name) else 0.0
        else:
            total += 0.0 if a.get(name) == b.get(name) else 1.0
    return total


def spans_of(variants: list[Variant]) -> dict[str, float]:
    """Each numeric parameter's range over the sweep's variants."""
    out: dict[str, float] = {}
    for name in {n for v in variants for n in v.values}:
        numbers = [x for v in variants if (x := _number(v.values.get(name))) is not None]
        out[name] = (max(numbers) - min(numbers)) if numbers else 0.0
    return out


class StartPool:
    """The plans a sweep has found so far, to start later variants from."""

    def __init__(self, variants: list[Variant], base_plan: list | None):
        self.spans = spans_of(variants)
        self.base_plan = base_plan or None
        self.solved: deque[tuple[Variant, list]] = deque(maxlen=KEPT_PLANS)
        self.added = 0  # plans added so far (the deque keeps the latest KEPT_PLANS)

    def add(self, variant: Variant, plan: list | None) -> bool:
        """Keep `variant`'s plan; False when it has none."""
        if not plan:
            return False
        self.solved.append((variant, plan))
        self.added += 1
        return True

    def nearest_distance(self, variant: Variant) -> float:
        """The distance from `variant` to the nearest solved variant with a plan (inf if none)."""
        return min((distance(variant.values, v.values, self.spans) for v, _plan in self.solved),
                   default=math.inf)

    def candidates(self, variant: Variant) -> tuple[list[list], list[str]]:
        """(plans, where each comes from): the nearest solved variants, then the base plan."""
        near = sorted(self.solved, key=lambda item: distance(variant.values, item[0].values, self.spans))
        plans = [plan for _v, plan in near[:NEAREST]]
        labels = [f"variant {v.label}" for v, _plan in near[:NEAREST]]
        if self.base_plan:
            plans.append(self.base_plan)
            labels.append("base plan")
        return plans, labels
