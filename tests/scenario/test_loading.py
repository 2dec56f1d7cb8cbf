"""Scenario loading: layering with `extends:`, scope, validation that reports every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from model.data import load_scenario
from model.distances import contiguity_graph, distance_matrix, haversine_km, write_matrix
from model.errors import ScenarioError
from tests.conftest import DEMO
from tests.factory import Tiny


def copy_demo(tmp_path, name="s"):
    target = tmp_path / name
    shutil.copytree(DEMO, target)
    return target


def rules(exc: ScenarioError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_demo_loads():
    data = load_scenario(DEMO)
    assert data.config.years == [2017, 2018, 2019, 2020, 2021]
    assert len(data.footprints) == 5 and data.geometry is not None


def test_extends_overrides_keys_and_tables(tmp_path):
    child = tmp_path / "child"
    child.mkdir()
    (child / "scenario.yaml").write_text(yaml.safe_dump({
        "extends": str(DEMO), "name": "child", "carbon_price_gbp_per_t": 245,
        "policy": {"stepdown_reach_km": 120}}))
    (child / "hubs.csv").write_text("hub,name\nYH,Yorkshire\nEM,East Mids\n")
    data = load_scenario(child)
    assert data.config.name == "child"
    assert data.config.carbon_price_gbp_per_t == 245
    assert data.config.policy.stepdown_reach_km == 120
    assert data.config.policy.delay_years == 0.5  # inherited, merged key by key
    assert data.config.base_year == 2017
    assert list(data.hubs["name"]) == ["Yorkshire", "East Mids"]  # the child's table
    assert data.input_files["sites.csv"].parent == DEMO.resolve()  # the parent's table


def test_scope_keeps_one_hub(tmp_path):
    child = tmp_path / "yh"
    child.mkdir()
    (child / "scenario.yaml").write_text(yaml.safe_dump({
        "extends": str(DEMO), "name": "yh", "scope": {"hubs": ["YH"]}}))
    data = load_scenario(child)
    assert set(data.footprints["hub"]) == {"YH"}
    assert len(data.footprints) == 3
    assert set(data.sites["site"]) == {"NL", "HC", "FL", "SH", "NC"}
    assert set(data.demand["footprint"]) == set(data.footprints["footprint"])


def test_extends_loop_is_reported(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "scenario.yaml").write_text("name: a\nextends: ../b\nbase_year: 2020\n")
    (b / "scenario.yaml").write_text("name: b\nextends: ../a\nbase_year: 2020\n")
    with pytest.raises(ScenarioError, match="extends loop"):
        load_scenario(a)


def test_unknown_key_suggests_the_right_one(tmp_path):
    folder = copy_demo(tmp_path)
    text = (folder / "scenario.yaml").read_text().replace("stepdown_reach_km", "stepdown_reach_kms")
    (folder / "scenario.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    assert any("did you mean 'stepdown_reach_km'" in r for r in rules(info.value))


def test_yaml_syntax_error_names_its_line(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "scenario.yaml").write_text("name: demo\nbase_year: [2017\nhorizon_years: 5\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    assert "scenario.yaml, line 3: YAML syntax" in rules(info.value)[0]  # where the parser stops


def test_every_problem_reported_at_once(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "services.csv").write_text((folder / "services.csv").read_text()
                                         .replace(",0.9,", ",1.5,", 1))
    sites = (folder / "sites.csv").read_text().splitlines()
    sites[1] = sites[1].replace("E54000005", "E99999999")
    (folder / "sites.csv").write_text("\n".join(sites) + "\n")
    (folder / "pathway.csv").write_text("from_service,to_service,share\nmedium,low,0.45\n"
                                        "low,medium,0.2\nlow,community,0.7\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    text = "\n".join(rules(info.value))
    assert "services.csv, row 2, column 'target_occupancy': must be <= 1" in text
    assert "sites.csv, row 2, column 'footprint': unknown footprint" in text
    assert "pathway has a cycle" in text


def test_bom_is_tolerated_and_semicolons_rejected(tmp_path):
    folder = copy_demo(tmp_path)
    hubs = folder / "hubs.csv"
    hubs.write_bytes(b"\xef\xbb\xbf" + hubs.read_bytes())
    load_scenario(folder)  # a BOM is harmless
    hubs.write_text("hub;name\nYH;Yorkshire\nEM;East Midlands\n")
    with pytest.raises(ScenarioError, match="semicolons"):
        load_scenario(folder)


def test_duplicate_keys_and_missing_columns(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "hubs.csv").write_text("hub\nYH\nYH\nEM\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    text = "\n".join(rules(info.value))
    assert "column 'name': required column is missing" in text
    assert "row 3, column 'hub': duplicate key" in text


def test_demand_outside_horizon(tmp_path):
    folder = Tiny().site("A", wards={"med": 1}).need("F", "med", {2030: 5}).write(tmp_path / "t")
    with pytest.raises(ScenarioError, match="outside the planning horizon"):
        load_scenario(folder)


# -- distances -----------------------------------------------------------------------------------
def test_great_circle_one_degree_of_latitude():
    assert float(haversine_km(53.0, -1.5, 54.0, -1.5)) == pytest.approx(111.19, abs=0.05)


def test_great_circle_times_circuity():
    data = load_scenario(DEMO)
    km = distance_matrix(data)
    fp = data.footprints.set_index("footprint").loc["E54000005"]
    site = data.sites.set_index("site").loc["NL"]
    straight = float(haversine_km(fp["lat"], fp["lon"], site["lat"], site["lon"]))
    assert km.at["E54000005", "NL"] == pytest.approx(1.3 * straight)


def test_contiguity_graph_from_boundaries():
    data = load_scenario(DEMO)
    graph = contiguity_graph(data)
    # West Yorkshire touches South Yorkshire and Humber Coast and Vale; Nottinghamshire touches
    # Derbyshire and South Yorkshire; West Yorkshire does not touch Nottinghamshire.
    assert graph.has_edge("E54000005", "E54000009") and graph.has_edge("E54000005", "E54000006")
    assert graph.has_edge("E54000014", "E54000012") and graph.has_edge("E54000014", "E54000009")
    assert not graph.has_edge("E54000005", "E54000014")
    assert nx.is_connected(graph)


def test_contiguity_distances_never_shorter_than_great_circle():
    data = load_scenario(DEMO, {"distance": {"method": "contiguity"}})
    straight = distance_matrix(load_scenario(DEMO))
    routed = distance_matrix(data)
    assert (routed >= straight - 1e-9).all().all()


def test_contiguity_distances_are_the_detour_ratio_cell_by_cell():
    # Each cell, by the rule in model/distances.py: great-circle km x circuity x max(1, graph km
    # to the site's footprint / (circuity x great-circle km between the two reference points)),
    # and the straight line for a site in the footprint itself. Worked here one cell at a time
    # with networkx's own shortest path; the module computes all cells as arrays.
    data = load_scenario(DEMO, {"distance": {"method": "contiguity"}})
    graph = contiguity_graph(data)
    fp = data.footprints.set_index("footprint")
    sites = data.sites.set_index("site")
    circuity = data.config.distance.circuity
    km = distance_matrix(data)
    stretched = 0
    for site, home in sites["footprint"].items():
        for code in fp.index:
            straight = circuity * float(haversine_km(fp.at[code, "lat"], fp.at[code, "lon"],
                                                     sites.at[site, "lat"], sites.at[site, "lon"]))
            expected = straight
            if code != home:
                direct = circuity * float(haversine_km(fp.at[code, "lat"], fp.at[code, "lon"],
                                                       fp.at[home, "lat"], fp.at[home, "lon"]))
                ratio = nx.shortest_path_length(graph, code, home, weight="length") / direct
                expected = straight * max(1.0, ratio)
                stretched += ratio > 1.0 + 1e-9
            assert km.at[code, site] == pytest.approx(expected, rel=1e-12), (code, site)
    assert stretched > 0  # some route in the demo is longer over the graph than in a line


def test_contiguity_leaves_an_island_on_the_straight_line():
    # Nottinghamshire (E54000014, home of site AR) moved 5 degrees east, into the North Sea:
    # its polygon touches no other, so no land route joins it to anything. Every cell to or from
    # it keeps great-circle km x circuity (ratio 1, not NaN or infinity), and the cells between
    # the other footprints keep their routes: the same as with Nottinghamshire at home, where no
    # shortest path among the other four passes through it (checked below).
    from shapely import affinity

    data = load_scenario(DEMO, {"distance": {"method": "contiguity"}})
    island = "E54000014"
    home_routes = contiguity_graph(data)
    before = distance_matrix(data)  # with Nottinghamshire at home
    data.geometry.loc[island, "geometry"] = affinity.translate(data.geometry.loc[island, "geometry"], 5.0)
    graph = contiguity_graph(data)
    assert graph.degree(island) == 0
    km = distance_matrix(data)
    straight = distance_matrix(load_scenario(DEMO))
    sites = data.sites.set_index("site")
    for site, home in sites["footprint"].items():
        for code in km.index:
            if island in (code, home):
                assert km.at[code, site] == pytest.approx(straight.at[code, site], rel=1e-12)
    others = [c for c in km.index if c != island]
    for a in others:
        for b in others:
            with_it = nx.shortest_path_length(home_routes, a, b, weight="length")
            without = nx.shortest_path_length(home_routes.subgraph(others), a, b, weight="length")
            assert without == pytest.approx(with_it, rel=1e-12)
    kept = [s for s, home in sites["footprint"].items() if home != island]
    assert np.allclose(km.loc[others, kept], before.loc[others, kept], rtol=1e-12)


def test_matrix_method_reads_user_distances(tmp_path):
    folder = copy_demo(tmp_path)
    matrix = distance_matrix(load_scenario(folder)) * 2
    write_matrix(matrix, folder / "km.csv")
    data = load_scenario(folder, {"distance": {"method": "matrix", "matrix_file": "km.csv"}})
    assert distance_matrix(data).equals(matrix)


def test_graph_method_uses_shortest_paths(tmp_path):
    folder = Tiny().site("A", wards={"med": 1}).site("B", footprint="FG", wards={"med": 1}).need(
        "F", "med", 5).write(tmp_path / "g")
    graph = nx.Graph()
    graph.add_node("f", lat=53.0, lon=-1.5)
    graph.add_node("g", lat=54.0, lon=-1.5)
    graph.add_node("detour", lat=53.5, lon=-3.0)
    graph.add_edge("f", "detour", length=120.0)
    graph.add_edge("detour", "g", length=130.0)
    nx.write_graphml(graph, folder / "roads.graphml")
    data = load_scenario(folder, {"distance": {"method": "graph", "graph_file": "roads.graphml"}})
    km = distance_matrix(data)
    assert km.at["F", "B"] == pytest.approx(250.0)
    assert km.at["F", "A"] == pytest.approx(0.0)


CELLS = st.one_of(
    st.sampled_from(["", " ", "0", "-0", "7", "+5", "2.5", " 3 ", "1e3", "1e400", "-1", "12.0",
                     "1_000", "inf", "-inf", "nan", "Infinity", "0x10", "1,000", "abc", "５", "١٢",
                     "99999999999999999999", "-9.223372036854778e+18", "9223372036854775807"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.text(max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=12), dtype=st.sampled_from(["int", "float"]),
       required=st.booleans(), default=st.sampled_from([None, 0, 2.5]),
       minimum=st.sampled_from([None, 0.0, -3.0]), maximum=st.sampled_from([None, 10.0, 1e6]))
def test_a_small_numeric_column_parses_as_a_large_one_does(cells, dtype, required, default, minimum, maximum):
    """A column of at most SMALL_COLUMN rows is parsed value by value, a longer one by pandas'
    column operations: on any cells (numbers, blanks, junk, underscores, infinities, non-ASCII
    digits), both give the same values, the same type, and the same problems in the same order.
    An int column's values are 64-bit integers: a whole number from 2**63 on, either side of 0, is
    "not a valid int" in both (before, -9.223372036854778e18 with no minimum passed every check
    and then failed the cast with a traceback, in both paths alike)."""
    import pandas as pd

    from model.data import SMALL_COLUMN, _parse_numbers_by_column, _parse_small_numbers
    from model.dictionary import TABLES, Column

    assert len(cells) <= SMALL_COLUMN
    tables = TABLES.values() if isinstance(TABLES, dict) else TABLES
    assert any(c.dtype == "int" for t in tables for c in t.columns)
    col = Column("beds", dtype, "beds", "a number", required=required,
                 default=None if required else default, minimum=minimum, maximum=maximum)
    values = pd.Series(cells, index=range(2, 2 + len(cells)), dtype=object)  # lines of the file
    small, small_problems = _parse_small_numbers(values, col, Path("t.csv"))
    large, large_problems = _parse_numbers_by_column(values, col, Path("t.csv"))
    assert small_problems == large_problems
    assert small.dtype == large.dtype and small.index.equals(large.index)
    assert small.equals(large), (small.tolist(), large.tolist())


@pytest.mark.parametrize("cell", ["-9.223372036854778e+18", "99999999999999999999", "9223372036854775808"])
def test_a_whole_number_past_64_bits_is_no_valid_int(cell):
    """2**63 = 9,223,372,036,854,775,808: from there on (either sign) an int column's value cannot
    be stored, so it is a problem with its cell, in both parsing paths, not a traceback; 2**63 - 1
    read as a float rounds up to 2**63, so it is refused too (no table's ints come near)."""
    import pandas as pd

    from model.data import _parse_numbers_by_column, _parse_small_numbers
    from model.dictionary import Column

    col = Column("beds", "int", "beds", "a number")
    values = pd.Series(["3", cell], index=[2, 3], dtype=object)
    for parse in (_parse_small_numbers, _parse_numbers_by_column):
        parsed, problems = parse(values, col, Path("t.csv"))
        assert [(p.row, p.value, p.rule) for p in problems] == [(3, cell, "not a valid int")]
        assert parsed.tolist() == [3.0, None]
