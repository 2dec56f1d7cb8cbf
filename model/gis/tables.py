"""What the layers are built from: a run folder's result tables and the scenario's tables,
and the coordinate reference systems the layers are written in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from model.data import ScenarioData
from model.errors import Problem, ScenarioError

BNG = 27700
WGS84 = 4326
CASE = "optimised"
BASELINE = "baseline"


@dataclass
class RunTables:
    """The result tables a run folder holds, as written (so re-exports match the run)."""

    decisions: pd.DataFrame
    wards: pd.DataFrame
    allocation: pd.DataFrame
    kpis: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> RunTables:
        missing = [name for name in ("decisions.csv", "wards.csv", "allocation.csv", "kpis.csv")
                   if not (folder / name).exists()]
        if missing:
            raise ScenarioError([Problem(str(folder / name), None, None, None,
                                         "missing: not a run folder with a solution")
                                 for name in missing])
        site_cols = {"site": str, "name": str, "hub": str, "footprint": str, "action": str}
        return cls(
            decisions=pd.read_csv(folder / "decisions.csv", dtype=site_cols, keep_default_na=False),
            wards=pd.read_csv(folder / "wards.csv", dtype={"site": str, "service": str}),
            allocation=pd.read_csv(folder / "allocation.csv",
                                   dtype={"footprint": str, "site": str, "service": str}),
            kpis=pd.read_csv(folder / "kpis.csv", dtype={"case": str, "scope": str, "id": str,
                                                         "year": str}),
        )


def scenario_table(scenario: ScenarioData, name: str) -> pd.DataFrame:
    """A scenario table without its attrs (row numbers for error messages, which pandas
    would deep-copy on every operation)."""
    frame = scenario.tables[name].copy()
    frame.attrs = {}
    return frame


def bng_points(lon: Iterable[float], lat: Iterable[float]) -> gpd.GeoSeries:
    """Points from WGS84 longitudes and latitudes, in British National Grid."""
    return gpd.GeoSeries(gpd.points_from_xy(list(lon), list(lat)), crs=WGS84).to_crs(epsg=BNG)

