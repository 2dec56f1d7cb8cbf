"""The data dictionary: every input table and column, in one place.

This module drives three things: the loader (which columns to read and how to parse them), the
validator (types, ranges, allowed values, references between tables) and
``docs/data-dictionary.md`` (rendered by :func:`render_markdown`, which adds the trade-off
commands' outputs from ``model/tradeoffs/files.py``; a test fails if the committed document
differs from what this module renders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["str", "int", "float", "bool"]


# Every number has a plausible range: far above any real figure, far below the solver's
# infinity (1e20), so that no value can silently turn a bound into "no bound".
@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    dtype: DType
    unit: str
    description: str
    required: bool = True
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    references: tuple[str, str] | None = None  # (table, column) this value must exist in

    def range_text(self) -> str:
        if self.choices:
            return " | ".join(self.choices)
        if self.minimum is None and self.maximum is None:
            return ""
        low = "" if self.minimum is None else f"{self.minimum:g}"
        high = "" if self.maximum is None else f"{self.maximum:g}"
        return f"{low} .. {high}"


@dataclass(frozen=True)
class Table:
    """One input table: a CSV file in the scenario folder."""

    name: str
    file: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    optional: bool = False  # a scenario may leave the file out: the table is then empty

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


HUBS = Table(
    name="hubs",
    file="hubs.csv",
    key=("hub",),
    description="Specialised commissioning hubs. Each footprint belongs to exactly one hub.",
    columns=(
        Column("hub", "str", "", "Hub identifier (short code)."),
        Column("name", "str", "", "Hub name as shown in outputs."),
    ),
)

FOOTPRINTS = Table(
    name="footprints",
    file="footprints.csv",
    key=("footprint",),
    description=(
        "Demand zones (STP footprints). Travel is measured from the footprint's reference point "
        "(lat/lon). Polygons, when the scenario has them, come from the geometry file named in "
        "scenario.yaml and are joined on `footprint`."
    ),
    columns=(
        Column("footprint", "str", "", "Footprint code (e.g. ONS STP17CD E54000005)."),
        Column("name", "str", "", "Footprint name."),
        Column("hub", "str", "", "Hub the footprint belongs to.", references=("hubs", "hub")),
        Column("lat", "float", "degrees", "Latitude of the reference point (WGS84).",
               minimum=49.0, maximum=61.0),
        Column("lon", "float", "degrees", "Longitude of the reference point (WGS84).",
               minimum=-8.5, maximum=2.0),
        Column("population", "float", "persons", "Resident population (reported only).",
               required=False, default=0.0, minimum=0.0, maximum=1e9),
    ),
)

SERVICES = Table(
    name="services",
    file="services.csv",
    key=("service",),
    description=(
        "Services: a security level and cohort (e.g. medium secure, men) or community forensic "
        "places. Inpatient services are delivered in wards at sites; community services are "
        "places provided in a footprint."
    ),
    columns=(
        Column("service", "str", "", "Service identifier."),
        Column("name", "str", "", "Service name."),
        Column("level", "str", "", "Security level.", choices=("high", "medium", "low", "community")),
        Column("beds_per_ward", "int", "beds", "Beds in one ward of this service (0 for community).",
               minimum=0, maximum=40),
        Column("target_occupancy", "float", "share", "Planned occupancy of a ward's beds.",
               minimum=0.01, maximum=1.0),
        Column("cost_per_occupied_bed_gbp", "float", "GBP/bed-year",
               "Variable running cost of one occupied bed (or community place) for a year.",
               minimum=0.0, maximum=1e7),
        Column("cost_per_ward_gbp", "float", "GBP/ward-year",
               "Fixed cost of operating one ward for a year, occupied or not (staffing, estate).",
               minimum=0.0, maximum=1e8),
        Column("capital_new_bed_gbp", "float", "GBP/bed", "Capital cost of one new-build bed.",
               minimum=0.0, maximum=1e8),
        Column("capital_convert_bed_gbp", "float", "GBP/bed",
               "Capital cost of converting one bed to this service from another at the same site.",
               minimum=0.0, maximum=1e8),
        Column("carbon_kg_per_bed_day", "float", "kgCO2e/bed-day",
               "Operational emissions of one occupied bed-day, before the site's estate factor.",
               minimum=0.0, maximum=1e4),
        Column("embodied_t_per_new_bed", "float", "tCO2e/bed", "Embodied emissions of a new-build bed.",
               minimum=0.0, maximum=1e4),
        Column("embodied_t_per_converted_bed", "float", "tCO2e/bed",
               "Embodied emissions of converting one bed.", minimum=0.0, maximum=1e4),
        Column("mean_los_years", "float", "years", "Mean length of stay.", minimum=0.05,
               maximum=30.0),
        Column("new_build_lead_years", "int", "years",
               "Years from the base year before a new-build ward of this service can operate "
               "(community: before places beyond base need can be commissioned).",
               minimum=0, maximum=20),
        Column("conversion_lead_years", "int", "years",
               "Years from the base year before a ward converted to this service can operate.",
               minimum=0, maximum=20),
        Column("in_hub_share", "float", "share",
               "Minimum share of each footprint's need placed in its own hub (0 = no rule).",
               minimum=0.0, maximum=1.0),
        Column("out_of_area_premium", "float", "share",
               "Premium on the full cost of an occupied bed at target occupancy "
               "(cost_per_occupied_bed_gbp + cost_per_ward_gbp / (beds_per_ward x "
               "target_occupancy)) for a bed-year of unmet need (spot purchase out of area).",
               minimum=0.0, maximum=10.0),
        Column("estate_carbon_t_per_bed_year", "float", "tCO2e/bed-year",
               "Estate emissions (energy) of one bed space of an operating ward for a year, "
               "occupied or not, before the site's estate factor.", required=False, default=0.0,
               minimum=0.0, maximum=1e4),
        Column("decommission_bed_gbp", "float", "GBP/bed",
               "One-off cost per bed space of removing a ward of this service (staff "
               "redeployment, making safe); also charged on bed spaces a conversion leaves "
               "unused.", required=False, default=0.0, minimum=0.0, maximum=1e8),
        Column("setup_cost_per_place_gbp", "float", "GBP/place",
               "Community services only: one-off cost of commissioning a place beyond base need "
               "(recruitment, training).", required=False, default=0.0, minimum=0.0, maximum=1e7),
        Column("max_new_places_share", "float", "share/year",
               "Community services only: places commissioned in one year, at most this share of "
               "the substitution ceiling (max_substitution_share x `substitutes` need / "
               "substitution_rate); 1 = no ramp-up limit.", required=False, default=1.0,
               minimum=0.0, maximum=1.0),
        Column("substitutes", "str", "",
               "Community services only: the inpatient service whose demand a place can replace.",
               required=False, default="", references=("services", "service")),
        Column("substitution_rate", "float", "beds/place",
               "Inpatient beds of `substitutes` avoided per community place.", required=False,
               default=0.0, minimum=0.0, maximum=5.0),
        Column("max_substitution_share", "float", "share",
               "Largest share of a footprint's `substitutes` demand that community places may replace.",
               required=False, default=0.0, minimum=0.0, maximum=1.0),
    ),
)

PATHWAY = Table(
    name="pathway",
    file="pathway.csv",
    key=("from_service", "to_service"),
    description=(
        "Step-down routes of the patient pathway: the share of discharges from one service that "
        "need a place in the next. The graph must have no cycle."
    ),
    columns=(
        Column("from_service", "str", "", "Service patients are discharged from.",
               references=("services", "service")),
        Column("to_service", "str", "", "Service they step down to.",
               references=("services", "service")),
        Column("share", "float", "share", "Share of discharges that step down along this route.",
               minimum=0.0, maximum=1.0),
    ),
)

SITES = Table(
    name="sites",
    file="sites.csv",
    key=("site",),
    description="Existing secure units and candidate sites for new units.",
    columns=(
        Column("site", "str", "", "Site identifier."),
        Column("name", "str", "", "Site name."),
        Column("footprint", "str", "", "Footprint the site lies in.",
               references=("footprints", "footprint")),
        Column("lat", "float", "degrees", "Latitude (WGS84).", minimum=49.0, maximum=61.0),
        Column("lon", "float", "degrees", "Longitude (WGS84).", minimum=-8.5, maximum=2.0),
        Column("status", "str", "", "Existing unit, or candidate for a new one.",
               choices=("existing", "candidate")),
        Column("provider", "str", "", "Provider organisation.", required=False, default=""),
        Column("sector", "str", "", "Provider sector.", required=False, default="NHS",
               choices=("NHS", "independent")),
        Column("min_wards", "int", "wards", "Viable minimum wards while the site operates.",
               minimum=0, maximum=100),
        # Up to 100,000: OR-Library benchmark facilities (model/orlib.py) hold thousands of beds.
        Column("max_wards", "int", "wards", "Physical maximum wards on the site.", minimum=0,
               maximum=100_000),
        Column("fixed_cost_gbp", "float", "GBP/year", "Fixed cost of keeping the site open.",
               minimum=0.0, maximum=1e10),
        Column("cost_factor", "float", "factor",
               "Multiplier on running costs (ward and occupied bed) at this site.",
               required=False, default=1.0, minimum=0.1, maximum=5.0),
        Column("carbon_factor", "float", "factor",
               "Estate factor on operational carbon (old estate > 1, efficient new build < 1).",
               required=False, default=1.0, minimum=0.0, maximum=5.0),
        Column("open_cost_gbp", "float", "GBP", "One-off cost of commissioning a candidate site.",
               required=False, default=0.0, minimum=0.0, maximum=1e11),
        Column("close_cost_gbp", "float", "GBP", "One-off cost of decommissioning the site.",
               required=False, default=0.0, minimum=0.0, maximum=1e11),
        Column("lead_years", "int", "years",
               "Years from the base year before a candidate site can open.", required=False,
               default=0, minimum=0, maximum=20),
    ),
)

SITE_SERVICES = Table(
    name="site_services",
    file="site_services.csv",
    key=("site", "service"),
    description=(
        "Which services each site may host, with the wards operating at the base year. A site can "
        "only ever host the services listed for it here (candidates list theirs with 0 wards)."
    ),
    columns=(
        Column("site", "str", "", "Site.", references=("sites", "site")),
        Column("service", "str", "", "Inpatient service.", references=("services", "service")),
        Column("wards", "int", "wards", "Wards of this service operating at the base year.",
               minimum=0, maximum=100),
        Column("lead_years", "int", "years",
               "Years from the base year before new wards of this service can operate at this "
               "site, when they differ from the usual lead times (e.g. a unit already approved "
               "and being built); empty: the larger of the service's new_build_lead_years and "
               "the site's lead_years.", required=False, default=None, minimum=0, maximum=20),
    ),
)

DEMAND = Table(
    name="demand",
    file="demand.csv",
    key=("footprint", "service", "year"),
    description=(
        "Need for each service from each footprint in each planning year: average occupied beds "
        "(inpatient) or places (community). Missing rows mean zero."
    ),
    columns=(
        Column("footprint", "str", "", "Home footprint of the patients.",
               references=("footprints", "footprint")),
        Column("service", "str", "", "Service needed.", references=("services", "service")),
        Column("year", "int", "year", "Planning year.", minimum=1990, maximum=2100),
        Column("beds", "float", "beds", "Average beds (or places) needed in the year.",
               minimum=0.0, maximum=1e6),
    ),
)

LOCK_KINDS = ("keep", "keep_open", "close_by", "open_in", "wards_min", "wards_max", "wards_exact")

FIXED_DECISIONS = Table(
    name="fixed_decisions",
    file="fixed_decisions.csv",
    key=("decision",),
    optional=True,
    description=(
        "Decisions the planner fixes (optional): the model must keep to them, and a run reports "
        "what each costs against releasing it (`price.csv`). Per site, or per service at a site; "
        "`year` is when a lock starts (default the base year) or, for `close_by` and `open_in`, "
        "the year it is required by; `to_year` ends it (default the last planning year). "
        "`keep`: wards stay as at the base year (and the site open); `keep_open`: the site (or "
        "service) keeps operating; `close_by`: closed from `year` on; `open_in`: commissioned in "
        "exactly `year` (a candidate site, or a service with no wards today) and operating from "
        "then on; `wards_min`, `wards_max`, `wards_exact`: wards of `service` in the years. "
        "When a decision may first happen (lead times, notice) comes from the other tables and "
        "`scenario.yaml`; a lock asking for it earlier is refused before solving."
    ),
    columns=(
        Column("decision", "str", "", "Short name of the fixed decision, shown in reports."),
        Column("site", "str", "", "Site.", references=("sites", "site")),
        Column("service", "str", "", "Inpatient service at the site (empty: the whole site).",
               required=False, default="", references=("services", "service")),
        Column("kind", "str", "", "What is fixed.", choices=LOCK_KINDS),
        Column("year", "int", "year",
               "close_by / open_in: the year required; others: first year the lock holds "
               "(empty: the base year).", required=False, default=None, minimum=1990, maximum=2100),
        Column("to_year", "int", "year", "Last year the lock holds (empty: the last planning year).",
               required=False, default=None, minimum=1990, maximum=2100),
        Column("wards", "int", "wards", "wards_min / wards_max / wards_exact: the number of wards.",
               required=False, default=None, minimum=0, maximum=100_000),
        Column("note", "str", "", "Why it is fixed (e.g. an approved business case).",
               required=False, default=""),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (HUBS, FOOTPRINTS, SERVICES, PATHWAY, SITES, SITE_SERVICES, DEMAND,
                        FIXED_DECISIONS)
}


def render_markdown() -> str:
    """Render the data dictionary as Markdown (the content of docs/data-dictionary.md)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `model/dictionary.py` by `bedplan dictionary`; do not edit by hand",
        "(a test fails when this file and the code differ).",
        "",
        "A scenario is a folder holding `scenario.yaml` and the CSV tables below (UTF-8, comma",
        "separated, one header row). Optional columns may be left out; their default is used.",
        "References name the table and column a value must exist in.",
        "",
    ]
    for table in TABLES.values():
        lines += [
            f"## `{table.file}` ({table.name})",
            "",
            table.description,
            "",
            f"Key: {', '.join(f'`{k}`' for k in table.key)} (unique)."
            + (" Optional table: leave the file out for none." if table.optional else ""),
            "",
            "| column | type | unit | required | default | allowed | references | meaning |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for col in table.columns:
            default = "" if col.required else repr(col.default)
            ref = f"{col.references[0]}.{col.references[1]}" if col.references else ""
            lines.append(
                f"| `{col.name}` | {col.dtype} | {col.unit} | {'yes' if col.required else 'no'} | "
                f"{default} | {col.range_text()} | {ref} | {col.description} |"
            )
        lines.append("")
    # imported here: the model.tradeoffs package imports the loader, which imports this module
    from model.tradeoffs.files import markdown as tradeoff_outputs

    lines += tradeoff_outputs()
    return "\n".join(lines)
