"""Sensitivity sweeps: many variants of one scenario, solved in parallel on Dask.

A sweep file (``data/sweeps/*.yaml``, schema :class:`SweepSpec`) names a base scenario, the
parameters to vary and a design (full grid, one-at-a-time, Latin hypercube). This module turns it
into variants, solves them on a ``dask.distributed`` cluster (a LocalCluster by default) and
writes ``runs/sweeps/<name>/``:

- ``variants/<key>.json`` (+ ``<key>.decisions.parquet``): one small file per finished variant,
  written atomically as it finishes, so an interrupted sweep loses only the variants in flight;
- ``results.parquet``, ``decisions.parquet``, ``summary.md`` and charts, consolidated at the end
  (see :mod:`model.sweep_report`).

A variant's key is a hash of its full resolved content: the validated scenario configuration
(solver limits included) and the bytes of every input file after the variant's changes. Rerunning
a sweep skips every variant whose key already has a result, so editing the base data re-solves
exactly the variants it changes. Variants that are invalid, infeasible or hit their limits are
recorded with their status and reason; the sweep goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
import math
import os
import re
import secrets
import socket
import tempfile
import threading
import time
import traceback
import typing
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.config import SCENARIO_FILE, ScenarioConfig, deep_merge, resolve_layers
from model.dictionary import TABLES
from model.errors import Problem, ScenarioError

log = logging.getLogger(__name__)

SWEEPS_DIR = "sweeps"
VARIANTS_DIR = "variants"
RESULTS_FILE = "results.parquet"
DECISIONS_FILE = "decisions.parquet"
PLAN_FILE = "sweep.json"
#: statuses with a solution; `invalid`, `infeasible`, `no_solution` and `error` have none
SOLVED = ("optimal", "feasible")
#: statuses recorded but tried again on the next run (a bug or a lost worker, not the input)
RETRIED = ("error",)
#: columns of results.parquet that a parameter may not be named as
RESERVED = {"variant", "index", "label", "status", "reason", "objective", "bound", "gap_abs",
            "gap_rel", "gap_rel_controllable", "solve_seconds", "build_seconds", "wall_seconds",
            "worker", "finished_utc", "baseline_objective", "digest"}
HUB_TABLES = ("demand", "sites", "site_services", "footprints")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# The sweep file


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
        default_factory=dict, description="Rows whose columns equal these values (or one of a list).")
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

    name: str | None = Field(None, description="Output folder runs/sweeps/<name> (default: file stem).")
    description: str = ""
    base: str = Field(..., description="Base scenario folder, relative to the sweep file.")
    design: str = Field("grid", description="grid | one_at_a_time (oat) | latin_hypercube (lhs).")
    variants: int | None = Field(None, ge=1, le=1_000_000, description="LHS: number of variants.")
    seed: int = Field(0, ge=0, description="LHS: random seed (same seed, same variants).")
    solver: SweepSolver = SweepSolver()
    baseline: bool = Field(False, description="Also solve the do-nothing baseline of each variant.")
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


# ---------------------------------------------------------------------------------------------
# The base scenario as a bundle of bytes (what the workers get)


@dataclass
class Bundle:
    """The base scenario flattened: its merged configuration and every input file's bytes."""

    config: dict[str, Any]  # merged scenario.yaml of every layer, without `extends`
    files: dict[str, bytes]  # relative path in the flattened folder -> bytes
    table_files: dict[str, str]  # table name -> relative path
    digest: str = ""

    def payload(self) -> dict[str, Any]:
        return {"config": self.config, "files": self.files, "digest": self.digest}


def _safe_relative(name: str) -> bool:
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


def make_bundle(folder: Path) -> Bundle:
    """Read the base scenario's layers into a :class:`Bundle` (files nearest the scenario win)."""
    from model.data import find_file

    layers = resolve_layers(folder)
    config: dict[str, Any] = {}
    for layer in layers:
        config = deep_merge(config, yaml.safe_load((layer / SCENARIO_FILE).read_text("utf-8-sig")) or {})
    config.pop("extends", None)
    files: dict[str, bytes] = {}
    table_files: dict[str, str] = {}
    for table in TABLES.values():
        path = find_file(layers, table.file)
        if path is not None:
            files[table.file] = path.read_bytes()
            table_files[table.name] = table.file
    extra: list[tuple[tuple[str, ...], str]] = []
    if config.get("geometry"):
        extra.append((("geometry",), config["geometry"]))
    for key in ("graph_file", "matrix_file"):
        name = (config.get("distance") or {}).get(key)
        if name:
            extra.append((("distance", key), name))
    for where, name in extra:
        path = find_file(layers, name)
        if path is None:
            continue
        target = name if _safe_relative(name) else f"_inputs/{Path(name).name}"
        siblings = [path]
        if path.suffix.lower() == ".shp":  # a shapefile is several files
            siblings = sorted(path.parent.glob(path.stem + ".*"))
        for sib in siblings:
            files[str(Path(target).with_name(sib.name))] = sib.read_bytes()
        if target != name:
            node = config
            for part in where[:-1]:
                node = node[part]
            node[where[-1]] = target
    bundle = Bundle(config=config, files=files, table_files=table_files)
    bundle.digest = _digest({"config": config, "files": {k: _sha(v) for k, v in files.items()}})
    return bundle


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(content: Any) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return _sha(text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Loading and checking a sweep file


@dataclass
class Sweep:
    """A loaded, checked sweep: its spec, where it lives and its base scenario."""

    spec: SweepSpec
    path: Path
    base_folder: Path
    scenario: Any  # model.data.ScenarioData of the base
    bundle: Bundle
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # base tables as text

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def output_folder(self, runs_root: str | Path = "runs") -> Path:
        return Path(runs_root) / SWEEPS_DIR / self.name


def load_sweep(path: str | Path) -> Sweep:
    """Load and check a sweep file against its base scenario; every problem is raised at once
    as a :class:`ScenarioError` (exit code 2 at the command line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ScenarioError([Problem(str(path), None, None, None, "sweep file not found")]) from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError([Problem(str(path), mark.line + 1 if mark else None, None, None,
                                     f"YAML syntax: {getattr(exc, 'problem', None) or exc}")]) from exc
    if not isinstance(raw, dict):
        raise ScenarioError([Problem(str(path), None, None, None, "must be a mapping of keys")])
    lines = _yaml_lines(text)
    problems: list[Problem] = []
    spec = None
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        problems += _spec_problems(path, exc, lines, raw)

    from model.data import load_scenario

    base = raw.get("base")
    if not isinstance(base, str) or not base:
        raise ScenarioError(problems or [Problem(str(path), None, "base", base,
                                                 "a base scenario is required")])
    base_folder = path.parent / base
    try:
        scenario = load_scenario(base_folder)
    except ScenarioError as exc:
        problems.append(Problem(str(path), lines.get(("base",)), "base", base,
                                "the base scenario is invalid or missing (its problems follow)"))
        raise ScenarioError(problems + list(exc.problems)) from exc
    bundle = make_bundle(base_folder)
    check = Sweep(spec=spec or SweepSpec.model_construct(), path=path, base_folder=base_folder,
                  scenario=scenario, bundle=bundle)
    check.frames = {name: _read_text_table(bundle.files[file]) for name, file in bundle.table_files.items()}
    raw_params = raw.get("parameters") if isinstance(raw.get("parameters"), list) else []
    for i, item in enumerate(raw_params):
        try:
            param = Parameter.model_validate(item)
        except ValidationError:
            continue  # already reported
        problems += _check_parameter(check, param, path, lines.get(("parameters", i)))
    if spec is not None and spec.design == "grid":
        count = math.prod(len(p.levels_for("grid")) for p in spec.parameters)
        if count > 1_000_000:
            problems.append(Problem(str(path), lines.get(("design",)), "design", count,
                                    "the grid has more than 1,000,000 variants"))
    if problems or spec is None:
        raise ScenarioError(problems)
    if spec.design != "latin_hypercube" and spec.variants is not None:
        log.warning("%s: `variants` is used by latin_hypercube designs only; ignored", path)
    check.spec = spec
    return check


def _read_text_table(data: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _yaml_lines(text: str) -> dict[tuple, int]:
    """1-based line of every node of the YAML, by its path of keys and list indices."""
    out: dict[tuple, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return out

    def walk(node: Any, where: tuple) -> None:
        out[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                out[(*where, key.value)] = key.start_mark.line + 1
                walk(value, (*where, key.value))
                out[(*where, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*where, i))

    if root is not None:
        walk(root, ())
    return out


def _spec_problems(path: Path, exc: ValidationError, lines: dict[tuple, int],
                   raw: dict[str, Any]) -> list[Problem]:
    problems = []
    params = raw.get("parameters") if isinstance(raw.get("parameters"), list) else []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        shown = loc
        if len(loc) >= 2 and loc[0] == "parameters" and isinstance(loc[1], int) and loc[1] < len(params) \
                and isinstance(params[loc[1]], dict) and params[loc[1]].get("name"):
            shown = ("parameters", params[loc[1]]["name"], *loc[2:])
        line = None
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        rule = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            rule = "unknown key"
        where = ".".join(str(p) for p in shown) or None
        value = err.get("input") if err.get("type") != "missing" else None
        if isinstance(value, dict | list):
            value = None
        problems.append(Problem(str(path), line, where, value, rule))
    return problems


def _key_problem(dotted: str) -> str | None:
    """Why a dotted scenario key cannot be swept, or None if it can."""
    import difflib

    parts = dotted.split(".")
    if parts[0] in ("name", "extends", "description"):
        return f"'{parts[0]}' cannot be swept"
    schema: type[BaseModel] = ScenarioConfig
    for i, part in enumerate(parts):
        fields = schema.model_fields
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return f"unknown scenario key '{'.'.join(parts[:i + 1])}'{hint}"
        if i == len(parts) - 1:
            return None
        annotation = fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation
            continue
        if _is_mapping(annotation):
            return None  # free-form keys below, e.g. policy.open_sites_per_hub.YH.max
        return f"'{'.'.join(parts[:i + 1])}' has no sub-keys"
    return None


def _is_mapping(annotation: Any) -> bool:
    if typing.get_origin(annotation) is dict:
        return True
    return any(typing.get_origin(a) is dict or a is dict for a in typing.get_args(annotation))


def _check_parameter(sweep: Sweep, p: Parameter, path: Path, line: int | None) -> list[Problem]:
    where = f"parameters.{p.name}"
    problems: list[Problem] = []

    def problem(rule: str, value: object = None) -> None:
        problems.append(Problem(str(path), line, where, value, rule))

    if p.key is not None:
        reason = _key_problem(p.key)
        if reason:
            problem(reason, p.key)
        elif p.op != "set":
            base = _lookup(sweep.scenario.config.model_dump(mode="json"), p.key)
            numbers = base.values() if isinstance(base, dict) else [base]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
                problem(f"op {p.op} needs a number in the base scenario (it has {base!r})")
        return problems
    if p.table not in TABLES:
        problem(f"unknown table (known: {', '.join(TABLES)})", p.table)
        return problems
    table = TABLES[p.table]
    frame = sweep.frames.get(p.table)
    if p.column not in table.column_names:
        problem(f"unknown column of {p.table} (known: {', '.join(table.column_names)})", p.column)
        return problems
    column = table.column(p.column)
    if p.op != "set" and column.dtype not in ("int", "float"):
        problem(f"op {p.op} needs a numeric column ({p.column} is {column.dtype})")
    if p.op == "growth" and "year" not in table.column_names:
        problem(f"op growth needs a table with a year column ({p.table} has none)")
    if p.column in table.key:
        problem(f"{p.column} is part of the key of {p.table} and cannot be changed")
    for col in p.where:
        if col not in table.column_names:
            problem(f"filter on unknown column of {p.table} (known: {', '.join(table.column_names)})",
                    col)
    if p.hub is not None:
        if p.table not in HUB_TABLES:
            problem(f"a hub filter applies to {', '.join(HUB_TABLES)} only")
        else:
            hubs = set(sweep.frames["hubs"]["hub"])
            unknown = [h for h in _as_list(p.hub) if str(h) not in hubs]
            if unknown:
                problem("unknown hub", unknown)
    if not problems and frame is not None and not _row_mask(sweep.frames, p).any():
        problem(f"the filter matches no rows of {p.table}", {**p.where, **({"hub": p.hub} if p.hub else {})})
    return problems


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def _lookup(content: dict[str, Any], dotted: str) -> Any:
    node: Any = content
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part, node.get(_maybe_int(part)))
    return node


def _maybe_int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------------------------
# Designs


@dataclass
class Variant:
    """One point of the design, materialised: its overrides, changed tables and content key."""

    index: int
    label: str
    values: dict[str, Any]  # parameter name -> value (None: left as in the base)
    overrides: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, bytes] = field(default_factory=dict)  # relative file -> new bytes
    digest: str = ""

    @property
    def key(self) -> str:
        return self.digest[:16]


def design_points(spec: SweepSpec, base_config: dict[str, Any] | None = None) -> list[tuple[str, dict]]:
    """The design's points as (label, {parameter: value}); None means "as in the base"."""
    params = spec.parameters
    if spec.design == "grid":
        grids = [p.levels_for("grid") for p in params]
        return [(", ".join(f"{p.name}={_show(v)}" for p, v in zip(params, combo, strict=True)),
                 {p.name: v for p, v in zip(params, combo, strict=True)})
                for combo in itertools.product(*grids)]
    if spec.design == "one_at_a_time":
        bases = {p.name: _oat_base(p, base_config) for p in params}
        points = [("base", dict(bases))]
        for p in params:
            for v in p.levels_for("one_at_a_time"):
                if _same(v, bases[p.name]):
                    continue
                points.append((f"{p.name}={_show(v)}", {**bases, p.name: v}))
        return points
    from scipy.stats import qmc

    assert spec.variants is not None
    sample = qmc.LatinHypercube(d=len(params), seed=spec.seed).random(spec.variants)
    points = []
    for i, row in enumerate(sample):
        values = {p.name: _lhs_value(p, float(u)) for p, u in zip(params, row, strict=True)}
        points.append((f"lhs-{i + 1:04d}", values))
    return points


def _oat_base(p: Parameter, base_config: dict[str, Any] | None) -> Any:
    if p.base is not None:
        return p.base
    if p.op == "scale":
        return 1.0
    if p.op in ("add", "growth"):
        return 0.0
    if p.key is not None and base_config is not None:
        return _lookup(base_config, p.key)
    return None


def _lhs_value(p: Parameter, u: float) -> Any:
    if p.values is not None:
        return p.values[min(int(u * len(p.values)), len(p.values) - 1)]
    assert p.low is not None and p.high is not None
    if p.log:
        value = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        value = p.low + u * (p.high - p.low)
    return round(value) if p.integer else round(value, 10)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def build_variants(sweep: Sweep) -> list[Variant]:
    """Every variant of the sweep, materialised and keyed; variants with the same content (the
    same key) are kept once, at their first place in the design."""
    base_config = sweep.scenario.config.model_dump(mode="json")
    variants: list[Variant] = []
    seen: set[str] = set()
    for label, values in design_points(sweep.spec, base_config):
        variant = materialise(sweep, values, label=label, index=len(variants))
        if variant.digest in seen:
            log.info("variant %s has the same content as an earlier one; solved once", label)
            continue
        seen.add(variant.digest)
        variants.append(variant)
    return variants


def materialise(sweep: Sweep, values: dict[str, Any], label: str = "", index: int = 0) -> Variant:
    """Apply a design point to the base: config overrides, changed tables, and the content key."""
    spec = sweep.spec
    bundle = sweep.bundle
    base_config = sweep.scenario.config.model_dump(mode="json")
    overrides: dict[str, Any] = {"solver": spec.solver.model_dump()}
    frames: dict[str, pd.DataFrame] = {}
    for p in spec.parameters:
        value = values.get(p.name)
        # None leaves the base as it is, except that a scenario key can be set to null
        if value is None and not (p.key is not None and p.op == "set" and p.name in values):
            continue
        if p.key is not None:
            new = value if p.op == "set" else _apply_number(_lookup(base_config, p.key), p.op, value)
            overrides = deep_merge(overrides, _nested(p.key, new))
            continue
        if _is_identity(p.op, value):
            continue
        frame = frames.get(p.table) if p.table in frames else sweep.frames[p.table].copy()
        frames[p.table] = _apply_column(sweep, frame, p, value, base_config["base_year"])
    tables = {bundle.table_files[name]: frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
              for name, frame in frames.items()}
    merged = deep_merge(bundle.config, overrides)
    try:
        resolved = ScenarioConfig.model_validate(merged).model_dump(mode="json")
        resolved.pop("extends", None)
    except ValidationError:
        resolved = json.loads(json.dumps(merged, default=str))
    files = {name: _sha(tables.get(name, data)) for name, data in bundle.files.items()}
    digest = _digest({"config": resolved, "files": files})
    return Variant(index=index, label=label, values=dict(values), overrides=overrides, tables=tables,
                   digest=digest)


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(dotted.split(".")):
        out = {part: out}
    return out


def _is_identity(op: str, value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return (op == "scale" and value == 1) or (op in ("add", "growth") and value == 0)


def _apply_number(base: Any, op: str, value: Any) -> Any:
    if isinstance(base, dict):
        return {k: _apply_number(v, op, value) for k, v in base.items()}
    if op == "scale":
        return base * value
    return base + value


def _row_mask(frames: dict[str, pd.DataFrame], p: Parameter) -> pd.Series:
    frame = frames[p.table]
    mask = pd.Series(True, index=frame.index)
    table = TABLES[p.table]
    for col, wanted in p.where.items():
        if col in frame.columns:
            cells = frame[col]
        else:  # an optional column left out of the file: every row has its default
            default = table.column(col).default
            cells = pd.Series("" if default is None else str(default), index=frame.index)
        mask &= cells.map(lambda cell, w=wanted: any(_cell_equals(cell, x) for x in _as_list(w)))
    if p.hub is not None:
        hubs = {str(h) for h in _as_list(p.hub)}
        mask &= _hub_of_rows(frames, p.table).isin(hubs)
    return mask


def _hub_of_rows(frames: dict[str, pd.DataFrame], table: str) -> pd.Series:
    hub_of_fp = dict(zip(frames["footprints"]["footprint"], frames["footprints"]["hub"], strict=True))
    frame = frames[table]
    if table == "footprints":
        return frame["hub"]
    if table in ("demand", "sites"):
        return frame["footprint"].map(hub_of_fp)
    fp_of_site = dict(zip(frames["sites"]["site"], frames["sites"]["footprint"], strict=True))
    return frame["site"].map(fp_of_site).map(hub_of_fp)


def _cell_equals(cell: str, wanted: Any) -> bool:
    text = str(cell).strip()
    if isinstance(wanted, bool):
        return text.lower() in (("true", "yes", "1", "y", "t") if wanted else ("false", "no", "0", "n", "f"))
    if isinstance(wanted, int | float):
        try:
            return math.isclose(float(text), float(wanted), rel_tol=0, abs_tol=1e-9)
        except ValueError:
            return False
    return text == str(wanted)


def _apply_column(sweep: Sweep, frame: pd.DataFrame, p: Parameter, value: Any,
                  base_year: int) -> pd.DataFrame:
    table = TABLES[p.table]
    col = table.column(p.column)
    frames = {**sweep.frames, p.table: frame}
    mask = _row_mask(frames, p)
    if p.column not in frame.columns:  # an optional column left out of the file
        frame[p.column] = "" if col.default is None else _format(col.default, col.dtype)
    out = frame[p.column].copy()
    rows = frame.index[mask]
    if p.op == "set":
        out[rows] = _format(value, col.dtype)
    else:
        cells = frame.loc[rows, p.column].astype(str).str.strip()
        current = pd.to_numeric(cells.where(cells != "", str(col.default or 0.0)), errors="coerce")
        if p.op == "scale":
            new = current * float(value)
        elif p.op == "add":
            new = current + float(value)
        else:
            years = pd.to_numeric(frame.loc[rows, "year"], errors="coerce")
            new = current * (1.0 + float(value)) ** (years - base_year)
        ok = new.notna()  # a cell that is not a number is left for the loader to report
        out[new.index[ok]] = [_format(float(x), col.dtype) for x in new[ok]]
    frame[p.column] = out
    return frame


def _format(value: Any, dtype: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if dtype == "int" and isinstance(value, int | float):
        return str(int(round(value)))
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)


# ---------------------------------------------------------------------------------------------
# Solving one variant (runs on a Dask worker)

_BASE_DIRS: dict[str, tempfile.TemporaryDirectory] = {}
_BASE_LOCK = threading.Lock()


def _base_dir(bundle: dict[str, Any]) -> Path:
    """The flattened base scenario on this worker's disk, written once per process."""
    with _BASE_LOCK:
        holder = _BASE_DIRS.get(bundle["digest"])
        if holder is None:
            holder = tempfile.TemporaryDirectory(prefix="bedplan-sweep-base-")
            root = Path(holder.name)
            for name, data in bundle["files"].items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
            (root / SCENARIO_FILE).write_text(yaml.safe_dump(bundle["config"], sort_keys=False),
                                              encoding="utf-8")
            _BASE_DIRS[bundle["digest"]] = holder
        return Path(holder.name)


def solve_variant(bundle: dict[str, Any], overrides: dict[str, Any], tables: dict[str, bytes],
                  key: str, baseline: bool = False) -> dict[str, Any]:
    """Solve one variant; never raises for a bad variant: the status and reason say what happened.

    Returns a record (JSON-able) with a `decisions` DataFrame alongside.
    """
    from model.errors import InfeasibleError, NoSolutionError
    from model.run import solve_scenario

    start = time.perf_counter()
    record: dict[str, Any] = {"variant": key, "status": "error", "reason": "",
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    decisions = None
    with tempfile.TemporaryDirectory(prefix=f"bedplan-variant-{key}-") as tmp:
        folder = Path(tmp)
        content = {"extends": str(_base_dir(bundle)), **overrides}
        (folder / SCENARIO_FILE).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        for name, data in tables.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        try:
            result = solve_scenario(folder, runs_root=None, baseline=baseline, levers=False)
            record.update(_solved_record(result))
            decisions = _decision_rows(result)
        except ScenarioError as exc:
            problems = [str(p).replace(str(folder), "<variant>").replace(
                str(_base_dir(bundle)), "<base>") for p in exc.problems]
            more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
            record.update(status="invalid", reason="; ".join(problems[:5]) + more)
        except InfeasibleError as exc:
            record.update(status="infeasible", reason=_clean(str(exc), folder))
        except NoSolutionError as exc:
            record.update(status="no_solution", reason=_clean(str(exc), folder))
        except Exception as exc:  # a bug: recorded, and tried again on the next run
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            record.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                          traceback="".join(tb[-6:]))
    record["wall_seconds"] = time.perf_counter() - start
    record["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    log.info("variant %s: %s in %.1fs", key, record["status"], record["wall_seconds"])
    return {"record": record, "decisions": decisions}


def _clean(text: str, folder: Path) -> str:
    return text.replace(str(folder), "<variant>")


def _solved_record(result: Any) -> dict[str, Any]:
    outcome = result.outcome
    manifest = result.manifest
    out: dict[str, Any] = {
        "status": outcome.status,
        "reason": "" if outcome.status == "optimal" else
        f"time limit reached with a solution: gap {outcome.gap_rel or 0:.4%} not proven below "
        f"the target ({result.scenario.config.solver.mip_gap:g})",
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap_abs": outcome.gap_abs,
        "gap_rel": outcome.gap_rel,
        "gap_rel_controllable": manifest.get("gap_rel_controllable"),
        "solve_seconds": outcome.seconds,
        "build_seconds": manifest.get("build_seconds"),
        "terms": dict(result.solution.objective_terms),
        "size": dict(result.size),
    }
    kpi = result.kpis
    england = kpi[(kpi["scope"] == "england") & (kpi["year"].astype(str) == "all")]
    for case, prefix in (("optimised", ""), ("baseline", "baseline_")):
        rows = england[england["case"] == case]
        if not rows.empty:
            row = rows.iloc[0]
            out[f"{prefix}kpis"] = {k: float(row[k]) for k in row.index
                                    if k not in ("case", "scope", "id", "year")}
    if result.baseline is not None:
        out["baseline_objective"] = result.baseline.objective
    return out


def _decision_rows(result: Any) -> pd.DataFrame:
    dec = result.decisions
    if dec is None or dec.empty:
        return pd.DataFrame(columns=["site", "hub", "year", "action", "wards", "beds", "wards_before"])
    after = [c for c in dec.columns if c.startswith("wards_after_")]
    before = [c for c in dec.columns if c.startswith("wards_before_")]
    beds = [c for c in dec.columns if c.startswith("beds_after_")]
    out = dec[["site", "hub", "year", "action"]].copy()
    out["wards"] = dec[after].sum(axis=1).astype(int)
    out["beds"] = dec[beds].sum(axis=1).astype(int)
    out["wards_before"] = dec[before].sum(axis=1).astype(int)
    out["year"] = out["year"].astype(int)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Per-variant result files


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_variant(folder: Path, variant: Variant, outcome: dict[str, Any]) -> dict[str, Any]:
    """Write one finished variant: decisions parquet first, then the JSON record (its presence
    marks the variant done)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = dict(outcome["record"])
    record.update(variant=variant.key, digest=variant.digest, label=variant.label,
                  values=_jsonable(variant.values))
    decisions = outcome.get("decisions")
    if decisions is not None:
        buffer = io.BytesIO()
        decisions.to_parquet(buffer, index=False)
        _atomic_write(folder / f"{variant.key}.decisions.parquet", buffer.getvalue())
    text = json.dumps(_jsonable(record), indent=1, sort_keys=True) + "\n"
    _atomic_write(folder / f"{variant.key}.json", text.encode("utf-8"))
    return record


def read_variant(folder: Path, key: str) -> dict[str, Any] | None:
    path = folder / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


# ---------------------------------------------------------------------------------------------
# Running a sweep


@dataclass
class SweepRun:
    """What `run_sweep` did."""

    folder: Path
    variants: list[Variant]
    solved: list[str] = field(default_factory=list)  # keys solved in this run
    skipped: list[str] = field(default_factory=list)  # keys already done before this run
    failed: list[str] = field(default_factory=list)  # keys solved in this run without a solution
    results: pd.DataFrame | None = None
    interrupted: bool = False
    seconds: float = 0.0


Event = Callable[[str, dict[str, Any]], None]


def pending(sweep: Sweep, variants: list[Variant], runs_root: str | Path = "runs",
            retry_failed: bool = False) -> tuple[list[Variant], list[Variant]]:
    """(to solve, already done) for this sweep's variants, from the files in its folder."""
    folder = sweep.output_folder(runs_root) / VARIANTS_DIR
    todo, done = [], []
    for v in variants:
        record = read_variant(folder, v.key)
        retry = RETRIED + (("invalid", "infeasible", "no_solution") if retry_failed else ())
        if record is None or record.get("status") in retry:
            todo.append(v)
        else:
            done.append(v)
    return todo, done


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on the scheduler at `scheduler`, or on a new LocalCluster of `workers`
    processes (default: one per core) with one thread each and no dashboard."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    chatty = logging.getLogger("distributed")
    level = chatty.level
    chatty.setLevel(logging.WARNING)  # the scheduler runs in this process and logs every step
    try:
        with warnings.catch_warnings():
            # no dashboard; the scheduler's small HTTP server moves off a port in use, and says so
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
        with cluster, Client(cluster) as client:
            yield client
    finally:
        chatty.setLevel(level)


def run_sweep(sweep: Sweep | str | Path, runs_root: str | Path = "runs", workers: int | None = None,
              scheduler: str | None = None, client: Any = None, on_event: Event | None = None,
              retry_failed: bool = False, report: bool = True) -> SweepRun:
    """Run a sweep: solve every variant not already done, then consolidate and report.

    `client` (a ``distributed.Client``) is used as given; otherwise one is opened on `scheduler`
    or on a LocalCluster of `workers` processes. `on_event(kind, info)` is called with
    ("start", {total, todo, done}) and ("variant", record) as each variant finishes.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    started = time.perf_counter()
    emit = on_event or (lambda _kind, _info: None)
    out = sweep.output_folder(runs_root)
    vdir = out / VARIANTS_DIR
    vdir.mkdir(parents=True, exist_ok=True)
    for stale in vdir.glob(".*.tmp"):  # left by a sweep killed while writing
        stale.unlink(missing_ok=True)
    variants = build_variants(sweep)
    _write_plan(sweep, variants, out)
    todo, done = pending(sweep, variants, runs_root, retry_failed)
    run = SweepRun(folder=out, variants=variants, skipped=[v.key for v in done])
    log.info("sweep %s: %d variants, %d already done, %d to solve", sweep.name, len(variants),
             len(done), len(todo))
    emit("start", {"total": len(variants), "todo": len(todo), "done": len(done)})
    try:
        if todo:
            if client is not None:
                _execute(sweep, todo, client, vdir, run, emit)
            else:
                with dask_client(workers, scheduler) as own:
                    _execute(sweep, todo, own, vdir, run, emit)
    except KeyboardInterrupt:
        run.interrupted = True
        log.warning("sweep %s interrupted: %d variants finished in this run", sweep.name,
                    len(run.solved))
        raise
    finally:
        run.seconds = time.perf_counter() - started
        run.results = consolidate(sweep, variants, out)
        if report and not run.interrupted:
            from model.sweep_report import write_report

            write_report(sweep, out, run.results, run)
    return run


def _execute(sweep: Sweep, todo: list[Variant], client: Any, vdir: Path, run: SweepRun,
             emit: Event) -> None:
    from distributed import as_completed

    bundle = client.scatter(sweep.bundle.payload(), broadcast=True, hash=False)
    by_future = {}
    for v in todo:
        future = client.submit(solve_variant, bundle, v.overrides, v.tables, v.key,
                               sweep.spec.baseline, key=f"bedplan-variant-{v.key}-{secrets.token_hex(3)}",
                               pure=False, priority=-v.index)
        by_future[future] = v
    try:
        for future in as_completed(list(by_future)):
            v = by_future.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a lost worker (KilledWorker) or a transport failure
                outcome = {"record": {"variant": v.key, "status": "error",
                                      "reason": f"{type(exc).__name__}: {exc}"}, "decisions": None}
            record = write_variant(vdir, v, outcome)
            run.solved.append(v.key)
            if record["status"] not in SOLVED:
                run.failed.append(v.key)
            log.info("variant %s (%s): %s %s", v.key, v.label, record["status"], record.get("reason", ""))
            emit("variant", record)
    finally:
        for future in by_future:
            future.cancel()


def _write_plan(sweep: Sweep, variants: list[Variant], out: Path) -> None:
    plan = {
        "sweep": sweep.name,
        "sweep_file": sweep.path.name,
        "spec": sweep.spec.model_dump(mode="json"),
        "base_scenario": sweep.scenario.config.name,
        "base_digest": sweep.bundle.digest,
        "variants": [{"index": v.index, "variant": v.key, "label": v.label,
                      "values": _jsonable(v.values)} for v in variants],
    }
    _atomic_write(out / PLAN_FILE, (json.dumps(plan, indent=1) + "\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Consolidation


def consolidate(sweep: Sweep, variants: list[Variant], out: Path) -> pd.DataFrame:
    """Gather the per-variant files of this sweep's current variants into results.parquet (one
    row per variant; variants not finished yet have status `pending`) and decisions.parquet."""
    vdir = out / VARIANTS_DIR
    rows = []
    decision_frames = []
    params = [p.name for p in sweep.spec.parameters]
    for v in variants:
        record = read_variant(vdir, v.key) or {"status": "pending", "reason": "not solved yet"}
        row: dict[str, Any] = {"variant": v.key, "index": v.index, "label": v.label}
        for name in params:
            row[name] = v.values.get(name)
        row["status"] = record.get("status")
        row["reason"] = record.get("reason", "")
        for k in ("objective", "bound", "gap_abs", "gap_rel", "gap_rel_controllable", "solve_seconds",
                  "build_seconds", "wall_seconds", "baseline_objective"):
            row[k] = record.get(k)
        row["worker"] = record.get("worker")
        row["finished_utc"] = record.get("finished_utc")
        for k, value in (record.get("terms") or {}).items():
            row[f"term_{k}"] = value
        for k, value in (record.get("kpis") or {}).items():
            row[k] = value
        for k, value in (record.get("baseline_kpis") or {}).items():
            row[f"baseline_{k}"] = value
        rows.append(row)
        path = vdir / f"{v.key}.decisions.parquet"
        if record.get("status") in SOLVED and path.exists():
            frame = pd.read_parquet(path)
            frame.insert(0, "variant", v.key)
            decision_frames.append(frame)
    results = pd.DataFrame(rows)
    for name in params:
        results[name] = _param_column(results[name])
    buffer = io.BytesIO()
    results.to_parquet(buffer, index=False)
    _atomic_write(out / RESULTS_FILE, buffer.getvalue())
    decisions = (pd.concat(decision_frames, ignore_index=True) if decision_frames else
                 pd.DataFrame(columns=["variant", "site", "hub", "year", "action", "wards", "beds",
                                       "wards_before"]))
    buffer = io.BytesIO()
    decisions.to_parquet(buffer, index=False)
    _atomic_write(out / DECISIONS_FILE, buffer.getvalue())
    return results


def _param_column(series: pd.Series) -> pd.Series:
    """A parameter's values as one parquet-friendly type: float, bool, or text."""
    present = [v for v in series if v is not None]
    if all(isinstance(v, bool) for v in present):
        return series.astype("boolean")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.to_numeric(series, errors="coerce").astype(float)
    return series.map(lambda v: None if v is None else _show(v)).astype("string")
