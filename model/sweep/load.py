"""Loading a sweep file and checking it against its base scenario, every problem at once."""

from __future__ import annotations

import difflib
import logging
import math
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from model.changes import HUB_OF, row_mask
from model.config import Change, ScenarioConfig, read_yaml
from model.data import load_scenario
from model.dictionary import TABLES
from model.errors import Problem, ScenarioError, pydantic_problems
from model.sweep.bundle import make_bundle
from model.sweep.edits import as_list, lookup, table_change
from model.sweep.spec import Parameter, SweepSpec
from model.sweep.store import Sweep

log = logging.getLogger(__name__)


def load_sweep(path: str | Path) -> Sweep:
    """Load and check a sweep file against its base scenario; every problem is raised at once
    as a :class:`ScenarioError` (exit code 2 at the command line)."""
    path = Path(path)
    raw, text = read_yaml(path, not_found="sweep file not found")
    lines = _yaml_lines(text)
    problems: list[Problem] = []
    spec = None
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        problems += _spec_problems(path, exc, lines, raw)

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
    params = raw.get("parameters") if isinstance(raw.get("parameters"), list) else []

    def by_name(loc: tuple) -> tuple:  # a parameter is named by its name, not its index
        if len(loc) >= 2 and loc[0] == "parameters" and isinstance(loc[1], int) and loc[1] < len(params) \
                and isinstance(params[loc[1]], dict) and params[loc[1]].get("name"):
            return ("parameters", params[loc[1]]["name"], *loc[2:])
        return loc

    return pydantic_problems(path, exc, lines=lines, shown=by_name, plain=True)


def _key_problem(dotted: str) -> str | None:
    """Why a dotted scenario key cannot be swept, or None if it can."""
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
            base = lookup(sweep.scenario.config.model_dump(mode="json"), p.key)
            numbers = base.values() if isinstance(base, dict) else [base]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
                problem(f"op {p.op} needs a number in the base scenario (it has {base!r})")
        return problems
    if p.table not in TABLES:
        problem(f"unknown table (known: {', '.join(TABLES)})", p.table)
        return problems
    table = TABLES[p.table]
    frame = sweep.scenario.tables.get(p.table)
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
        if p.table not in HUB_OF:
            problem(f"a hub filter applies to {', '.join(HUB_OF)} only")
        else:
            hubs = set(sweep.scenario.tables["hubs"]["hub"])
            unknown = [h for h in as_list(p.hub) if str(h) not in hubs]
            if unknown:
                problem("unknown hub", unknown)
    if not problems and frame is not None and not _selects_rows(sweep, p):
        problem(f"the filter matches no rows of {p.table}", {**p.where, **({"hub": p.hub} if p.hub else {})})
    return problems


def _selects_rows(sweep: Sweep, p: Parameter) -> bool:
    """Whether the parameter's filters select a row of the base (as its changes will see it)."""
    change = Change.model_validate({**table_change(p, 1.0 if p.op != "set" else None), "op": "set"})
    table = TABLES[p.table]
    return bool(row_mask(sweep.scenario.tables[p.table], table, change, sweep.scenario.tables).any())
