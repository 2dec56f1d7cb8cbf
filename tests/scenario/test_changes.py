"""Scenario changes (`changes:` in scenario.yaml): a child scenario says what it changes in the
tables it inherits instead of copying them."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from model.data import load_scenario
from model.errors import ScenarioError
from model.run import solve_scenario
from tests.formulation.test_families import falling_demand


def child(tmp_path, changes, name="child", files=None):
    parent = falling_demand().write(tmp_path / "parent")
    folder = tmp_path / name
    folder.mkdir()
    (folder / "scenario.yaml").write_text(yaml.safe_dump(
        {"name": name, "extends": "../parent", "changes": changes}, sort_keys=False))
    for file, frame in (files or {}).items():
        frame.to_csv(folder / file, index=False)
    return parent, folder


def test_scale_from_a_year_in_a_hub_equals_the_copied_table(tmp_path):
    change = {"table": "demand", "column": "beds", "op": "scale", "value": 1.15, "hub": "H",
              "where": {"year": {"min": 2021}}}
    parent, folder = child(tmp_path, [change])
    copied = pd.read_csv(parent / "demand.csv")
    copied.loc[copied["year"] >= 2021, "beds"] *= 1.15
    _, copy_folder = child(tmp_path, [], name="copy", files={"demand.csv": copied})
    changed = solve_scenario(folder, runs_root=None, baseline=False)
    copy = solve_scenario(copy_folder, runs_root=None, baseline=False)
    assert changed.outcome.objective == pytest.approx(copy.outcome.objective, abs=0.01)
    demand = changed.scenario.tables["demand"].set_index("year")["beds"]
    assert demand.to_dict() == pytest.approx({2020: 40, 2021: 23, 2022: 23})  # 20 x 1.15
    assert changed.scenario.changes == [{"file": str(folder.resolve() / "scenario.yaml"), "position": 0,
                                         "table": "demand", "op": "scale", "rows": 2, "note": ""}]


@pytest.mark.parametrize(("change", "column", "expected"), [
    ({"table": "sites", "column": "fixed_cost_gbp", "op": "set", "value": 1, "where": {"site": "B"}},
     "fixed_cost_gbp", {"A": 500_000, "B": 1}),
    ({"table": "sites", "column": "fixed_cost_gbp", "op": "add", "value": 10, "where": {"site": ["A", "B"]}},
     "fixed_cost_gbp", {"A": 500_010, "B": 500_010}),
    ({"table": "sites", "column": "max_wards", "op": "scale", "value": 1.26},
     "max_wards", {"A": 13, "B": 13}),
])
def test_cell_changes(tmp_path, change, column, expected):
    _, folder = child(tmp_path, [change])
    sites = load_scenario(folder).tables["sites"].set_index("site")[column]
    assert sites.to_dict() == expected


def test_growth_compounds_from_the_base_year(tmp_path):
    _, folder = child(tmp_path, [{"table": "demand", "column": "beds", "op": "growth", "value": 0.1}])
    beds = load_scenario(folder).tables["demand"].set_index("year")["beds"]
    # 40, 20 x 1.1, 20 x 1.21
    assert beds.to_dict() == pytest.approx({2020: 40, 2021: 22, 2022: 24.2})


def test_rows_added_replaced_and_removed_by_key(tmp_path):
    changes = [
        {"op": "add_row", "table": "fixed_decisions",
         "row": {"decision": "keepB", "site": "B", "kind": "keep"}},
        {"op": "replace_row", "table": "site_services", "row": {"site": "A", "service": "med", "wards": 3}},
        {"op": "remove_row", "table": "demand", "row": {"footprint": "F", "service": "med", "year": 2022}},
    ]
    _, folder = child(tmp_path, changes)
    tables = load_scenario(folder).tables
    assert tables["fixed_decisions"]["decision"].tolist() == ["keepB"]
    assert tables["site_services"].set_index("site")["wards"].to_dict() == {"A": 3, "B": 2}
    assert sorted(tables["demand"]["year"]) == [2020, 2021]


def test_every_bad_change_is_reported_at_once(tmp_path):
    changes = [
        {"table": "demand", "column": "beds", "op": "scale", "value": 2, "where": {"footprint": "ZZ"}},
        {"table": "demands", "column": "beds", "value": 1},
        {"table": "sites", "column": "nme", "value": "x"},
        {"table": "sites", "column": "cost_factor", "op": "set", "value": 9},
        {"table": "sites", "column": "name", "op": "scale", "value": 2},
        {"op": "add_row", "table": "site_services", "row": {"site": "A", "service": "med", "wards": 1}},
        {"op": "remove_row", "table": "demand", "row": {"footprint": "F"}},
    ]
    _, folder = child(tmp_path, changes)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(folder)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "changes[0]" in text and "selects no row of demand.csv" in text
    assert "changes[1].table" in text and "unknown table" in text
    assert "sites has no column 'nme'" in text
    assert "changes[3].value" in text and "must be <= 5" in text
    assert "op scale needs a number column" in text
    assert "already has a row with this key (use replace_row)" in text
    assert "needs its key: service, year" in text


def test_a_malformed_change_names_where_it_was_written(tmp_path):
    _, folder = child(tmp_path, [{"table": "demand", "op": "scale", "column": "beds"}])
    with pytest.raises(ScenarioError, match=r"changes\[0\].*op scale needs a number `value`"):
        load_scenario(folder)


def test_a_later_copy_of_the_table_replaces_an_earlier_change(tmp_path):
    # the parent scales demand; the grandchild holds its own demand.csv: the copy wins
    _, folder = child(tmp_path, [{"table": "demand", "column": "beds", "op": "scale", "value": 2}])
    grandchild = tmp_path / "grandchild"
    grandchild.mkdir()
    (grandchild / "scenario.yaml").write_text("name: grandchild\nextends: ../child\n")
    pd.read_csv(tmp_path / "parent" / "demand.csv").to_csv(grandchild / "demand.csv", index=False)
    beds = load_scenario(grandchild).tables["demand"]["beds"].tolist()
    assert beds == [40, 20, 20]
    assert load_scenario(folder).tables["demand"]["beds"].tolist() == [80, 40, 40]


def test_changes_given_as_overrides_are_applied_after_the_scenarios_own(tmp_path):
    _, folder = child(tmp_path, [{"table": "demand", "column": "beds", "op": "scale", "value": 2}])
    extra = {"changes": [{"table": "demand", "column": "beds", "op": "add", "value": 1}]}
    assert load_scenario(folder, extra).tables["demand"]["beds"].tolist() == [81, 41, 41]
