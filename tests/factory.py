"""Tiny hand-checkable scenarios, written to a temporary folder.

The base instance: two hubs (H with footprint F, G with footprint FG), two inpatient services
(med, low; 10 beds a ward at 100% occupancy, so 1 ward = 10 beds) and a community service,
years 2020-2022, no discounting, no carbon price, no travel value, no pathway: each test switches
on exactly the mechanism it checks.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SERVICE_DEFAULTS = {
    "level": "medium", "beds_per_ward": 10, "target_occupancy": 1.0,
    "cost_per_occupied_bed_gbp": 10_000, "cost_per_ward_gbp": 100_000,
    "capital_new_bed_gbp": 100_000, "capital_convert_bed_gbp": 50_000,
    "carbon_kg_per_bed_day": 0, "embodied_t_per_new_bed": 0, "embodied_t_per_converted_bed": 0,
    "mean_los_years": 2.0, "new_build_lead_years": 0, "conversion_lead_years": 0,
    "in_hub_share": 0.0, "out_of_area_premium": 1.0, "substitutes": "",
    "substitution_rate": 0.0, "max_substitution_share": 0.0,
    "estate_carbon_t_per_bed_year": 0.0, "decommission_bed_gbp": 0.0,
    "setup_cost_per_place_gbp": 0.0, "max_new_places_share": 1.0,
}
SITE_DEFAULTS = {
    "provider": "P", "sector": "NHS", "status": "existing", "min_wards": 0, "max_wards": 10,
    "fixed_cost_gbp": 0, "cost_factor": 1.0, "carbon_factor": 1.0, "open_cost_gbp": 0,
    "close_cost_gbp": 0, "lead_years": 0,
}


def base_config() -> dict[str, Any]:
    return {
        "name": "tiny",
        "base_year": 2020,
        "horizon_years": 3,
        "discount_rate": 0.0,
        "carbon_price_gbp_per_t": 0.0,
        "value_of_travel_gbp_per_km": 0.0,
        "asset_life_years": 1,
        "distance": {"method": "great_circle", "circuity": 1.0},
        "policy": {"closure_notice_years": 0, "ward_removal_notice_years": 0,
                   "delayed_discharge_penalty_gbp": 0.0,
                   "stepdown_reach_km": 50.0, "delay_years": 0.5, "unmet_km": 0.0},
        "travel": {"visits_per_patient_year": 0.0},
        "solver": {"time_limit": 30, "mip_gap": 0.0, "threads": 1},
    }


class Tiny:
    """A tiny scenario under construction: edit its tables, then `write(folder)`."""

    def __init__(self) -> None:
        self.config = base_config()
        self.hubs = [{"hub": "H", "name": "Hub H"}, {"hub": "G", "name": "Hub G"}]
        # F at (53.0, -1.5); FG about 111 km north at (54.0, -1.5)
        self.footprints = [
            {"footprint": "F", "name": "Footprint F", "hub": "H", "lat": 53.0, "lon": -1.5},
            {"footprint": "FG", "name": "Footprint FG", "hub": "G", "lat": 54.0, "lon": -1.5},
        ]
        self.services = [
            {"service": "med", "name": "Medium", **SERVICE_DEFAULTS, "level": "medium"},
            {"service": "low", "name": "Low", **SERVICE_DEFAULTS, "level": "low"},
        ]
        self.pathway: list[dict[str, Any]] = []
        self.sites: list[dict[str, Any]] = []
        self.site_services: list[dict[str, Any]] = []
        self.demand: list[dict[str, Any]] = []
        self.fixed_decisions: list[dict[str, Any]] = []

    def service(self, name: str, **changes: Any) -> Tiny:
        for row in self.services:
            if row["service"] == name:
                row.update(changes)
                return self
        self.services.append({"service": name, "name": name, **SERVICE_DEFAULTS, **changes})
        return self

    def site(self, site: str, footprint: str = "F", wards: dict[str, int] | None = None,
             lat: float | None = None, lon: float = -1.5, **changes: Any) -> Tiny:
        fp = next(f for f in self.footprints if f["footprint"] == footprint)
        self.sites.append({"site": site, "name": f"Site {site}", "footprint": footprint,
                           "lat": fp["lat"] if lat is None else lat, "lon": lon,
                           **SITE_DEFAULTS, **changes})
        for v, n in (wards or {"med": 0}).items():
            self.site_services.append({"site": site, "service": v, "wards": n})
        return self

    def need(self, footprint: str, service: str, beds_by_year: dict[int, float] | float) -> Tiny:
        years = range(self.config["base_year"], self.config["base_year"] + self.config["horizon_years"])
        if not isinstance(beds_by_year, dict):
            beds_by_year = {y: beds_by_year for y in years}
        for year, beds in beds_by_year.items():
            self.demand.append({"footprint": footprint, "service": service, "year": year, "beds": beds})
        return self

    def lock(self, decision: str, site: str, kind: str, **fields: Any) -> Tiny:
        """A fixed decision (a row of fixed_decisions.csv)."""
        self.fixed_decisions.append({"decision": decision, "site": site, "kind": kind, **fields})
        return self

    def policy(self, **changes: Any) -> Tiny:
        self.config["policy"].update(changes)
        return self

    def set(self, **changes: Any) -> Tiny:
        self.config.update(changes)
        return self

    def copy(self) -> Tiny:
        return copy.deepcopy(self)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables as the loader would return them (every optional column filled)."""
        from model.dictionary import TABLES

        rows = {"hubs": self.hubs, "footprints": self.footprints, "services": self.services,
                "pathway": self.pathway, "sites": self.sites,
                "site_services": self.site_services, "demand": self.demand,
                "fixed_decisions": self.fixed_decisions}
        frames = {}
        for name, table in TABLES.items():
            frame = pd.DataFrame(rows[name], columns=[c.name for c in table.columns])
            for col in table.columns:
                if not col.required and col.default is not None:
                    column = frame[col.name].astype(object)
                    frame[col.name] = column.where(column.notna(), col.default) if len(frame) else column
            frames[name] = frame
        return frames

    def inputs(self):
        """ModelInputs built in memory, without writing or reading a file."""
        from model.config import ScenarioConfig
        from model.data import ScenarioData
        from model.inputs import build_inputs

        config = ScenarioConfig.model_validate(self.config)
        scenario = ScenarioData(config=config, folder=Path("<memory>"), layers=[], tables=self.frames())
        return build_inputs(scenario)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.yaml").write_text(yaml.safe_dump(self.config, sort_keys=False))
        tables = {
            "hubs": (self.hubs, ["hub", "name"]),
            "footprints": (self.footprints, ["footprint", "name", "hub", "lat", "lon"]),
            "services": (self.services, ["service", "name", *SERVICE_DEFAULTS]),
            "pathway": (self.pathway, ["from_service", "to_service", "share"]),
            "sites": (self.sites, ["site", "name", "footprint", "lat", "lon", *SITE_DEFAULTS]),
            "site_services": (self.site_services, ["site", "service", "wards"]),
            "demand": (self.demand, ["footprint", "service", "year", "beds"]),
        }
        if self.fixed_decisions:
            columns = list(pd.DataFrame(self.fixed_decisions).columns)
            tables["fixed_decisions"] = (self.fixed_decisions, columns)
        for name, (rows, columns) in tables.items():
            pd.DataFrame(rows, columns=columns).to_csv(folder / f"{name}.csv", index=False)
        return folder
