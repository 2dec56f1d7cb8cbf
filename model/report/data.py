"""What the report reads from a run folder: the manifest, the result tables as written, and the
GeoPackage's site and footprint layers (which carry the names, hubs and per-footprint KPIs).
The report is built from these files only, so ``bedplan report`` on any finished run folder
gives the same report the run wrote."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from model.errors import Problem, ScenarioError

log = logging.getLogger(__name__)

_IDS = {"site": str, "footprint": str, "hub": str, "id": str, "year": str, "case": str,
        "scope": str, "name": str, "hub_name": str}


@dataclass
class RunData:
    folder: Path
    manifest: dict
    decisions: pd.DataFrame
    kpis: pd.DataFrame
    saving: pd.DataFrame | None
    years: pd.DataFrame | None  # objective_by_year.csv
    sites: pd.DataFrame | None  # the GeoPackage's sites layer (no geometry)
    footprints: pd.DataFrame | None  # the GeoPackage's footprints layer (no geometry)
    prices: pd.DataFrame | None = None  # price.csv: the price of each fixed decision
    assumptions: str | None = None  # the scenario's ASSUMPTIONS.md, when it can be found
    notes: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return str(self.manifest.get("scenario") or self.folder.parent.name)

    def hubs(self) -> list[tuple[str, str]]:
        """(hub, hub name) of every hub with a site or a footprint, in name order."""
        pairs = set(zip(self.decisions["hub"], self.decisions["hub_name"], strict=True))
        if self.footprints is not None:
            pairs |= set(zip(self.footprints["hub"], self.footprints["hub_name"], strict=True))
        return sorted(pairs, key=lambda p: (str(p[1]), str(p[0])))

    def kpi(self, case: str, scope: str, ident: str | None = None,
            year: str = "all") -> pd.Series | None:
        k = self.kpis
        rows = k[(k["case"] == case) & (k["scope"] == scope) & (k["year"] == year)]
        if ident is not None:
            rows = rows[rows["id"] == ident]
        return None if rows.empty else rows.iloc[0]


def read_run(folder: Path) -> RunData:
    folder = Path(folder)
    needed = ("manifest.json", "decisions.csv", "kpis.csv")
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise ScenarioError([Problem(str(folder / n), None, None, None,
                                     "missing: not a finished run folder with a solution")
                             for n in missing])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    def csv(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.exists():
            return None
        return pd.read_csv(path, keep_default_na=False, na_values=[""],
                           dtype={k: v for k, v in _IDS.items()})

    data = RunData(folder=folder, manifest=manifest, decisions=csv("decisions.csv"),
                   kpis=csv("kpis.csv"), saving=csv("saving.csv"), years=csv("objective_by_year.csv"),
                   sites=_layer(folder / "configuration.gpkg", "sites"),
                   footprints=_layer(folder / "configuration.gpkg", "footprints"),
                   prices=csv("price.csv"))
    data.assumptions = _assumptions(folder, manifest)
    if data.assumptions is None:
        data.notes.append("The scenario's ASSUMPTIONS.md was not found beside this run, so its "
                          "list of illustrative values is not repeated here.")
    return data


def _layer(gpkg: Path, layer: str) -> pd.DataFrame | None:
    if not gpkg.exists():
        return None
    import pyogrio

    try:
        if layer not in {name for name, _kind in pyogrio.list_layers(gpkg)}:
            return None
        frame = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
    except Exception:  # the report must not fail on an unreadable extra
        log.exception("could not read layer %s of %s", layer, gpkg)
        return None
    for col in ("site", "footprint", "hub"):
        if col in frame.columns:
            frame[col] = frame[col].astype(str)
    return frame


def _assumptions(folder: Path, manifest: dict) -> str | None:
    """The scenario's ASSUMPTIONS.md: from the folder the manifest names (relative to where
    the run was made, usually the project), or the run folder's own copy."""
    candidates = [folder / "ASSUMPTIONS.md"]
    scenario = manifest.get("scenario_folder")
    if scenario:
        path = Path(scenario)
        candidates += [path / "ASSUMPTIONS.md"] if path.is_absolute() else [
            base / path / "ASSUMPTIONS.md" for base in (Path.cwd(), *folder.resolve().parents)]
    for extends in manifest.get("extends") or []:
        candidates += [Path(extends) / "ASSUMPTIONS.md"]
    for path in candidates:
        try:
            if path.is_file():
                return path.read_text(encoding="utf-8")
        except OSError:
            continue
    return None
