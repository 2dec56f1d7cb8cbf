"""What each constraint row is for: the builder, the do-nothing baseline and the diagnosis read
these roles instead of constraint names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyomo.environ as pyo


class Kind(StrEnum):
    STRUCTURAL = "structural"  # physics and accounting: relaxed last in a diagnosis
    POLICY = "policy"  # a planning rule, limit or timing: relaxed first in a diagnosis
    IMPLIED = "implied"  # valid rows implied by others (cuts): dropped, not relaxed, in a diagnosis
    LOCK = "lock"  # a decision the planner fixed: relaxed first of all, and named, in a diagnosis


@dataclass(frozen=True)
class Role:
    kind: Kind
    in_baseline: bool = True  # False: lifted in the do-nothing baseline (today's estate may break it)


STRUCTURAL = Role(Kind.STRUCTURAL)
POLICY = Role(Kind.POLICY)
RULE = Role(Kind.POLICY, in_baseline=False)
IMPLIED = Role(Kind.IMPLIED)
IMPLIED_RULE = Role(Kind.IMPLIED, in_baseline=False)
LOCK = Role(Kind.LOCK, in_baseline=False)  # doing nothing is not bound by what the plan fixes

Rows = list[tuple[pyo.Constraint, Role]]  # what each family's add function returns


@dataclass(frozen=True)
class Row:
    family: str
    component: pyo.Constraint
    role: Role
