"""AUGMECON2 (Mavrotas and Florios 2013): the payoff table's ranges, the
grid, the bypass ("jump") on the slack and the early exit, as pure functions the runner and
the tests share; and what is read off a finished frontier (dominance, the knee, implied prices).

Minimise :math:`f_1` (the primary objective) subject to :math:`f_2 + s_2 = e_2`, with
:math:`e_2` stepping from the payoff table's worst value of :math:`f_2` (its value when
:math:`f_1` is minimised first) down to its best, in ``points - 1`` equal steps. A solution
with slack :math:`s_2` is also optimal for the next :math:`\\lfloor s_2/step \\rfloor` grid
values (they are looser than its :math:`f_2`), so those are skipped (bypass); once a slice is
infeasible every tighter one is too, so the loop stops (early exit). With three objectives the
same holds along each line of the inner objective's grid, the outer bound held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    objective: str  # the constrained objective
    best: float  # its minimum (the payoff table)
    worst: float  # its value at the primary objective's lexicographic minimum
    points: int

    @property
    def step(self) -> float:
        return (self.worst - self.best) / (self.points - 1) if self.points > 1 else 0.0

    @property
    def range(self) -> float:
        return self.worst - self.best

    def value(self, i: int) -> float:
        """The right-hand side e of grid point i (0: the loosest, points-1: the tightest)."""
        if i == self.points - 1:
            return self.best  # exactly, not by accumulated steps
        return self.worst - i * self.step


def grid_label(i: int, outer: int | None = None) -> str:
    """grid-07 on a two-objective frontier; grid-02-07 (outer index, inner index) on three."""
    return f"grid-{i:02d}" if outer is None else f"grid-{outer:02d}-{i:02d}"


def bypass(slack: float, step: float) -> int:
    """Grid points a solution with `slack` is also optimal for, after its own (AUGMECON2)."""
    if step <= 0:
        return 0
    return max(0, math.floor(slack / step + 1e-9))


def chunks(indices: list[int], n: int) -> list[list[int]]:
    """`indices` in at most `n` contiguous runs of near-equal length (the bypass works within a
    run, which one worker solves in order)."""
    n = max(1, min(n, len(indices)))
    return [list(part) for part in np.array_split(np.array(indices, dtype=int), n) if len(part)]


def dominated_by(values: np.ndarray, tol: float = 1e-9) -> list[list[int]]:
    """For each row of `values` (points x objectives, all minimised), the rows that dominate it:
    no worse in every objective (within `tol` relative) and better in one."""
    scale = np.maximum(np.abs(values).max(axis=0), 1.0) * tol
    out = []
    for i in range(len(values)):
        no_worse = (values <= values[i] + scale).all(axis=1)
        better = (values < values[i] - scale).any(axis=1)
        out.append([int(j) for j in np.flatnonzero(no_worse & better) if j != i])
    return out


def knee(values: np.ndarray) -> int:
    """The point closest to the ideal point (every objective at its best along the frontier),
    each objective scaled to its range along the frontier."""
    low, high = values.min(axis=0), values.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    return int(np.argmin(np.sqrt((((values - low) / span) ** 2).sum(axis=1))))
