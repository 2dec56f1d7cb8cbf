"""Hostile and broken input (issue 16, first part): numbers near the solver's infinity, non-finite
and separator-written numbers, YAML that expands, nests or repeats keys, HiGHS options that
write files, run names that leave the runs folder, files that are not regular files. Each case
runs the command line as a user would and asserts the exit code, the message, and that nothing
was created or changed outside the test's own folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEMO, ROOT


def _cli(*args: str, cwd: Path, timeout: float = 120, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, preexec_fn=preexec)


def _snapshot(folder: Path) -> dict[str, float]:
    """Names and modification times of a folder's entries (tool caches such as .hypothesis
    aside)."""
    return {p.name: p.stat().st_mtime for p in folder.iterdir() if not p.name.startswith(".")}


@pytest.fixture
def sandbox(tmp_path):
    """A copy of the demo scenario in tmp_path/s; asserts afterwards that nothing beside
    tmp_path (in its parent) or in the repository appeared or changed."""
    folder = tmp_path / "s"
    shutil.copytree(DEMO, folder)
    def siblings() -> dict[str, float]:  # beside tmp_path (pytest's own "...current" link aside)
        return {name: mtime for name, mtime in _snapshot(tmp_path.parent).items()
                if name != tmp_path.name and not name.endswith("current")}

    parent, repo = siblings(), set(_snapshot(ROOT))
    yield folder
    assert siblings() == parent
    assert set(_snapshot(ROOT)) == repo  # names only: a developer may be editing files


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _validate(folder: Path, **kwargs) -> subprocess.CompletedProcess:
    return _cli("validate", str(folder), cwd=folder.parent, **kwargs)


@pytest.mark.parametrize(("name", "old", "new", "message"), [
    # HiGHS reads 1e20 as infinity: a demand that large used to give a "proven optimal" plan
    # that placed nothing
    ("demand.csv", "\nE54000005,medium,2017,", "\nE54000005,medium,2017,1e20\nX,", "must be <= 1e+06"),
    ("services.csv", ",50000,1560000,", ",1e308,1560000,", "must be <= 1e+07"),
    ("services.csv", ",50000,1560000,", ",1_000,1560000,", "not a valid float"),
    ("services.csv", ",50000,1560000,", ",inf,1560000,", "not a valid float"),
    ("scenario.yaml", "carbon_price_gbp_per_t: 69", "carbon_price_gbp_per_t: .nan", "finite number"),
    ("scenario.yaml", "value_of_travel_gbp_per_km: 0.5", "value_of_travel_gbp_per_km: .inf",
     "finite number"),
    ("scenario.yaml", "horizon_years: 5", "horizon_years: 1_0", "write it without separators"),
    ("scenario.yaml", "horizon_years: 5", "horizon_years: 5\nhorizon_years: 4", "duplicate key"),
])
def test_numbers_and_keys_are_refused_with_the_rule(sandbox, name, old, new, message):
    if name == "demand.csv":  # replace a whole row's value: find the row and rewrite it
        path = sandbox / name
        lines = path.read_text().splitlines()
        row = next(i for i, line in enumerate(lines) if line.startswith("E54000005,medium,2017,"))
        lines[row] = "E54000005,medium,2017,1e20"
        path.write_text("\n".join(lines) + "\n")
    else:
        _edit(sandbox, name, old, new)
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_alias_bomb_is_refused_fast_and_small(sandbox):
    # ten lines of nested anchors expand to 10^9 strings if aliases are followed
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    (sandbox / "scenario.yaml").write_text((sandbox / "scenario.yaml").read_text() + bomb)

    def limit_memory():  # 1 GiB of address space for the whole process, Python included
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    start = time.monotonic()
    out = _validate(sandbox, timeout=60, preexec=limit_memory)
    assert time.monotonic() - start < 30
    assert out.returncode == 2, out.stderr
    assert "aliases (*name) are not allowed" in out.stderr


def test_deep_nesting_is_refused_without_a_traceback(sandbox):
    (sandbox / "scenario.yaml").write_text((sandbox / "scenario.yaml").read_text()
                                           + "deep: " + "[" * 20_000 + "]" * 20_000 + "\n")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "nested more than 50 levels deep" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(("option", "message"), [
    ("write_solution_to_file: true\n    solution_file: ../../owned.txt",
     "'write_solution_to_file' is not a HiGHS search option"),
    ("log_file: ../../owned.log", "'log_file' is not a HiGHS search option"),
    ("time_limit: 5", "'time_limit' is set by solver.time_limit"),
    ("mip_heuristic_efort: 0.1", "did you mean 'mip_heuristic_effort'?"),
])
def test_solver_options_that_write_files_are_refused(sandbox, option, message):
    _edit(sandbox, "scenario.yaml", "  threads: 2", f"  threads: 2\n  options:\n    {option}")
    out = _cli("solve", str(sandbox), "--runs-dir", str(sandbox.parent / "runs"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr, out.stderr
    assert not (sandbox.parent / "runs").exists()  # refused before anything is written


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "a/b", "", "x" * 101, "nul\0"])
def test_run_names_stay_one_folder_inside_the_runs_folder(sandbox, name):
    _edit(sandbox, "scenario.yaml", "name: demo", f"name: {name!r}" if "\0" not in name
          else 'name: "nul\\0"')
    out = _cli("solve", str(sandbox), "--runs-dir", str(sandbox.parent / "runs"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert "name" in out.stderr
    assert not (sandbox.parent / "runs").exists()


def test_scenario_file_that_is_a_directory(sandbox):
    (sandbox / "scenario.yaml").unlink()
    (sandbox / "scenario.yaml").mkdir()
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "not a regular file" in out.stderr


@pytest.mark.parametrize("name", ["scenario.yaml", "demand.csv"])
def test_input_that_is_a_fifo_does_not_hang(sandbox, name):
    (sandbox / name).unlink()
    os.mkfifo(sandbox / name)
    out = _validate(sandbox, timeout=30)
    assert out.returncode == 2, out.stderr
    assert f"{name}: not a regular file" in out.stderr


def test_huge_values_are_shown_as_a_bounded_excerpt(sandbox):
    _edit(sandbox, "scenario.yaml", "description:", f"stray_key: {'y' * 50_000}\ndescription:")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "unknown key" in out.stderr
    assert "characters)" in out.stderr and len(out.stderr) < 5_000


def test_invisible_characters_in_ids_are_refused(sandbox):
    # "SH" with a zero-width space looks like "SH" but would be a different unit
    _edit(sandbox, "site_services.csv", "\nSH,", "\nS\u200bH,")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "invisible or control characters (U+200B)" in out.stderr


def test_ids_differing_only_in_case_are_reported(sandbox):
    path = sandbox / "sites.csv"
    lines = path.read_text().splitlines()
    row = next(line for line in lines[1:] if line.startswith("SH,"))
    path.write_text("\n".join([*lines, "sh" + row[2:]]) + "\n")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "differs only in case from 'SH'" in out.stderr


def test_ids_are_compared_after_unicode_normalisation(sandbox):
    # a hub name typed with a combining accent is the same id as the precomposed one
    decomposed, composed = "Yorke\u0301", "Yorké"
    for name in ("hubs.csv", "footprints.csv"):
        path = sandbox / name
        path.write_text(path.read_text().replace(",YH,", f",{composed},").replace("\nYH,", f"\n{composed},"))
    path = sandbox / "footprints.csv"
    path.write_text(path.read_text().replace(f",{composed},", f",{decomposed},", 1))
    out = _validate(sandbox)
    assert out.returncode == 0, out.stderr


def test_geometry_that_is_a_gdal_vrt_is_not_opened(sandbox):
    # a VRT can make GDAL open other files or /vsicurl/ network addresses
    (sandbox / "footprints.geojson").write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://127.0.0.1:9/x'
        '</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "not a GeoJSON file" in out.stderr


def test_geometry_with_a_duplicate_footprint_feature(sandbox):
    import json

    path = sandbox / "footprints.geojson"
    content = json.loads(path.read_text())
    content["features"].append(content["features"][0])
    path.write_text(json.dumps(content))
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "more than one feature for this footprint" in out.stderr


def test_bad_flags_are_blamed_on_the_flags(sandbox):
    out = _cli("solve", str(sandbox), "--time-limit", "-5", "--threads", "0",
               "--runs-dir", str(sandbox.parent / "runs"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert "command line: --time-limit" in out.stderr and "--threads" in out.stderr
    assert "scenario.yaml" not in out.stderr
    assert not (sandbox.parent / "runs").exists()


def test_runs_dir_that_is_a_file_fails_before_solving(sandbox):
    runs = sandbox.parent / "runs"
    runs.write_text("not a folder")
    out = _cli("solve", str(sandbox), "--runs-dir", str(runs), cwd=sandbox.parent)
    assert out.returncode == 5, out.stderr
    assert "cannot write runs into" in out.stderr
    assert "solving" not in out.stderr  # refused before the model was built
    assert runs.read_text() == "not a folder"


def test_run_folder_named_like_the_scenario_but_a_file(sandbox):
    runs = sandbox.parent / "runs"
    runs.mkdir()
    (runs / "demo").write_text("in the way")
    out = _cli("solve", str(sandbox), "--runs-dir", str(runs), cwd=sandbox.parent)
    assert out.returncode == 5, out.stderr
    assert (runs / "demo").read_text() == "in the way"


def test_disk_full_leaves_an_incomplete_folder_with_its_reason(sandbox, monkeypatch):
    # ENOSPC cannot be produced here without privileges: the CSV writer is made to fail as a
    # full disk makes it fail
    import errno

    import model.run as run_module
    from model.errors import OutputError

    def full_disk(_frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(run_module, "write_csv", full_disk)
    runs = sandbox.parent / "runs"
    with pytest.raises(OutputError, match="No space left on device"):
        run_module.solve_scenario(sandbox, runs_root=runs, levers=False)
    (folder,) = (runs / "demo").iterdir()
    assert folder.name.startswith(".incomplete-")
    assert not (folder / "manifest.json").exists()
    assert "No space left on device" in (folder / "INCOMPLETE.txt").read_text()


def test_a_run_missing_a_file_is_not_published(sandbox, monkeypatch):
    import model.gis.write as gis_write
    from model.errors import OutputError
    from model.run import solve_scenario

    def broken_map(_layers, _path):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(gis_write, "render_png", broken_map)
    runs = sandbox.parent / "runs"
    with pytest.raises(OutputError, match="map.png"):
        solve_scenario(sandbox, runs_root=runs, levers=False)
    (folder,) = (runs / "demo").iterdir()
    assert folder.name.startswith(".incomplete-")
    assert "renderer crashed" in (folder / "INCOMPLETE.txt").read_text()


# -- properties: any finite number, any id text -------------------------------------------------

NUMERIC = {"demand.csv": ["beds"], "services.csv": ["cost_per_occupied_bed_gbp", "cost_per_ward_gbp",
                                                    "capital_new_bed_gbp", "mean_los_years"],
           "sites.csv": ["fixed_cost_gbp", "max_wards", "close_cost_gbp"]}
IDS = {"sites.csv": "site", "site_services.csv": "site", "footprints.csv": "hub",
       "demand.csv": "service"}


@st.composite
def cell(draw):
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(NUMERIC)))
        column = draw(st.sampled_from(NUMERIC[name]))
        value = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
        return name, column, repr(value)
    name = draw(st.sampled_from(sorted(IDS)))
    text = draw(st.text(min_size=0, max_size=12).filter(lambda t: not any(c in t for c in ',"\n\r')))
    return name, IDS[name], text


def _set_cell(folder: Path, name: str, column: str, value: str, row: int) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8"))))
    index = rows[0].index(column)
    rows[1 + row % (len(rows) - 1)][index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (folder / name).write_text(out.getvalue(), encoding="utf-8")


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=cell(), row=st.integers(0, 200))
def test_any_finite_number_or_id_ends_in_a_clean_solve_or_exit_2(tmp_path_factory, change, row):
    from model.errors import BedplanError, ScenarioError
    from model.run import solve_scenario

    folder = tmp_path_factory.mktemp("cell")
    shutil.rmtree(folder)
    shutil.copytree(DEMO, folder)
    name, column, value = change
    _set_cell(folder, name, column, value, row)
    try:
        result = solve_scenario(folder, runs_root=None, baseline=False,
                                overrides={"solver": {"time_limit": 20, "threads": 1}})
    except ScenarioError as exc:
        assert exc.problems and all(p.file for p in exc.problems)
        assert len(str(exc)) < 20_000
        return
    except BedplanError as exc:  # infeasible or no solution in time: a clean exit too
        assert exc.exit_code in (3, 4)
        return
    # a solved run accounts for all of its need: placed + unmet = need, in its own tables
    unmet = result.solution.unmet.set_index(["footprint", "service", "year"])
    placed = result.solution.allocation.groupby(["footprint", "service", "year"])["beds"].sum()
    total = unmet["unmet_beds"].add(placed, fill_value=0.0)
    assert (total - unmet["need_beds"]).abs().max() <= 1e-6 * max(1.0, unmet["need_beds"].abs().max())


def test_extends_naming_a_file(sandbox):
    _edit(sandbox, "scenario.yaml", "name: demo", "extends: ../s/demand.csv\nname: demo")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr


def test_distance_matrix_with_duplicate_rows_and_text(sandbox):
    rows = ["footprint,site,km"]
    import pandas as pd

    fps = pd.read_csv(sandbox / "footprints.csv")["footprint"]
    sites = pd.read_csv(sandbox / "sites.csv")["site"]
    rows += [f"{f},{s},50" for f in fps for s in sites]
    rows += [f"{fps[0]},{sites[0]},10", f"{fps[1]},{sites[1]},far"]
    (sandbox / "km.csv").write_text("\n".join(rows) + "\n")
    _edit(sandbox, "scenario.yaml", "  method: great_circle", "  method: matrix\n  matrix_file: km.csv")
    out = _validate(sandbox)
    assert out.returncode == 2, out.stderr
    assert "duplicate footprint and site" in out.stderr
    assert "must be a number from 0 to 40,000" in out.stderr


def test_export_of_a_folder_whose_manifest_is_not_an_object(sandbox):
    run = sandbox.parent / "run"
    run.mkdir()
    (run / "manifest.json").write_text("[1, 2, 3]")
    out = _cli("export", str(run), "--output", str(sandbox.parent / "out"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert "not a bedplan manifest" in out.stderr


def test_graphml_that_does_not_parse(sandbox):
    (sandbox / "roads.graphml").write_text("<graphml><graph><node id='a'></graph>")
    _edit(sandbox, "scenario.yaml", "  method: great_circle",
          "  method: graph\n  graph_file: roads.graphml")
    out = _cli("solve", str(sandbox), "--runs-dir", str(sandbox.parent / "runs"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert "cannot read GraphML" in out.stderr and "Traceback" not in out.stderr


def test_graphml_lengths_that_are_not_km_are_all_named(sandbox):
    import networkx as nx

    graph = nx.Graph()
    graph.add_edge("a", "b", length="12")
    graph.add_edge("b", "c", length="-3")
    graph.add_edge("c", "d", length="far")
    graph.add_edge("d", "e", length="nan")
    graph.add_node("z", lat="north", lon="1.0")
    nx.write_graphml(graph, sandbox / "roads.graphml")
    _edit(sandbox, "scenario.yaml", "  method: great_circle",
          "  method: graph\n  graph_file: roads.graphml")
    out = _cli("solve", str(sandbox), "--runs-dir", str(sandbox.parent / "runs"), cwd=sandbox.parent)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    # every bad cell at once, the good one ("12") not named
    for bad in ("edge b-c", "edge c-d", "edge d-e", "node z"):
        assert bad in out.stderr, (bad, out.stderr)
    assert "edge a-b" not in out.stderr


def test_export_into_a_file_is_an_output_error(demo_run, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("mine")
    out = _cli("export", str(demo_run.run_dir), "--output", str(target), cwd=tmp_path)
    assert out.returncode == 5, out.stderr
    assert "cannot write the export into" in out.stderr
    assert target.read_text() == "mine"


def test_files_outside_the_scenario_tree_are_said(tmp_path, caplog):
    from model.data import load_scenario

    folder = tmp_path / "scenarios" / "child"
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(f"extends: {DEMO}\nname: child\n")
    with caplog.at_level("WARNING", logger="model.data"):
        load_scenario(folder)
    assert "reads files outside" in caplog.text and str(DEMO / "demand.csv") in caplog.text


def test_table_linked_to_a_device_is_not_read(sandbox):
    (sandbox / "demand.csv").unlink()
    (sandbox / "demand.csv").symlink_to("/dev/zero")
    out = _validate(sandbox, timeout=30)
    assert out.returncode == 2, out.stderr
    assert "demand.csv: not a regular file" in out.stderr


def test_every_search_option_is_one_highs_knows():
    """The options a scenario may pass on are HiGHS's own names (a misspelt entry in the list
    would be accepted here and refused by HiGHS at the solve), and the MIP's LP solver is one of
    them (big geographies: the root LP by interior point)."""
    import highspy

    from model.config import SEARCH_OPTIONS, SolverConfig

    h = highspy.Highs()
    known = highspy.HighsStatus.kOk
    unknown = [name for name in sorted(SEARCH_OPTIONS) if h.getOptionValue(name)[0] != known]
    assert unknown == []
    assert SolverConfig(options={"mip_lp_solver": "ipm"}).options == {"mip_lp_solver": "ipm"}
