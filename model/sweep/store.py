"""A sweep's folder: its types, file names and statuses, the per-variant files and their
consolidation into results.parquet and decisions.parquet.

The runner and the report both build on this module, so neither needs the other's names.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import OutputError
from model.outputs import write_atomic
from model.sweep.bundle import Bundle
from model.sweep.spec import SweepSpec, show_value

SWEEPS_DIR = "sweeps"
VARIANTS_DIR = "variants"
RESULTS_FILE = "results.parquet"
DECISIONS_FILE = "decisions.parquet"
PLAN_FILE = "sweep.json"
BASE_PLAN_FILE = "base_plan.json"  # the base scenario's plan every variant starts from
#: statuses with a solution; `invalid`, `infeasible`, `no_solution` and `error` have none
SOLVED = ("optimal", "feasible")
#: statuses recorded but tried again on the next run (a bug or a lost worker, not the input)
RETRIED = ("error",)


@dataclass
class Sweep:
    """A loaded, checked sweep: its spec, where it lives and its base scenario."""

    spec: SweepSpec
    path: Path
    base_folder: Path
    scenario: Any  # model.data.ScenarioData of the base
    bundle: Bundle

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def output_folder(self, runs_root: str | Path = "runs") -> Path:
        return Path(runs_root) / SWEEPS_DIR / self.name


@dataclass
class Variant:
    """One point of the design, materialised: its overrides (table parameters as `changes`) and
    content key."""

    index: int
    label: str
    values: dict[str, Any]  # parameter name -> value (None: left as in the base)
    overrides: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    @property
    def key(self) -> str:
        return self.digest[:16]


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
    cluster: str = ""  # which Dask cluster solved the variants, and with how many workers
    workers: int = 0


LOCK_FILE = ".lock"


@contextlib.contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """Hold the sweep folder for this process: a second sweep of the same file at once would
    solve every variant twice and interleave the records. A lock left by a process that no
    longer runs is taken over."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None:
                raise OutputError(f"another sweep (process {holder}) is writing {out}: wait for it "
                                  f"to finish, or remove {path} if it is no longer running") from None
            path.unlink(missing_ok=True)  # stale: its process has gone
    else:
        raise OutputError(f"cannot lock {out}")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _lock_holder(path: Path) -> int | None:
    """The process holding the lock at `path`, if it still runs."""
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


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
        write_atomic(folder / f"{variant.key}.decisions.parquet", buffer.getvalue())
    text = json.dumps(_jsonable(record), indent=1, sort_keys=True) + "\n"
    write_atomic(folder / f"{variant.key}.json", text.encode("utf-8"))
    return record


def read_variant(folder: Path, variant: Variant) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a finished variant whose files pass their checks; (None, None) when
    it has no record yet; (None, why) when its record cannot be trusted: unreadable, not a
    record, written for another variant (its key and digest are in it), or solved without a
    readable decisions file. A record that fails is solved again, never reported."""
    path = folder / f"{variant.key}.json"
    if not path.exists():
        return None, None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "its record is unreadable"
    if not isinstance(record, dict) or "status" not in record:
        return None, "its record is not a variant record"
    if record.get("variant") != variant.key or record.get("digest") != variant.digest:
        return None, "its record belongs to another variant"
    if record["status"] in SOLVED:
        try:
            pd.read_parquet(folder / f"{variant.key}.decisions.parquet")
        except Exception:  # missing, truncated, not parquet: pyarrow raises several types
            return None, "its decisions file is missing or unreadable"
    return record, None


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


def write_plan(sweep: Sweep, variants: list[Variant], out: Path) -> None:
    plan = {
        "sweep": sweep.name,
        "sweep_file": sweep.path.name,
        "spec": sweep.spec.model_dump(mode="json"),
        "base_scenario": sweep.scenario.config.name,
        "base_digest": sweep.bundle.digest,
        "variants": [{"index": v.index, "variant": v.key, "label": v.label,
                      "values": _jsonable(v.values)} for v in variants],
    }
    write_atomic(out / PLAN_FILE, (json.dumps(plan, indent=1) + "\n").encode("utf-8"))


def consolidate(sweep: Sweep, variants: list[Variant], out: Path) -> pd.DataFrame:
    """Gather the per-variant files of this sweep's current variants into results.parquet (one
    row per variant; variants not finished yet have status `pending`) and decisions.parquet."""
    vdir = out / VARIANTS_DIR
    rows = []
    decision_frames = []
    params = [p.name for p in sweep.spec.parameters]
    for v in variants:
        record, problem = read_variant(vdir, v)
        record = record or {"status": "pending",
                            "reason": f"to solve again: {problem}" if problem else "not solved yet"}
        row: dict[str, Any] = {"variant": v.key, "index": v.index, "label": v.label}
        for name in params:
            row[name] = v.values.get(name)
        row["status"] = record.get("status")
        row["reason"] = record.get("reason", "")
        for k in ("objective", "bound", "gap_abs", "gap_rel", "gap_rel_controllable", "solve_seconds",
                  "build_seconds", "wall_seconds", "baseline_objective", "start_from", "start_used",
                  "crossover_seconds", "crossover_with", "crossover_improved"):
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
    write_atomic(out / RESULTS_FILE, buffer.getvalue())
    decisions = (pd.concat(decision_frames, ignore_index=True) if decision_frames else
                 pd.DataFrame(columns=["variant", "site", "hub", "year", "action", "wards", "beds",
                                       "wards_before"]))
    buffer = io.BytesIO()
    decisions.to_parquet(buffer, index=False)
    write_atomic(out / DECISIONS_FILE, buffer.getvalue())
    return results


def _param_column(series: pd.Series) -> pd.Series:
    """A parameter's values as one parquet-friendly type: float, bool, or text."""
    present = [v for v in series if v is not None]
    if all(isinstance(v, bool) for v in present):
        return series.astype("boolean")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.to_numeric(series, errors="coerce").astype(float)
    return series.map(lambda v: None if v is None else show_value(v)).astype("string")


def write_base_plan(out: Path, plan: dict[str, Any]) -> None:
    write_atomic(out / BASE_PLAN_FILE, (json.dumps(_jsonable(plan), indent=None) + "\n").encode("utf-8"))


def read_base_plan(out: Path, digest: str) -> dict[str, Any] | None:
    """The base plan solved for this base (same digest) by an earlier run of the sweep, if it found
    one (a base solve that found no plan is tried again)."""
    try:
        plan = json.loads((out / BASE_PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(plan, dict) or plan.get("digest") != digest or not plan.get("start"):
        return None
    return plan
