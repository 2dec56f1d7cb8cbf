"""OR-Library instances solved through `solve_scenario` reproduce their published optima.

The instances live outside the repository, in ``../shared/bench/orlib/`` (relative to the repo
root); the tests skip when that folder is absent. Fast instances run in the normal suite, the
rest are marked slow (``make bench``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from model.orlib import (
    OrlibInputError,
    detect,
    instance_files,
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


def check(name: str, capacity: float | None = None, time_limit: float = 600) -> None:
    result = solve_instance(instance(name), capacity=capacity, time_limit=time_limit, threads=2)
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
    assert config["policy"]["max_open_sites"] == len(inst.capacity)  # never binds; adds place_link
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


# ---------------------------------------------------------------------------------------------
# The reader: format from the content, the literal capacity, bad files as input errors (exit 2).

# Two facilities whose capacities are the literal word, three customers (demand, then the cost
# of serving ALL of it from facility 1, 2). Per unit: customer 1 costs 10 at F1, 20 at F2;
# customer 2 costs 10 / 5; customer 3 costs 10 / 20. Total demand 16.
# Capacity 10: no facility holds all 16, so both open (100 + 50 = 150); F2 serves customer 2
#   (6 x 5 = 30) and F1 customers 1 and 3 (10 units, its capacity: 60 + 40 = 100): 280.
#   (Customer 2 at F1 would push 16 units through F1's 10; anything else costs more per unit.)
# Capacity 20: F1 alone, 100 + 60 + 60 + 40 = 260 (F2 alone 50 + 120 + 30 + 80 = 280; both 150
#   + 60 + 30 + 40 = 280).
TINY_CAP = """2 3
capacity 100.
capacity 50.
6 60 120
6 60 30
4 40 80
"""


def test_format_from_content_not_name(tmp_path):
    cap = tmp_path / "instance.dat"
    cap.write_text(instance("cap41").read_text())
    pmed = tmp_path / "cap99.txt"  # a p-median file under a capacitated name
    pmed.write_text(instance("pmed1").read_text())
    assert detect(cap) == "cap"
    assert detect(pmed) == "pmed"
    assert read_pmed(pmed).p == 5
    assert len(read_cap(cap).demand) == 50
    assert instance_files([tmp_path]) == [pmed]  # a folder lists *.txt files only ...
    (tmp_path / "x.txt").write_text(TINY_CAP)
    (tmp_path / "notes.txt").write_text("capopt values are in capopt.csv\n")
    # ... and keeps those whose content is an instance, in name order
    assert instance_files([tmp_path]) == [tmp_path / "cap99.txt", tmp_path / "x.txt"]


@pytest.mark.parametrize("text", ["", "hello world\n", "2 3\n1 2\n", "3 1 1\n1 2 5\n2 3 4\n",
                                  "2 1\n10 5\n10 5\n3 1 2 4\n"])
def test_unrecognised_file_is_an_input_error(tmp_path, text):
    # the third has 4 tokens where 'm n' = 2 3 needs 2 + 4 + 9; the fourth one edge too many;
    # the fifth one cost too many for 'm n' = 2 1 (needs 2 + 4 + 3 = 9 tokens, has 10)
    path = tmp_path / "pmed1.txt"
    path.write_text(text)
    with pytest.raises(OrlibInputError, match="not a recognised OR-Library instance"):
        detect(path)


def test_bad_numbers_listed_at_once(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(TINY_CAP.replace("6 60 30", "6 x 30").replace("4 40 80", "4 40 nan"))
    with pytest.raises(OrlibInputError) as err:
        read_cap(path, capacity=10)
    text = str(err.value)
    assert "row 5, column 'cost': not a finite number (value: 'x')" in text
    assert "row 6, column 'cost': not a finite number (value: 'nan')" in text


def test_literal_capacity_needs_capacity(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY_CAP)
    with pytest.raises(OrlibInputError, match="give one capacity for them all"):
        read_cap(path)
    assert read_cap(path, capacity=10).capacity == [10, 10]


@pytest.mark.parametrize(("capacity", "optimum"), [(10, 280.0), (20, 260.0)])
def test_tiny_literal_capacity_optimum(tmp_path, capacity, optimum):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY_CAP)
    result = solve_instance(path, capacity=capacity, time_limit=60, threads=1)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum, rel=1e-9)


def _cli(args: list[str]):
    from typer.testing import CliRunner

    from model.cli import app

    return CliRunner().invoke(app, ["bench", "orlib", *args])


def test_cli_exit_codes(tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text(TINY_CAP)
    junk = tmp_path / "junk.txt"
    junk.write_text("not an instance\n")
    missing = _cli([str(tiny)])
    assert missing.exit_code == 2, missing.output
    assert "--capacity" in missing.output and "Traceback" not in missing.output
    unknown = _cli([str(junk)])
    assert unknown.exit_code == 2, unknown.output
    assert "not a recognised OR-Library instance" in unknown.output
    assert unknown.exception is None or isinstance(unknown.exception, SystemExit)
    ok = _cli([str(tiny), "--capacity", "10"])
    assert ok.exit_code == 0, ok.output
    assert "280.000" in ok.output


def _trimmed_capa(folder: Path, m: int, n: int) -> Path:
    """The first m facilities and n customers of capa.txt, written in its own layout."""
    tokens = instance("capa").read_text().split()
    big_m = int(tokens[0])
    lines = [f"{m} {n}"] + [f"capacity {tokens[3 + 2 * i]}" for i in range(m)]
    start = 2 + 2 * big_m
    for j in range(n):
        row = tokens[start + j * (big_m + 1):start + (j + 1) * (big_m + 1)]
        lines.append(" ".join(row[:1 + m]))
    path = folder / "capa-trimmed.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _brute_force(inst) -> float:
    """Every set of open facilities, each with its transportation LP (scipy's HiGHS LP, a path
    independent of the model): the splittable capacitated optimum."""
    from itertools import combinations

    import numpy as np
    from scipy.optimize import linprog

    m, n = len(inst.capacity), len(inst.demand)
    cost = np.array(inst.cost)  # [j][i]: serve all of j from i
    best = math.inf
    for k in range(1, m + 1):
        for open_ in combinations(range(m), k):
            if sum(inst.capacity[i] for i in open_) < sum(inst.demand) - 1e-9:
                continue
            c = np.array([cost[j, i] for j in range(n) for i in open_])
            a_eq = np.kron(np.eye(n), np.ones(k))  # each customer fully served
            a_ub = np.hstack([np.eye(k) * inst.demand[j] for j in range(n)])  # capacities
            b_ub = [inst.capacity[i] for i in open_]
            lp = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1))
            if lp.status == 0:
                best = min(best, lp.fun + sum(inst.fixed_cost[i] for i in open_))
    return best


def test_trimmed_capa_matches_brute_force(tmp_path):
    path = _trimmed_capa(tmp_path, m=6, n=12)
    inst = read_cap(path, capacity=1.0)
    capacity = float(math.ceil(sum(inst.demand) / 3))  # at least three of the six must open
    inst = read_cap(path, capacity=capacity)
    expected = _brute_force(inst)
    result = solve_instance(path, capacity=capacity, time_limit=60, threads=1)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(expected, rel=1e-9)


CAPA = [8000, 10000, 12000, 14000]


@pytest.mark.slow
@pytest.mark.parametrize("capacity", CAPA)
def test_capa_published_optimum(capacity):
    # 100 x 1,000: at 8000 the whole run took 6.8 CPU minutes (50 min of wall time at load 8-11)
    check("capa", capacity=capacity, time_limit=3600)
