"""OR-Library instances solved through `solve_scenario` reproduce their published optima.

The instances live outside the repository, in ``../shared/bench/orlib/`` (relative to the repo
root); the tests skip when that folder is absent. Fast instances run in the normal suite, the
rest are marked slow (``make bench``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.orlib import (
    published_optimum,
    read_cap,
    read_pmed,
    solve_instance,
    ward_mapping,
    write_scenario,
)

ORLIB = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "orlib"
REL = 1e-6

# Under a second each (cap*) or a few seconds (pmed1-5, 100 vertices); pmed6-10 (200 vertices)
# take 7-16 s each, so they run with `make bench`.
CAP_FAST = ["cap41", "cap42", "cap43", "cap44", "cap51", "cap61", "cap62", "cap63", "cap64", "cap71",
            "cap72", "cap73", "cap74"]
CAP_SLOW: list[str] = []
PMED_FAST = ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"]
PMED_SLOW = ["pmed6", "pmed7", "pmed8", "pmed9", "pmed10"]


def instance(name: str) -> Path:
    path = ORLIB / ("cap" if name.startswith("cap") else "pmed") / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available (../shared/bench/orlib)")
    return path


def check(name: str, capacity: float | None = None) -> None:
    result = solve_instance(instance(name), capacity=capacity, time_limit=600, threads=2)
    assert result.optimum is not None, f"no published optimum for {name}"
    assert result.status == "optimal", result.status
    assert result.rel_error < REL, (result.objective, result.optimum)


@pytest.mark.parametrize("name", CAP_FAST + PMED_FAST)
def test_published_optimum(name):
    check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", CAP_SLOW + PMED_SLOW)
def test_published_optimum_slow(name):
    check(name)


def test_uncapacitated_cap71():
    path = instance("cap71")
    total = sum(read_cap(path).demand)
    assert published_optimum(path, total) == pytest.approx(932615.750)
    check("cap71", capacity=total)


def test_cap_scenario_tables(tmp_path):
    path = instance("cap41")
    inst = read_cap(path)
    folder = write_scenario(path, tmp_path / "cap41")
    import pandas as pd
    import yaml

    config = yaml.safe_load((folder / "scenario.yaml").read_text())
    assert config["distance"] == {"method": "matrix", "matrix_file": "distances.csv"}
    assert config["policy"]["allow_unmet"] is False
    services = pd.read_csv(folder / "services.csv")
    sites = pd.read_csv(folder / "sites.csv")
    capacity = services.at[0, "beds_per_ward"] * services.at[0, "target_occupancy"] * sites["max_wards"]
    assert list(capacity) == inst.capacity
    km = pd.read_csv(folder / "distances.csv")
    row = km[(km["footprint"] == "C1") & (km["site"] == "F2")].iloc[0]
    assert row["km"] * inst.demand[0] == pytest.approx(inst.cost[0][1], rel=1e-12)


def test_pmed_last_edge_wins(tmp_path):
    path = tmp_path / "pmedx.txt"
    path.write_text("3 3 1\n1 2 5\n2 3 4\n1 2 7\n")
    inst = read_pmed(path)
    assert inst.edges == {(1, 2): 7.0, (2, 3): 4.0}


def test_ward_mapping_exact():
    assert ward_mapping([5000, 5000]) == (40, {0: 125, 1: 125})
    beds, wards = ward_mapping([58268])
    assert beds * wards[0] == 58268
    assert ward_mapping([7]) == (7, {0: 1})
