"""Footprint-to-site distances in km.

Methods (``distance.method`` in scenario.yaml):

- ``great_circle``: haversine distance between the footprint's reference point and the site,
  times ``distance.circuity`` (road km per straight-line km).
- ``contiguity``: the great-circle distance x circuity, stretched by the detour ratio of the
  shortest path over the footprint contiguity graph (footprints whose polygons touch are
  neighbours; edge length = circuity x great-circle km between reference points) to the site's
  footprint. Routes around estuaries (the Humber, the Thames, the Severn).
- ``graph``: shortest path over a user-supplied GraphML graph whose edges carry a ``length`` in
  km. A footprint or site whose code is a node's id sits at that node; any other attaches to the
  nearest node by the node's ``lat``/``lon`` (or ``y``/``x``).
- ``matrix``: a user-supplied CSV with columns ``footprint,site,km``.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from model.data import ScenarioData, find_file
from model.errors import Problem, ScenarioError

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix(data: ScenarioData) -> pd.DataFrame:
    """Distances (km) as a DataFrame indexed by footprint, with one column per site."""
    method = data.config.distance.method
    if method == "great_circle":
        return _great_circle(data)
    if method == "contiguity":
        return _contiguity(data)
    if method == "graph":
        return _graph(data)
    return _matrix(data)


def _great_circle(data: ScenarioData) -> pd.DataFrame:
    fp = data.footprints.set_index("footprint")
    sites = data.sites.set_index("site")
    km = haversine_km(fp["lat"].to_numpy()[:, None], fp["lon"].to_numpy()[:, None],
                      sites["lat"].to_numpy()[None, :], sites["lon"].to_numpy()[None, :])
    return pd.DataFrame(km * data.config.distance.circuity, index=fp.index, columns=sites.index)


def contiguity_graph(data: ScenarioData) -> nx.Graph:
    """Footprints as nodes; an edge where two polygons touch, weighted by road-km estimate."""
    if data.geometry is None:
        raise ScenarioError([Problem(str(data.folder / "scenario.yaml"), None, "distance.method",
                                     "contiguity", "needs footprint polygons (set `geometry:`)")])
    fp = data.footprints.set_index("footprint")
    geom = data.geometry.loc[fp.index].to_crs("EPSG:27700")
    # A small buffer joins polygons that the generalised boundaries leave a few metres apart.
    buffered = geom.geometry.buffer(200)
    graph = nx.Graph()
    graph.add_nodes_from(fp.index)
    circuity = data.config.distance.circuity
    codes = list(fp.index)
    sindex = buffered.sindex
    for i, code in enumerate(codes):
        for j in sindex.query(buffered.iloc[i], predicate="intersects"):
            other = codes[j]
            if other <= code:
                continue
            km = float(haversine_km(fp.at[code, "lat"], fp.at[code, "lon"],
                                    fp.at[other, "lat"], fp.at[other, "lon"]))
            graph.add_edge(code, other, length=km * circuity)
    return graph


def _contiguity(data: ScenarioData) -> pd.DataFrame:
    """Great-circle x circuity, stretched by the detour the contiguity graph forces.

    The detour ratio of footprint f to the site's footprint g is the shortest path over the
    contiguity graph divided by circuity x great-circle km between their reference points (at
    least 1). A route that must go round an estuary gets a ratio above 1; neighbours get about 1.
    """
    graph = contiguity_graph(data)
    fp = data.footprints.set_index("footprint")
    sites = data.sites.set_index("site")
    straight = _great_circle(data)
    circuity = data.config.distance.circuity
    lengths = dict(nx.all_pairs_dijkstra_path_length(graph, weight="length"))
    codes = list(fp.index)
    at = {code: i for i, code in enumerate(codes)}
    lat, lon = fp["lat"].to_numpy(dtype=float), fp["lon"].to_numpy(dtype=float)
    direct = circuity * haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    # path[i, j]: km over the graph from footprint i to j; NaN where no land route joins them
    path = np.full((len(codes), len(codes)), np.nan)
    for code, reach in lengths.items():
        for other, km in reach.items():
            path[at[code], at[other]] = km
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(direct > 0, path / direct, 1.0)
    straight_km = straight.to_numpy(dtype=float)
    stretch = np.ones_like(straight_km)
    for j, home in enumerate(sites["footprint"]):
        h = at.get(home)
        if h is None:
            continue
        routed = ~np.isnan(path[:, h])  # an island with no land route keeps the straight line
        routed[h] = False  # same footprint: straight line
        stretch[routed, j] = np.maximum(1.0, ratio[routed, h])
    return pd.DataFrame(straight_km * stretch, index=straight.index, columns=straight.columns)


def _nearest_node(nodes: pd.DataFrame, lat: float, lon: float) -> object:
    km = haversine_km(nodes["lat"].to_numpy(), nodes["lon"].to_numpy(), lat, lon)
    return nodes.index[int(np.argmin(km))]


def _graph(data: ScenarioData) -> pd.DataFrame:
    path = find_file(data.layers, data.config.distance.graph_file or "")
    assert path is not None  # checked by the loader
    try:
        graph = nx.read_graphml(path)
    except Exception as exc:  # ElementTree and networkx raise several types for a bad file
        raise ScenarioError([Problem(str(path), None, None, None,
                                     f"cannot read GraphML: {exc}")]) from exc
    problems: list[Problem] = []
    for u, v, attrs in graph.edges(data=True):
        raw = attrs.get("length", 0.0)
        try:
            attrs["length"] = float(raw)
        except (TypeError, ValueError):
            attrs["length"] = float("nan")
        if not 0.0 <= attrs["length"] < float("inf"):  # NaN fails too
            problems.append(Problem(str(path), None, "length", raw,
                                    f"edge {u}-{v}: length must be a number of km from 0 up"))
    rows = []
    for node, attrs in graph.nodes(data=True):
        lat = attrs.get("lat", attrs.get("y"))
        lon = attrs.get("lon", attrs.get("x"))
        if lat is not None and lon is not None:
            try:
                rows.append((node, float(lat), float(lon)))
            except (TypeError, ValueError):
                problems.append(Problem(str(path), None, "lat/lon", f"{lat}/{lon}",
                                        f"node {node}: lat and lon must be numbers"))
    nodes = pd.DataFrame(rows, columns=["node", "lat", "lon"]).set_index("node")
    fp = data.footprints.set_index("footprint")
    sites = data.sites.set_index("site")

    def attach(code: str, lat: float, lon: float) -> object:
        if code in graph:
            return code
        if nodes.empty:
            problems.append(Problem(str(path), None, "node", code,
                                    "no node with this id, and no node has lat/lon to attach to"))
            return None
        return _nearest_node(nodes, lat, lon)

    fp_nodes = {c: attach(c, r["lat"], r["lon"]) for c, r in fp.iterrows()}
    site_nodes = {s: attach(s, r["lat"], r["lon"]) for s, r in sites.iterrows()}
    if problems:
        raise ScenarioError(problems[:200])
    out = shortest_km(graph, list(fp_nodes.values()), list(site_nodes.values()))
    for i, j in zip(*np.nonzero(np.isinf(out)), strict=True):
        problems.append(Problem(str(path), None, None, f"{fp.index[i]}->{sites.index[j]}",
                                "no path in the graph between footprint and site"))
    if problems:
        raise ScenarioError(problems[:200])
    return pd.DataFrame(out, index=fp.index, columns=sites.index)


def shortest_km(graph: nx.Graph, sources: list, targets: list) -> np.ndarray:
    """Shortest path lengths (edge attribute ``length``) from each source node to each target
    node; ``inf`` where no path joins them.

    The same lengths as networkx's Dijkstra from each source, by scipy's compiled Dijkstra on a
    sparse matrix: on OR-Library's 200-node p-median graphs networkx took a quarter of a second,
    more than reading, checking and building the rest of the instance. Parallel edges (a
    multigraph) keep their shortest; a zero length is an edge (scipy keeps stored zeros); a
    directed graph's edges are followed one way only, as networkx follows them.
    """
    index = {node: i for i, node in enumerate(graph.nodes)}
    edges = [(index[u], index[v], length) for u, v, length in graph.edges(data="length")]
    directed = graph.is_directed()
    if not directed:  # both ways, so that a parallel edge's minimum is taken over both
        edges += [(v, u, length) for u, v, length in edges if u != v]
    table = pd.DataFrame(edges, columns=["u", "v", "km"], dtype=float)
    shortest = table.groupby(["u", "v"], sort=False)["km"].min()
    rows = shortest.index.get_level_values("u").to_numpy(dtype=np.int64)
    cols = shortest.index.get_level_values("v").to_numpy(dtype=np.int64)
    matrix = csr_matrix((shortest.to_numpy(dtype=float), (rows, cols)), shape=(len(index), len(index)))
    wanted = sorted({index[node] for node in sources})
    lengths = dijkstra(matrix, directed=True, indices=wanted)
    row_of = {node_i: r for r, node_i in enumerate(wanted)}
    return lengths[np.ix_([row_of[index[n]] for n in sources], [index[n] for n in targets])]


MAX_KM = 40_000.0  # farther than round the Earth: a typo, or a stand-in for "infinity"


def _matrix(data: ScenarioData) -> pd.DataFrame:
    path = find_file(data.layers, data.config.distance.matrix_file or "")
    assert path is not None
    table = pd.read_csv(path, dtype={"footprint": str, "site": str})
    problems = []
    missing_cols = {"footprint", "site", "km"} - set(table.columns)
    if missing_cols:
        raise ScenarioError([Problem(str(path), 1, c, None, "required column is missing")
                             for c in sorted(missing_cols)])
    km = pd.to_numeric(table["km"], errors="coerce")
    bad = km.isna() | (km < 0) | (km > MAX_KM)
    for idx in table.index[bad]:
        problems.append(Problem(str(path), int(idx) + 2, "km", table.at[idx, "km"],
                                f"must be a number from 0 to {MAX_KM:,.0f}"))
    table["km"] = km
    repeated = table.duplicated(subset=["footprint", "site"], keep="first")
    for idx in table.index[repeated]:  # which one is meant? refuse rather than keep the first
        problems.append(Problem(str(path), int(idx) + 2, "footprint,site",
                                f"{table.at[idx, 'footprint']},{table.at[idx, 'site']}",
                                "duplicate footprint and site"))
    wide = table.pivot_table(index="footprint", columns="site", values="km", aggfunc="first")
    fp_codes = list(data.footprints["footprint"])
    site_codes = list(data.sites["site"])
    wide = wide.reindex(index=fp_codes, columns=site_codes)
    for i, j in np.argwhere(np.isnan(wide.to_numpy(dtype=float))):  # row by row, as the file reads
        problems.append(Problem(str(path), None, "km", f"{fp_codes[i]},{site_codes[j]}", "distance missing"))
    if problems:
        raise ScenarioError(problems[:200])
    return wide.astype(float)


def write_matrix(matrix: pd.DataFrame, path: Path) -> None:
    """Write a distance matrix in the long CSV form `method: matrix` reads."""
    long = matrix.stack().rename("km").reset_index()
    long.columns = ["footprint", "site", "km"]
    long.to_csv(path, index=False)
