"""The sweep's pictures: each site's most common outcome, the hubs a sweep touches, coincident
variants spread apart, and a robustness map that colours every verdict (pixels counted)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.data import load_scenario
from model.gis.styles import ACTION_STYLES
from model.sweep.charts import OUTCOME_ACTION, dominant, robustness_map, spread, touched_hubs
from tests.conftest import DEMO

SHARES = list(OUTCOME_ACTION)


def _robust(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in SHARES:
        frame[col] = frame.get(col, 0.0)
    return frame.fillna(0.0)


def test_dominant_outcome_and_unused_candidates():
    robust = _robust([
        {"site": "A", "status": "existing", "hub": "H1", "kept": 0.25, "reduced": 0.75},
        {"site": "B", "status": "existing", "hub": "H1", "kept": 1.0},
        {"site": "C", "status": "candidate", "hub": "H2", "commissioned": 0.0},
        {"site": "D", "status": "candidate", "hub": "H2", "commissioned": 0.5, "kept": 0.0},
    ])
    out = dominant(robust).set_index("site")
    assert out.loc["A", "outcome"] == "reduced" and out.loc["A", "outcome_share"] == 0.75
    assert out.loc["B", "outcome"] == "kept" and out.loc["B", "outcome_share"] == 1.0
    assert out.loc["C", "outcome"] == "not used"
    assert out.loc["D", "outcome"] == "commissioned" and out.loc["D", "outcome_share"] == 0.5
    # A changes in some variant (H1), D is commissioned in some (H2); H3 named by a parameter
    assert touched_hubs(robust, ["H3"]) == ["H1", "H2", "H3"]
    # nothing changes anywhere: every hub with a site
    calm = _robust([{"site": "B", "status": "existing", "hub": "H1", "kept": 1.0},
                    {"site": "E", "status": "existing", "hub": "H4", "kept": 1.0}])
    assert touched_hubs(calm, []) == ["H1", "H4"]
    assert touched_hubs(robust.iloc[[1, 2]], []) == ["H1", "H2"]


def test_spread_moves_only_coincident_points():
    x = np.array([1.0, 1.0, 1.0, 5.0])
    y = np.array([2.0, 2.0, 2.0, 6.0])
    sx, sy = spread(x, y, (0.1, 0.2))
    # three equal points on a circle of radii 0.1 / 0.2 at 0, 120 and 240 degrees
    assert sx[0] == pytest.approx(1.1) and sy[0] == pytest.approx(2.0)
    assert sx[1] == pytest.approx(1 + 0.1 * np.cos(2 * np.pi / 3))
    assert sy[2] == pytest.approx(2 + 0.2 * np.sin(4 * np.pi / 3))
    assert len({(round(a, 9), round(b, 9)) for a, b in zip(sx, sy, strict=True)}) == 4
    assert (sx[3], sy[3]) == (5.0, 6.0)


def test_robustness_map_colours_every_verdict(tmp_path):
    from PIL import Image

    scenario = load_scenario(DEMO)
    sites = scenario.tables["sites"].copy()
    sites.attrs = {}
    hub_of = scenario.tables["footprints"].set_index("footprint")["hub"]
    sites["hub"] = sites["footprint"].map(hub_of)
    outcomes = ["kept", "reduced", "decommissioned", "reconfigured", "expanded", "commissioned"]
    rows = []
    for (_, site), outcome in zip(sites.iterrows(), outcomes * 3, strict=False):
        row = {"site": site["site"], "name": site["name"], "hub": site["hub"],
               "status": "candidate" if outcome == "commissioned" else "existing", outcome: 1.0}
        rows.append(row)
    robust = _robust(rows)
    path = tmp_path / "map.png"
    assert robustness_map("t", sites, robust, scenario.geometry, hub_of, [], path)
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    assert dominant(robust)["outcome"].nunique() == min(len(outcomes), len(sites))
    for outcome in dominant(robust)["outcome"].unique():
        colour = ACTION_STYLES[OUTCOME_ACTION[outcome]].color
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        found = (np.abs(px - rgb).sum(axis=1) <= 6).sum()
        assert found > 20, (outcome, colour, found)
