"""Writing the layers: the run's ``configuration.gpkg`` (with its QGIS styles), ``map.png``
and ``map.html``, and the GeoPackage, GeoJSON, shapefile and CSV files of an export."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from model.gis.fields import LAYER_DESCRIPTIONS, describe_field, shapefile_names
from model.gis.layers import Layers, build_layers
from model.gis.maps import render_html, render_png
from model.gis.qgis import layer_styles, qml_with_fields
from model.gis.styles import ATTRIBUTION
from model.gis.tables import BNG, WGS84, RunTables

if TYPE_CHECKING:
    from model.inputs import ModelInputs

# the package's messages keep the logger name the CLI prints and log filters match
log = logging.getLogger("model.gis")

GPKG_FILE = "configuration.gpkg"
# GeoPackage 1.2 holds all we write (features, attribute tables, layer descriptions, the
# layer_styles table) and older GDAL (before 3.3) and QGIS read it without the warning a newer
# version than they know gives; GDAL would otherwise write 1.4
GPKG_VERSION = "1.2"
_GEOMETRY_TYPES = {"sites": "Point", "flows": "LineString", "footprints": "MultiPolygon",
                   "hubs": "MultiPolygon"}


class RunRecord(Protocol):
    """What the GIS outputs need of a run's result: the manifest its warnings go to."""

    manifest: dict[str, Any]


def _write(frame: pd.DataFrame, path: Path, layer: str, driver: str, **kwargs: Any) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver,
                                geometry_type=_GEOMETRY_TYPES.get(layer), **kwargs)
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer, driver=driver, **kwargs)


def write_geopackage(layers: Layers, path: Path) -> Path:
    """Write every layer and its default QGIS style into one GeoPackage (EPSG:27700)."""
    if path.exists():
        raise FileExistsError(path)
    bng = layers if layers.sites.crs.to_epsg() == BNG else layers.to_crs(BNG)
    for i, (name, frame) in enumerate(bng.tables().items()):
        description = f"{LAYER_DESCRIPTIONS[name]}. {ATTRIBUTION}"
        created = {"dataset_options": {"VERSION": GPKG_VERSION}} if i == 0 else {}
        _write(frame, path, name, "GPKG", layer_options={"DESCRIPTION": description}, **created)
    geometry_columns = {name: pyogrio.read_info(path, layer=name).get("geometry_name") or "geom"
                        for name in bng.spatial()}
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(microsecond=0))
    rows = []
    for name, (style_name, qml, sld) in layer_styles(bng).items():
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": geometry_columns[name], "styleName": style_name,
                     "styleQML": qml, "styleSLD": sld, "useAsDefault": True,
                     "description": f"bedplan default style for {name}", "owner": "", "ui": "",
                     "update_time": now})
    # the layer QGIS itself creates when saving a style: same columns, FID column "id"
    pyogrio.write_dataframe(pd.DataFrame(rows), path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})
    return path


def write_gis_outputs(out: Path, inputs: ModelInputs, result: RunRecord) -> None:
    """The run's GIS files: configuration.gpkg, map.png and map.html (from the CSVs in `out`).

    A failure here is logged and recorded in the manifest's warnings; it never loses the run.
    """
    scenario = inputs.scenario
    warnings = result.manifest.setdefault("warnings", [])
    try:
        layers = build_layers(scenario, RunTables.read(out))
    except Exception as exc:  # GIS outputs are an extra: never lose the run
        log.exception("GIS layers not written")
        warnings.append(f"GIS outputs not written: {exc}")
        return
    warnings.extend(layers.warnings)
    steps = [("configuration.gpkg", lambda: write_geopackage(layers, out / GPKG_FILE)),
             ("map.png", lambda: render_png(layers, out / "map.png")),
             ("map.html", lambda: render_html(layers, out / "map.html"))]
    for name, step in steps:
        try:
            step()
        except Exception as exc:
            log.exception("%s not written", name)
            warnings.append(f"{name} not written: {exc}")
            (out / name).unlink(missing_ok=True)


def write_format(fmt: str, layers: Layers, folder: Path, stem: str) -> dict[str, dict[str, str]]:
    """Write the layers in `fmt` into `folder`; returns the shapefile field renames by layer."""
    if fmt == "gpkg":
        write_geopackage(layers, folder / f"{stem}.gpkg")
        return {}
    if fmt == "geojson":
        wgs = layers.to_crs(WGS84)
        for name, frame in wgs.tables().items():
            if isinstance(frame, gpd.GeoDataFrame):
                _write(frame, folder / f"{name}.geojson", name, "GeoJSON",
                       layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
            else:
                frame.to_csv(folder / f"{name}.csv", index=False)
        return {}
    if fmt == "csv":
        for name, frame in csv_tables(layers).items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        return {}
    renames: dict[str, dict[str, str]] = {}
    rows = []
    for name, frame in layers.tables().items():
        mapping = shapefile_names(frame.columns)
        renames[name] = mapping
        for original, short in mapping.items():
            rows.append({"layer": name, "field": original, "shapefile_field": short,
                         "renamed": original != short,
                         "description": describe_field(original, name)})
        renamed = frame.rename(columns=mapping)
        _write(renamed, folder / (f"{name}.shp" if name in layers.spatial() else f"{name}.dbf"),
               name, "ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
    # <layer>.qml beside <layer>.shp: QGIS applies it when the shapefile is opened
    for name, (_style, qml, _sld) in layer_styles(layers).items():
        (folder / f"{name}.qml").write_text(qml_with_fields(qml, renames[name]), encoding="utf-8")
    pd.DataFrame(rows).to_csv(folder / "fields.csv", index=False)
    return renames


def csv_tables(layers: Layers) -> dict[str, pd.DataFrame]:
    """The layers as plain tables: geometry as WKT in WGS84 (EPSG:4326, lon lat order)."""
    wgs = layers.to_crs(WGS84)
    out = {}
    for name, frame in wgs.tables().items():
        if isinstance(frame, gpd.GeoDataFrame):
            table = pd.DataFrame(frame.drop(columns="geometry"))
            if name == "flows" and len(frame):
                coords = [list(g.coords) for g in frame.geometry]
                table["from_lon"] = [c[0][0] for c in coords]
                table["from_lat"] = [c[0][1] for c in coords]
                table["to_lon"] = [c[-1][0] for c in coords]
                table["to_lat"] = [c[-1][1] for c in coords]
            table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7,
                                          trim=True)
            out[name] = table
        else:
            out[name] = frame
    return out

