"""The base scenario as a bundle of bytes: what the workers get, and what variant keys hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.config import deep_merge, layered_changes, resolve_layers
from model.data import find_file
from model.dictionary import TABLES


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
    read: dict[Path, dict[str, Any]] = {}  # each layer's scenario.yaml parsed once
    layers = resolve_layers(folder, read)
    config: dict[str, Any] = {}
    for layer in layers:
        config = deep_merge(config, read[layer])
    config.pop("extends", None)
    config.pop("changes", None)  # merged key by key they would be wrong: applied below instead
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
    files.update(_changed_tables(folder, layers, table_files, read))
    bundle = Bundle(config=config, files=files, table_files=table_files)
    bundle.digest = content_digest({"config": config, "files": {k: sha_hex(v) for k, v in files.items()}})
    return bundle


def _changed_tables(folder: Path, layers: list[Path], table_files: dict[str, str],
                    read: dict[Path, dict[str, Any]]) -> dict[str, bytes]:
    """The tables the base's `changes:` touch, as the base sees them after the changes: a variant
    edits these, and a variant's copy of a table must not drop the base's changes to it."""
    placed, _problems = layered_changes(layers, read=read)
    if not placed:
        return {}
    from model.data import load_scenario

    scenario = load_scenario(folder)
    out = {}
    for name in sorted({p.change.table for p in placed}):
        frame = scenario.tables[name]
        out[TABLES[name].file] = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        table_files[name] = TABLES[name].file
    return out


def sha_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(content: Any) -> str:
    """A hash of JSON-able content that does not depend on key order."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return sha_hex(text.encode("utf-8"))
