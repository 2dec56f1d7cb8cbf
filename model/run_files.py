"""The registry of the files a run writes: what each holds, and, for tables, where its content
comes from. It drives writing the tables (``model.run``) and the README's table of run files
(``bedplan dictionary --readme``; a test fails when they differ). To add an output file, add it
here and write the code that computes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from model.fairness import fairness_tables

README_BEGIN = "<!-- run-files:begin (generated from model/run_files.py by `make docs`) -->"
README_END = "<!-- run-files:end -->"


@dataclass(frozen=True)
class RunFile:
    names: tuple[str, ...]  # one row of the README table may describe several files
    what: str
    table: Callable[[Any], pd.DataFrame | None] | None = None  # a CSV table from a RunResult
    if_empty: bool = True  # write the table even when it has no row
    after: bool = False  # made after the run is published (a failure never loses the run)


def _solution(attr: str) -> Callable[[Any], pd.DataFrame | None]:
    return lambda result: getattr(result.solution, attr)


RUN_FILES: tuple[RunFile, ...] = (
    RunFile(("summary.md",), "two-minute read: what changes, where, when; the gain against doing "
            "nothing (all years and the final year) and where it comes from, lever by lever; "
            "capital spent and embodied carbon emitted each year"),
    RunFile(("saving.csv",), "the saving against doing nothing built up lever by lever (removals "
            "and closures, conversions, new builds and sites, community places, then the planning "
            "rules): each step's saving by objective term and the solver gaps it must beat; the "
            "steps add up to the whole saving", lambda result: result.saving, if_empty=False),
    RunFile(("price.csv",), "only with fixed decisions (fixed_decisions.csv): each decision's "
            "price (objective with it minus without it, every other lock kept), the two solves' "
            "proven gaps it must beat, and what releasing it changes in carbon, patient-km and "
            "unmet need", lambda result: result.prices, if_empty=False),
    RunFile(("decisions.csv",), "per site and year: action (keep, or every change that year among "
            "expand, reconfigure, reduce, decommission, commission, e.g. `reconfigure + reduce`), "
            "wards built, converted out, converted in and removed, wards and beds per service "
            "before and after, hub name", lambda result: result.decisions),
    RunFile(("wards.csv",), "per site, service and year: wards, beds, built, converted in/out, "
            "removed, occupied beds, utilisation", _solution("wards")),
    RunFile(("allocation.csv",), "footprint → site flows: beds by service and year, km",
            _solution("allocation")),
    RunFile(("kpis.csv",), "cost, carbon, patient-km, in-hub share, unmet need, delayed "
            "discharges; England, each hub, each footprint; each year and all years; recommended "
            "(`optimised`) and `baseline` (do nothing)", lambda result: result.kpis),
    RunFile(("fairness.csv",), "fairness between footprints, all years pooled: each "
            "footprint's mean, 90th-percentile and largest km from home, in-hub share and share "
            "of patients placed farther than `policy.far_km`; England's, the worst footprint and "
            "the population-weighted Gini index of footprints' mean km; recommended and baseline",
            fairness_tables),
    RunFile(("objective_by_year.csv",), "every objective term per year (capital as cash spent, "
            "the residual value credited back for what still stands at the end, embodied carbon "
            "as emitted)", _solution("years")),
    RunFile(("unmet.csv",), "unmet need per footprint, service and year", _solution("unmet")),
    RunFile(("pathway.csv",), "step-downs and delayed discharges", _solution("delayed")),
    RunFile(("community.csv",), "community places (base, commissioned beyond base need, filled "
            "by diverted patients)", _solution("community")),
    RunFile(("site_costs.csv",), "the site-based objective terms per site and year, as the model "
            "computes them", _solution("site_terms")),
    RunFile(("solver.log",), "the HiGHS log (with `--arcs nearest:K`: each LP relaxation's log "
            "of the arc pricing, then the MIP's; with `first_plan`, what its heuristic found first)"),
    RunFile(("configuration.gpkg",), "the recommended configuration for QGIS/ArcGIS (British "
            "National Grid): layers `sites` (action, wards and beds per service at the start and "
            "in the final year), `site_years` (table), `footprints` (demand, in-hub share, mean/max "
            "km, unmet, delayed discharges), `flows` (beds by service and year), `hubs`; opens "
            "styled in QGIS"),
    RunFile(("map.png", "map.html"), "static map (footprints by in-hub share, hubs, sites by "
            "action) and interactive web map that works with no network (everything inside the file; "
            "footprints, hubs, sites by action, flows by year; each site's decisions by year on "
            "hover; the legend toggles layers)"),
    RunFile(("plan.xlsx",), "the run's tables as one Excel workbook for analysts: a README sheet "
            "(what each sheet holds, the scenario, solver status and proven gap, every column's "
            "unit and meaning), then decisions, wards, allocation, KPIs, objective by year and "
            "the saving steps; units in the headers, frozen header rows, filters, numbers as "
            "numbers"),
    RunFile(("report.html", "report.pdf"), "the board report: one self-contained HTML file that "
            "prints to A4 (England page: the plan against doing nothing, where the saving comes "
            "from, the map, what changes when; a page per hub: units before and after, its "
            "footprints' distances and in-hub shares, delayed discharges; the data caveats), and "
            "its PDF printed by headless Chromium when installed; made by `bedplan solve` once the "
            "run is complete, or later by `bedplan report`", after=True),
    RunFile(("plan_start.json",), "the recommended plan's integer decisions (wards, builds, "
            "conversions, removals, sites operating) by variable and index, with "
            "its objective and proven gap, and each saving-breakdown step's (`steps`): a start "
            "for a later solve of this or an edited scenario "
            "(`bedplan solve --start-from RUN` or `--start-from last`)"),
    RunFile(("manifest.json",), "written last: scenario, input file hashes, versions, solver "
            "status, proven gap (absolute, relative, and relative to the part decisions can "
            "change), build and solve seconds, objective terms, model size, what the do-nothing "
            "baseline keeps and drops, each saving step's status and gap (and whether it started "
            "from the earlier run's plan of that step), the earlier plan a "
            "solve started from (`start_from`) and whether it was feasible"),
)


def tables(result: Any) -> list[tuple[str, pd.DataFrame]]:
    """The CSV tables of a finished run, in registry order."""
    out = []
    for spec in RUN_FILES:
        if spec.table is None:
            continue
        frame = spec.table(result)
        if frame is None or (frame.empty and not spec.if_empty):
            continue
        out.append((spec.names[0], frame))
    return out


def expected_files(result: Any) -> list[str]:
    """Every file a finished run with a solution must hold before it is published (the
    manifest, written last, aside)."""
    written_tables = {name for name, _frame in tables(result)}
    names = []
    for spec in RUN_FILES:
        if spec.table is not None:
            names += [n for n in spec.names if n in written_tables]
        else:
            names += [n for n in spec.names if n != "manifest.json" and not spec.after]
    return names


def descriptions() -> dict[str, str]:
    """File name -> what it holds, for every registered file."""
    return {name: spec.what for spec in RUN_FILES for name in spec.names}


def readme_table() -> str:
    lines = [README_BEGIN, "| file | what |", "|---|---|"]
    for spec in RUN_FILES:
        lines.append(f"| {', '.join(f'`{n}`' for n in spec.names)} | {spec.what} |")
    lines.append(README_END)
    return "\n".join(lines)


def with_readme_table(readme: str) -> str:
    """`readme` with its run-files block replaced by the registry's."""
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    return readme[:start] + readme_table() + readme[end:]
