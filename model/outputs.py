"""Writing a run folder safely: everything goes to a hidden temporary folder first, the
manifest is written last, and the folder is renamed into place only when complete."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from model.errors import OutputError

MANIFEST = "manifest.json"
# The attribution every map and GIS file derived from the ONS boundaries carries.
ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government Licence "
               "v.3.0. Contains OS data © Crown copyright and database right 2017.")
INCOMPLETE_PREFIX = ".incomplete-"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, collision-resistant run id: UTC time to the millisecond plus random hex
    (to the second, two runs of a small scenario started in the same second sorted at random)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + secrets.token_hex(3)


class RunFolder:
    """A run being written: `path` while writing, `final` once renamed into place."""

    def __init__(self, path: Path | None):
        self.path = path
        self.final: Path | None = None


@contextmanager
def run_folder(runs_root: Path, scenario: str, run_id: str | None = None) -> Iterator[RunFolder]:
    """Yield a temporary folder to write a run into; on success rename it to its final name.

    If the body raises, the temporary folder is removed; if the process dies, it is left with
    its `.incomplete-` name, so nothing that looks like a finished run is left behind. An
    existing run folder is never overwritten: a clash gets a fresh id.
    """
    parent = runs_root / scenario
    parent.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id()
    folder = RunFolder(parent / f"{INCOMPLETE_PREFIX}{run_id}")
    try:
        folder.path.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create a run folder in {parent}: {exc.strerror or exc}") from exc
    try:
        yield folder
    except OutputError as exc:
        _leave_incomplete(folder.path, str(exc))
        raise
    except OSError as exc:  # disk full, permissions changed under us...
        message = f"could not write {exc.filename or folder.path}: {exc.strerror or exc}"
        _leave_incomplete(folder.path, message)
        raise OutputError(f"{message}; what was written is in {folder.path}") from exc
    except BaseException:
        shutil.rmtree(folder.path, ignore_errors=True)
        raise
    final = parent / run_id
    while final.exists():
        final = parent / f"{run_id}-{secrets.token_hex(2)}"
    os.rename(folder.path, final)
    folder.final = final


INCOMPLETE_REASON = "INCOMPLETE.txt"


def _leave_incomplete(path: Path, reason: str) -> None:
    """Keep a failed run's folder under its `.incomplete-` name with the reason, if the disk
    lets us write even that."""
    with contextlib.suppress(OSError):
        (path / INCOMPLETE_REASON).write_text(reason + "\n", encoding="utf-8")


def check_writable(folder: Path) -> None:
    """Fail before any work if runs cannot be written into `folder`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write runs into {folder}: {exc.strerror or exc}") from exc


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format="%.12g")


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` so that a reader sees the old file or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(content: dict, path: Path) -> None:
    write_atomic(path, (json.dumps(content, indent=2, default=_json_default) + "\n").encode("utf-8"))


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)
