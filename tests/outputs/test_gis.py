"""GIS outputs: configuration.gpkg (layers, CRS, attributes, QGIS styles), maps, `bedplan export`."""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from model.cli import app
from model.data import load_scenario
from model.errors import ScenarioError
from model.gis import (
    ACTION_STYLES,
    ATTRIBUTION,
    SHARE_CLASSES,
    RunTables,
    build_layers,
    find_scenario_folder,
    shapefile_names,
    write_geopackage,
)
from model.run import solve_scenario

DEMO = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "demo"
SPATIAL = {"sites": "POINT", "footprints": "MULTIPOLYGON", "flows": "LINESTRING",
           "hubs": "MULTIPOLYGON"}
QGIS_STYLE_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                      "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
                      "ui", "update_time"]
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    result = solve_scenario(DEMO, tmp_path_factory.mktemp("runs"))
    return result.run_dir


@pytest.fixture(scope="module")
def csvs(run_dir):
    kpis = pd.read_csv(run_dir / "kpis.csv", dtype={"year": str, "id": str})
    return {
        "decisions": pd.read_csv(run_dir / "decisions.csv", keep_default_na=False),
        "wards": pd.read_csv(run_dir / "wards.csv"),
        "allocation": pd.read_csv(run_dir / "allocation.csv"),
        "kpis": kpis[kpis["case"] == "optimised"],
        "baseline": kpis[kpis["case"] == "baseline"],
    }


@pytest.fixture(scope="module")
def gpkg(run_dir) -> Path:
    return run_dir / "configuration.gpkg"


def _read(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)


def _services() -> list[str]:
    services = pd.read_csv(DEMO / "services.csv")
    return list(services.loc[services["level"] != "community", "service"])


def _export(run_dir: Path, *args: str):
    return runner.invoke(app, ["export", str(run_dir), *args])


# --- the run folder ---------------------------------------------------------------------------

def test_run_writes_gis_files_before_the_manifest(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for name in ("configuration.gpkg", "map.png", "map.html"):
        assert (run_dir / name).stat().st_size > 0
        assert name in manifest["files"]
    assert not [w for w in manifest["warnings"] if "not written" in w]


def test_gpkg_layers_crs_counts_and_geometry(gpkg, csvs):
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"sites", "site_years", "footprints", "flows", "hubs", "layer_styles"} <= set(layers)
    expected = {
        "sites": len(pd.read_csv(DEMO / "sites.csv")),
        "footprints": len(pd.read_csv(DEMO / "footprints.csv")),
        "flows": len(csvs["allocation"][["footprint", "site", "year"]].drop_duplicates()),
        "hubs": len(pd.read_csv(DEMO / "hubs.csv")),
    }
    for name, count in expected.items():
        frame = _read(gpkg, name)
        assert frame.crs.to_epsg() == 27700, name
        assert len(frame) == count, name
        assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any(), name
        x0, y0, x1, y1 = frame.total_bounds  # inside Great Britain on the National Grid
        assert 0 < x0 < x1 < 700_000 and 0 < y0 < y1 < 1_300_000, name
    site_years = pyogrio.read_dataframe(gpkg, layer="site_years")
    assert len(site_years) == len(csvs["decisions"])


def test_sites_and_site_years_equal_decisions(gpkg, csvs):
    dec = csvs["decisions"]
    services = _services()
    sites = _read(gpkg, "sites").set_index("site")
    first, last = dec["year"].min(), dec["year"].max()
    for s, rows in dec.groupby("site"):
        start = rows[rows["year"] == first].iloc[0]
        end = rows[rows["year"] == last].iloc[0]
        for v in services:
            assert sites.at[s, f"wards_base_{v}"] == start[f"wards_before_{v}"]
            assert sites.at[s, f"beds_base_{v}"] == start[f"beds_before_{v}"]
            assert sites.at[s, f"wards_final_{v}"] == end[f"wards_after_{v}"]
            assert sites.at[s, f"beds_final_{v}"] == end[f"beds_after_{v}"]
        changed = rows[rows["action"] != "keep"]
        assert sites.at[s, "changes"] == "; ".join(
            f"{y} {a}" for y, a in zip(changed["year"], changed["action"], strict=True))
        assert (sites.at[s, "action"] == "keep") == changed.empty
        assert sites.at[s, "action"] in ACTION_STYLES
    unused = set(sites.index) - set(dec["site"])
    assert unused and all(sites.loc[sorted(unused), "action"] == "not_used")
    site_years = pyogrio.read_dataframe(gpkg, layer="site_years")
    pd.testing.assert_frame_equal(site_years[dec.columns].reset_index(drop=True),
                                  dec.reset_index(drop=True), check_dtype=False)
    assert (site_years["beds_after"]
            == dec[[f"beds_after_{v}" for v in services]].sum(axis=1)).all()


def test_footprints_hubs_and_flows_equal_kpis_and_allocation(gpkg, csvs):
    kpi = csvs["kpis"]
    fps = _read(gpkg, "footprints").set_index("footprint")
    ref = kpi[(kpi["scope"] == "footprint") & (kpi["year"] == "all")].set_index("id")
    for col in ("demand_beds", "in_hub_share", "mean_km", "unmet_beds", "delayed_discharges"):
        assert fps[col].to_dict() == ref.loc[fps.index, col].to_dict(), col
    base = csvs["baseline"]
    base = base[(base["scope"] == "footprint") & (base["year"] == "all")].set_index("id")
    assert fps["in_hub_share_baseline"].to_dict() == base.loc[fps.index, "in_hub_share"].to_dict()
    alloc = csvs["allocation"]
    assert fps["max_km"].to_dict() == alloc[alloc["beds"] > 0].groupby("footprint")["km"].max() \
        .loc[fps.index].to_dict()
    hubs = _read(gpkg, "hubs").set_index("hub")
    ref_hub = kpi[(kpi["scope"] == "hub") & (kpi["year"] == "all")].set_index("id")
    for col in ("demand_beds", "in_hub_share", "unmet_beds", "delayed_discharges"):
        assert hubs[col].to_dict() == ref_hub.loc[hubs.index, col].to_dict(), col
    # a hub's polygon is its footprints' union
    for h, members in fps.groupby("hub"):
        assert hubs.at[h, "geometry"].area == pytest.approx(members.geometry.area.sum(), rel=1e-3)
    flows = _read(gpkg, "flows")
    expected = alloc.groupby(["footprint", "site", "year"])["beds"].sum()
    got = flows.set_index(["footprint", "site", "year"])["beds"]
    assert got.loc[expected.index].to_numpy() == pytest.approx(expected.to_numpy())
    for v in _services():
        assert flows[f"beds_{v}"].sum() == pytest.approx(
            alloc.loc[alloc["service"] == v, "beds"].sum())
    # each line runs from the footprint's reference point to the site
    fp_ref = pd.read_csv(DEMO / "footprints.csv").set_index("footprint")
    wgs = flows.to_crs(4326)
    for row in wgs.itertuples():
        (x0, y0), (_x1, _y1) = row.geometry.coords
        assert (x0, y0) == pytest.approx((fp_ref.at[row.footprint, "lon"],
                                          fp_ref.at[row.footprint, "lat"]), abs=1e-6)


def test_gpkg_metadata_and_qgis_styles(gpkg):
    con = sqlite3.connect(gpkg)
    try:
        contents = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, data_type, srs_id FROM gpkg_contents")}
        geometry = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, column_name, geometry_type_name, srs_id "
            "FROM gpkg_geometry_columns")}
        columns = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        styles = con.execute("SELECT f_table_catalog, f_table_schema, f_table_name, "
                             "f_geometry_column, styleQML, styleSLD, useAsDefault "
                             "FROM layer_styles").fetchall()
        srs = con.execute("SELECT organization, organization_coordsys_id FROM "
                          "gpkg_spatial_ref_sys WHERE srs_id = 27700").fetchone()
    finally:
        con.close()
    assert srs == ("EPSG", 27700)
    for name, gtype in SPATIAL.items():
        assert contents[name] == ("features", 27700)
        assert geometry[name][1:] == (gtype, 27700)
    assert contents["site_years"][0] == "attributes"
    assert contents["layer_styles"][0] == "attributes"
    assert columns == ["id", *QGIS_STYLE_COLUMNS]
    defaults = {}
    for catalog, schema, table, geom_col, qml, sld, default in styles:
        assert (catalog, schema) == ("", "")  # QGIS looks styles up with f_table_schema=''
        assert geom_col == geometry[table][0]
        if default:
            assert table not in defaults, f"two default styles for {table}"
            defaults[table] = (ET.fromstring(qml), ET.fromstring(sld))
    assert set(defaults) == set(SPATIAL)
    renderers = {t: q.find("renderer-v2") for t, (q, _s) in defaults.items()}
    for table, (qml, sld) in defaults.items():
        assert qml.tag == "qgis" and sld.tag.endswith("StyledLayerDescriptor")
        assert qml.findtext("layerGeometryType") == {"POINT": "0", "LINESTRING": "1",
                                                     "MULTIPOLYGON": "2"}[SPATIAL[table]]
    sites = renderers["sites"]
    assert sites.get("type") == "categorizedSymbol" and sites.get("attr") == "action"
    assert {c.get("value") for c in sites.iter("category")} == set(ACTION_STYLES)
    assert defaults["sites"][0].find("labeling/settings/text-style").get("fieldName") == "name"
    fps = renderers["footprints"]
    assert fps.get("type") == "graduatedSymbol" and fps.get("attr") == "in_hub_share"
    ranges = [(float(r.get("lower")), float(r.get("upper"))) for r in fps.iter("range")]
    assert ranges[0][0] == 0 and ranges[-1][1] >= 1 and len(ranges) == len(SHARE_CLASSES)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    flows = renderers["flows"]
    assert (flows.get("type"), flows.get("attr"), flows.get("graduatedMethod")) == (
        "graduatedSymbol", "beds", "GraduatedSize")
    widths = [float(s.find("layer/Option/Option[@name='line_width']").get("value"))
              for s in flows.find("symbols")]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    assert defaults["flows"][0].find("temporal").get("enabled") == "1"


# --- maps -----------------------------------------------------------------------------------

def test_map_png_and_html(run_dir):
    from PIL import Image

    with Image.open(run_dir / "map.png") as im:
        assert im.format == "PNG" and im.width >= 1500 and im.height >= 1000
    page = (run_dir / "map.html").read_text(encoding="utf-8")
    assert "plotly" in page and not re.search(r"<script[^>]+src=", page)  # self-contained
    for text in ("Sites by action", "Footprints: share placed in home hub", "Hub boundaries",
                 "Flows 2021", "Stockton Hall (demo)", "reconfigure", "Open Government Licence"):
        assert text in page, text
    assert "Crown copyright" in page and ATTRIBUTION.split(".")[0] in page


# --- bedplan export -----------------------------------------------------------------------------

def test_export_geojson_is_rfc7946_wgs84(run_dir, gpkg, tmp_path):
    out = tmp_path / "geo"
    result = _export(run_dir, "--format", "geojson", "--output", str(out))
    assert result.exit_code == 0, result.output
    for name in ("sites", "footprints", "flows", "hubs"):
        raw = json.loads((out / f"{name}.geojson").read_text())
        assert "crs" not in raw  # RFC 7946: WGS84 lon/lat implied
        frame = _read(out / f"{name}.geojson")
        assert frame.crs.to_epsg() == 4326
        x0, y0, x1, y1 = frame.total_bounds
        assert -8 < x0 < x1 < 2 and 49 < y0 < y1 < 61, name  # lon, lat order
        assert len(frame) == len(_read(gpkg, name))
        assert frame.geometry.is_valid.all()
    sites = _read(out / "sites.geojson").set_index("site")
    ref = pd.read_csv(DEMO / "sites.csv").set_index("site")
    assert sites.geometry.x.to_numpy() == pytest.approx(ref.loc[sites.index, "lon"], abs=1e-6)
    assert sites.geometry.y.to_numpy() == pytest.approx(ref.loc[sites.index, "lat"], abs=1e-6)
    assert (out / "site_years.csv").exists() and (out / "README.txt").exists()
    assert ATTRIBUTION in (out / "README.txt").read_text(encoding="utf-8")


def test_export_shapefile_short_unique_names(run_dir, gpkg, tmp_path):
    out = tmp_path / "shp"
    result = _export(run_dir, "--format", "shapefile", "--output", str(out))
    assert result.exit_code == 0, result.output
    fields = pd.read_csv(out / "fields.csv")
    assert fields["renamed"].any()
    for layer, rows in fields.groupby("layer"):
        short = list(rows["shapefile_field"])
        assert all(len(n) <= 10 and n[0].isalpha() for n in short), layer
        assert len({n.lower() for n in short}) == len(short), layer
        path = out / (f"{layer}.dbf" if layer == "site_years" else f"{layer}.shp")
        assert list(pyogrio.read_info(path)["fields"]) == short, layer
    for name in SPATIAL:
        frame = _read(out / f"{name}.shp")
        assert frame.crs.to_epsg() == 27700 and len(frame) == len(_read(gpkg, name))
    fps = _read(out / "footprints.shp").set_index("footprint")
    ref = _read(gpkg, "footprints").set_index("footprint")
    short = dict(zip(fields["field"][fields["layer"] == "footprints"],
                     fields["shapefile_field"][fields["layer"] == "footprints"], strict=True))
    assert fps[short["in_hub_share"]].to_numpy() == pytest.approx(
        ref.loc[fps.index, "in_hub_share"].to_numpy())


def test_shapefile_names_deterministic_and_unique():
    cols = ["wards_base_medium_secure", "wards_base_medium_secure_women", "wards_base_medsec",
            "name", "NAME_LONGER_THAN_TEN", "name_longer_than_ten", "1st_thing", "geometry"]
    names = shapefile_names(cols)
    assert names == shapefile_names(cols) and "geometry" not in names
    assert names["name"] == "name"
    short = list(names.values())
    assert all(len(n) <= 10 and n[0].isalpha() for n in short)
    assert len({n.lower() for n in short}) == len(short)


def test_export_csv_one_year(run_dir, csvs, tmp_path):
    out = tmp_path / "csv"
    result = _export(run_dir, "--format", "csv", "--year", "2019", "--output", str(out))
    assert result.exit_code == 0, result.output
    flows = pd.read_csv(out / "flows.csv")
    alloc = csvs["allocation"]
    assert set(flows["year"]) == {2019}
    assert flows["beds"].sum() == pytest.approx(alloc.loc[alloc["year"] == 2019, "beds"].sum())
    assert all(shapely.from_wkt(w).geom_type == "LineString" for w in flows["wkt"])
    assert set(pd.read_csv(out / "site_years.csv")["year"]) == {2019}
    sites = pd.read_csv(out / "sites.csv").set_index("site")
    wards = csvs["wards"][csvs["wards"]["year"] == 2019]
    for v in _services():
        per = wards[wards["service"] == v].set_index("site")["wards"]
        assert sites.loc[per.index, f"year_wards_{v}"].to_dict() == per.to_dict()
    fps = pd.read_csv(out / "footprints.csv", dtype={"period": str}).set_index("footprint")
    kpi = csvs["kpis"]
    ref = kpi[(kpi["scope"] == "footprint") & (kpi["year"] == "2019")].set_index("id")
    assert set(fps["period"]) == {"2019"}
    assert fps["in_hub_share"].to_dict() == ref.loc[fps.index, "in_hub_share"].to_dict()
    polygon = shapely.from_wkt(fps["wkt"].iloc[0])
    assert polygon.is_valid and -8 < polygon.bounds[0] < 2  # lon first


def test_export_gpkg_default_folder_and_refuses_to_overwrite(run_dir):
    first = _export(run_dir, "--format", "gpkg")
    assert first.exit_code == 0, first.output
    target = run_dir / "exports" / "gpkg" / "configuration.gpkg"
    assert target.exists()
    assert _read(target, "sites").crs.to_epsg() == 27700
    before = target.stat().st_mtime_ns
    again = _export(run_dir, "--format", "gpkg")
    assert again.exit_code == 5  # an output refused, not invalid input
    assert "refusing to overwrite" in again.output and "Invalid input" not in again.output
    assert "exist already" in again.output
    assert target.stat().st_mtime_ns == before
    assert not list((run_dir / "exports" / "gpkg").glob(".export-*"))


@pytest.mark.parametrize("args", [["--format", "kml"], ["--year", "1999"]])
def test_export_bad_input_exits_2(run_dir, args, tmp_path):
    result = _export(run_dir, *args, "--output", str(tmp_path / "x"))
    assert result.exit_code == 2, result.output


def test_export_of_a_folder_that_is_not_a_run_exits_2(tmp_path):
    result = runner.invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 2
    assert "manifest.json" in result.output


def test_scenario_folder_found_from_another_directory(tmp_path, monkeypatch):
    root = DEMO.parents[2]  # runs/<scenario>/<run-id> sits beside data/ in the project
    monkeypatch.chdir(tmp_path)
    found = find_scenario_folder(root / "runs" / "demo" / "some-run",
                                 {"scenario_folder": "data/scenarios/demo"})
    assert found.resolve() == DEMO
    with pytest.raises(ScenarioError, match="--scenario"):
        find_scenario_folder(tmp_path / "runs" / "x" / "y", {"scenario_folder": "nowhere"})


# --- a scenario without footprint polygons -------------------------------------------------

def test_without_geometry_sites_and_flows_only(run_dir, tmp_path, caplog):
    folder = tmp_path / "nogeo"
    shutil.copytree(DEMO, folder)
    (folder / "footprints.geojson").unlink()
    yaml = (folder / "scenario.yaml").read_text()
    (folder / "scenario.yaml").write_text(
        "\n".join(line for line in yaml.splitlines() if not line.startswith("geometry:")))
    scenario = load_scenario(folder)
    assert scenario.geometry is None
    with caplog.at_level(logging.WARNING, logger="model.gis"):
        layers = build_layers(scenario, RunTables.read(run_dir))
    assert "no footprint geometry" in caplog.text
    assert layers.footprints is None and layers.hubs is None
    path = write_geopackage(layers, tmp_path / "c.gpkg")
    assert {n for n, _t in pyogrio.list_layers(path)} == {"sites", "site_years", "flows",
                                                          "layer_styles"}
    con = sqlite3.connect(path)
    try:
        styled = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles")}
    finally:
        con.close()
    assert styled == {"sites", "flows"}
    from model.gis import maps

    assert maps.render_png(layers, tmp_path / "map.png").stat().st_size > 0
    assert maps.render_html(layers, tmp_path / "map.html").stat().st_size > 0
