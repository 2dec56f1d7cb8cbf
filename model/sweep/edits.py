"""How a variant changes the base: overrides of scenario.yaml keys, and table parameters as
scenario changes (``changes:``, applied to the validated tables in memory by ``model.changes``,
the same engine and vocabulary as a scenario's own changes).

A variant's key hashes its resolved configuration (its changes included) and the base's files,
so it changes only with what the variant changes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from model.config import ScenarioConfig, deep_merge
from model.sweep.bundle import content_digest, sha_hex
from model.sweep.spec import Parameter
from model.sweep.store import Sweep, Variant


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def lookup(content: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted scenario key (None if absent); a part may be an integer key."""
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


def materialise(sweep: Sweep, values: dict[str, Any], label: str = "", index: int = 0) -> Variant:
    """Apply a design point to the base: config overrides, table changes, and the content key."""
    spec = sweep.spec
    bundle = sweep.bundle
    base_config = sweep.scenario.config.model_dump(mode="json")
    overrides: dict[str, Any] = {"solver": spec.solver.model_dump()}
    changes: list[dict[str, Any]] = []
    for p in spec.parameters:
        value = _plain(values.get(p.name))
        # None leaves the base as it is, except that a scenario key can be set to null
        if value is None and not (p.key is not None and p.op == "set" and p.name in values):
            continue
        if p.key is not None:
            new = value if p.op == "set" else _apply_number(lookup(base_config, p.key), p.op, value)
            overrides = deep_merge(overrides, _nested(p.key, new))
            continue
        if not _is_identity(p.op, value):
            changes.append(table_change(p, value))
    if changes:
        overrides["changes"] = changes
    merged = deep_merge(bundle.config, overrides)
    try:
        resolved = ScenarioConfig.model_validate(merged).model_dump(mode="json")
        resolved.pop("extends", None)
    except ValidationError:
        resolved = json.loads(json.dumps(merged, default=str))
    files = {name: sha_hex(data) for name, data in bundle.files.items()}
    digest = content_digest({"config": resolved, "files": files})
    return Variant(index=index, label=label, values=dict(values), overrides=overrides, digest=digest)


def table_change(p: Parameter, value: Any) -> dict[str, Any]:
    """A table parameter at `value`, as a scenario change."""
    change: dict[str, Any] = {"table": p.table, "column": p.column, "op": p.op, "value": value}
    if p.where:
        change["where"] = p.where
    if p.hub is not None:
        change["hub"] = p.hub
    return change


def _plain(value: Any) -> Any:
    """numpy numbers (from a design) as Python ones: they travel as YAML and JSON."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str | bytes) else value


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
