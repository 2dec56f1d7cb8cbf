"""The England dataset's inputs: the data files and templates in this folder, read into typed rows.

``settings.yaml`` holds the scalars, the CSV files the tables (README.md says what each holds);
lines starting with ``#`` in a CSV file are comments. Every value is checked against the type of
its field: a whole number where an int is expected (it is printed as such in ASSUMPTIONS.md), and
every service, hub and age class a row names must exist.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
NHS, IS = "NHS", "independent"
MM, MF, LM, LF, LD = "medium_m", "medium_f", "low_m", "low_f", "low_ld"


@dataclass(frozen=True)
class Settings:
    seed: int
    base_year: int
    horizon: int
    ward_share: float
    occupancy: float
    estate_t_per_bed_year: float
    decommission_months: int
    base_occupancy_of_reference: float
    community_per_100k: float
    jitter_carbon: float
    jitter_cost: float
    candidate_lead_years: int
    candidate_max_wards: int
    candidate_open_cost_gbp: int
    site_fixed_base_gbp: int
    site_fixed_per_ward_gbp: int
    close_cost_medium_gbp: int
    close_cost_low_gbp: int
    attribution: str

    @property
    def years(self) -> list[int]:
        return list(range(self.base_year, self.base_year + self.horizon))


@dataclass(frozen=True)
class Service:
    service: str
    name: str
    level: str
    beds_per_ward: int
    bed_year_gbp: float  # published full cost of one bed-year (0 for community: see place cost)
    capital_new_bed_gbp: float
    capital_convert_bed_gbp: float
    carbon_kg_per_bed_day: float
    embodied_t_per_new_bed: float
    embodied_t_per_converted_bed: float
    mean_los_years: float
    in_hub_share: float
    national_beds: float  # reference national beds (calibrates demand)
    trend: float  # change in need per year
    new_build_lead_years: int
    conversion_lead_years: int
    out_of_area_premium: float
    substitutes: str
    substitution_rate: float
    max_substitution_share: float
    place_cost_gbp: float
    setup_cost_per_place_gbp: float
    max_new_places_share: float
    trend_source: str  # status and source of national_beds and trend (ASSUMPTIONS.md)


@dataclass(frozen=True)
class AgeClass:
    age: str
    carbon: float  # operational carbon factor
    cost: float  # running-cost factor
    label: str


@dataclass
class Unit:
    """A site of the estate or a candidate site; lat, lon, footprint and services are filled in
    by the build."""

    site: str
    hub: str
    where: str | tuple[float, float]  # NHS Choices OrganisationCode, or (lat, lon) placed by hand
    sector: str
    wards: dict[str, int]  # base-year wards by service, in the order of the data file
    age: str
    name: str | None = None
    provider: str | None = None
    extra: tuple[str, ...] | None = None
    headroom: int = 1
    note: str = ""
    lat: float = 0.0
    lon: float = 0.0
    footprint: str = ""
    services: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Dataset:
    settings: Settings
    hubs: list[tuple[str, str]]
    hub_of_footprint: dict[str, str]
    services: list[Service]
    pathway: list[tuple[str, str, float]]
    estate: list[Unit]  # existing units
    candidates: list[Unit]
    ages: dict[str, AgeClass]

    @property
    def inpatient(self) -> list[str]:
        return [s.service for s in self.services if s.level != "community"]

    @property
    def service(self) -> dict[str, Service]:
        return {s.service: s for s in self.services}

    def decommission_per_bed(self, s: Service) -> int:
        """One-off cost per bed space of removing a ward: decommission_months of its fixed cost."""
        cfg = self.settings
        return round(cfg.decommission_months / 12 * cfg.ward_share * s.bed_year_gbp * cfg.occupancy)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------
def convert(kind: str, value: object, where: str) -> object:
    """A value read from YAML or CSV, as the type its field is annotated with."""
    if kind == "str":
        return "" if value is None else str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Fraction(text) if "/" in text else (int(text) if kind == "int" else float(text))
        except ValueError as exc:
            raise ValueError(f"{where}: {value!r} is not a number") from exc
        value = number if kind == "int" else float(number)
    if kind == "int" and type(value) is not int:
        raise ValueError(f"{where}: {value!r} should be a whole number")
    if kind == "float":
        if type(value) not in (int, float):
            raise ValueError(f"{where}: {value!r} should be a number")
        value = float(value)
    return value


def typed(cls: type, raw: dict[str, object], where: str) -> object:
    """An instance of the dataclass cls from a dict with exactly its fields."""
    names = [f.name for f in fields(cls)]
    if set(raw) != set(names):
        raise ValueError(f"{where}: expected fields {names}, got {list(raw)}")
    return cls(**{f.name: convert(str(f.type), raw[f.name], f"{where}, {f.name}")
                  for f in fields(cls)})


def read_table(name: str, folder: Path = HERE) -> list[dict[str, str]]:
    """Rows of a CSV data file; lines starting with '#' are comments."""
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


def read_settings(folder: Path = HERE) -> Settings:
    raw = yaml.safe_load((folder / "settings.yaml").read_text(encoding="utf-8"))
    return typed(Settings, raw, "settings.yaml")


def read_services(folder: Path = HERE) -> list[Service]:
    return [typed(Service, row, f"services.csv, {row.get('service')}")
            for row in read_table("services.csv", folder)]


def read_units(name: str, folder: Path = HERE) -> list[Unit]:
    units = []
    for row in read_table(name, folder):
        where = f"{name}, {row['site']}"
        wards = {}
        for item in row["wards"].split():
            service, _, count = item.partition(":")
            wards[service] = convert("int", count, f"{where}, wards {service}")
        if row["code"]:
            place: str | tuple[float, float] = row["code"]
        else:
            place = (convert("float", row["lat"], f"{where}, lat"),
                     convert("float", row["lon"], f"{where}, lon"))
        units.append(Unit(
            site=row["site"], hub=row["hub"], where=place, sector=row["sector"], wards=wards,
            age=row["age"], name=row["name"] or None, provider=row["provider"] or None,
            extra=tuple(row["extra"].split()) or None,
            headroom=convert("int", row["headroom"], f"{where}, headroom"), note=row["note"]))
    return units


def check(data: Dataset) -> None:
    """No duplicate ids; every service, hub, sector and age class a row names exists."""
    hubs = {h for h, _ in data.hubs}
    services = set(data.service)
    units = [*data.estate, *data.candidates]
    bad = [f"duplicate {what}" for what, names in (
        ("hub", [h for h, _ in data.hubs]), ("service", [s.service for s in data.services]),
        ("site", [u.site for u in units])) if len(names) != len(set(names))]
    inpatient = set(data.inpatient)
    bad += [f"footprint_hubs.csv: {fp} -> {hub}" for fp, hub in data.hub_of_footprint.items()
            if hub not in hubs]
    bad += [f"pathway.csv: {a} -> {b}" for a, b, _ in data.pathway
            if a not in services or b not in services]
    bad += [f"services.csv: {s.service} substitutes {s.substitutes}" for s in data.services
            if s.substitutes and s.substitutes not in services]
    for u in units:
        if u.hub not in hubs or u.sector not in (NHS, IS) or u.age not in data.ages:
            bad.append(f"{u.site}: hub {u.hub}, sector {u.sector}, age {u.age}")
        unknown = (set(u.wards) | set(u.extra or ())) - inpatient
        if unknown:
            bad.append(f"{u.site}: unknown services {sorted(unknown)}")
    if bad:
        raise ValueError("inconsistent data in scripts/england:\n  " + "\n  ".join(bad))


def keyed(rows: list[dict[str, str]], key: str, name: str) -> dict[str, dict[str, str]]:
    """Rows by key, which must be unique."""
    out = {row[key]: row for row in rows}
    if len(out) != len(rows):
        raise ValueError(f"{name}: duplicate {key}")
    return out


def load(folder: Path = HERE) -> Dataset:
    """Everything in the data files of folder, checked."""
    ages = [typed(AgeClass, row, f"estate_age.csv, {row.get('age')}")
            for row in keyed(read_table("estate_age.csv", folder), "age", "estate_age.csv").values()]
    footprints = keyed(read_table("footprint_hubs.csv", folder), "footprint", "footprint_hubs.csv")
    data = Dataset(
        settings=read_settings(folder),
        hubs=[(r["hub"], r["name"]) for r in read_table("hubs.csv", folder)],
        hub_of_footprint={fp: r["hub"] for fp, r in footprints.items()},
        services=read_services(folder),
        pathway=[(r["from_service"], r["to_service"],
                  convert("float", r["share"], f"pathway.csv, {r['from_service']}"))
                 for r in read_table("pathway.csv", folder)],
        estate=read_units("estate.csv", folder),
        candidates=read_units("candidates.csv", folder),
        ages={a.age: a for a in ages},
    )
    check(data)
    return data


def render(template: str, folder: Path = HERE, **values: object) -> str:
    """A template of folder filled with str.format from values."""
    return (folder / template).read_text(encoding="utf-8").format(**values)
