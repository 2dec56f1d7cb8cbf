"""The cost / worst-footprint-mean-km frontier (``--objectives cost,worst_km``) on a case whose
every plan can be enumerated, and the Dinkelbach iteration that minimises the worst km.

Instance (one year, 2020; no discounting; every ward existing, removals free and immediate):
footprint F (at latitude 53.0) needs 20 med beds, FG (54.0, 111.19 km north) 10. A ward is 10
beds; occupied beds cost nothing, so a plan's cost is its wards' running cost alone, 100k x the
site's cost factor a ward a year (allocation changes no cost):

    A at F (0 km from F, 111.19 from FG), 2 wards, cost factor 2.0  (200k a ward)
    M midway (53.5: 55.60 km from both), 3 wards, cost factor 1.0   (100k a ward)
    B at FG (111.19 from F, 0 km from FG), 1 ward, cost factor 1.5  (150k a ward)

With a, m, b wards kept, cost = 200k a + 100k m + 150k b (30 beds: a + m + b >= 3) and the
worst footprint's mean km W is the min over allocations of max(K_F / 20, K_FG / 10). F's mean
is below 55.60 only with beds at A (a >= 1), FG's only with beds at B (b = 1); with a = 1, F has
10 beds at A and 10 at M at best: 27.80 km. So

    (0,3,0): 300k, W 55.60   (1,1,1): 450k, W 27.80   (2,0,1): 550k, W 0

and every other plan is dominated ((0,2,1): 350k, 55.60; (1,2,0): 400k, 55.60; (2,1,0): 500k,
55.60; supersets cost more for no lower W). The test enumerates every (a, m, b) with a linear
program per plan (independently of the model) and checks the frontier is that efficient set.

Payoff row minimising W (payoff-1): W = 0 needs every patient at 0 km: F's 20 beds at A (both
its wards), FG's 10 at B; then the least cost keeps nothing else: (2,0,1), 2 x 200k + 150k =
550k. Payoff row minimising cost first (payoff-0): (0,3,0) is the only 300k plan, W 55.60.

Grid of 4 points on W: 55.60, 37.06, 18.53, 0 (step 18.53). At 37.06 the least cost is (1,1,1)
(450k, W 27.80, measured slack 37.06 - 27.80 = 9.27 < one step: no bypass); at 18.53 it is
(2,0,1) (550k, W 0).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from model.cli import app
from model.distances import EARTH_RADIUS_KM
from model.sweep import dask_client
from model.tradeoffs import run_frontier
from tests.factory import Tiny

HALF = EARTH_RADIUS_KM * math.pi / 360.0  # 55.60 km: half a degree of latitude
FULL = 2 * HALF


def three_sites() -> Tiny:
    return (Tiny().set(horizon_years=1)
            .service("med", cost_per_occupied_bed_gbp=0)
            .site("A", wards={"med": 2}, max_wards=2, cost_factor=2.0)
            .site("M", wards={"med": 3}, max_wards=3, lat=53.5)
            .site("B", footprint="FG", wards={"med": 1}, max_wards=1, cost_factor=1.5)
            .need("F", "med", 20).need("FG", "med", 10).policy(allow_unmet=False))


def least_worst_km(a: int, m: int, b: int) -> float:
    """min over allocations of max(K_F/20, K_FG/10): variables (F at A, M, B, FG at A, M, B, z)."""
    km_f, km_fg = [0.0, HALF, FULL], [FULL, HALF, 0.0]
    c = [0, 0, 0, 0, 0, 0, 1]
    a_ub = [[k / 20 for k in km_f] + [0, 0, 0, -1], [0, 0, 0] + [k / 10 for k in km_fg] + [-1]]
    a_ub += [[1 if j in (i, i + 3) else 0 for j in range(6)] + [0] for i in range(3)]
    b_ub = [0, 0, 10 * a, 10 * m, 10 * b]
    a_eq = [[1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0]]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[20, 10], bounds=[(0, None)] * 7,
                  method="highs")
    return float(res.fun)


def enumerated() -> dict[tuple[int, int, int], tuple[float, float]]:
    return {(a, m, b): (2e5 * a + 1e5 * m + 1.5e5 * b, least_worst_km(a, m, b))
            for a, m, b in itertools.product(range(3), range(4), range(2)) if a + m + b >= 3}


def efficient_set(values) -> set[tuple[float, float]]:
    return {(round(c), round(w, 6)) for c, w in values
            if not any(d <= c and v <= w + 1e-9 and (d < c or v < w - 1e-9) for d, v in values)}


@pytest.fixture(scope="module")
def frontier(tmp_path_factory):
    root = tmp_path_factory.mktemp("worst_km")
    folder = three_sites().write(root / "three_sites")
    with dask_client(workers=2) as client:
        run = run_frontier(folder, ["cost", "worst_km"], points=4, runs_root=root / "runs",
                           client=client)
    return run


def test_the_enumeration_by_hand():
    plans = enumerated()
    assert plans[(0, 3, 0)] == (3e5, pytest.approx(HALF))
    assert plans[(1, 1, 1)] == (4.5e5, pytest.approx(HALF / 2))
    assert plans[(2, 0, 1)] == (5.5e5, pytest.approx(0.0, abs=1e-9))
    assert efficient_set(plans.values()) == {(300_000, round(HALF, 6)), (450_000, round(HALF / 2, 6)),
                                             (550_000, 0.0)}


def test_the_frontier_is_the_enumerated_efficient_set(frontier):
    table = pd.read_csv(frontier.folder / "frontier.csv")
    points = table[(table["kind"] == "frontier") & table["point"].notna()].drop_duplicates("point")
    got = {(round(c), round(w, 6) + 0.0) for c, w in zip(points["cost"], points["worst_km"], strict=True)}
    assert got == efficient_set(enumerated().values())
    # worst_km is fairness.csv's worst footprint mean km, and no point is dominated
    assert np.allclose(points["worst_km"], points["worst_footprint_mean_km"])
    assert (points["dominated_by"].astype("string").fillna("") == "").all()


def test_the_payoff_row_minimising_worst_km(frontier):
    table = pd.read_csv(frontier.folder / "frontier.csv").set_index("label")
    # payoff-1 (see the module docstring): W 0 at (2,0,1), 550k; payoff-0: (0,3,0), 300k, 55.60
    assert table.at["grid-03", "same_as"] == "payoff-1"
    assert table.at["grid-03", "worst_km"] == pytest.approx(0.0, abs=1e-6)
    assert table.at["grid-03", "cost"] == pytest.approx(5.5e5)
    assert table.at["grid-00", "worst_km"] == pytest.approx(HALF, rel=1e-6)
    assert table.at["grid-00", "cost"] == pytest.approx(3e5)
    wards = pd.read_csv(frontier.folder / table.at["grid-03", "run_dir"] / "wards.csv")
    assert dict(zip(wards["site"], wards["wards"], strict=True)) == {"A": 2, "M": 0, "B": 1}
    # the grid: 55.60, 37.06, 18.53, 0; at 37.06 (1,1,1) with measured slack 9.27
    assert table.at["grid-01", "e"] == pytest.approx(FULL / 3, rel=1e-9)
    assert table.at["grid-01", "cost"] == pytest.approx(4.5e5)
    assert table.at["grid-01", "slack"] == pytest.approx(FULL / 3 - HALF / 2, rel=1e-6)
    assert table.at["grid-02", "cost"] == pytest.approx(5.5e5)


def test_summary_prices_a_km_off_the_worst_footprint(frontier):
    text = (frontier.folder / "summary.md").read_text()
    # (0,3,0) -> (1,1,1): 150k for 27.80 km off the worst footprint's mean: 5,396 a km;
    # (1,1,1) -> (2,0,1): 100k for 27.80 km: 3,597 a km
    assert f"| {150_000 / (HALF / 2):,.0f} |" in text
    assert f"| {100_000 / (HALF / 2):,.0f} |" in text
    assert (frontier.folder / "cost_worst_km.png").exists()


def test_worst_km_first_is_refused(tmp_path):
    folder = three_sites().write(tmp_path / "s")
    result = CliRunner().invoke(app, ["frontier", str(folder), "--objectives", "worst_km,cost",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "bounded (second) objective only" in result.output


def test_dinkelbach_with_patients_that_are_variables():
    # F needs 20 low beds a year (one year); community places replace up to a quarter of it (rate
    # 1, share 0.25: s <= 5 beds). A at F (0 km) has one ward (10 beds); M, 55.60 km away, has two.
    # With s beds substituted F has N = 20 - s patients, 10 at A and 10 - s at M:
    #     W(s) = 55.60 (10 - s) / (20 - s), least at s = 5: 55.60 x 5 / 15 = 18.53 km
    # (not 55.60 x 5 / 20 = 13.90: the patients are 15, not the 20 of the need). The iteration
    # from lambda = 0: min K_F / 20 -> s = 5, lambda_1 = 278.0 / 15 = 18.53; then
    # min (55.60 (10 - s) - 18.53 (20 - s)) / 20 is 0 at s = 5: converged, in two solves.
    # rho = (20 - 5) / 20 = 0.75.
    from model.formulation import formulate
    from model.tradeoffs.minimax import footprint_km, least_share, minimise_worst_km

    tiny = (Tiny().set(horizon_years=1)
            .service("comm", level="community", beds_per_ward=0, cost_per_occupied_bed_gbp=5_000,
                     cost_per_ward_gbp=0, substitutes="low", substitution_rate=1.0,
                     max_substitution_share=0.25)
            .site("A", wards={"low": 1}, max_wards=1)
            .site("M", wards={"low": 2}, max_wards=2, lat=53.5)
            .need("F", "low", 20).policy(allow_unmet=False))
    formulation = formulate(tiny.inputs())
    terms = footprint_km(formulation)
    assert least_share(formulation) == pytest.approx(0.75)
    found = minimise_worst_km(formulation, terms)
    assert found.value == pytest.approx(HALF * 5 / 15, rel=1e-6)
    assert found.bound == pytest.approx(found.value, rel=1e-6)
    assert [round(it["lambda"], 4) for it in found.iterations] == [0.0, round(HALF * 5 / 15, 4)]
    # the model is left as it was: its own objective active, the minimax rows gone
    m = formulation.model
    assert m.total_cost.active and not hasattr(m, "tradeoff_minimax") and not hasattr(m, "tradeoff_z")
