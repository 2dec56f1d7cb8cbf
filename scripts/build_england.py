#!/usr/bin/env python3
"""Build the England default dataset (`data/scenarios/england/`) and `data/reference/`.

Reads the public reference files in ``../shared/data`` (relative to the repository root; falls
back to the copies in ``data/reference`` when that folder is absent) and writes:

- ``<out>/reference/``: unchanged copies of the reference files used here, with SOURCES.md;
- ``<out>/scenarios/england/``: scenario.yaml, hubs.csv, footprints.csv, footprints.geojson,
  services.csv, pathway.csv, sites.csv, site_services.csv, demand.csv, ASSUMPTIONS.md.

``<out>`` is the repository's ``data/`` folder unless ``--out`` says otherwise. The build is
deterministic: every figure is either read from a reference file or set in ``scripts/england/``
with its reason (data files: settings.yaml and CSV tables; prose: the *.template files; see its
README.md); the only randomness (small tie-breaking jitter on estate factors) uses a fixed seed.
Rerunning it reproduces the same files byte for byte. This script keeps the logic: reading the
reference data, computing rates, placing units and writing the files.

    python scripts/build_england.py            # rebuild data/reference and data/scenarios/england
    python scripts/build_england.py --out OTHER/data   # build elsewhere (the tests do)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from england import assumptions
from england.inputs import LF, LM, MF, MM, Dataset, Unit, load, render

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"

GEOJSON = "stp_feb2017_ugc_en.geojson"
POPULATION = "stp17_population_mid2018.csv"
HOSPITALS = "nhs_choices_hospitals_2014.csv"
SOURCES = "SOURCES.md"
REFERENCE_FILES = (SOURCES, GEOJSON, POPULATION, HOSPITALS)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def fmt(x: float, digits: int = 4) -> str:
    """A float as short, stable text (no trailing zeros, no exponent)."""
    value = round(float(x), digits)
    if value == int(value):
        return str(int(value))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([fmt(v) if isinstance(v, float) else v for v in row])
    path.write_text(buf.getvalue(), encoding="utf-8")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def reference_folder(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    if (SHARED / GEOJSON).exists():
        return SHARED
    return REPO / "data" / "reference"


# --------------------------------------------------------------------------------------------
# Build steps
# --------------------------------------------------------------------------------------------
def copy_reference(data: Dataset, ref: Path, out: Path) -> None:
    target = out / "reference"
    target.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_FILES:
        if (ref / name).resolve() != (target / name).resolve():
            shutil.copyfile(ref / name, target / name)
    files = "".join(f"- `{name}`\n" for name in REFERENCE_FILES[1:])
    (target / "README.md").write_text(
        render("reference_readme.md.template", files=files,
               attribution=data.settings.attribution),
        encoding="utf-8")


def geojson_text(raw: dict, features: list[dict]) -> str:
    """The footprints as a FeatureCollection, one feature a line."""
    collection = {"type": "FeatureCollection", "name": "footprints", "crs": raw["crs"],
                  "features": features}
    text = "{\n" + ",\n".join(
        f'"{k}": {json.dumps(v, ensure_ascii=False)}' for k, v in collection.items()
        if k != "features")
    text += ',\n"features": [\n' + ",\n".join(
        json.dumps(f, ensure_ascii=False) for f in features) + "\n]\n}\n"
    return text


def footprints(data: Dataset, ref: Path, folder: Path) -> tuple[list[dict], object]:
    """footprints.csv and footprints.geojson; returns rows and a GeoDataFrame of polygons."""
    import geopandas as gpd
    from shapely.geometry import Point, shape

    hub_of = data.hub_of_footprint
    raw = json.loads((ref / GEOJSON).read_text(encoding="utf-8"))
    pop = {r["STP17CD"]: r for r in read_csv(ref / POPULATION)}
    features = sorted(raw["features"], key=lambda f: f["properties"]["stp17cd"])
    assert len(features) == 44, len(features)
    rows, out_features, geoms = [], [], []
    for feat in features:
        props = feat["properties"]
        code = props["stp17cd"]
        geom = shape(feat["geometry"])
        point = Point(round(props["long"], 4), round(props["lat"], 4))
        how = "ONS centroid"
        if not geom.contains(point):
            inner = geom.representative_point()
            point = Point(round(inner.x, 4), round(inner.y, 4))
            how = "point on surface"
            assert geom.contains(point), code
        p = pop[code]
        rows.append({
            "footprint": code, "name": props["stp17nm"], "hub": hub_of[code],
            "lat": point.y, "lon": point.x, "population": int(p["pop_all_ages"]),
            "adults": int(p["pop_18_plus"]), "point": how,
        })
        out_features.append({"type": "Feature",
                             "properties": {"footprint": code, "name": props["stp17nm"],
                                            "hub": hub_of[code]},
                             "geometry": feat["geometry"]})
        geoms.append(geom)
    write_csv(folder / "footprints.csv", ["footprint", "name", "hub", "lat", "lon", "population"],
              [[r["footprint"], r["name"], r["hub"], r["lat"], r["lon"], r["population"]]
               for r in rows])
    (folder / "footprints.geojson").write_text(geojson_text(raw, out_features), encoding="utf-8")
    gdf = gpd.GeoDataFrame({"footprint": [r["footprint"] for r in rows]}, geometry=geoms,
                           crs="EPSG:4326")
    return rows, gdf


SERVICE_COLUMNS = [
    "service", "name", "level", "beds_per_ward", "target_occupancy", "cost_per_occupied_bed_gbp",
    "cost_per_ward_gbp", "capital_new_bed_gbp", "capital_convert_bed_gbp", "carbon_kg_per_bed_day",
    "embodied_t_per_new_bed", "embodied_t_per_converted_bed", "mean_los_years",
    "new_build_lead_years", "conversion_lead_years", "in_hub_share", "out_of_area_premium",
    "estate_carbon_t_per_bed_year", "decommission_bed_gbp", "setup_cost_per_place_gbp",
    "max_new_places_share", "substitutes", "substitution_rate", "max_substitution_share"]


def services_table(data: Dataset, folder: Path) -> None:
    """services.csv (the published cost per bed-year split per ward and per bed) and pathway.csv."""
    cfg = data.settings
    rows = []
    for s in data.services:
        estate, decommission = 0.0, 0.0
        if s.level == "community":
            per_bed, per_ward, occupancy = float(s.place_cost_gbp), 0.0, 1.0
        else:
            occupancy = cfg.occupancy
            per_bed = round((1 - cfg.ward_share) * s.bed_year_gbp)
            per_ward = round(cfg.ward_share * s.bed_year_gbp * s.beds_per_ward * occupancy)
            check = per_bed + per_ward / (s.beds_per_ward * occupancy)
            assert abs(check - s.bed_year_gbp) < 1, (s.service, check)
            estate = cfg.estate_t_per_bed_year
            decommission = data.decommission_per_bed(s)
        rows.append([s.service, s.name, s.level, s.beds_per_ward, occupancy, float(per_bed),
                     float(per_ward), float(s.capital_new_bed_gbp),
                     float(s.capital_convert_bed_gbp), float(s.carbon_kg_per_bed_day),
                     float(s.embodied_t_per_new_bed), float(s.embodied_t_per_converted_bed),
                     s.mean_los_years, s.new_build_lead_years, s.conversion_lead_years,
                     s.in_hub_share, s.out_of_area_premium, estate, float(decommission),
                     s.setup_cost_per_place_gbp, fmt(s.max_new_places_share),
                     s.substitutes, s.substitution_rate, s.max_substitution_share])
    write_csv(folder / "services.csv", SERVICE_COLUMNS, rows)
    write_csv(folder / "pathway.csv", ["from_service", "to_service", "share"],
              [[a, b, share] for a, b, share in data.pathway])


def place_unit(u: Unit, hospitals: dict[str, dict[str, str]]) -> None:
    """Coordinates, and the default name and provider, from the NHS Choices file."""
    if isinstance(u.where, tuple):
        u.lat, u.lon = u.where
        if u.name is None or u.provider is None:
            raise ValueError(f"{u.site}: explicit coordinates need a name and provider")
        return
    h = hospitals[u.where]
    u.lat, u.lon = round(float(h["Latitude"]), 4), round(float(h["Longitude"]), 4)
    if u.name is None:
        suffix = "candidate site" if u.age == "cand" else "illustrative"
        u.name = f"{h['OrganisationName'].strip()} ({suffix})"
    if u.provider is None:
        u.provider = h["ParentName"].strip()


def locate_units(data: Dataset, ref: Path, fp_gdf) -> list[Unit]:
    """Coordinates from the NHS Choices file, footprint by point-in-polygon, checks."""
    import geopandas as gpd

    hospitals = {r["OrganisationCode"]: r for r in read_csv(ref / HOSPITALS)}
    units = [*data.estate, *data.candidates]
    ids = [u.site for u in units]
    assert len(ids) == len(set(ids)), "duplicate site id"
    for u in units:
        place_unit(u, hospitals)
    pts = gpd.GeoDataFrame({"site": ids},
                           geometry=gpd.points_from_xy([u.lon for u in units],
                                                       [u.lat for u in units]),
                           crs="EPSG:4326")
    joined = gpd.sjoin(pts, fp_gdf, predicate="within", how="left")
    joined = joined.drop_duplicates("site").set_index("site")
    hub_of = data.hub_of_footprint
    for u in units:
        code = joined.at[u.site, "footprint"]
        if not isinstance(code, str):
            raise ValueError(f"{u.site} ({u.name}) lies in no footprint polygon")
        if hub_of[code] != u.hub:
            raise ValueError(f"{u.site} lies in {code} (hub {hub_of[code]}), not {u.hub}")
        u.footprint = code
    return units


def site_services_for(u: Unit, inpatient: list[str]) -> list[str]:
    """Services a site may host: its own, plus the reconfiguration options."""
    have = [v for v in inpatient if v in u.wards]
    if u.extra is not None:
        extra = list(u.extra)
    else:
        extra = []
        if MM in have and LM not in have:
            extra.append(LM)  # a medium unit can step a ward down to low secure
        elif LM in have and LF not in have and MM not in have:
            extra.append(LF)  # a low secure unit can reconfigure a ward for women
    return [v for v in inpatient if v in have or v in extra]


def site_row(data: Dataset, u: Unit, rng: np.random.Generator) -> list[object]:
    """A row of sites.csv; draws the unit's jitter from rng."""
    cfg = data.settings
    total = sum(u.wards.values())
    candidate = u.age == "cand"
    age = data.ages[u.age]
    carbon = age.carbon + rng.uniform(-cfg.jitter_carbon, cfg.jitter_carbon)
    cost = age.cost + rng.uniform(-cfg.jitter_cost, cfg.jitter_cost)
    if candidate:
        max_wards, min_wards = cfg.candidate_max_wards, 2
    else:
        headroom = 0 if u.age == "old" else u.headroom  # older sites have no room
        max_wards, min_wards = total + headroom, min(2, total)
    has_medium = any(v in u.wards for v in (MM, MF))
    close_cost = 0 if candidate else (
        cfg.close_cost_medium_gbp if has_medium else cfg.close_cost_low_gbp)
    return [
        u.site, u.name, u.footprint, u.lat, u.lon, "candidate" if candidate else "existing",
        u.provider, u.sector, min_wards, max_wards,
        float(cfg.site_fixed_base_gbp + cfg.site_fixed_per_ward_gbp * max_wards), round(cost, 3),
        round(carbon, 3), float(cfg.candidate_open_cost_gbp if candidate else 0), float(close_cost),
        cfg.candidate_lead_years if candidate else 0,
    ]


def sites_tables(data: Dataset, units: list[Unit], folder: Path) -> None:
    rng = np.random.default_rng(data.settings.seed)
    site_rows, ss_rows = [], []
    for u in units:
        u.services = site_services_for(u, data.inpatient)
        site_rows.append(site_row(data, u, rng))
        for v in u.services:
            ss_rows.append([u.site, v, u.wards.get(v, 0)])
    write_csv(folder / "sites.csv",
              ["site", "name", "footprint", "lat", "lon", "status", "provider", "sector",
               "min_wards", "max_wards", "fixed_cost_gbp", "cost_factor", "carbon_factor",
               "open_cost_gbp", "close_cost_gbp", "lead_years"], site_rows)
    write_csv(folder / "site_services.csv", ["site", "service", "wards"], ss_rows)


def demand_table(data: Dataset, fp_rows: list[dict], folder: Path) -> dict[str, float]:
    """demand.csv; returns the base-year rate of each service per 100,000 adults."""
    cfg = data.settings
    adults = sum(r["adults"] for r in fp_rows)
    rates = {}
    for s in data.services:
        if s.level == "community":
            rates[s.service] = cfg.community_per_100k
        else:
            rates[s.service] = round(
                cfg.base_occupancy_of_reference * s.national_beds / (adults / 1e5), 2)
    rows = []
    for r in fp_rows:
        for s in data.services:
            base = rates[s.service] * r["adults"] / 1e5
            for t in cfg.years:
                rows.append([r["footprint"], s.service, t,
                             round(base * (1 + s.trend) ** (t - cfg.base_year), 2)])
    write_csv(folder / "demand.csv", ["footprint", "service", "year", "beds"],
              [[a, b, c, float(d)] for a, b, c, d in rows])
    return rates


def scenario_yaml(data: Dataset, folder: Path) -> None:
    cfg = data.settings
    lead = max(s.new_build_lead_years for s in data.services)
    (folder / "scenario.yaml").write_text(
        render("scenario.yaml.template", base_year=cfg.base_year, horizon=cfg.horizon,
               in_hub_from=cfg.base_year + lead),
        encoding="utf-8")


def hubs_table(data: Dataset, folder: Path) -> None:
    write_csv(folder / "hubs.csv", ["hub", "name"], [list(h) for h in data.hubs])


def build(out: Path, ref: Path) -> Path:
    data = load()
    folder = out / "scenarios" / "england"
    folder.mkdir(parents=True, exist_ok=True)
    copy_reference(data, ref, out)
    fp_rows, fp_gdf = footprints(data, ref, folder)
    hubs_table(data, folder)
    services_table(data, folder)
    units = locate_units(data, ref, fp_gdf)
    sites_tables(data, units, folder)
    rates = demand_table(data, fp_rows, folder)
    scenario_yaml(data, folder)
    assumptions.write(folder, data, fp_rows, units, rates,
                      {"geojson": GEOJSON, "population_file": POPULATION,
                       "hospitals_file": HOSPITALS})
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "data",
                        help="data folder to write reference/ and scenarios/england/ into "
                             "(default: the repository's data/)")
    parser.add_argument("--ref", type=Path, default=None,
                        help="folder of reference files (default: ../shared/data, else "
                             "data/reference)")
    args = parser.parse_args(argv)
    ref = reference_folder(args.ref)
    folder = build(args.out, ref)
    print(f"wrote {folder} (reference files from {ref})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
