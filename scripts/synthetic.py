"""Deterministic synthetic scenarios for scale benchmarks (`scripts/bench.py`).

``generate(folder, zones, sites, years, services, seed)`` writes an ordinary scenario folder
shaped like the England dataset, at any size. Need is 65 beds per site (100 sites: about
England's 6,500 medium and low secure beds), so every size keeps England's site sizes. Demand
zones are scattered over England's bounding box and grouped into hubs around hub centres;
``services`` inpatient services come in medium/low pairs (medium k steps down to low k, low k to
one community service that can substitute the first low service); existing units host one to
three services, with wards sized so that each hub holds 85-115% of its base-year need of each
service; candidate sites have a lead time. Everything is drawn from
``numpy.random.default_rng(seed)`` in a fixed order: the same arguments give identical files.

The figures are illustrative only; they exist to measure the model's size and speed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

LAT = (50.6, 54.9)
LON = (-3.2, 0.8)
BEDS_PER_SITE = 65.0  # 100 sites: 6,500 beds, about England's medium + low secure beds
BASE_YEAR = 2025


def _service_rows(n: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for k in range(n):
        pair, low = divmod(k, 2)
        level = "low" if low else "medium"
        beds = int(rng.integers(10, 16))
        cost_bed = 49_500.0 if level == "medium" else 45_600.0
        rows.append({
            "service": f"{level}_{pair + 1}", "name": f"{level.title()} secure, cohort {pair + 1}",
            "level": level, "beds_per_ward": beds, "target_occupancy": 0.9,
            "cost_per_occupied_bed_gbp": round(cost_bed * float(rng.uniform(0.95, 1.05)), 2),
            "cost_per_ward_gbp": round(104_000.0 * beds * float(rng.uniform(0.9, 1.1)), 2),
            "capital_new_bed_gbp": 500_000.0 if level == "medium" else 450_000.0,
            "capital_convert_bed_gbp": 150_000.0 if level == "medium" else 130_000.0,
            "carbon_kg_per_bed_day": 40.0, "embodied_t_per_new_bed": 65.0,
            "embodied_t_per_converted_bed": 25.0,
            "mean_los_years": 2.5 if level == "medium" else 2.0,
            "new_build_lead_years": 3, "conversion_lead_years": 1,
            "in_hub_share": 0.8 if pair == 0 else 0.6, "out_of_area_premium": 0.66,
            "substitutes": "", "substitution_rate": 0.0, "max_substitution_share": 0.0,
        })
    first_low = next((r["service"] for r in rows if r["level"] == "low"), None)
    rows.append({
        "service": "community", "name": "Community forensic places", "level": "community",
        "beds_per_ward": 0, "target_occupancy": 1.0, "cost_per_occupied_bed_gbp": 30_000.0,
        "cost_per_ward_gbp": 0.0, "capital_new_bed_gbp": 0.0, "capital_convert_bed_gbp": 0.0,
        "carbon_kg_per_bed_day": 5.0, "embodied_t_per_new_bed": 0.0,
        "embodied_t_per_converted_bed": 0.0, "mean_los_years": 3.0, "new_build_lead_years": 0,
        "conversion_lead_years": 0, "in_hub_share": 0.0, "out_of_area_premium": 0.0,
        "substitutes": first_low or "", "substitution_rate": 0.5 if first_low else 0.0,
        "max_substitution_share": 0.2 if first_low else 0.0,
    })
    return rows


def generate(folder: str | Path, zones: int = 44, sites: int = 100, years: int = 5, services: int = 4,
             seed: int = 0, max_placement_km: float | None = 400.0, time_limit: float = 120.0,
             mip_gap: float = 1e-3) -> Path:
    """Write a synthetic scenario folder and return its path."""
    if zones < 2 or sites < 2 or services < 1 or years < 1:
        raise ValueError("need at least 2 zones, 2 sites, 1 service and 1 year")
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_hubs = min(9, max(2, zones // 5))

    # Zones: the first n_hubs are the hub centres; the rest join the nearest centre.
    lat = rng.uniform(*LAT, size=zones)
    lon = rng.uniform(*LON, size=zones)
    d2 = (lat[:, None] - lat[None, :n_hubs]) ** 2 + ((lon[:, None] - lon[None, :n_hubs]) * 0.62) ** 2
    hub_of = np.argmin(d2, axis=1)
    population = rng.lognormal(mean=0.0, sigma=0.45, size=zones)
    population = population / population.sum() * 56_000_000.0
    zone_ids = [f"Z{i + 1:04d}" for i in range(zones)]
    hub_ids = [f"H{h + 1}" for h in range(n_hubs)]
    hubs = pd.DataFrame({"hub": hub_ids, "name": [f"Hub {h + 1}" for h in range(n_hubs)]})
    footprints = pd.DataFrame({
        "footprint": zone_ids, "name": [f"Zone {i + 1}" for i in range(zones)],
        "hub": [hub_ids[h] for h in hub_of], "lat": lat.round(5), "lon": lon.round(5),
        "population": population.round(0)})

    svc_rows = _service_rows(services, rng)
    svc = pd.DataFrame(svc_rows)
    inpatient = [r["service"] for r in svc_rows if r["level"] != "community"]
    weights = np.array([1.0 / (1 + k // 2) * (1.15 if k % 2 == 0 else 1.0) for k in range(services)])
    national = dict(zip(inpatient, BEDS_PER_SITE * sites * weights / weights.sum(), strict=True))
    growth = dict(zip(inpatient, rng.uniform(-0.02, 0.02, size=services), strict=True))
    pathway = []
    for v in inpatient:
        level, pair = v.split("_")
        if level == "medium" and f"low_{pair}" in inpatient:
            pathway.append({"from_service": v, "to_service": f"low_{pair}", "share": 0.45})
        elif level == "low":
            pathway.append({"from_service": v, "to_service": "community", "share": 0.7})

    # Demand: population share x national need, a zone-level rate and a yearly trend.
    zone_rate = rng.uniform(0.7, 1.3, size=(zones, services))
    share = population / population.sum()
    demand_rows = []
    base_need = {}
    for k, v in enumerate(inpatient):
        need0 = national[v] * share * zone_rate[:, k]
        need0 = need0 / need0.sum() * national[v]
        base_need[v] = need0
        for y in range(years):
            factor = (1.0 + growth[v]) ** y
            for i, z in enumerate(zone_ids):
                demand_rows.append({"footprint": z, "service": v, "year": BASE_YEAR + y,
                                    "beds": round(float(need0[i] * factor), 3)})
    for i, z in enumerate(zone_ids):  # community places: about a third of low secure need
        for y in range(years):
            demand_rows.append({"footprint": z, "service": "community", "year": BASE_YEAR + y,
                                "beds": round(float(share[i] * 12.0 * sites), 3)})

    # Sites near zones: 60% existing units, 40% candidates; the first existing unit of each hub
    # sits in its centre zone, so every hub has one.
    n_existing = max(n_hubs, int(round(sites * 0.6)))
    host_zone = rng.choice(zones, size=sites, p=share)
    host_zone[:n_hubs] = np.arange(n_hubs)
    s_lat = np.clip(lat[host_zone] + rng.normal(0, 0.05, size=sites), 49.5, 55.5)
    s_lon = np.clip(lon[host_zone] + rng.normal(0, 0.08, size=sites), -8.0, 1.8)
    site_ids = [f"S{j + 1:04d}" for j in range(sites)]
    site_hub = hub_of[host_zone]
    hosts: dict[int, list[str]] = {}
    for j in range(sites):
        count = int(rng.integers(1, 4 if j < n_existing else 3))
        hosts[j] = sorted(rng.choice(inpatient, size=min(count, services), replace=False).tolist())

    # Existing wards: each hub holds 85-115% of its base-year need of each service.
    b_occ = {r["service"]: r["beds_per_ward"] * r["target_occupancy"] for r in svc_rows}
    for v in inpatient:
        for h in range(n_hubs):
            mine = [j for j in range(n_existing) if site_hub[j] == h]
            if not any(v in hosts[j] for j in mine):
                j = min(mine, key=lambda k: (len(hosts[k]), k))
                hosts[j] = sorted({*hosts[j], v})
    wards = {(j, v): 0 for j in range(sites) for v in hosts[j]}
    for v in inpatient:
        for h in range(n_hubs):
            holders = [j for j in range(n_existing) if site_hub[j] == h and v in hosts[j]]
            need = float(base_need[v][hub_of == h].sum())
            total = max(1, int(round(need * float(rng.uniform(0.85, 1.15)) / b_occ[v])))
            split = np.floor(rng.dirichlet(np.ones(len(holders)) * 2.0) * total).astype(int)
            split[int(rng.integers(len(holders)))] += total - int(split.sum())
            for j, n in zip(holders, split, strict=True):
                wards[(j, v)] = int(n)
    site_rows, ss_rows = [], []
    for j, sid in enumerate(site_ids):
        existing = j < n_existing
        total = sum(wards[(j, v)] for v in hosts[j])
        max_w = total + int(rng.integers(2, 7)) if existing else int(rng.integers(4, 9))
        site_rows.append({
            "site": sid, "name": f"Site {j + 1}", "footprint": zone_ids[host_zone[j]],
            "lat": round(float(s_lat[j]), 5), "lon": round(float(s_lon[j]), 5),
            "status": "existing" if existing else "candidate", "provider": f"P{j % 23 + 1}",
            "sector": "NHS" if rng.uniform() < 0.7 else "independent",
            "min_wards": min(1, total) if existing else 2, "max_wards": max_w,
            "fixed_cost_gbp": round(600_000.0 + 110_000.0 * max_w, 0),
            "cost_factor": round(float(rng.uniform(0.9, 1.1)), 3),
            "carbon_factor": round(float(rng.uniform(0.9, 1.3)) if existing
                                   else float(rng.uniform(0.6, 0.8)), 3),
            "open_cost_gbp": 0.0 if existing else round(float(rng.uniform(2e6, 5e6)), 0),
            "close_cost_gbp": round(float(rng.uniform(3e5, 6e5)), 0) if existing else 0.0,
            "lead_years": 0 if existing else 2,
        })
        for v in hosts[j]:
            ss_rows.append({"site": sid, "service": v, "wards": wards[(j, v)]})

    hub_wards = {h: 0 for h in hub_ids}
    for j in range(n_existing):
        hub_wards[hub_ids[hub_of[host_zone[j]]]] += sum(wards[(j, v)] for v in hosts[j])
    config = {
        "name": f"synthetic-z{zones}-s{sites}-y{years}-v{services}",
        "description": (f"Synthetic benchmark scenario (scripts/synthetic.py, seed {seed}): {zones} demand "
                        f"zones, {sites} sites, {years} years, {services} inpatient services. "
                        "Illustrative figures only."),
        "base_year": BASE_YEAR, "horizon_years": years, "discount_rate": 0.035,
        "carbon_price_gbp_per_t": 69.0, "value_of_travel_gbp_per_km": 25.0, "asset_life_years": 30,
        "distance": {"method": "great_circle", "circuity": 1.3},
        "policy": {
            "stepdown_reach_km": 100.0, "delay_years": 0.5, "delayed_discharge_penalty_gbp": 50_000.0,
            "in_hub_from_year": BASE_YEAR + min(3, years - 1),
            "max_ward_changes_per_hub_year": max(8, math.ceil(0.1 * max(hub_wards.values()))),
            "max_displaced_patients_per_hub_year": float(max(80, 10 * math.ceil(
                0.1 * max(hub_wards.values())))),
            "closure_notice_years": 1, "unmet_km": 200.0,
            **({"max_placement_km": max_placement_km} if max_placement_km else {}),
        },
        "travel": {"visits_per_patient_year": 26.0, "car_kg_per_km": 0.17},
        "solver": {"time_limit": time_limit, "mip_gap": mip_gap, "threads": 2},
    }
    (folder / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    tables = {"hubs": hubs, "footprints": footprints, "services": svc,
              "pathway": pd.DataFrame(pathway, columns=["from_service", "to_service", "share"]),
              "sites": pd.DataFrame(site_rows), "site_services": pd.DataFrame(ss_rows),
              "demand": pd.DataFrame(demand_rows)}
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
