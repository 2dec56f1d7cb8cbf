"""The sweep file's schema: what may be varied, how, and by which design.

Only the shape of the file is checked here; whether its keys, tables, columns and filters fit the
base scenario is checked in :mod:`model.sweep.load`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: columns of results.parquet that a parameter may not be named as
RESERVED = {"variant", "index", "label", "status", "reason", "objective", "bound", "gap_abs",
            "gap_rel", "gap_rel_controllable", "solve_seconds", "build_seconds", "wall_seconds",
            "worker", "finished_utc", "baseline_objective", "digest", "start_from", "start_used",
            "crossover_seconds", "crossover_with", "crossover_improved"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepSolver(_Strict):
    """Solver limits for every variant (they override the base scenario's `solver:`)."""

    time_limit: float = Field(300.0, gt=0, description="Seconds per variant.")
    mip_gap: float = Field(1e-3, ge=0, le=1, description="Relative MIP gap to stop at.")
    threads: int = Field(1, ge=1, le=256, description="Solver threads per variant.")


class Parameter(_Strict):
    """One thing varied: a scenario key (dotted path) or a table column on filtered rows."""

    name: str = Field(..., description="Short identifier; a column of results.parquet.")
    description: str = ""
    key: str | None = Field(None, description="Dotted scenario.yaml key, e.g. policy.stepdown_reach_km.")
    table: str | None = Field(None, description="Input table, e.g. demand.")
    column: str | None = Field(None, description="Column of `table`, e.g. beds.")
    op: Literal["set", "scale", "add", "growth"] = Field(
        "set", description="set: replace; scale: multiply; add: add; growth: multiply by "
                           "(1 + value) ** (year - base_year) (tables with a year column).")
    where: dict[str, Any] = Field(
        default_factory=dict,
        description="Rows whose columns equal a value, one of a list, or lie in {min, max}.")
    hub: str | list[str] | None = Field(
        None, description="Rows in these hubs (demand, sites, site_services, footprints).")
    values: list[Any] | None = Field(None, description="Levels (grid, one-at-a-time) or choices (LHS).")
    low: float | None = None
    high: float | None = None
    levels: int | None = Field(None, ge=2, le=1000, description="Grid: evenly spaced levels low..high.")
    base: Any = Field(None, description="One-at-a-time: the value the others are held at.")
    log: bool = Field(False, description="LHS: sample log-uniformly between low and high.")
    integer: bool = Field(False, description="LHS: round sampled values to whole numbers.")

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be an identifier (letters, digits, underscore)")
        if value in RESERVED:
            raise ValueError(f"'{value}' is a reserved results column")
        return value

    @model_validator(mode="after")
    def _target(self) -> Parameter:
        if (self.key is None) == (self.table is None):
            raise ValueError("give exactly one of `key` (scenario key) or `table` (+ `column`)")
        if self.key is not None and (self.column or self.where or self.hub):
            raise ValueError("`column`, `where` and `hub` apply to a `table` parameter only")
        if self.table is not None and not self.column:
            raise ValueError("a `table` parameter needs a `column`")
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give `values`, or `low` and `high`")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("`values` is empty")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("`low` must be <= `high`")
        for column, wanted in self.where.items():
            if isinstance(wanted, dict) and (not wanted or set(wanted) - {"min", "max"}):
                raise ValueError(f"where.{column}: a range is {{min: x, max: y}}")
        if self.log and (self.low is None or self.low <= 0):
            raise ValueError("`log: true` needs `low` > 0")
        if self.op == "growth" and self.key is not None:
            raise ValueError("op `growth` applies to a table column with a year")
        return self

    def levels_for(self, design: str) -> list[Any]:
        """The values this parameter takes in a grid or one-at-a-time design."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if design == "one_at_a_time":
            return [self.low, self.high]
        n = self.levels or 2
        return [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]


_DESIGNS = {"grid": "grid", "full_grid": "grid", "oat": "one_at_a_time",
            "one_at_a_time": "one_at_a_time", "lhs": "latin_hypercube",
            "latin_hypercube": "latin_hypercube"}


class SweepSpec(_Strict):
    """The validated content of a sweep file."""

    name: str | None = Field(None, min_length=1, max_length=100,
                             pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                             description="Output folder runs/sweeps/<name> (default: file stem).")
    description: str = ""
    base: str = Field(..., description="Base scenario folder, relative to the sweep file.")
    design: str = Field("grid", description="grid | one_at_a_time (oat) | latin_hypercube (lhs).")
    variants: int | None = Field(None, ge=1, le=1_000_000, description="LHS: number of variants.")
    seed: int = Field(0, ge=0, description="LHS: random seed (same seed, same variants).")
    solver: SweepSolver = SweepSolver()
    baseline: bool = Field(False, description="Also solve the do-nothing baseline of each variant.")
    warm_start: bool = Field(
        True, description="Solve the base scenario once, first, and start every variant from its "
                          "plan or the nearest solved variant's (a MIP start: it never changes "
                          "what is optimal, only how soon a good plan is known).")
    crossover: bool = Field(
        True, description="With warm_start: before HiGHS, improve a variant's start by the MIP "
                          "boxed between it and the two nearest plans offered, or the rounding "
                          "of its LP relaxation when none differs from it (a search for a "
                          "start: it never changes what is optimal).")
    base_solver: SweepSolver | None = Field(
        None, description="Solver settings of that base solve (default: the base scenario's own).")
    parameters: list[Parameter] = Field(..., min_length=1)

    @field_validator("design")
    @classmethod
    def _design(cls, value: str) -> str:
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        if key not in _DESIGNS:
            raise ValueError("must be one of grid, one_at_a_time (oat), latin_hypercube (lhs)")
        return _DESIGNS[key]

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9_.-]+$", value):
            raise ValueError("must be a plain folder name (letters, digits, _ . -)")
        return value

    @model_validator(mode="after")
    def _design_needs(self) -> SweepSpec:
        names = [p.name for p in self.parameters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"parameter names repeated: {', '.join(dupes)}")
        if self.design == "latin_hypercube":
            if self.variants is None:
                raise ValueError("a latin_hypercube design needs `variants` (how many)")
            for p in self.parameters:
                if p.values is None and (p.low is None or p.high is None):
                    raise ValueError(f"parameter {p.name}: LHS needs `low` and `high` or `values`")
        return self


def show_value(value: Any) -> str:
    """A parameter value as it reads in variant labels and text columns of results.parquet."""
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
