"""The board report: report.html from a run folder (names, figures equal to the run's files,
caveats, self-contained), optional sections only when their folders are given, never
overwriting, and `bedplan report` on the command line. The PDF and the rendered pages are
checked in a real browser in tests/outputs/test_browser.py."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from model.cli import app
from model.errors import OutputError
from model.report import REPORT_HTML, write_report
from model.report.pages import money

runner = CliRunner()


@pytest.fixture(scope="module")
def report(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    made = write_report(demo_run.run_dir, output=out, pdf=False)
    return made.html.read_text(encoding="utf-8")


def test_self_contained(report):
    assert not re.search(r"<script|<link|src=['\"]https?:", report)
    assert report.count("src='data:image/") >= 2  # the map and the saving chart, inside the file
    assert "@page { size: A4" in report and "break-after: page" in report


def test_headline_against_doing_nothing_equals_the_manifest(report, demo_run):
    m = json.loads((demo_run.run_dir / "manifest.json").read_text())
    ours = sum(m["objective_terms"].values())
    theirs = sum(m["baseline"]["objective_terms"].values())
    # demo: 317.8m against 361.1m, saving 43.3m (the saving.csv steps add up to it)
    assert f"<b>{money(ours)}</b> against <b>{money(theirs)}</b>" in report
    assert f"a saving of <b>{money(theirs - ours)}</b>" in report
    saving = pd.read_csv(demo_run.run_dir / "saving.csv")
    assert saving["saving_gbp"].sum() == pytest.approx(theirs - ours, abs=1.0)
    for label in saving["label"]:
        assert label in report
    assert "no: within the gaps" in report  # the planning-rules step is smaller than its gaps


def test_a_page_per_hub_with_names_units_and_footprints(report, demo_run):
    decisions = pd.read_csv(demo_run.run_dir / "decisions.csv")
    hubs = decisions[["hub", "hub_name"]].drop_duplicates()
    assert report.count("<section class='page hub'>") == len(hubs)
    for name in hubs["hub_name"]:
        assert f"<h1>{name} <span class='code'>" in report
    for unit in decisions["name"].unique():
        assert unit in report
    assert "Derbyshire" in report and "West Yorkshire" in report  # footprint names, not codes only
    changed = decisions[decisions["action"] != "keep"]
    for r in changed.itertuples():
        assert f"<td>{r.year}</td><td>{r.name}" in report


def test_caveats_say_what_is_illustrative(report):
    assert "Data caveats" in report
    assert "<strong>illustrative</strong>" in report  # from the demo's ASSUMPTIONS.md


def test_sections_appear_only_when_their_folders_are_given(demo_run, tmp_path):
    plain = write_report(demo_run.run_dir, output=tmp_path / "a", pdf=False).html.read_text()
    assert "Sweep robustness" not in plain
    sweep = tmp_path / "night"
    sweep.mkdir()
    pd.DataFrame({"site": ["SH"], "name": ["Stockton Hall (demo)"], "status": ["existing"],
                  "hub": ["YH"], "kept": [0.25], "reduced": [0.5], "decommissioned": [0.0],
                  "commissioned": [0.0], "reconfigured": [0.75], "expanded": [0.0],
                  "verdict": ["stays open, reconfigured"]}).to_csv(sweep / "robustness.csv",
                                                                 index=False)
    other = tmp_path / "frontier"
    other.mkdir()
    (other / "summary.md").write_text("# Frontier\n\n| point | cost |\n|---|---|\n| 1 | 2 |\n")
    html = write_report(demo_run.run_dir, [sweep, other, tmp_path / "nothing-here"],
                        output=tmp_path / "b", pdf=False).html.read_text()
    assert "Sweep robustness: night" in html and "<td>75.0%</td>" in html
    assert "<h1>Frontier</h1>" in html and "<td>2</td>" in html


def test_the_manifest_warnings_reach_the_board(demo_run, tmp_path):
    """A run stopped short, with arcs unpriced or with a setting left without effect says so in
    its manifest; the report's first page carries each warning, escaped, and none when there is
    none (the demo solves to its gap)."""
    plain = write_report(demo_run.run_dir, output=tmp_path / "a", pdf=False).html.read_text()
    assert "class='warnings'" not in plain
    run = tmp_path / "run"
    shutil.copytree(demo_run.run_dir, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["warnings"] = ["solver stopped (time limit) before proving optimality",
                            "solver.hub_search is ignored: <first_plan> is highs"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    html = write_report(run, output=tmp_path / "b", pdf=False).html.read_text()
    first_page = html.split("</section>")[0]
    assert "<li>solver stopped (time limit) before proving optimality</li>" in first_page
    assert "<li>solver.hub_search is ignored: &lt;first_plan&gt; is highs</li>" in first_page


def test_never_overwrites(demo_run, tmp_path):
    write_report(demo_run.run_dir, output=tmp_path, pdf=False)
    before = (tmp_path / REPORT_HTML).read_bytes()
    with pytest.raises(OutputError, match="refusing to overwrite report.html"):
        write_report(demo_run.run_dir, output=tmp_path, pdf=False)
    assert (tmp_path / REPORT_HTML).read_bytes() == before


def test_report_command(demo_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(demo_run.run_dir, run)
    result = runner.invoke(app, ["report", str(run), "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert (run / REPORT_HTML).exists() and not (run / "report.pdf").exists()
    again = runner.invoke(app, ["report", str(run), "--no-pdf"])
    assert again.exit_code == 5 and "refusing to overwrite" in again.output
    missing = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "not a finished run folder" in missing.output


def test_solve_writes_the_report_once_the_run_is_complete(tmp_path):
    from model.report.browser import find_chromium
    from tests.conftest import DEMO

    result = runner.invoke(app, ["solve", str(DEMO), "--runs-dir", str(tmp_path), "--no-breakdown"])
    assert result.exit_code == 0, result.output
    (run,) = [p for p in (tmp_path / "demo").iterdir() if not p.name.startswith(".")]
    assert (run / "manifest.json").exists() and (run / REPORT_HTML).exists()
    if find_chromium() is None:
        assert "PDF not made: Chromium is not installed" in result.output
    else:
        assert (run / "report.pdf").read_bytes().startswith(b"%PDF")
    skipped = runner.invoke(app, ["solve", str(DEMO), "--runs-dir", str(tmp_path / "b"),
                                  "--no-baseline", "--no-report"])
    assert skipped.exit_code == 0, skipped.output
    assert not list((tmp_path / "b").rglob(REPORT_HTML))
    (bare,) = [p for p in (tmp_path / "b" / "demo").iterdir() if not p.name.startswith(".")]
    html = write_report(bare, pdf=False).html.read_text()  # no baseline, no saving steps
    assert "No do-nothing comparison in this run" in html and "Where the saving" not in html


def test_without_chromium_the_html_is_written_and_the_pdf_is_said_missing(demo_run, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("BEDPLAN_CHROMIUM", str(tmp_path / "no-such-browser"))
    made = write_report(demo_run.run_dir, output=tmp_path, pdf=True)
    assert made.html.exists() and made.pdf is None and not (tmp_path / "report.pdf").exists()
    assert "Chromium is not installed" in made.note


def test_changes_by_year_counts_each_action_and_each_unit_once():
    from pathlib import Path

    from model.report.data import RunData
    from model.report.pages import changes_by_year

    decisions = pd.DataFrame({
        "site": ["A", "B", "A", "C", "B"], "year": ["2018", "2018", "2019", "2019", "2019"],
        "action": ["reconfigure + reduce", "reduce", "keep", "decommission", "keep"]})
    run = RunData(Path("."), {}, decisions, pd.DataFrame(), None, None, None, None)
    html = changes_by_year(run)
    # 2018: A reconfigures and reduces, B reduces -> reconfigure 1, reduce 2, 2 units changing
    # 2019: only C (decommission) -> 1 unit
    assert "<th>decommission</th><th>reconfigure</th><th>reduce</th><th>units changing</th>" in html
    assert "<tr><td>2018</td><td>–</td><td>1</td><td>2</td><td>2</td></tr>" in html
    assert "<tr><td>2019</td><td>1</td><td>–</td><td>–</td><td>1</td></tr>" in html


def test_the_price_of_fixed_decisions_has_its_section(tmp_path):
    # falling_demand: keeping B costs 2 x 80k = 160k (tests/formulation/test_pricing.py)
    from model.run import solve_scenario
    from tests.formulation.test_families import falling_demand

    tiny = falling_demand().lock("keepB", "B", "keep", note="local campaign")
    result = solve_scenario(tiny.write(tmp_path / "s"), runs_root=tmp_path / "runs", baseline=False)
    html = write_report(result.run_dir, pdf=False).html.read_text()
    assert "What the fixed decisions cost" in html
    assert "keep as it is B" in html and "local campaign" in html
    assert money(160_000) in html and "costs £160,000 over the horizon" in html
