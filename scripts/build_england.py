#!/usr/bin/env python3
"""Build the England default dataset (`data/scenarios/england/`) and `data/reference/`.

Reads the public reference files in ``../shared/data`` (relative to the repository root; falls
back to the copies in ``data/reference`` when that folder is absent) and writes:

- ``<out>/reference/``: unchanged copies of the reference files used here, with SOURCES.md;
- ``<out>/scenarios/england/``: scenario.yaml, hubs.csv, footprints.csv, footprints.geojson,
  services.csv, pathway.csv, sites.csv, site_services.csv, demand.csv, ASSUMPTIONS.md.

``<out>`` is the repository's ``data/`` folder unless ``--out`` says otherwise. The build is
deterministic: every figure is either read from a reference file or written below with its
reason; the only randomness (small tie-breaking jitter on estate factors) uses a fixed seed.
Rerunning it reproduces the same files byte for byte.

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
SEED = 2017

GEOJSON = "stp_feb2017_ugc_en.geojson"
POPULATION = "stp17_population_mid2018.csv"
HOSPITALS = "nhs_choices_hospitals_2014.csv"
SOURCES = "SOURCES.md"
REFERENCE_FILES = (SOURCES, GEOJSON, POPULATION, HOSPITALS)

ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.\n"
    "Contains OS data © Crown copyright and database right 2017."
)

BASE_YEAR = 2017
HORIZON = 5
YEARS = list(range(BASE_YEAR, BASE_YEAR + HORIZON))

# --------------------------------------------------------------------------------------------
# Hubs and footprint -> hub (domain-facts.md §1; an assumption: no source publishes the list).
# --------------------------------------------------------------------------------------------
HUBS = [
    ("NEC", "North East and Cumbria"),
    ("YH", "Yorkshire and Humber"),
    ("NW", "North West"),
    ("WM", "West Midlands"),
    ("EM", "East Midlands"),
    ("EOE", "East of England"),
    ("LDN", "London"),
    ("SW", "South West"),
    ("SE", "South East"),
]
HUB_OF_FOOTPRINT = {
    "E54000045": "NEC", "E54000046": "NEC", "E54000047": "NEC",
    "E54000005": "YH", "E54000006": "YH", "E54000009": "YH",
    "E54000007": "NW", "E54000008": "NW", "E54000048": "NW",
    "E54000010": "WM", "E54000011": "WM", "E54000016": "WM", "E54000017": "WM",
    "E54000018": "WM", "E54000019": "WM",
    "E54000012": "EM", "E54000013": "EM", "E54000014": "EM", "E54000015": "EM",
    "E54000020": "EM",
    "E54000021": "EOE", "E54000022": "EOE", "E54000023": "EOE", "E54000024": "EOE",
    "E54000025": "EOE", "E54000026": "EOE",
    "E54000027": "LDN", "E54000028": "LDN", "E54000029": "LDN", "E54000030": "LDN",
    "E54000031": "LDN",
    "E54000036": "SW", "E54000037": "SW", "E54000038": "SW", "E54000039": "SW",
    "E54000040": "SW", "E54000041": "SW", "E54000043": "SW",
    "E54000032": "SE", "E54000033": "SE", "E54000034": "SE", "E54000035": "SE",
    "E54000042": "SE", "E54000044": "SE",
}

# --------------------------------------------------------------------------------------------
# Services (domain-facts.md §3-§5). Costs: the published cost per bed-year is what one bed costs
# in a full ward at target occupancy; WARD_SHARE of it is fixed per ward (staffing, estate) and
# the rest varies with occupied beds: cost_per_ward = WARD_SHARE x cost x beds x occupancy.
# --------------------------------------------------------------------------------------------
WARD_SHARE = 0.70
ESTATE_T_PER_BED_YEAR = 13.0  # energy of a hospital bed space a year (domain-facts.md §4) [S]
DECOMMISSION_MONTHS = 3  # a removed ward costs this many months of its fixed running cost [E]
COMMUNITY_LEAD_YEARS = 1  # commissioning and recruiting a community forensic team [E]
COMMUNITY_SETUP_GBP = 10_000.0  # one-off per new place: recruitment and training [E]
COMMUNITY_RAMP_SHARE = 1 / 3  # new places a year, share of the substitution ceiling [E]
OCCUPANCY = 0.90


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
    new_build_lead_years: int = 3
    conversion_lead_years: int = 1
    out_of_area_premium: float = 0.66
    substitutes: str = ""
    substitution_rate: float = 0.0
    max_substitution_share: float = 0.0
    place_cost_gbp: float = 0.0
    setup_cost_per_place_gbp: float = 0.0
    max_new_places_share: float = 1.0


# Carbon per occupied bed-day (consumables, food, laundry): 9 kg; the estate's energy is charged
# per bed space of an operating ward (ESTATE_T_PER_BED_YEAR), occupied or not.
SERVICES = [
    Service("medium_m", "Medium secure (men)", "medium", 15, 165_000, 500_000, 150_000, 9, 65, 25,
            2.5, 0.8, 2950, -0.02),
    Service("medium_f", "Medium secure (women)", "medium", 15, 165_000, 500_000, 150_000, 9, 65, 25,
            2.5, 0.6, 550, -0.02),
    Service("low_m", "Low secure (men)", "low", 11, 152_000, 450_000, 130_000, 9, 65, 25,
            2.0, 0.8, 1800, -0.01),
    Service("low_f", "Low secure (women)", "low", 11, 152_000, 450_000, 130_000, 9, 65, 25,
            2.0, 0.6, 700, -0.01),
    Service("low_ld", "Low secure learning disability", "low", 10, 152_000, 600_000, 150_000, 9,
            65, 25, 3.0, 0.6, 500, -0.04),
    Service("community", "Community forensic places", "community", 0, 0, 0, 0, 5, 0, 0,
            3.0, 0.0, 0, 0.08, new_build_lead_years=COMMUNITY_LEAD_YEARS, conversion_lead_years=0,
            out_of_area_premium=0.0, substitutes="low_m", substitution_rate=0.5,
            max_substitution_share=0.2, place_cost_gbp=30_000,
            setup_cost_per_place_gbp=COMMUNITY_SETUP_GBP,
            max_new_places_share=COMMUNITY_RAMP_SHARE),
]
INPATIENT = [s.service for s in SERVICES if s.level != "community"]
BASE_OCCUPANCY_OF_REFERENCE = 0.92  # base-year need = 92% of the reference national beds
COMMUNITY_PER_100K = 4.5  # base-year community forensic places per 100,000 adults

PATHWAY = [
    ("medium_m", "low_m", 0.45),
    ("medium_f", "low_f", 0.45),
    ("low_m", "community", 0.70),
    ("low_f", "community", 0.70),
    ("low_ld", "community", 0.60),
]

# --------------------------------------------------------------------------------------------
# The illustrative estate. One row per unit: id, hub (checked against point-in-polygon), where
# (an NHS Choices 2014 OrganisationCode, or explicit (lat, lon) for named units missing from
# that file), name (None = the hospital's own name + "(illustrative)"), provider (None = the
# hospital's parent organisation), sector, wards at the base year by service, extra services the
# site may be reconfigured to (None = rule below), estate age class, spare wards (headroom).
# Ward counts are illustrative except where ASSUMPTIONS.md cites a published figure.
# --------------------------------------------------------------------------------------------
NHS, IS = "NHS", "independent"


@dataclass
class Unit:
    site: str
    hub: str
    where: str | tuple[float, float]
    sector: str
    wards: dict[str, int]
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


def U(site, hub, where, sector, wards, age, **kw) -> Unit:  # noqa: N802 - table shorthand
    return Unit(site, hub, where, sector, wards, age, **kw)


MM, MF, LM, LF, LD = "medium_m", "medium_f", "low_m", "low_f", "low_ld"

UNITS: list[Unit] = [
    # ---- North East and Cumbria
    U("NEC-ROSEBERRY", "NEC", "RX3FL", NHS, {MM: 4, LM: 2, LD: 1}, "new"),
    U("NEC-STNICHOLAS", "NEC", "RX4E4", NHS, {MM: 5, MF: 1, LM: 2}, "mid"),
    U("NEC-NORTHGATE", "NEC", "RX467", NHS, {LD: 2}, "old"),
    U("NEC-MSG", "NEC", "NTN24", IS, {MM: 3, MF: 1, LM: 1, LF: 2}, "old"),
    U("NEC-LANCHESTER", "NEC", "RX3BB", NHS, {LM: 2, LF: 1}, "mid"),
    U("NEC-CARLTON", "NEC", "RNL10", NHS, {LM: 2}, "old"),
    U("NEC-HOPEWOOD", "NEC", "RX464", NHS, {LM: 1, LF: 1}, "new"),
    # ---- Yorkshire and Humber (named units: domain-facts.md §2)
    U("YH-NEWTON", "YH", "RXG10", NHS, {MM: 5, MF: 1}, "new", name="Newton Lodge",
      provider="South West Yorkshire Partnership NHS Foundation Trust", extra=(LM,),
      note="90 medium secure beds in 7 wards [S], modelled as 6 wards of 15 (5 men, 1 "
           "women); redeveloped 2011-13 (£11.8-15m) [S]"),
    U("YH-BRETTON", "YH", "RXG10", NHS, {LM: 3}, "mid", name="Bretton Centre",
      provider="South West Yorkshire Partnership NHS Foundation Trust", extra=(LD,),
      note="low secure men, converted 2008 (£8m) [S]; beds not published: 3 wards [E]"),
    U("YH-CLIFTON", "YH", "RGDT3", NHS, {LF: 2, LM: 2}, "new", name="Clifton House",
      provider="Leeds and York Partnership NHS Foundation Trust", extra=(LD,),
      note="22 women's low secure beds in 2 wards (£10m) [S] + '>20' men [S]; placed at the "
           "Bootham Park site, York"),
    U("YH-FOREST", "YH", (53.4135, -1.5095), NHS, {LM: 2}, "mid", name="Forest Lodge",
      provider="Sheffield Health and Social Care NHS Foundation Trust", extra=(LF,),
      note="22 low secure beds (10 + 12) [S]; not in the NHS Choices file: placed in north-west "
           "Sheffield (approximate)"),
    U("YH-HUMBER", "YH", (53.7685, -0.4560), NHS, {MM: 3, LM: 2}, "old", name="Humber Centre",
      provider="Humber NHS Foundation Trust", extra=(LF, LD),
      note="medium (+ low) secure, Willerby Hill; beds not published: 3 + 2 wards [E]; not in the "
           "NHS Choices file: placed at Willerby (approximate)"),
    U("YH-STOCKTON", "YH", "NMV02", IS, {MM: 6, LM: 2}, "old", name="Stockton Hall",
      provider="Priory Group (Partnerships in Care)", extra=(LF,),
      note="112 beds (CQC/press 2023) [S]; split 90 medium + 22 low [E]"),
    U("YH-BIERLEY", "YH", "NMJ02", IS, {MM: 3, MF: 1}, "mid"),
    U("YH-WYKE", "YH", "NMJ12", IS, {LM: 3}, "mid"),
    U("YH-BRIGHOUSE", "YH", "NMJ06", IS, {LF: 1, LD: 2}, "mid"),
    U("YH-KENDRAY", "YH", "RXG82", NHS, {MM: 5, MF: 1, LM: 2}, "old"),
    # ---- North West
    U("NW-RIBBLETON", "NW", "RW5EF", NHS, {MM: 5, LM: 1}, "mid"),
    U("NW-PRESTWICH", "NW", "RXV06", NHS, {MM: 6, MF: 1, LM: 1}, "old"),
    U("NW-SCOTT", "NW", "RW504", NHS, {MM: 3, LM: 1}, "old"),
    U("NW-ARBURY", "NW", "NMV07", IS, {MM: 3, MF: 1, LF: 2}, "mid"),
    U("NW-KEMPLE", "NW", "NMV05", IS, {LM: 4, LD: 3}, "mid"),
    U("NW-SPINNEY", "NW", "NMV06", IS, {MF: 2, LF: 2}, "mid"),
    U("NW-CALDERSTONES", "NW", "RJX04", NHS, {MM: 2, LD: 3}, "old"),
    U("NW-HOLLINS", "NW", "RTV33", NHS, {MM: 2, LM: 3}, "mid"),
    U("NW-CHEADLE", "NW", "NTN23", IS, {MM: 3, MF: 1, LM: 2}, "mid"),
    U("NW-STOCKPORT", "NW", "NMJ18", IS, {LM: 3, LF: 2}, "mid"),
    U("NW-BOWMERE", "NW", "RXA19", NHS, {LM: 2}, "mid"),
    U("NW-FOUNTAINS", "NW", "NTT07", IS, {LM: 2, LF: 1}, "mid"),
    U("NW-KENDAL", "NW", "RNNKK", NHS, {LM: 1, LF: 1}, "old"),
    # ---- West Midlands
    U("WM-TAMARIND", "WM", "RXTD6", NHS, {MM: 5, MF: 1}, "new"),
    U("WM-ENDEAVOUR", "WM", "RXT18", NHS, {MF: 2, LF: 1}, "mid"),
    U("WM-STANDREWS", "WM", "NYA03", IS, {MM: 3, LM: 2}, "new"),
    U("WM-STGEORGES", "WM", "RRE11", NHS, {MM: 4}, "old"),
    U("WM-BROOKLANDS", "WM", "RYG96", NHS, {LD: 3}, "old"),
    U("WM-CALUDON", "WM", "RYG58", NHS, {LM: 1}, "mid"),
    U("WM-STMICHAELS", "WM", "RYG79", NHS, {MM: 3}, "old"),
    U("WM-HUNTERCOMBE", "WM", "NV203", IS, {LM: 1, LF: 3, LD: 1}, "mid"),
    U("WM-ABBEY", "WM", "NMV15", IS, {LM: 4, LF: 2}, "mid"),
    U("WM-REDWOODS", "WM", "RRED9", NHS, {LM: 1}, "new"),
    U("WM-WOODBOURNE", "WM", "NTN08", IS, {MM: 3, MF: 1, LM: 2}, "mid"),
    U("WM-SEDGLEY", "WM", "NTT03", IS, {LM: 4, LD: 2}, "mid"),
    U("WM-HARPLANDS", "WM", "RLY88", NHS, {LM: 2, LF: 1}, "new"),
    U("WM-DOROTHY", "WM", "RYK10", NHS, {MM: 2, LM: 1}, "mid"),
    # ---- East Midlands
    U("EM-STANDREWS", "EM", "NYA01", IS, {MM: 8, MF: 3, LM: 7, LF: 4, LD: 3}, "mid", headroom=2),
    U("EM-FRITH", "EM", "RT553", NHS, {MM: 3}, "old"),
    U("EM-KINGSWAY", "EM", "RXM62", NHS, {MM: 3, MF: 1, LM: 1}, "new"),
    U("EM-LINGSBAR", "EM", "RHANN", NHS, {LM: 2, LF: 1}, "mid"),
    U("EM-CALVERTON", "EM", "NMV11", IS, {LM: 2, LF: 2}, "mid"),
    U("EM-ANNESLEY", "EM", "NMV12", IS, {MM: 2, LF: 1}, "mid"),
    U("EM-LINCOLN", "EM", "RP7EV", NHS, {LM: 1}, "mid"),
    U("EM-HAZELWOOD", "EM", "NMV13", IS, {LD: 1, LM: 1}, "old"),
    U("EM-CYGNETDERBY", "EM", "NMJ07", IS, {MM: 3, MF: 1, LM: 1}, "mid"),
    U("EM-GRAFTON", "EM", "NMV24", IS, {LD: 2}, "old"),
    U("EM-MILLBROOK", "EM", "RHABW", NHS, {LM: 1}, "mid"),
    # ---- East of England
    U("EOE-KNEESWORTH", "EOE", "NMV01", IS, {MM: 5, LM: 3, LD: 1}, "old"),
    U("EOE-NORVIC", "EOE", "RMY01", NHS, {MM: 4, LM: 1}, "old"),
    U("EOE-BROCKFIELD", "EOE", "RWNK9", NHS, {MM: 6, MF: 1}, "mid"),
    U("EOE-FULBOURN", "EOE", "RT113", NHS, {LM: 1, LF: 1}, "old"),
    U("EOE-CHADWICK", "EOE", "NTN31", IS, {MM: 3, MF: 1, LM: 2, LF: 3}, "mid"),
    U("EOE-STANDREWS", "EOE", "NYA02", IS, {LM: 3, LF: 2}, "new"),
    U("EOE-ELMPARK", "EOE", "NMV08", IS, {LM: 2, LD: 2}, "mid"),
    U("EOE-STCLEMENTS", "EOE", "RT624", NHS, {MM: 2, LM: 1}, "mid"),
    U("EOE-LOMBARD", "EOE", "NMV21", IS, {LM: 2, LD: 2}, "mid"),
    U("EOE-STEVENAGE", "EOE", "NMJ11", IS, {MM: 2, MF: 1, LF: 2}, "mid"),
    U("EOE-SUTTONS", "EOE", "NMV04", IS, {LM: 2, LD: 1}, "mid"),
    U("EOE-BURSTON", "EOE", "NMV20", IS, {LM: 2, LD: 1}, "mid"),
    U("EOE-PETERBOROUGH", "EOE", "RT114", NHS, {MM: 2, LM: 1}, "new"),
    # ---- London
    U("LDN-JOHNHOWARD", "LDN", "RWKFF", NHS, {MM: 6, MF: 1, LM: 1}, "mid"),
    U("LDN-WOLFSON", "LDN", "RWKHH", NHS, {LM: 2, LF: 1}, "old"),
    U("LDN-BETHLEM", "LDN", "RV505", NHS, {MM: 6, MF: 2, LM: 1}, "mid"),
    U("LDN-SPRINGFIELD", "LDN", "RQY01", NHS, {MM: 5, LM: 1, LD: 1}, "old"),
    U("LDN-STBERNARDS", "LDN", "RKL1L", NHS, {MM: 7, MF: 2, LM: 1}, "old"),
    U("LDN-CHASEFARM", "LDN", "RRP16", NHS, {MM: 3, LM: 2}, "mid"),
    U("LDN-NLC", "LDN", "NMV03", IS, {MM: 2, LM: 2, LF: 1}, "mid"),
    U("LDN-BECKTON", "LDN", "NMJ04", IS, {MM: 2, MF: 1, LF: 2}, "mid"),
    U("LDN-BLACKHEATH", "LDN", "NMJ05", IS, {LM: 2, LF: 2}, "mid"),
    U("LDN-EALING", "LDN", "NMJ08", IS, {LM: 3, LF: 2}, "mid"),
    U("LDN-HARROW", "LDN", "NMJ10", IS, {MM: 2, LM: 1, LF: 1, LD: 1}, "mid"),
    U("LDN-ROEHAMPTON", "LDN", "NV202", IS, {LD: 3}, "mid"),
    U("LDN-PARKROYAL", "LDN", "RV312", NHS, {LM: 2}, "new"),
    U("LDN-GOODMAYES", "LDN", "RATGM", NHS, {MM: 2, LM: 2, LD: 1}, "mid"),
    U("LDN-LADYWELL", "LDN", "RV509", NHS, {LM: 2}, "old"),
    # ---- South West
    U("SW-BLACKBERRY", "SW", "RVN3Q", NHS, {MM: 5, LM: 1}, "old"),
    U("SW-WONFORD", "SW", "RWV62", NHS, {MM: 4, LM: 1}, "old"),
    U("SW-BODMIN", "SW", "RJ866", NHS, {LM: 2}, "mid"),
    U("SW-KEWSTOKE", "SW", "NMJ03", IS, {LM: 3, LF: 2, LD: 1}, "mid"),
    U("SW-STANNS", "SW", "RDY10", NHS, {LM: 2}, "mid"),
    U("SW-SANDALWOOD", "SW", "RVN8A", NHS, {LM: 2}, "new"),
    U("SW-SPRINGSIDE", "SW", "NMJ19", IS, {MM: 2, MF: 1, LM: 1, LF: 2}, "mid"),
    U("SW-RADSTOCK", "SW", "NTN30", IS, {LD: 3, LM: 2}, "mid"),
    U("SW-PRIORYBRISTOL", "SW", "NTN38", IS, {MM: 2, MF: 1, LM: 2, LF: 1}, "mid"),
    U("SW-GREENLANE", "SW", "RVN6A", NHS, {LM: 1}, "old"),
    # ---- South East
    U("SE-BRACTON", "SE", "RPGAB", NHS, {MM: 4, LM: 1}, "mid"),
    U("SE-MAIDSTONE", "SE", "RXY08", NHS, {MM: 4, LM: 1}, "old"),
    U("SE-MOORGREEN", "SE", "RW154", NHS, {MM: 4, MF: 1, LM: 1}, "old"),
    U("SE-THORNFORD", "SE", "NTN45", IS, {MM: 3, LM: 3, LF: 1}, "mid"),
    U("SE-LITTLEMORE", "SE", "RNU30", NHS, {MM: 3, LM: 2}, "mid"),
    U("SE-PROSPECTPARK", "SE", "RWX51", NHS, {LM: 2}, "new"),
    U("SE-FARMFIELD", "SE", "NTN26", IS, {LM: 3, LD: 2}, "mid"),
    U("SE-DENE", "SE", "NMV09", IS, {MM: 2, MF: 2, LF: 3}, "mid"),
    U("SE-PELHAM", "SE", "NMV10", IS, {LM: 3, LD: 1}, "mid"),
    U("SE-EASTBOURNE", "SE", "RX2E7", NHS, {MM: 3, LM: 2}, "old"),
    U("SE-TICEHURST", "SE", "NTN05", IS, {MM: 2, MF: 1, LF: 1}, "old"),
    U("SE-GODDENGREEN", "SE", "NMJ01", IS, {LM: 3, LF: 3}, "mid"),
    U("SE-MAIDENHEAD", "SE", "NV201", IS, {LD: 2}, "mid"),
    U("SE-FARNHAMROAD", "SE", "RXX22", NHS, {LM: 2}, "new"),
    U("SE-PARKLANDS", "SE", "RW1AC", NHS, {LM: 1, LD: 1}, "mid"),
    U("SE-LANGLEYGREEN", "SE", "RX2P0", NHS, {LM: 2, LF: 1}, "new"),
    U("SE-STJAMES", "SE", "RW159", NHS, {MM: 3, MF: 1}, "old"),
]

# Candidate sites for new units: several per hub, at NHS mental health hospital sites (real
# locations; the candidacy is illustrative), 0 wards at the base year.
CANDIDATES: list[Unit] = [
    U("NEC-C1", "NEC", "RX3MM", NHS, {MM: 0, LM: 0}, "cand"),
    U("NEC-C2", "NEC", "RX4K2", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("NEC-C3", "NEC", "RNNOO", NHS, {LM: 0, LF: 0}, "cand"),
    U("YH-C1", "YH", "RGDAB", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("YH-C2", "YH", "RV9E2", NHS, {LF: 0, LD: 0}, "cand"),
    U("YH-C3", "YH", "RXG84", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("NW-C1", "NW", "RW404", NHS, {MM: 0, MF: 0, LD: 0}, "cand",
      name="Rowan View, Maghull (candidate)", provider="Mersey Care NHS Trust",
      note="123-bed medium secure unit, ~£60m, opened 2020 [S]; placed at the Maghull health "
           "park (Ashworth Hospital site)"),
    U("NW-C2", "NW", "RT203", NHS, {LM: 0, LF: 0}, "cand"),
    U("NW-C3", "NW", "RW5LA", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("WM-C1", "WM", "RYK01", NHS, {MM: 0, LM: 0}, "cand"),
    U("WM-C2", "WM", "RWQ01", NHS, {LM: 0, LF: 0}, "cand"),
    U("WM-C3", "WM", "RRE03", NHS, {LM: 0, LD: 0}, "cand"),
    U("EM-C1", "EM", "RT5PD", NHS, {LM: 0, LF: 0}, "cand"),
    U("EM-C2", "EM", "RP1A1", NHS, {MM: 0, LM: 0}, "cand"),
    U("EM-C3", "EM", "RHABL", NHS, {LM: 0, LD: 0}, "cand"),
    U("EOE-C1", "EOE", "RT115", NHS, {LM: 0, LD: 0}, "cand"),
    U("EOE-C2", "EOE", "RWN40", NHS, {MM: 0, MF: 0, LM: 0}, "cand"),
    U("EOE-C3", "EOE", "RMY02", NHS, {LM: 0, LF: 0}, "cand"),
    U("LDN-C1", "LDN", "RV383", NHS, {LM: 0, LF: 0}, "cand"),
    U("LDN-C2", "LDN", "RPGAH", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("LDN-C3", "LDN", "RRP46", NHS, {MM: 0, LM: 0}, "cand"),
    U("SW-C1", "SW", "RVNEQ", NHS, {MM: 0, MF: 0, LM: 0}, "cand"),
    U("SW-C2", "SW", "RWV29", NHS, {MM: 0, LM: 0, LF: 0}, "cand"),
    U("SW-C3", "SW", "RH5F3", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
    U("SE-C1", "SE", "RXY19", NHS, {MM: 0, LM: 0}, "cand"),
    U("SE-C2", "SE", "RW155", NHS, {MM: 0, MF: 0, LF: 0}, "cand"),
    U("SE-C3", "SE", "RNUAA", NHS, {LM: 0, LF: 0, LD: 0}, "cand"),
]

# Estate age classes [E]: operational carbon factor and running-cost factor.
AGE = {
    "new": {"carbon": 0.85, "cost": 0.97, "label": "built or rebuilt since c.2005"},
    "mid": {"carbon": 1.00, "cost": 1.00, "label": "1990s-2000s purpose-built"},
    "old": {"carbon": 1.30, "cost": 1.06, "label": "1980s regional secure unit or older buildings"},
    "cand": {"carbon": 0.70, "cost": 0.95, "label": "new build to the NHS Net Zero Building Standard"},
}
JITTER_CARBON = 0.05
JITTER_COST = 0.01
CANDIDATE_LEAD_YEARS = 2
CANDIDATE_MAX_WARDS = 6
CANDIDATE_OPEN_COST = 2_500_000
SITE_FIXED_BASE = 250_000
SITE_FIXED_PER_WARD = 60_000
CLOSE_COST_MEDIUM = 2_000_000
CLOSE_COST_LOW = 1_000_000


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
def copy_reference(ref: Path, out: Path) -> None:
    target = out / "reference"
    target.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_FILES:
        if (ref / name).resolve() != (target / name).resolve():
            shutil.copyfile(ref / name, target / name)
    (target / "README.md").write_text(
        "# Reference files\n\n"
        "Unchanged copies of the files in `../shared/data` that `scripts/build_england.py` uses\n"
        "(the script falls back to these copies when `../shared/data` is absent). `SOURCES.md` is\n"
        "the provenance of every file, copied as is; its attribution lines apply to everything\n"
        "derived from them, including `data/scenarios/england/`.\n\n"
        + "".join(f"- `{name}`\n" for name in REFERENCE_FILES[1:])
        + "\n" + ATTRIBUTION + "\n",
        encoding="utf-8")


def footprints(ref: Path, folder: Path) -> tuple[list[dict], object]:
    """footprints.csv and footprints.geojson; returns rows and a GeoDataFrame of polygons."""
    import geopandas as gpd
    from shapely.geometry import Point, shape

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
            "footprint": code, "name": props["stp17nm"], "hub": HUB_OF_FOOTPRINT[code],
            "lat": point.y, "lon": point.x, "population": int(p["pop_all_ages"]),
            "adults": int(p["pop_18_plus"]), "point": how,
        })
        out_features.append({"type": "Feature",
                             "properties": {"footprint": code, "name": props["stp17nm"],
                                            "hub": HUB_OF_FOOTPRINT[code]},
                             "geometry": feat["geometry"]})
        geoms.append(geom)
    write_csv(folder / "footprints.csv", ["footprint", "name", "hub", "lat", "lon", "population"],
              [[r["footprint"], r["name"], r["hub"], r["lat"], r["lon"], r["population"]]
               for r in rows])
    collection = {"type": "FeatureCollection", "name": "footprints", "crs": raw["crs"],
                  "features": out_features}
    text = "{\n" + ",\n".join(
        f'"{k}": {json.dumps(v, ensure_ascii=False)}' for k, v in collection.items()
        if k != "features")
    text += ',\n"features": [\n' + ",\n".join(
        json.dumps(f, ensure_ascii=False) for f in out_features) + "\n]\n}\n"
    (folder / "footprints.geojson").write_text(text, encoding="utf-8")
    gdf = gpd.GeoDataFrame({"footprint": [r["footprint"] for r in rows]}, geometry=geoms,
                           crs="EPSG:4326")
    return rows, gdf


def decommission_per_bed(s: Service) -> int:
    """One-off cost per bed space of removing a ward: DECOMMISSION_MONTHS of its fixed cost."""
    return round(DECOMMISSION_MONTHS / 12 * WARD_SHARE * s.bed_year_gbp * OCCUPANCY)


def services_table(folder: Path) -> None:
    header = ["service", "name", "level", "beds_per_ward", "target_occupancy",
              "cost_per_occupied_bed_gbp", "cost_per_ward_gbp", "capital_new_bed_gbp",
              "capital_convert_bed_gbp", "carbon_kg_per_bed_day", "embodied_t_per_new_bed",
              "embodied_t_per_converted_bed", "mean_los_years", "new_build_lead_years",
              "conversion_lead_years", "in_hub_share", "out_of_area_premium",
              "estate_carbon_t_per_bed_year", "decommission_bed_gbp", "setup_cost_per_place_gbp",
              "max_new_places_share", "substitutes", "substitution_rate", "max_substitution_share"]
    rows = []
    for s in SERVICES:
        estate, decommission = 0.0, 0.0
        if s.level == "community":
            per_bed, per_ward, occupancy = float(s.place_cost_gbp), 0.0, 1.0
        else:
            occupancy = OCCUPANCY
            per_bed = round((1 - WARD_SHARE) * s.bed_year_gbp)
            per_ward = round(WARD_SHARE * s.bed_year_gbp * s.beds_per_ward * OCCUPANCY)
            check = per_bed + per_ward / (s.beds_per_ward * OCCUPANCY)
            assert abs(check - s.bed_year_gbp) < 1, (s.service, check)
            estate = ESTATE_T_PER_BED_YEAR
            decommission = decommission_per_bed(s)
        rows.append([s.service, s.name, s.level, s.beds_per_ward, occupancy, float(per_bed),
                     float(per_ward), float(s.capital_new_bed_gbp),
                     float(s.capital_convert_bed_gbp), float(s.carbon_kg_per_bed_day),
                     float(s.embodied_t_per_new_bed), float(s.embodied_t_per_converted_bed),
                     s.mean_los_years, s.new_build_lead_years, s.conversion_lead_years,
                     s.in_hub_share, s.out_of_area_premium, estate, float(decommission),
                     s.setup_cost_per_place_gbp, fmt(s.max_new_places_share),
                     s.substitutes, s.substitution_rate, s.max_substitution_share])
    write_csv(folder / "services.csv", header, rows)
    write_csv(folder / "pathway.csv", ["from_service", "to_service", "share"],
              [[a, b, share] for a, b, share in PATHWAY])


def locate_units(ref: Path, fp_gdf) -> list[Unit]:
    """Coordinates from the NHS Choices file, footprint by point-in-polygon, checks."""
    import geopandas as gpd

    hospitals = {r["OrganisationCode"]: r for r in read_csv(ref / HOSPITALS)}
    units = [*UNITS, *CANDIDATES]
    ids = [u.site for u in units]
    assert len(ids) == len(set(ids)), "duplicate site id"
    for u in units:
        if isinstance(u.where, tuple):
            u.lat, u.lon = u.where
            if u.name is None or u.provider is None:
                raise ValueError(f"{u.site}: explicit coordinates need a name and provider")
        else:
            h = hospitals[u.where]
            u.lat, u.lon = round(float(h["Latitude"]), 4), round(float(h["Longitude"]), 4)
            if u.name is None:
                suffix = "candidate site" if u.age == "cand" else "illustrative"
                u.name = f"{h['OrganisationName'].strip()} ({suffix})"
            if u.provider is None:
                u.provider = h["ParentName"].strip()
    pts = gpd.GeoDataFrame({"site": ids},
                           geometry=gpd.points_from_xy([u.lon for u in units],
                                                       [u.lat for u in units]),
                           crs="EPSG:4326")
    joined = gpd.sjoin(pts, fp_gdf, predicate="within", how="left")
    joined = joined.drop_duplicates("site").set_index("site")
    for u in units:
        code = joined.at[u.site, "footprint"]
        if not isinstance(code, str):
            raise ValueError(f"{u.site} ({u.name}) lies in no footprint polygon")
        if HUB_OF_FOOTPRINT[code] != u.hub:
            raise ValueError(f"{u.site} lies in {code} (hub {HUB_OF_FOOTPRINT[code]}), not {u.hub}")
        u.footprint = code
    return units


def site_services_for(u: Unit) -> list[str]:
    """Services a site may host: its own, plus the reconfiguration options."""
    have = [v for v in INPATIENT if v in u.wards]
    if u.extra is not None:
        extra = list(u.extra)
    else:
        extra = []
        if MM in have and LM not in have:
            extra.append(LM)  # a medium unit can step a ward down to low secure
        elif LM in have and LF not in have and MM not in have:
            extra.append(LF)  # a low secure unit can reconfigure a ward for women
    return [v for v in INPATIENT if v in have or v in extra]


def sites_tables(units: list[Unit], folder: Path) -> None:
    rng = np.random.default_rng(SEED)
    site_rows, ss_rows = [], []
    for u in units:
        u.services = site_services_for(u)
        total = sum(u.wards.values())
        candidate = u.age == "cand"
        age = AGE[u.age]
        carbon = age["carbon"] + rng.uniform(-JITTER_CARBON, JITTER_CARBON)
        cost = age["cost"] + rng.uniform(-JITTER_COST, JITTER_COST)
        if candidate:
            max_wards, min_wards = CANDIDATE_MAX_WARDS, 2
        else:
            headroom = 0 if u.age == "old" else u.headroom  # older sites have no room
            max_wards, min_wards = total + headroom, min(2, total)
        has_medium = any(v in u.wards for v in (MM, MF))
        close_cost = 0 if candidate else (CLOSE_COST_MEDIUM if has_medium else CLOSE_COST_LOW)
        site_rows.append([
            u.site, u.name, u.footprint, u.lat, u.lon, "candidate" if candidate else "existing",
            u.provider, u.sector, min_wards, max_wards,
            float(SITE_FIXED_BASE + SITE_FIXED_PER_WARD * max_wards), round(cost, 3),
            round(carbon, 3), float(CANDIDATE_OPEN_COST if candidate else 0), float(close_cost),
            CANDIDATE_LEAD_YEARS if candidate else 0,
        ])
        for v in u.services:
            ss_rows.append([u.site, v, u.wards.get(v, 0)])
    write_csv(folder / "sites.csv",
              ["site", "name", "footprint", "lat", "lon", "status", "provider", "sector",
               "min_wards", "max_wards", "fixed_cost_gbp", "cost_factor", "carbon_factor",
               "open_cost_gbp", "close_cost_gbp", "lead_years"], site_rows)
    write_csv(folder / "site_services.csv", ["site", "service", "wards"], ss_rows)


def demand_table(fp_rows: list[dict], folder: Path) -> dict[str, float]:
    adults = sum(r["adults"] for r in fp_rows)
    rates = {}
    for s in SERVICES:
        if s.level == "community":
            rates[s.service] = COMMUNITY_PER_100K
        else:
            rates[s.service] = round(
                BASE_OCCUPANCY_OF_REFERENCE * s.national_beds / (adults / 1e5), 2)
    rows = []
    for r in fp_rows:
        for s in SERVICES:
            base = rates[s.service] * r["adults"] / 1e5
            for t in YEARS:
                rows.append([r["footprint"], s.service, t,
                             round(base * (1 + s.trend) ** (t - BASE_YEAR), 2)])
    write_csv(folder / "demand.csv", ["footprint", "service", "year", "beds"],
              [[a, b, c, float(d)] for a, b, c, d in rows])
    return rates


SCENARIO_YAML = """\
# England default dataset: 44 STP footprints (ONS Feb 2017 boundaries), ONS mid-2018 populations,
# 9 specialised commissioning hubs (assumed grouping) and an ILLUSTRATIVE secure estate calibrated
# to published national totals. Generated by scripts/build_england.py: edit the script, not this
# file, and run `make data`. Every figure and its source: ASSUMPTIONS.md.
name: england
description: >-
  England default dataset: 44 STP footprints, 9 hubs (assumed), an illustrative secure estate of
  about 3,500 medium and 3,000 low secure beds, candidate sites for new units, 2017-2021.
base_year: {base_year}
horizon_years: {horizon}
discount_rate: 0.035            # HM Treasury Green Book
carbon_price_gbp_per_t: 69      # BEIS non-traded central, 2020 (2018 GBP)
value_of_travel_gbp_per_km: 25  # per patient-km a year: family visits and escorts [E]
asset_life_years: 30
geometry: footprints.geojson
distance:
  method: contiguity            # great circle x circuity, stretched round estuaries
  circuity: 1.3
policy:
  stepdown_reach_km: 100
  delay_years: 0.5
  delayed_discharge_penalty_gbp: 50000
  in_hub_from_year: {in_hub_from}         # base year + new-build lead time
  max_ward_changes_per_hub_year: 6
  max_displaced_patients_per_hub_year: 60
  closure_notice_years: 1
  ward_removal_notice_years: 1   # staff and patients are given a year's notice [E]
  max_placement_km: 300
  unmet_km: 200
travel:
  visits_per_patient_year: 26
  car_kg_per_km: 0.17
solver:
  time_limit: 300
  mip_gap: 0.001
  threads: 2
"""


def scenario_yaml(folder: Path) -> None:
    lead = max(s.new_build_lead_years for s in SERVICES)
    (folder / "scenario.yaml").write_text(
        SCENARIO_YAML.format(base_year=BASE_YEAR, horizon=HORIZON, in_hub_from=BASE_YEAR + lead),
        encoding="utf-8")


def hubs_table(folder: Path) -> None:
    write_csv(folder / "hubs.csv", ["hub", "name"], [list(h) for h in HUBS])


# --------------------------------------------------------------------------------------------
# ASSUMPTIONS.md
# --------------------------------------------------------------------------------------------
def estate_totals(units: list[Unit]) -> dict[str, dict]:
    beds = {s.service: s.beds_per_ward for s in SERVICES}
    out: dict[str, dict] = {}
    for level, svcs in (("medium", (MM, MF)), ("low", (LM, LF, LD))):
        total = sum(u.wards.get(v, 0) * beds[v] for u in units for v in svcs)
        indep = sum(u.wards.get(v, 0) * beds[v] for u in units for v in svcs
                    if u.sector == IS)
        n_units = sum(1 for u in units if any(u.wards.get(v, 0) for v in svcs))
        out[level] = {"beds": total, "is_share": indep / total if total else 0.0,
                      "units": n_units,
                      "by_service": {v: sum(u.wards.get(v, 0) * beds[v] for u in units)
                                     for v in svcs}}
    return out


def hub_balance(units: list[Unit], fp_rows: list[dict], rates: dict[str, float]) -> list[str]:
    beds = {s.service: s.beds_per_ward for s in SERVICES}
    lines = ["| hub | adults (m) | " + " | ".join(f"{v} beds / need" for v in INPATIENT) + " |",
             "|---|---:|" + "---:|" * len(INPATIENT)]
    for hub, _name in HUBS:
        adults = sum(r["adults"] for r in fp_rows if r["hub"] == hub)
        cells = []
        for v in INPATIENT:
            have = sum(u.wards.get(v, 0) for u in units if u.hub == hub) * beds[v]
            need = rates[v] * adults / 1e5
            cells.append(f"{have} / {need:.0f}")
        lines.append(f"| {hub} | {adults / 1e6:.2f} | " + " | ".join(cells) + " |")
    return lines


def assumptions(folder: Path, fp_rows: list[dict], units: list[Unit],
                rates: dict[str, float]) -> None:
    existing = [u for u in units if u.age != "cand"]
    candidates = [u for u in units if u.age == "cand"]
    totals = estate_totals(existing)
    adults = sum(r["adults"] for r in fp_rows)
    svc = {s.service: s for s in SERVICES}
    n_surface = sum(1 for r in fp_rows if r["point"] != "ONS centroid")
    lines = [
        "# England default dataset: assumptions",
        "",
        "Generated by `scripts/build_england.py` (run `make data`); do not edit by hand. **[S]** = "
        "taken from a source (named); **[E]** = estimate or illustrative choice made for this "
        "dataset; **[M]** = general knowledge not confirmed by a retrieved source. `domain-facts.md`"
        " is the project's research note (`design/domain-facts.md` in the shared reference "
        "material), which gives the original sources.",
        "",
        "**The secure estate in this dataset is illustrative.** Unit locations are real mental "
        "health hospital sites, but which secure services each site runs and its ward numbers are "
        "not that site's own, except for the named Yorkshire and Humber units listed below. Do not "
        "read a site's row as a statement about that hospital.",
        "",
        "## Geography and population",
        "",
        "| item | figure | status and source |",
        "|---|---|---|",
        "| footprints | 44 STP footprints, codes STP17CD (E54000005..E54000048), names as ONS | "
        "[S] ONS STP Feb 2017 ultra generalised clipped boundaries (`data/reference/"
        f"{GEOJSON}`) |",
        "| footprint polygons (`footprints.geojson`) | the ONS boundaries unchanged, with "
        "`footprint` = STP17CD | [S] same file. Feb 2017 boundaries: the April 2017 Cumbria CCG "
        "split moved the E54000047/E54000048 line in south Cumbria (SOURCES.md caveat) |",
        f"| footprint reference points | the ONS centroid (`lat`, `long` in the geojson) where it "
        f"lies inside the polygon, else a point on the polygon's surface ({n_surface} of 44) | "
        "[S] same file; rounded to 4 decimals, checked inside |",
        f"| population (`population`, reported) | ONS mid-2018, all ages; England "
        f"{sum(r['population'] for r in fp_rows):,} | [S] `{POPULATION}` (CCG single-year "
        "estimates summed to STP17) |",
        f"| adults (drives demand) | ONS mid-2018, aged 18+; England {adults:,} | [S] same file "
        "(`pop_18_plus`) |",
        "| hubs | 9 specialised commissioning hubs: " + ", ".join(f"{h} {n}" for h, n in HUBS)
        + " | [S] that there are 9 hubs (MHSR, study.sagepub.com chapter 43); the names are [E] |",
        "| footprint → hub | domain-facts.md §1 table (by geography; Bassetlaw sits with South "
        "Yorkshire; Dorset put in SW, though it was in a Wessex hub in 2013) | **[E] assumption: "
        "no source publishes the hub → STP list** |",
        "",
        "## Services (`services.csv`, `pathway.csv`)",
        "",
        "| item | figure | status and source |",
        "|---|---|---|",
        "| services | medium secure men / women, low secure men / women / learning disability, "
        "community forensic places | [E] cohorts as in the NHS England adult secure service "
        "specifications; women's and LD services kept separate because their wards cannot host "
        "men's care |",
        "| ward size | medium 15 beds (men and women), low 11 (men and women), low LD 10 | [S] "
        "Newton Lodge wards 15-17 (women 15) and LD 8/12; Clifton House 22 women in 2 wards; Forest "
        "Lodge 10 + 12 (domain-facts.md §2-3). One size per service is [E] |",
        f"| target occupancy | {OCCUPANCY:.0%} | [S] MSU occupancy > 90% (HSJ 2000 survey); planning "
        "target 85-90% [E] |",
        "| cost per bed-year (full ward at target occupancy) | medium £165,000; low £152,000 (all "
        "cohorts) | [S] medium: Centre for Mental Health; low: Durcan et al. cited by Fazel et al. "
        "BJP 2016. Women's and LD costs are not published separately: same figure [E] |",
        f"| split of that cost | {WARD_SHARE:.0%} per ward (staffing, estate), "
        f"{1 - WARD_SHARE:.0%} per occupied bed: `cost_per_ward_gbp` = {WARD_SHARE:.0%} x cost x beds "
        f"x {OCCUPANCY:.0%}, so a full ward at target occupancy costs exactly the published figure per "
        "bed-year | [E] (nursing is most of the cost and is set per ward) |",
        "| capital, new-build bed | medium £500k; low £450k; low LD £600k | [S] Rowan View ≈ £490k, "
        "Maghull MSU proposal ≈ £480k, Clifton House ≈ £455k, Maghull LD unit ≈ £825k "
        "(domain-facts.md §3); the LD figure is [E] within £450-800k |",
        "| capital, converted bed (reconfiguration) | medium £150k; low £130k; LD £150k | [S] "
        "Newton Lodge refurbishment ≈ £130-170k per bed |",
        "| operational carbon | 9 kgCO2e per occupied bed-day (consumables, food, laundry) plus "
        f"{ESTATE_T_PER_BED_YEAR:.0f} tCO2e per bed space of an operating ward a year (energy, "
        "occupied or not), both x the site's estate factor; community place 5 kg/day | [S] "
        "hospital energy 13 tCO2/bed/yr ≈ 36 kg/bed-day (14 Spanish hospitals) and 45 kg per "
        "acute bed-day in all (US LCA), domain-facts.md §4: 45 - 36 = 9 kg for the occupied "
        "bed-day [E]; at 90% occupancy a bed-day costs 9 + 36 / 0.9 = 49 kg, within the 35-50 kg "
        "default. An empty ward still emits its energy; the community figure is [E] (office, "
        "travel) |",
        "| ward decommissioning | "
        + "; ".join(f"{v.service} £{decommission_per_bed(v):,.0f}"
                    for v in SERVICES if v.level != "community")
        + f" per bed space of a removed ward ({DECOMMISSION_MONTHS} months of the ward's fixed "
        "running cost: staff notice and redeployment, making the ward safe); also charged on "
        "bed spaces a conversion leaves unused; no ward is removed before "
        f"{BASE_YEAR + 1} (a year's notice) | [E] no published figure |",
        "| capital and embodied carbon: time basis | charged in the year spent (discounted like "
        "every cost; embodied carbon at that year's carbon price); the residual value of what "
        "still stands after the horizon is credited back (equal payments over the 30-year "
        "asset life at the discount rate: a ward built in the last year keeps about 97% of its "
        "value, one removed keeps none) | method: HM Treasury Green Book residual values "
        "(appraisal period shorter than asset life) |",
        "| embodied carbon | 65 tCO2e per new bed; 25 t per converted bed | [E] 600-1,000 kgCO2e/m² "
        "x ~80 m²/bed (Rowan View ≈ 83 m²/bed); refurbishment ≈ 40% of new build |",
        "| length of stay | medium 2.5 y; low 2.0 y; low LD 3.0 y; community forensic 3.0 y | [S] "
        "medium 2-5 y, low 1-2 y (domain-facts.md §3); defaults [E]; LD longer [E] |",
        "| lead times | new build 3 years (first beds in "
        f"{BASE_YEAR + 3}); conversion 1 year; candidate sites {CANDIDATE_LEAD_YEARS} years | [E] "
        "(Rowan View: full business case July 2017, opened 2020 [S]) |",
        f"| in-hub share | men's services {svc[MM].in_hub_share:.0%}; women's and LD "
        f"{svc[MF].in_hub_share:.0%} (fewer, more specialised units); from {BASE_YEAR + 3} | [E] "
        "policy: care close to home (MHSR; out-of-area placement guidance 2016) |",
        "| out-of-area premium | 66% over the full cost of a bed | [S] RCPsych 2010 via HSJ; "
        "CWP 2018 ('65% more') |",
        f"| community forensic places | £{svc['community'].place_cost_gbp:,.0f} per place-year; "
        f"each extra place replaces {svc['community'].substitution_rate} low secure (men) beds, "
        f"up to {svc['community'].max_substitution_share:.0%} of a footprint's low secure (men) "
        f"need; new places from {BASE_YEAR + COMMUNITY_LEAD_YEARS} (a year to commission and "
        f"recruit a team), at most {COMMUNITY_RAMP_SHARE:.0%} of that ceiling added a year, "
        f"£{COMMUNITY_SETUP_GBP:,.0f} set-up per new place (recruitment, training), kept once "
        "commissioned and paid whether filled or not | [E] (no published cost: placeholder "
        "£20-40k, domain-facts.md §3; lead time, ramp-up and set-up are [E]) |",
        "| pathway (step-down shares) | " + "; ".join(f"{a} → {b} {s:.0%}" for a, b, s in PATHWAY)
        + " | [E] domain-facts.md §5 defaults: ~45% of medium exits to low secure, ~70% of low "
        "exits to the community; LD 60% [E] |",
        "",
        "## Demand (`demand.csv`)",
        "",
        "Need is average occupied beds (places for community), per footprint, service and year, "
        f"{YEARS[0]}-{YEARS[-1]}: adults (18+) x a national rate x a trend. Inpatient rates are "
        f"calibrated so that national need at {BASE_YEAR} is {BASE_OCCUPANCY_OF_REFERENCE:.0%} of "
        "a reference national bed count (the occupancy the 2000 MSU survey found, > 90%); the "
        "reference counts split the published totals (medium ≈ 3,500 [S], low ≈ 3,000 [E: 6,500 - "
        "3,500]) by cohort. Estate and need differ by hub, so some hubs have gaps to fill and "
        "others surpluses to decommission (table below).",
        "",
        "| service | reference national beds | rate per 100,000 adults, "
        f"{BASE_YEAR} | national need {BASE_YEAR} | trend a year | national need {YEARS[-1]} | "
        "status and source |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    trend_source = {
        MM: "[E] MHSR aim to reduce reliance on inpatient beds as community services grow",
        MF: "[E] as men; women's reference beds: 589 medium c.2010 (PMC3516819), rounded down",
        LM: "[E] slower fall: step-down from medium keeps low secure need up",
        LF: "[E] women's low secure was 990 c.2010 (PMC3516819) and fell after the women's "
            "services review; 700 is [E]",
        LD: "[E] Transforming Care / Building the Right Support (2015) aimed to cut LD inpatient "
            "beds by 35-50% [M]; 500 is [E] within 20-25 secure inpatients per million [S]",
        "community": "[E] community forensic services grow (MHSR, provider collaboratives); no "
                     "published place count",
    }
    for s in SERVICES:
        need0 = rates[s.service] * adults / 1e5
        need_end = need0 * (1 + s.trend) ** (HORIZON - 1)
        ref = f"{s.national_beds:,.0f}" if s.national_beds else "-"
        lines.append(f"| {s.service} | {ref} | {rates[s.service]:.2f} | {need0:,.0f} | "
                     f"{s.trend:+.0%} | {need_end:,.0f} | {trend_source[s.service]} |")
    lines += [
        "",
        "No local need index is applied (forensic need is known to be higher in some cities, "
        "London especially, but no source was retrieved): need is proportional to adult "
        "population [E].",
        "",
        f"Base-year estate beds against base-year need (occupied beds; a ward holds "
        f"{OCCUPANCY:.0%} of its beds at target occupancy):",
        "",
        *hub_balance(existing, fp_rows, rates),
        "",
        "## The estate (`sites.csv`, `site_services.csv`)",
        "",
        "| item | figure | status and source |",
        "|---|---|---|",
        f"| medium secure beds | {totals['medium']['beds']:,} in {totals['medium']['units']} units "
        f"({', '.join(f'{k} {v:,}' for k, v in totals['medium']['by_service'].items())}); "
        f"independent sector {totals['medium']['is_share']:.0%} | [S] ~60 units, ~3,500 beds, "
        "~35% independent (Völlm et al. 2018); the unit list and ward numbers are [E] |",
        f"| low secure beds | {totals['low']['beds']:,} in {totals['low']['units']} units "
        f"({', '.join(f'{k} {v:,}' for k, v in totals['low']['by_service'].items())}); "
        f"independent sector {totals['low']['is_share']:.0%} | [E] ≈ 6,500 - 3,500; independent "
        "share 60-75% suggested (domain-facts.md §2) |",
        f"| sites | {len(existing)} existing units and {len(candidates)} candidate sites "
        f"({len(existing) + len(candidates)} in all) | [E] kept to 100-200 so that the MIP solves "
        "on a laptop |",
        "| locations | NHS Choices hospital sites (Feb 2014; SubType 'Mental Health Hospital' "
        "for NHS units, the independent hospitals of secure-care providers for independent units)"
        "; two named units not in that file are placed by hand (below) | [S] "
        f"`{HOSPITALS}`, Open Government Licence v2 |",
        "| footprint of a site | point-in-polygon on the ONS boundaries (geopandas); the build "
        "fails if a site lies outside every polygon or in another hub than listed | [S] |",
        "| site names | the hospital's name + '(illustrative)', or the named unit | [E] |",
        "| estate age and factors | " + "; ".join(
            f"{k}: {v['label']}, carbon x{v['carbon']}, running cost x{v['cost']}"
            for k, v in AGE.items()) + f"; plus a small fixed-seed jitter (±{JITTER_CARBON} "
        f"carbon, ±{JITTER_COST} cost) so that no two sites tie | [E] (older estate uses more "
        "energy and more staff for observation) |",
        f"| site fixed cost | £{SITE_FIXED_BASE:,} + £{SITE_FIXED_PER_WARD:,} per ward of "
        "`max_wards` a year (perimeter security, reception, management) | [E] |",
        f"| decommissioning | £{CLOSE_COST_MEDIUM:,} (site with medium secure wards), "
        f"£{CLOSE_COST_LOW:,} (low secure only), one-off: moving every patient, staff "
        "redeployment or redundancy, securing and disposing of the building, consultation | [E] |",
        "| physical maximum / viable minimum | base-year wards + 1 spare ward (2 at St Andrew's, "
        "Northampton; none on the older sites, which are taken to be constrained); minimum 2 wards "
        "(1 for one-ward units) | [E] |",
        "| reconfiguration options | a unit may convert wards among its own services plus: a "
        "medium unit without low secure men may add it; a low secure men's unit may add women's "
        "wards; named Y&H units as listed below | [E] |",
        f"| candidate sites | {len(candidates)}: three per hub at NHS mental health hospital "
        f"sites, 2-3 services each, up to {CANDIDATE_MAX_WARDS} wards, minimum 2; open cost "
        f"£{CANDIDATE_OPEN_COST:,} (plus capital per bed); lead {CANDIDATE_LEAD_YEARS} years (new "
        f"wards from {BASE_YEAR + 3}, the service lead time); carbon x0.70, cost x0.95 | [E] |",
        "",
        "### Named units (Yorkshire and Humber, and one candidate)",
        "",
        "| site | unit | wards at base year | published | placed at |",
        "|---|---|---|---|---|",
    ]
    for u in units:
        if u.note:
            wards = ", ".join(f"{v} {n}" for v, n in u.wards.items() if n) or "candidate"
            where = (f"{u.lat}, {u.lon} (by hand)" if isinstance(u.where, tuple)
                     else f"NHS Choices {u.where}")
            extra = f"; may reconfigure to {', '.join(u.extra)}" if u.extra else ""
            lines.append(f"| {u.site} | {u.name} | {wards}{extra} | {u.note} | {where} |")
    lines += [
        "",
        "The other Yorkshire and Humber units (Bierley, Wyke, Brighouse, Kendray) are "
        "illustrative units at real hospital locations, added so that the hub's estate is of a "
        "realistic size. Medium secure capacity in Y&H is set above need and women's and LD low "
        "secure capacity below it [E], the position the MHSR Y&H review describes (reconfigure, "
        "decommission where over capacity, commission where gaps).",
        "",
        "## Scenario parameters (`scenario.yaml`)",
        "",
        "| item | figure | status and source |",
        "|---|---|---|",
        "| discount rate | 3.5% | [S] HM Treasury Green Book |",
        "| carbon price | £69/tCO2e | [S] BEIS non-traded central, 2020 (2018 £); the "
        "`england-high-carbon` variant uses £229-245 a year, 2017-2021 (Green Book 2021 revision: £245 "
        "in 2021 [S], earlier years [E]) |",
        "| value of travel | £25 per patient-km a year (distance of the bed from home) | [E] 26 "
        "family visits a year x 2 ways x (£0.28/km car cost + visitor time) ≈ £23, plus escorts "
        "and care-coordinator visits |",
        "| family-visit carbon | 26 visits a year, 0.17 kgCO2e per car-km | [S] average car "
        "(BEIS via OWID, domain-facts.md §4); visits [E] |",
        "| distances | great circle x 1.3, stretched by the detour over the footprint "
        "contiguity graph (routes round the Humber, Thames and Severn) | [E] |",
        "| step-down reach | same hub or within 100 km | [E] domain-facts.md §5 (≤ 80 km "
        "preferred, > 160 km penalised) |",
        "| placements | not farther than 300 km by road (beyond that the need is unmet: spot "
        "purchase out of area, assumed 200 km away) | [E] 300 km road ≈ 230 km straight; every "
        "footprint has a unit of every service within 210 km; it keeps the model small (a quarter "
        "fewer placement variables than 400 km) |",
        "| stability | at most 6 wards built, converted or removed and 60 patients displaced "
        "per hub per year; 1 year notice before a unit closes | [E] |",
        "| delayed discharges | keep their bed 0.5 year; £50,000 penalty each | [E] |",
        "",
        ATTRIBUTION,
        "",
        "Hospital locations: NHS Choices hospital data (February 2014), Open Government Licence "
        "v2.",
        "",
    ]
    (folder / "ASSUMPTIONS.md").write_text("\n".join(lines), encoding="utf-8")


def build(out: Path, ref: Path) -> Path:
    folder = out / "scenarios" / "england"
    folder.mkdir(parents=True, exist_ok=True)
    copy_reference(ref, out)
    fp_rows, fp_gdf = footprints(ref, folder)
    hubs_table(folder)
    services_table(folder)
    units = locate_units(ref, fp_gdf)
    sites_tables(units, folder)
    rates = demand_table(fp_rows, folder)
    scenario_yaml(folder)
    assumptions(folder, fp_rows, units, rates)
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
