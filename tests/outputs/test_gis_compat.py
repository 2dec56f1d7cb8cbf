"""What older GIS software and a planner met: the GeoPackage version older GDAL and QGIS read
without a warning, QGIS styles beside the shapefiles (with their shortened field names), one
abbreviation per word in every shortened field name, and an export that refuses to overwrite
saying so."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.gis import shapefile_names
from model.gis.write import GPKG_VERSION

runner = CliRunner()


@pytest.fixture(scope="module")
def shapefiles(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("shp")
    result = runner.invoke(app, ["export", str(demo_run.run_dir), "--format", "shapefile",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_geopackage_is_version_1_2(demo_run):
    assert GPKG_VERSION == "1.2"
    con = sqlite3.connect(demo_run.run_dir / "configuration.gpkg")
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    finally:
        con.close()
    assert app_id == 0x47504B47 and version == 10200  # 'GPKG', 1.2.0
    assert kinds["site_years"] == "attributes" and kinds["sites"] == "features"
    assert len(pyogrio.read_dataframe(demo_run.run_dir / "configuration.gpkg", layer="sites")) > 0


def test_a_qgis_style_beside_each_styled_shapefile(shapefiles):
    fields = pd.read_csv(shapefiles / "fields.csv")
    for layer in ("sites", "footprints", "flows", "hubs"):
        qml = (shapefiles / f"{layer}.qml").read_text(encoding="utf-8")
        root = ET.fromstring(qml.partition("\n")[2])
        names = set(pyogrio.read_info(shapefiles / f"{layer}.shp")["fields"])
        used = {e.get(k) for e in root.iter() for k in ("attr", "fieldName") if e.get(k)}
        used |= {a.get("field") for a in root.iter("alias")}
        used |= set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', root.findtext("mapTip") or ""))
        assert used and used <= names, (layer, used - names)
    renamed = fields[(fields["layer"] == "footprints") & (fields["field"] == "in_hub_share")]
    assert renamed["shapefile_field"].iloc[0] != "in_hub_share"  # the style follows the rename
    assert 'attr="in_hub_shr"' in (shapefiles / "footprints.qml").read_text()
    assert "<layer>.qml" in (shapefiles / "README.txt").read_text()


def test_one_abbreviation_per_word():
    names = shapefile_names(["wards_base_medium", "beds_base_medium", "wards_final",
                             "beds_final", "wards_after_low", "beds_after_low",
                             "wards_converted_in", "wards_converted_out"])
    # names that fit stay; a long name has every word abbreviated, the same way everywhere
    assert names == {"wards_base_medium": "wd_b_med", "beds_base_medium": "bd_b_med",
                     "wards_final": "wd_f", "beds_final": "beds_final",
                     "wards_after_low": "wd_aft_low", "beds_after_low": "bd_aft_low",
                     "wards_converted_in": "wd_cnv_in", "wards_converted_out": "wd_cnv_out"}


def test_export_refusal_is_worded_as_a_refusal(shapefiles, demo_run):
    again = runner.invoke(app, ["export", str(demo_run.run_dir), "--format", "shapefile",
                                "--output", str(shapefiles)])
    assert again.exit_code == 5
    assert "refusing to overwrite" in again.output and "Invalid input" not in again.output
