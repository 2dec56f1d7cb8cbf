"""``bedplan export``: re-export an existing run folder from its CSVs and its scenario as
GeoPackage, GeoJSON (RFC 7946, WGS84), shapefile (field names shortened deterministically,
listed in ``fields.csv``) or CSV with WKT, with a README; it never overwrites existing files."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from model.data import load_scenario
from model.errors import OutputError, Problem, ScenarioError
from model.gis.fields import LAYER_DESCRIPTIONS, describe_field
from model.gis.layers import Layers, build_layers
from model.gis.qgis import layer_styles
from model.gis.styles import ATTRIBUTION
from model.gis.tables import RunTables
from model.gis.write import write_format
from model.outputs import MANIFEST

# the package's messages keep the logger name the CLI prints and log filters match
log = logging.getLogger("model.gis")

FORMATS = ("gpkg", "geojson", "shapefile", "csv")


def find_scenario_folder(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """The scenario folder of a run: as recorded, relative to the working directory, or to
    the folders above the run folder (runs/<scenario>/<run-id> sits under the project)."""
    recorded = Path(manifest.get("scenario_folder", ""))
    candidates = [recorded] if recorded.is_absolute() else [
        Path.cwd() / recorded, *[parent / recorded for parent in run_dir.resolve().parents]]
    for folder in candidates:
        if (folder / "scenario.yaml").exists():
            return folder
    raise ScenarioError([Problem(str(run_dir / MANIFEST), None, "scenario_folder", str(recorded),
                                 "scenario folder not found (give it with --scenario)")])


def _read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    if not path.exists():
        raise ScenarioError([Problem(str(run_dir), None, None, None,
                                     f"not a complete run folder (no {MANIFEST})")])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError([Problem(str(path), exc.lineno, None, None,
                                     f"not valid JSON: {exc.msg}")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), None, None, None, f"cannot read: {exc}")]) from exc
    if not isinstance(manifest, dict):
        raise ScenarioError([Problem(str(path), None, None, None,
                                     "not a bedplan manifest (a JSON object is expected)")])
    return manifest


def _files_for(fmt: str, layers: Layers, stem: str) -> list[str]:
    names = list(layers.tables())
    spatial = set(layers.spatial())
    if fmt == "gpkg":
        return [f"{stem}.gpkg", "README.txt"]
    if fmt == "geojson":
        return [f"{n}.geojson" if n in spatial else f"{n}.csv" for n in names] + ["README.txt"]
    if fmt == "csv":
        return [f"{n}.csv" for n in names] + ["README.txt"]
    files = []
    for n in names:
        exts = (".shp", ".shx", ".dbf", ".prj", ".cpg") if n in spatial else (".dbf", ".cpg")
        files += [n + ext for ext in exts]
    files += [f"{n}.qml" for n in layer_styles(layers) if n in spatial]  # QGIS loads these
    return files + ["fields.csv", "README.txt"]


def export_run(run_dir: str | Path, fmt: str = "gpkg", year: int | None = None,
               output: str | Path | None = None, scenario: str | Path | None = None) -> list[Path]:
    """Re-export a run folder's recommended configuration; returns the files written.

    Raises ScenarioError (exit code 2) for a bad run folder, format or year; OutputError
    (exit code 5) when any file it would write exists already (nothing is overwritten).
    """
    run_dir = Path(run_dir)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ScenarioError([Problem("--format", None, "format", fmt,
                                     f"unknown format (choose one of {', '.join(FORMATS)})")])
    manifest = _read_manifest(run_dir)
    tables = RunTables.read(run_dir)
    folder = Path(scenario) if scenario else find_scenario_folder(run_dir, manifest)
    data = load_scenario(folder)
    recorded = manifest.get("input_sha256", {})
    changed = sorted(k for k, v in data.file_hashes().items() if k in recorded and recorded[k] != v)
    layers = build_layers(data, tables, year)
    if changed:
        message = (f"the scenario's files changed since the run ({', '.join(changed)}): site and "
                   "footprint attributes come from the files as they are now")
        log.warning(message)
        layers.warnings.append(message)
    suffix = f"-{year}" if year is not None else ""
    target = Path(output) if output else run_dir / "exports" / f"{fmt}{suffix}"
    stem = f"configuration{suffix}"
    files = _files_for(fmt, layers, stem)
    clashes = [f for f in files if (target / f).exists()]
    if clashes:
        raise OutputError(f"refusing to overwrite: {', '.join(clashes)} exist already in "
                          f"{target}; nothing was written (remove them or choose another "
                          "--output)")
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging_dir = tempfile.TemporaryDirectory(prefix=".export-", dir=target)
    except OSError as exc:  # --output is a file, or not writable
        raise OutputError(f"cannot write the export into {target}: {exc.strerror or exc}") from exc
    with staging_dir as tmp:
        staging = Path(tmp)
        renames = write_format(fmt, layers, staging, stem)
        (staging / "README.txt").write_text(_readme(fmt, layers, manifest, run_dir, renames),
                                            encoding="utf-8")
        written = []
        for name in files:
            src = staging / name
            if not src.exists():
                continue
            dst = target / name
            if dst.exists():  # appeared meanwhile: still never overwrite
                raise OutputError(f"refusing to overwrite {dst}: it appeared during the "
                                  "export; it was left as it was")
            shutil.move(str(src), dst)
            written.append(dst)
    return written


def _readme(fmt: str, layers: Layers, manifest: dict[str, Any], run_dir: Path,
            renames: dict[str, dict[str, str]]) -> str:
    crs = {"gpkg": "British National Grid (EPSG:27700)",
           "geojson": "WGS84 longitude/latitude (EPSG:4326, RFC 7946)",
           "shapefile": "British National Grid (EPSG:27700; see the .prj files)",
           "csv": "WGS84 longitude/latitude (EPSG:4326): WKT in column `wkt`, lon/lat columns"}[fmt]
    lines = [
        f"bedplan export: {layers.scenario}, run {manifest.get('run_id', run_dir.name)}",
        f"Format: {fmt}. Coordinates: {crs}.",
        "Recommended configuration (case 'optimised'); baseline = do nothing.",
        ("Years: all " f"{layers.years[0]}-{layers.years[-1]}" if layers.year is None
         else f"Year: {layers.year} (flows, site wards and KPIs of that year)"),
        "",
        ATTRIBUTION,
        "",
    ]
    if fmt == "shapefile":
        lines += ["Shapefile field names are limited to 10 characters: fields.csv lists every "
                  "layer's original and shapefile field names. Each styled layer has a QGIS style "
                  "beside it (<layer>.qml, using the shortened names), applied when QGIS opens "
                  "the shapefile.", ""]
    if fmt == "geojson":
        lines += ["site_years has no geometry: it is site_years.csv (join to sites on `site`).",
                  ""]
    for warning in layers.warnings:
        lines.append(f"Note: {warning}")
    if layers.warnings:
        lines.append("")
    for name, frame in layers.tables().items():
        lines.append(f"## {name}: {LAYER_DESCRIPTIONS[name].removeprefix('bedplan: ')} "
                     f"({len(frame)} rows)")
        short = renames.get(name, {})
        for col in frame.columns:
            if col == "geometry":
                continue
            shown = f"{col} (shapefile: {short[col]})" if short.get(col, col) != col else col
            lines.append(f"- {shown}: {describe_field(col, name)}")
        lines.append("")
    return "\n".join(lines)

