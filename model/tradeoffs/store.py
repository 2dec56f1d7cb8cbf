"""A trade-off folder on disk: its plan (what it was asked, and a digest of the scenario's
content), one record per solved point written atomically as it finishes (so a rerun solves only
what is missing, and only while the plan is the same), and the points' run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model.outputs import write_atomic
from model.sweep.bundle import content_digest, make_bundle

PLAN_FILE = "plan.json"
POINTS_DIR = "points"
RUNS_DIR = "runs"
#: statuses a finished point may have; `error` is tried again on the next run
DONE = ("optimal", "feasible", "bypassed", "infeasible", "no_solution", "repeat")


def plan_digest(scenario: Path, settings: dict[str, Any]) -> str:
    """A hash of the scenario's full content (every layer's configuration and input bytes) and
    the command's settings: a record made under another digest is not reused."""
    return content_digest({"scenario": make_bundle(scenario).digest, "settings": settings})


def write_plan(out: Path, plan: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / PLAN_FILE, (json.dumps(plan, indent=1, default=str) + "\n").encode("utf-8"))


def write_record(out: Path, label: str, record: dict[str, Any]) -> None:
    folder = out / POINTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, sort_keys=True, default=str) + "\n"
    write_atomic(folder / f"{label}.json", text.encode("utf-8"))


def read_record(out: Path, label: str, digest: str) -> dict[str, Any] | None:
    """The finished record of point `label` under this plan, or None (missing, unreadable,
    another plan's, an error, or its run folder gone)."""
    path = out / POINTS_DIR / f"{label}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("digest") != digest or record.get("status") not in DONE:
        return None
    run_dir = record.get("run_dir")
    if run_dir and not (out / run_dir / "manifest.json").exists():
        return None
    return record


def read_start(out: Path, label: str) -> list | None:
    path = out / POINTS_DIR / f"{label}.start.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def write_start(out: Path, label: str, start: list) -> None:
    folder = out / POINTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{label}.start.json", json.dumps(start).encode("utf-8"))
