"""The bulk build and extraction machinery gives exactly what the per-element code gave.

Issue 15 replaced per-element Python work (a pandas lookup per arc, ``pyo.value`` per
expression) by bulk work. These tests compare each bulk path with the per-element one on small
scenarios, value for value (equality, not a tolerance: the arithmetic is meant to be the same).
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.config import SolverConfig
from model.data import load_scenario
from model.formulation import builder, formulate
from model.formulation.linear import linear_sum
from model.inputs import build_inputs
from model.solve import solve
from model.values import ModelValues
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def demo_solved():
    inputs = build_inputs(load_scenario(DEMO))
    formulation = formulate(inputs)
    outcome = solve(formulation.model, SolverConfig(mip_gap=0.05))  # any plan will do
    assert outcome.has_solution
    return inputs, formulation.model


def _pyomo_value(component) -> float:
    value = pyo.value(component, exception=False)
    return 0.0 if value is None else float(value)


def test_model_values_equal_pyomo_value_on_every_expression(demo_solved):
    _inputs, m = demo_solved
    values = ModelValues()
    # the outer expressions first, so that the inner ones are then read from what was remembered
    components = ([m.total_cost] + list(m.objective_terms.values()) + list(m.cost.values())
                  + list(m.carbon.values()) + list(m.patient_km.values())
                  + list(m.component_data_objects(pyo.Expression))
                  + list(m.component_data_objects(pyo.Var)))
    assert len(components) > 1000
    for c in components:
        assert values(c) == _pyomo_value(c), c.name
    assert values(m.total_cost) == pytest.approx(pyo.value(m.total_cost), rel=0, abs=0)


def test_model_values_without_a_value_is_zero_as_pyomo_value():
    m = pyo.ConcreteModel()
    m.x = pyo.Var()
    m.y = pyo.Var(initialize=2.0)
    m.e = pyo.Expression(expr=3 * m.x + m.y)
    m.f = pyo.Expression(expr=2 * m.y - 1)
    m.g = pyo.Expression(expr=m.f * m.f + m.e)
    values = ModelValues()
    # x has no value: pyo.value(..., exception=False) gives None for x and for e (and so g)
    assert values(m.x) == _pyomo_value(m.x) == 0.0
    assert values(m.e) == _pyomo_value(m.e) == 0.0
    assert values(m.g) == _pyomo_value(m.g) == 0.0
    # (2 x 2 - 1)^2 = 9, read twice from the remembered f
    assert values(m.f) == 3.0
    assert values(m.f * m.f) == 9.0
    m.x.set_value(1.0)
    # a new ModelValues sees the new value: 3 x 1 + 2 = 5; g = 9 + 5 = 14
    assert ModelValues()(m.g) == _pyomo_value(m.g) == 14.0


def test_arc_km_is_the_matrix_entry_of_every_arc(demo_solved):
    inputs, _m = demo_solved
    km = inputs.arc_km()
    assert set(km) == {(f, s) for (f, s, _v) in inputs.arcs}
    for (f, s), value in km.items():
        assert type(value) is float
        assert value == float(inputs.km.at[f, s])


def test_pair_km_names_a_missing_pair():
    import pandas as pd

    from model.inputs import pair_km

    km = pd.DataFrame([[1.5, 2.0], [3.0, 4.25]], index=["F", "G"], columns=["A", "B"])
    assert pair_km(km, [("G", "B"), ("F", "A")]) == {("G", "B"): 4.25, ("F", "A"): 1.5}
    with pytest.raises(KeyError, match="'H', 'A'"):
        pair_km(km, [("F", "A"), ("H", "A")])


def test_patient_km_coefficients_are_the_matrix_entries(demo_solved):
    from pyomo.repn import generate_standard_repn

    inputs, m = demo_solved
    for t in inputs.years:
        repn = generate_standard_repn(m.patient_km[t].expr, compute_values=True)
        coef = {id(v): c for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
        for (f, s, v) in inputs.arcs:
            assert coef[id(m.place[f, s, v, t])] == float(inputs.km.at[f, s])


def _two_site_scenario(tmp_path):
    from tests.factory import Tiny

    return Tiny().site("A", wards={"med": 1}).site("B", footprint="FG", wards={"med": 1}).need(
        "F", "med", 5).need("FG", "med", 2).write(tmp_path / "s")


def test_graph_distances_are_networkx_shortest_paths_cell_by_cell(tmp_path):
    import networkx as nx

    from model.distances import distance_matrix

    folder = _two_site_scenario(tmp_path)
    graph = nx.Graph()
    for u, v, length in [("F", "x", 7.5), ("x", "FG", 2.25), ("x", "A", 40.0), ("FG", "B", 1.0),
                         ("A", "B", 3.0)]:
        graph.add_edge(u, v, length=length)
    nx.write_graphml(graph, folder / "roads.graphml")
    km = distance_matrix(load_scenario(folder, {"distance": {"method": "graph",
                                                             "graph_file": "roads.graphml"}}))
    assert km.index.name == "footprint" and km.columns.name == "site"
    # F-x-FG-B = 7.5 + 2.25 + 1 = 10.75; F to A: via B 13.75 beats 47.5; FG-B-A = 4; FG-B = 1
    assert km.to_dict() == {"A": {"F": 13.75, "FG": 4.0}, "B": {"F": 10.75, "FG": 1.0}}


EDGES = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7),
                            st.sampled_from([0.0, 0.5, 1.0, 2.25, 3.0, 7.5, 10.0])), max_size=20)


@settings(max_examples=150, deadline=None)
@given(edges=EDGES, directed=st.booleans(), multi=st.booleans())
def test_scipy_shortest_paths_are_networkx_dijkstra(edges, directed, multi):
    """`shortest_km` (scipy's Dijkstra on a sparse matrix) against networkx's Dijkstra from each
    source, on random small graphs: one way or both, parallel edges (the shortest counts), zero
    lengths, self-loops, nodes with no edge, pairs with no path (inf). The lengths are sums of
    quarters, so both sum them exactly and equality is the test."""
    import networkx as nx

    from model.distances import shortest_km

    kind = {(False, False): nx.Graph, (False, True): nx.MultiGraph, (True, False): nx.DiGraph,
            (True, True): nx.MultiDiGraph}[(directed, multi)]
    graph = kind()
    graph.add_nodes_from(f"n{i}" for i in range(8))
    for u, v, length in edges:
        if not multi and graph.has_edge(f"n{u}", f"n{v}"):
            continue  # a simple graph keeps its first edge, as reading GraphML would keep one
        graph.add_edge(f"n{u}", f"n{v}", length=length)
    sources, targets = ["n0", "n3", "n0", "n7"], ["n1", "n0", "n5", "n6", "n3"]
    got = shortest_km(graph, sources, targets)
    for i, source in enumerate(sources):
        reach = nx.single_source_dijkstra_path_length(graph, source, weight="length")
        for j, target in enumerate(targets):
            assert got[i, j] == reach.get(target, float("inf")), (source, target)


def test_graph_and_matrix_name_every_missing_distance(tmp_path):
    import networkx as nx

    from model.distances import distance_matrix
    from model.errors import ScenarioError

    folder = _two_site_scenario(tmp_path)
    graph = nx.Graph()
    graph.add_edge("F", "A", length=1.0)
    graph.add_edge("FG", "B", length=1.0)
    nx.write_graphml(graph, folder / "roads.graphml")
    with pytest.raises(ScenarioError) as err:
        distance_matrix(load_scenario(folder, {"distance": {"method": "graph",
                                                            "graph_file": "roads.graphml"}}))
    assert [p.value for p in err.value.problems] == ["F->B", "FG->A"]
    (folder / "km.csv").write_text("footprint,site,km\nF,B,3\nFG,A,4\n")
    with pytest.raises(ScenarioError) as err:
        distance_matrix(load_scenario(folder, {"distance": {"method": "matrix", "matrix_file": "km.csv"}}))
    assert [(p.value, p.rule) for p in err.value.problems] == [
        ("F,A", "distance missing"), ("FG,B", "distance missing")]


def _kpi_sums_by_filter(solution, data, scope: str, key: str, year) -> dict[str, float]:
    """One KPI row's sums read straight from the solution's tables, a pandas filter per row
    (the reference for `kpis`' cells): the footprints in the row's scope and year, each site
    term shared out by beds, and for a hub or England the site-years nobody uses."""
    fp_hub = data.hub_of_footprint
    if scope == "footprint":
        ours = {key}
    elif scope == "hub":
        ours = {f for f, h in fp_hub.items() if h == key}
    else:
        ours = set(fp_hub)

    def pick(frame):
        rows = frame[frame["footprint"].isin(ours)]
        return rows if year == "all" else rows[rows["year"] == year]

    alloc = solution.allocation
    used = alloc.groupby(["site", "year"])["beds"].sum()
    terms = solution.site_terms.set_index(["site", "year"])
    mine = pick(alloc)
    shares = [(terms.at[(s, t), "cost_gbp"] * b / used[(s, t)],
               terms.at[(s, t), "carbon_t"] * b / used[(s, t)])
              for s, t, b in zip(mine["site"], mine["year"], mine["beds"], strict=True)]
    own, unmet = pick(solution.footprint_terms), pick(solution.unmet)
    sums = {
        "cost_gbp": sum(c for c, _ in shares) + own["cost_gbp"].sum(),
        "carbon_t": sum(e for _, e in shares) + own["carbon_t"].sum(),
        "patient_km": ((mine["beds"] * mine["km"]).sum()
                       + unmet["unmet_beds"].sum() * data.config.policy.unmet_km),
        "placed_beds": mine["beds"].sum(), "unmet_beds": unmet["unmet_beds"].sum(),
        "need_beds": unmet["need_beds"].sum(), "demand_beds": unmet["demand_beds"].sum(),
        "community_places": pick(solution.community)["places"].sum(),
        "delayed_discharges": pick(solution.delayed)["delayed_patients"].sum(),
    }
    if scope != "footprint":
        nobody = solution.site_terms[~solution.site_terms.set_index(["site", "year"]).index.isin(used.index)]
        nobody = nobody[nobody["site"].map(data.hub_of_site).isin({fp_hub[f] for f in ours})]
        if year != "all":
            nobody = nobody[nobody["year"] == year]
        sums["cost_gbp"] += nobody["cost_gbp"].sum()
        sums["carbon_t"] += nobody["carbon_t"].sum()
    return sums


def test_kpis_equal_sums_read_row_by_row(demo_solved):
    """Every KPI row, England's and each hub's and footprint's in every year, equals its sums
    read from the solution's tables one row at a time. To 1e-12, not to the bit: the cells sum
    in another order than a filter does."""
    from model.results import extract, kpis

    inputs, m = demo_solved
    solution = extract(m, inputs)
    table = kpis(solution, inputs, "optimised")
    assert set(table["scope"]) == {"footprint", "hub", "england"}
    assert len(table) == (len(inputs.footprints) + len(inputs.hubs) + 1) * (len(inputs.years) + 1)
    for row in table.itertuples():
        expected = _kpi_sums_by_filter(solution, inputs, row.scope, row.id, row.year)
        for name, value in expected.items():
            assert getattr(row, name) == pytest.approx(value, rel=1e-12, abs=1e-9), (row.scope, row.id,
                                                                                      row.year, name)


def test_need_out_of_reach_of_every_site_is_found_before_solving():
    from model.checks import presolve_checks
    from tests.factory import Tiny

    # A hosts med in F; FG is ~111 km north of it, beyond a 50 km placement limit; low is hosted
    # nowhere near... B in FG hosts low only, so F's low need (FG's B is 111 km away) is out of reach
    tiny = (Tiny().site("A", wards={"med": 2}).site("B", footprint="FG", wards={"low": 2})
            .need("F", "med", 5).need("FG", "med", 3).need("F", "low", 1)
            .policy(allow_unmet=False, max_placement_km=50))
    found = [(f.hub, f.service) for f in presolve_checks(tiny.inputs())
             if "max_placement_km" in f.message]
    assert found == [("G", "med"), ("H", "low")]
    assert not [f for f in presolve_checks(tiny.policy(max_placement_km=500).inputs())
                if "max_placement_km" in f.message]


def _decisions_by_filter(solution, inputs) -> pd.DataFrame:
    """The per-site, per-year pandas filter `decisions` used before it read the table in one pass."""
    from model.results import year_action

    wards = solution.wards
    services = sorted({v for (_s, v) in inputs.site_services}, key=inputs.inpatient.index)
    hub_names = inputs.scenario.hubs.set_index("hub")["name"].to_dict()
    rows = []
    for s in inputs.sites:
        site_rows = wards[wards["site"] == s]
        if site_rows.empty:
            continue
        before = {v: inputs.existing_wards.get((s, v), 0) for v in services}
        was_open = inputs.initially_open[s]
        if not was_open and site_rows["operating"].sum() == 0:
            continue
        for t in inputs.years:
            year_rows = site_rows[site_rows["year"] == t].set_index("service")
            after = {v: int(year_rows.at[v, "wards"]) if v in year_rows.index else 0 for v in services}
            is_open = bool(year_rows["operating"].max())
            built, conv_in = int(year_rows["built"].sum()), int(year_rows["converted_in"].sum())
            conv_out, removed = int(year_rows["converted_out"].sum()), int(year_rows["removed"].sum())
            row = {"site": s, "name": inputs.site.at[s, "name"], "hub": inputs.hub_of_site[s],
                   "hub_name": hub_names.get(inputs.hub_of_site[s], inputs.hub_of_site[s]),
                   "footprint": inputs.footprint_of_site[s], "year": t,
                   "action": year_action(built, conv_out, removed, was_open, is_open,
                                         sum(before.values()), sum(after.values())),
                   "wards_built": built, "wards_converted_out": conv_out,
                   "wards_converted_in": conv_in, "wards_removed": removed}
            for v in services:
                bpw = int(inputs.service.at[v, "beds_per_ward"])
                row |= {f"wards_before_{v}": before[v], f"wards_after_{v}": after[v],
                        f"beds_before_{v}": before[v] * bpw, f"beds_after_{v}": after[v] * bpw}
            rows.append(row)
            before, was_open = after, is_open
    return pd.DataFrame(rows)


def test_decisions_equal_the_per_site_and_year_filter(demo_solved):
    from model.results import decisions, extract

    inputs, m = demo_solved
    solution = extract(m, inputs)
    table = decisions(solution, inputs)
    pd.testing.assert_frame_equal(table, _decisions_by_filter(solution, inputs))
    wards = solution.wards
    used = {s for s in inputs.sites if inputs.initially_open[s]
            or wards.loc[wards["site"] == s, "operating"].sum() > 0}
    assert set(table["site"]) == used
    assert len(table) == len(used) * len(inputs.years)
    assert table["action"].nunique() > 1  # the demo's plan changes something


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decisions_equal_the_filter_on_random_ward_tables(demo_solved, seed):
    # Tables no plan of the demo gives: several services built in one site-year (summed), sites
    # closing and reopening, candidates never used; every column drawn at random.
    import dataclasses

    from model.results import decisions, extract

    inputs, m = demo_solved
    solution = extract(m, inputs)
    rng = np.random.default_rng(seed)
    wards = solution.wards.copy()
    for column in ("wards", "built", "converted_in", "converted_out", "removed"):
        wards[column] = rng.integers(0, 3, len(wards))
    wards["operating"] = rng.integers(0, 2, len(wards))
    random_solution = dataclasses.replace(solution, wards=wards)
    table = decisions(random_solution, inputs)
    pd.testing.assert_frame_equal(table, _decisions_by_filter(random_solution, inputs))
    assert (table["wards_built"] > 1).any()  # a site-year summed over services


@pytest.mark.parametrize("coefficients", [[], [2.5], [1.0, 2.0], [2.0, 1, 0.0, 0, -1.0, 1e-9]])
def test_linear_sum_builds_the_expression_sum_builds(coefficients):
    # the objective's sums: the same kind of expression, the same terms in the same order
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(6), initialize=lambda _m, i: 0.5 + i)
    by_sum = sum(c * m.x[i] for i, c in enumerate(coefficients))
    by_list = linear_sum(c * m.x[i] for i, c in enumerate(coefficients))
    assert type(by_list) is type(by_sum)
    assert str(by_list) == str(by_sum)
    assert pyo.value(by_list) == pyo.value(by_sum)


def test_linear_sum_with_a_constant_among_its_terms_is_sum():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), initialize=2.0)
    # 2 + 3 + 2 = 7: the constant kept, as sum keeps it
    assert pyo.value(linear_sum([m.x[0], 3.0, m.x[1]])) == 7.0


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_build_pauses_the_cycle_collector_and_restores_it(monkeypatch, enabled_before):
    seen = []

    def probe(m, data, terms):
        seen.append(gc.isenabled())
        return []

    monkeypatch.setattr(builder, "FAMILIES", [*builder.FAMILIES, ("probe", probe)])
    inputs = build_inputs(load_scenario(DEMO))
    (gc.enable if enabled_before else gc.disable)()
    try:
        formulate(inputs)
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
    assert seen == [False]


def test_a_failed_build_still_restores_the_cycle_collector():
    from model.gc_pause import cycle_collection_paused

    assert gc.isenabled()
    with pytest.raises(ValueError), cycle_collection_paused():
        assert not gc.isenabled()
        raise ValueError("a family that fails mid-build")
    assert gc.isenabled()


def test_a_run_freezes_old_objects_once_and_always_gives_them_back():
    from model.gc_pause import older_objects_frozen

    before = gc.get_freeze_count()
    with older_objects_frozen():
        outer = gc.get_freeze_count()
        assert outer > before  # the interpreter's own objects at least
        with older_objects_frozen():  # a run inside a run (a baseline, a lever) freezes nothing more
            assert gc.get_freeze_count() == outer
        assert gc.get_freeze_count() == outer  # the inner end leaves the outer block frozen
    assert gc.get_freeze_count() == before
    with pytest.raises(ValueError), older_objects_frozen():
        raise ValueError("a run that fails")
    assert gc.get_freeze_count() == before


def test_objects_made_during_a_run_are_still_collected():
    import weakref

    from model.gc_pause import older_objects_frozen

    class Node:
        pass

    with older_objects_frozen():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None


def test_a_run_leaves_no_cycles_for_the_next_run_to_freeze():
    # a sweep worker runs one variant after another: the garbage in cycles of one run must be
    # freed when it ends, not frozen (kept) through the next run
    import weakref

    from model.gc_pause import older_objects_frozen

    class Node:
        pass

    gc.disable()  # no collection but the one the block's end makes
    try:
        with older_objects_frozen():
            a, b = Node(), Node()
            a.other, b.other = b, a
            gone = weakref.ref(a)
            del a, b
        assert gone() is None
    finally:
        gc.enable()
