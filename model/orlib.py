"""OR-Library facility-location benchmarks as bedplan scenarios, solved by the planning model.

Two instance families (J.E. Beasley, OR-Library; see ``../shared/bench/orlib/README.md``):

- ``cap*.txt``, capacitated warehouse location (splittable demand): m facilities with a capacity
  and a fixed cost, n customers with a demand and the cost of serving ALL of it from each
  facility.
- ``pmed*.txt``, p-median: an undirected graph; every vertex is a client of demand 1 and a
  candidate median; exactly p medians; minimise the total shortest-path distance.

Each instance becomes an ordinary scenario folder (the CSV tables and ``scenario.yaml``) and is
solved through :func:`model.run.solve_scenario`, the same path as ``bedplan solve``: nothing here
formulates a model. The mapping:

- one hub, one year, one inpatient service, no discounting, every cost zero except the sites'
  ``fixed_cost_gbp`` and travel at ``value_of_travel_gbp_per_km: 1``;
- customer / vertex j -> footprint ``C<j>`` (demand d_j beds; 1 for p-median);
- facility / vertex i -> candidate site ``F<i>`` (lead time 0, so it can open in the one year),
  capacity s_i = ``beds_per_ward x max_wards`` (target occupancy 1), with ``beds_per_ward`` the
  largest divisor of every capacity that fits the dictionary's 40, so a site has as few wards
  as the capacities allow (the wards are free: only the capacity matters);
- ``cap``: ``distance.method: matrix`` with km_ij = c_ij / d_j, so km x beds placed = c_ij x_ij;
- ``pmed``: ``distance.method: graph`` over a GraphML file whose node ids are the footprint and
  site codes (edge ``length`` = the instance's edge length; a repeated edge keeps its last
  length); ``policy.min_open_sites = policy.max_open_sites = p``; capacity = n (uncapacitated);
- ``policy.allow_unmet: false``: every customer is served.
"""

from __future__ import annotations

import csv
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pandas as pd
import yaml

from model.errors import Problem, ScenarioError

MAX_BEDS_PER_WARD = 40  # model/dictionary.py: services.beds_per_ward maximum
YEAR = 2025


@dataclass
class CapInstance:
    """A capacitated warehouse location instance."""

    name: str
    capacity: list[float]
    fixed_cost: list[float]
    demand: list[float]
    cost: list[list[float]]  # cost[j][i]: serve all of customer j from facility i


@dataclass
class PmedInstance:
    """A p-median instance on an undirected graph (vertices 1..n)."""

    name: str
    n: int
    p: int
    edges: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass
class OrlibResult:
    """One instance solved through the planning model."""

    instance: str
    kind: str
    capacity: float | None
    objective: float | None
    optimum: float | None
    rel_error: float | None
    status: str
    build_seconds: float
    solve_seconds: float
    total_seconds: float
    size: dict[str, int]
    scenario_dir: Path | None


class OrlibInputError(ScenarioError):
    """An OR-Library file that cannot be read as an instance (exit 2, like any bad input)."""


Token = tuple[str, int]  # (text, 1-based line)


def _tokens(path: Path) -> list[Token]:
    """The file as one stream of whitespace-separated tokens, each with its line number."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        problem = Problem(str(path), None, None, None, f"cannot be read: {exc.strerror}")
        raise OrlibInputError([problem]) from exc
    return [(tok, line) for line, row in enumerate(text.splitlines(), start=1) for tok in row.split()]


def _whole(token: str) -> int | None:
    return int(token) if token.isdigit() else None


CAP_LAYOUT = ("capacitated warehouse location: 'm n', then m pairs 'capacity fixed_cost', then for "
              "each of the n customers its demand and m costs")
PMED_LAYOUT = "p-median: 'n e p', then e edges 'i j length'"


def _cap_size(tokens: list[Token]) -> int | None:
    """Tokens a cap file with this header holds (2 + 2m + n(m + 1)), or None if no such header."""
    m, n = (_whole(t) for t, _ in tokens[:2]) if len(tokens) >= 2 else (None, None)
    return None if not m or not n else 2 + 2 * m + n * (m + 1)


def _pmed_size(tokens: list[Token]) -> int | None:
    """Tokens a pmed file with this header holds (3 + 3e), or None if no such header."""
    head = [_whole(t) for t, _ in tokens[:3]] if len(tokens) >= 3 else []
    return None if len(head) < 3 or not head[0] or head[1] is None or not head[2] else 3 + 3 * head[1]


def detect(path: str | Path, tokens: list[Token] | None = None) -> str:
    """``"cap"`` or ``"pmed"``, from the file's content (its header and token count), never its name.

    A cap file holds exactly 2 + 2m + n(m + 1) tokens after its header 'm n', a pmed file exactly
    3 + 3e after 'n e p'; anything else is refused (OrlibInputError, exit 2).
    """
    path = Path(path)
    tokens = _tokens(path) if tokens is None else tokens
    cap, pmed = _cap_size(tokens), _pmed_size(tokens)
    if cap == len(tokens) and pmed != len(tokens):
        return "cap"
    if pmed == len(tokens) and cap != len(tokens):
        return "pmed"
    expected = []
    if cap is not None:
        expected.append(f"as capacitated warehouse location its header asks for {cap:,}")
    if pmed is not None:
        expected.append(f"as p-median its header asks for {pmed:,}")
    rule = (f"not a recognised OR-Library instance ({CAP_LAYOUT}; or {PMED_LAYOUT}): it holds "
            f"{len(tokens):,} tokens" + (f"; {', '.join(expected)}" if expected else ""))
    if cap == pmed == len(tokens):
        rule = "ambiguous: its token count fits both OR-Library layouts"
    head = " ".join(t for t, _ in tokens[:3])
    raise OrlibInputError([Problem(str(path), 1 if tokens else None, None, head or None, rule)])


def _numbers(path: Path, tokens: list[Token], what: list[str], literal: str | None = None
             ) -> list[float | None]:
    """`tokens` as floats; `literal` (if given) reads as None. Every bad token is reported at once.

    `what[k]` names the field of token k (for the message)."""
    values: list[float | None] = []
    problems = []
    for (tok, line), name in zip(tokens, what, strict=True):
        if literal is not None and tok == literal:
            values.append(None)
            continue
        try:
            value = float(tok)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems.append(Problem(str(path), line, name, tok, "not a finite number"))
        values.append(value)
    if problems:
        raise OrlibInputError(problems)
    return values


def read_cap(path: str | Path, capacity: float | None = None) -> CapInstance:
    """Parse a cap*.txt file (one stream of whitespace-separated tokens).

    A capacity written as the literal word ``capacity`` (the large sets, e.g. ``capa``) takes
    `capacity`; without one such a file is refused with a message saying to give one.
    """
    path = Path(path)
    tokens = _tokens(path)
    if detect(path, tokens) != "cap":
        raise OrlibInputError([Problem(str(path), 1, None, None, "a p-median file, not a capacitated "
                                       "warehouse location one")])
    m, n = int(tokens[0][0]), int(tokens[1][0])
    pairs = _numbers(path, tokens[2:2 + 2 * m], ["capacity", "fixed_cost"] * m, literal="capacity")
    literal = [k for k in range(m) if pairs[2 * k] is None]
    problems = [Problem(str(path), tokens[3 + 2 * k][1], "fixed_cost", tokens[3 + 2 * k][0],
                        "the word 'capacity' stands only for a capacity") for k in range(m)
                if pairs[2 * k + 1] is None]
    if literal and capacity is None:
        problems.append(Problem(str(path), tokens[2 + 2 * literal[0]][1], "capacity", "capacity",
                                f"{len(literal)} of the {m} facilities have the literal capacity "
                                "'capacity': give one capacity for them all (bedplan bench orlib "
                                "FILE --capacity N)"))
    rest = _numbers(path, tokens[2 + 2 * m:], (["demand"] + ["cost"] * m) * n)
    for j in range(n):
        if rest[j * (m + 1)] <= 0:
            problems.append(Problem(str(path), tokens[2 + 2 * m + j * (m + 1)][1], "demand",
                                    rest[j * (m + 1)], f"customer {j + 1}: demand must be positive "
                                    "(its costs are for ALL of its demand)"))
    if problems:
        raise OrlibInputError(problems)
    caps = [capacity if c is None else c for c in pairs[0::2]]
    demand = [rest[j * (m + 1)] for j in range(n)]
    cost = [rest[j * (m + 1) + 1:(j + 1) * (m + 1)] for j in range(n)]
    return CapInstance(path.stem, caps, pairs[1::2], demand, cost)


def read_pmed(path: str | Path) -> PmedInstance:
    """Parse a pmed*.txt file; a repeated edge keeps its LAST length."""
    path = Path(path)
    tokens = _tokens(path)
    if detect(path, tokens) != "pmed":
        raise OrlibInputError([Problem(str(path), 1, None, None, "a capacitated warehouse location "
                                       "file, not a p-median one")])
    n, e, p = (int(t) for t, _ in tokens[:3])
    problems = []
    if p > n:
        problems.append(Problem(str(path), 1, "p", p, f"more medians than the {n} vertices"))
    values = _numbers(path, tokens[3:], ["i", "j", "length"] * e)
    inst = PmedInstance(path.stem, n, p)
    for k in range(e):
        i, j, length = values[3 * k:3 * k + 3]
        line = tokens[3 + 3 * k][1]
        bad = [(name, v) for name, v in (("i", i), ("j", j)) if v != int(v) or not 1 <= v <= n]
        problems += [Problem(str(path), line, name, v, f"not a vertex 1..{n}") for name, v in bad]
        if length < 0:
            problems.append(Problem(str(path), line, "length", length, "negative edge length"))
        if not bad:
            inst.edges[(int(min(i, j)), int(max(i, j)))] = length
    if problems:
        raise OrlibInputError(problems)
    return inst


def ward_mapping(capacities: list[float]) -> tuple[int, dict[int, int]]:
    """beds_per_ward b and max_wards per site so that b x max_wards = capacity exactly.

    b is the largest integer <= 40 dividing every capacity; capacities that are not whole
    numbers are rounded up (a facility never gets less than its capacity).
    """
    whole = [int(math.ceil(c - 1e-9)) for c in capacities]
    common = 0
    for c in whole:
        common = math.gcd(common, c)
    beds = max((b for b in range(1, MAX_BEDS_PER_WARD + 1) if common % b == 0), default=1)
    return beds, {i: c // beds for i, c in enumerate(whole)}


def _base_config(name: str, description: str) -> dict:
    return {
        "name": name,
        "description": description,
        "base_year": YEAR,
        "horizon_years": 1,
        "discount_rate": 0.0,
        "carbon_price_gbp_per_t": 0.0,
        "value_of_travel_gbp_per_km": 1.0,
        "asset_life_years": 1,
        "policy": {"allow_unmet": False, "closure_notice_years": 0, "ward_removal_notice_years": 0,
                   "delayed_discharge_penalty_gbp": 0.0, "unmet_km": 0.0},
        "travel": {"visits_per_patient_year": 0.0, "car_kg_per_km": 0.0},
        "solver": {"time_limit": 600.0, "mip_gap": 0.0, "threads": 2},
    }


def _write_tables(folder: Path, config: dict, beds_per_ward: int, sites: list[dict],
                  demand: dict[str, float]) -> None:
    """The seven tables and scenario.yaml: one hub, one service, candidate sites, one year."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    lat, lon = 53.0, -1.5  # every place at one point: distances come from the matrix or graph

    def write(name: str, rows: list[dict], columns: list[str]) -> None:
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})

    write("hubs", [{"hub": "H", "name": "OR-Library"}], ["hub", "name"])
    write("footprints", [{"footprint": f, "name": f, "hub": "H", "lat": lat, "lon": lon}
                         for f in demand], ["footprint", "name", "hub", "lat", "lon"])
    service = {
        "service": "bed", "name": "Demand", "level": "medium", "beds_per_ward": beds_per_ward,
        "target_occupancy": 1.0, "cost_per_occupied_bed_gbp": 0.0, "cost_per_ward_gbp": 0.0,
        "capital_new_bed_gbp": 0.0, "capital_convert_bed_gbp": 0.0, "carbon_kg_per_bed_day": 0.0,
        "embodied_t_per_new_bed": 0.0, "embodied_t_per_converted_bed": 0.0,
        "mean_los_years": 1.0, "new_build_lead_years": 0, "conversion_lead_years": 0,
        "in_hub_share": 0.0, "out_of_area_premium": 0.0,
    }
    write("services", [service], list(service))
    write("pathway", [], ["from_service", "to_service", "share"])
    site_rows = [{"site": s["site"], "name": s["site"], "footprint": s["footprint"], "lat": lat,
                  "lon": lon, "status": "candidate", "min_wards": 0, "max_wards": s["max_wards"],
                  "fixed_cost_gbp": s["fixed_cost"], "lead_years": 0} for s in sites]
    write("sites", site_rows, ["site", "name", "footprint", "lat", "lon", "status", "min_wards",
                               "max_wards", "fixed_cost_gbp", "lead_years"])
    write("site_services", [{"site": s["site"], "service": "bed", "wards": 0} for s in sites],
          ["site", "service", "wards"])
    write("demand", [{"footprint": f, "service": "bed", "year": YEAR, "beds": float(d)}
                     for f, d in demand.items()], ["footprint", "service", "year", "beds"])


def cap_scenario(inst: CapInstance, folder: str | Path, capacity: float | None = None) -> Path:
    """Write `inst` as a scenario folder (matrix distances km_ij = c_ij / d_j)."""
    folder = Path(folder)
    m = len(inst.capacity)
    caps = [capacity if capacity is not None else c for c in inst.capacity]
    beds, wards = ward_mapping(caps)
    customers = [f"C{j + 1}" for j in range(len(inst.demand))]
    if capacity is not None and not capacity > 0:
        raise OrlibInputError([Problem("--capacity", None, None, capacity, "must be positive")])
    sites = [{"site": f"F{i + 1}", "footprint": customers[0], "max_wards": wards[i],
              "fixed_cost": float(inst.fixed_cost[i])} for i in range(m)]
    config = _base_config(inst.name, f"OR-Library capacitated warehouse location {inst.name}"
                          + (f" (capacity {capacity:g})" if capacity is not None else ""))
    config["distance"] = {"method": "matrix", "matrix_file": "distances.csv"}
    # A limit of all m sites never binds, but it makes the model add `place_link` (placement <=
    # min(demand, capacity) x operate, the classical x_ij <= y_i): without it the LP bound of the
    # large sets is far too weak (capa at 14000: 25% gap after 600 s).
    config["policy"]["max_open_sites"] = m
    _write_tables(folder, config, beds, sites, dict(zip(customers, inst.demand, strict=True)))
    with open(folder / "distances.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["footprint", "site", "km"])
        for j, f in enumerate(customers):
            for i in range(m):
                writer.writerow([f, f"F{i + 1}", repr(inst.cost[j][i] / inst.demand[j])])
    return folder


def pmed_scenario(inst: PmedInstance, folder: str | Path, capacity: float | None = None) -> Path:
    """Write `inst` as a scenario folder (a GraphML graph; exactly p open sites)."""
    folder = Path(folder)
    cap = float(capacity) if capacity is not None else float(inst.n)
    beds, wards = ward_mapping([cap] * inst.n)
    sites = [{"site": f"V{i}", "footprint": f"V{i}", "max_wards": wards[i - 1], "fixed_cost": 0.0}
             for i in range(1, inst.n + 1)]
    config = _base_config(inst.name, f"OR-Library p-median {inst.name} (p = {inst.p})")
    config["distance"] = {"method": "graph", "graph_file": "graph.graphml"}
    config["policy"].update({"min_open_sites": inst.p, "max_open_sites": inst.p})
    _write_tables(folder, config, beds, sites, {f"V{i}": 1.0 for i in range(1, inst.n + 1)})
    graph = nx.Graph()
    graph.add_nodes_from(f"V{i}" for i in range(1, inst.n + 1))
    for (i, j), length in inst.edges.items():
        graph.add_edge(f"V{i}", f"V{j}", length=length)
    nx.write_graphml(graph, folder / "graph.graphml")
    return folder


def kind_of(path: str | Path) -> str:
    """``"cap"`` or ``"pmed"`` from the file's content (see :func:`detect`)."""
    return detect(path)


def write_scenario(path: str | Path, folder: str | Path, capacity: float | None = None) -> Path:
    """Convert the instance file `path` into a scenario folder `folder`."""
    if kind_of(path) == "cap":
        return cap_scenario(read_cap(path, capacity), folder, capacity)
    return pmed_scenario(read_pmed(path), folder, capacity)


def published_optimum(path: str | Path, capacity: float | None = None) -> float | None:
    """The proven optimum from the optima files beside the instance, if listed.

    cap: ``capopt.csv`` (rows whose ``capacity_override`` matches `capacity`, empty for none), or
    ``uncapopt.csv`` when `capacity` is at least the total demand (no capacity binds).
    pmed: ``pmedopt.csv`` (only without a capacity override, or one of at least n).
    """
    path = Path(path)
    kind = kind_of(path)
    if kind == "cap":
        table = path.parent / "capopt.csv"
        if table.exists():
            rows = pd.read_csv(table, dtype=str, keep_default_na=False)
            for _, row in rows.iterrows():
                override = row.get("capacity_override", "").strip()
                same = (override == "" and capacity is None) or (
                    override != "" and capacity is not None and float(override) == float(capacity))
                if row["file"] == path.name and same:
                    return float(row["optimal_value"])
        uncap = path.parent / "uncapopt.csv"
        if capacity is not None and uncap.exists() and capacity >= sum(read_cap(path, capacity).demand):
            rows = pd.read_csv(uncap, dtype=str)
            hit = rows[rows["file"] == path.name]
            if len(hit):
                return float(hit.iloc[0]["optimal_value_uncapacitated"])
        return None
    table = path.parent / "pmedopt.csv"
    if not table.exists():
        return None
    if capacity is not None and capacity < read_pmed(path).n:
        return None
    rows = pd.read_csv(table, dtype=str)
    hit = rows[rows["file"] == path.name]
    return float(hit.iloc[0]["optimal_value"]) if len(hit) else None


def solve_instance(path: str | Path, capacity: float | None = None, out: str | Path | None = None,
                   time_limit: float | None = None, threads: int | None = None,
                   runs_root: str | Path | None = None, solver_stream=None) -> OrlibResult:
    """Convert one instance, solve it through `solve_scenario`, compare with the published optimum.

    The scenario folder is written under `out` (kept) or a temporary folder (removed after).
    """
    from model.errors import BedplanError
    from model.run import solve_scenario

    path = Path(path)
    kind = kind_of(path)
    overrides: dict = {"solver": {}}
    if time_limit is not None:
        overrides["solver"]["time_limit"] = time_limit
    if threads is not None:
        overrides["solver"]["threads"] = threads
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="bedplan-orlib-")
        root = Path(tmp.name)
    else:
        root = Path(out)
    suffix = f"-cap{capacity:g}" if capacity is not None else ""
    folder = write_scenario(path, root / f"{path.stem}{suffix}", capacity)
    start = time.perf_counter()
    try:
        result = solve_scenario(folder, runs_root=runs_root, overrides=overrides, baseline=False,
                                solver_stream=solver_stream)
        outcome, size, build = result.outcome, result.size, result.manifest["build_seconds"]
        status, objective, solve_seconds = outcome.status, outcome.objective, outcome.seconds
    except BedplanError as exc:
        status, objective, solve_seconds, size, build = type(exc).__name__, None, math.nan, {}, math.nan
    total = time.perf_counter() - start
    optimum = published_optimum(path, capacity)
    rel = None
    if objective is not None and optimum is not None:
        rel = abs(objective - optimum) / max(abs(optimum), 1e-9)
    if tmp is not None:
        tmp.cleanup()
    return OrlibResult(instance=path.stem, kind=kind, capacity=capacity, objective=objective,
                       optimum=optimum, rel_error=rel, status=status, build_seconds=build,
                       solve_seconds=solve_seconds, total_seconds=total, size=size,
                       scenario_dir=None if tmp is not None else folder)


def instance_files(paths: list[Path]) -> list[Path]:
    """The instance files among `paths` (folders expand to their cap*/pmed* files, in order)."""
    def order(p: Path) -> tuple[str, int]:
        digits = "".join(ch for ch in p.stem if ch.isdigit())
        return (p.stem.rstrip("0123456789"), int(digits) if digits else 0)

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = [q for q in p.rglob("*.txt") if _is_instance(q)]
            files += sorted(found, key=order)
        else:
            files.append(p)
    return files


def _is_instance(path: Path) -> bool:
    try:
        kind_of(path)
    except OrlibInputError:
        return False
    return True
