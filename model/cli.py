"""Command line: `bedplan solve|validate|dictionary|export|sweep|frontier|alternatives` (also
`python -m model ...`)."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from model.bench_cli import bench_app
from model.errors import EXIT_OK, BedplanError, ScenarioError
from model.vocabulary import SolveStatus

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="bedplan: plan secure mental health bed capacity (Pyomo + HiGHS).")
app.add_typer(bench_app, name="bench", help="Benchmarks: published optima (OR-Library), performance.")
console = Console(stderr=False)
MAX_PROBLEMS_SHOWN = 60
err = Console(stderr=True)


def _past_the_capture() -> TextIO:
    """Standard output on a file descriptor of its own. While HiGHS runs, descriptor 1 is
    captured (read back for what HiGHS made of a start, and shown only with --log), and a
    progress message written there would be swallowed with it; a duplicate of the descriptor
    still reaches the terminal (or pipe). Where standard output has no descriptor (a test's
    runner), it is used as it is."""
    try:
        return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return sys.stdout


@contextmanager
def _stages() -> Iterator[Callable[[str], None]]:
    """A run's stage messages (`solve_scenario`'s `progress`): a status line and a log line each,
    on standard output past the capture of HiGHS's output (the first plan is said inside it)."""
    out = _past_the_capture()
    live = Console(file=out)
    try:
        with live.status("starting") as status:
            def say(message: str) -> None:
                status.update(message)
                live.log(message)
            yield say
    finally:
        if out is not sys.stdout:  # the duplicate descriptor is ours to close
            out.close()


def _fail(exc: BedplanError, show_all: bool = False) -> None:
    limit = len(getattr(exc, "problems", [])) if show_all else MAX_PROBLEMS_SHOWN
    if isinstance(exc, ScenarioError):
        err.print(f"[bold red]Invalid input[/]: {len(exc.problems)} problem(s) found:")
        for problem in exc.problems[:limit]:
            err.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)
        hidden = len(exc.problems) - limit
        if hidden > 0:
            err.print(f"  ... and {hidden} more (`bedplan validate` lists them all with --all)")
    else:
        err.print(f"[bold red]{type(exc).__name__.replace('Error', '')}[/]: {exc}", highlight=False,
                  soft_wrap=True)
    raise typer.Exit(exc.exit_code)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder.")],
    show_all: Annotated[bool, typer.Option("--all", help="List every problem.")] = False,
) -> None:
    """Check a scenario's YAML and tables; report every problem at once (exit 2 if any)."""
    from model.data import load_scenario
    from model.inputs import build_inputs

    try:
        data = load_scenario(scenario)
        inputs = build_inputs(data)
    except BedplanError as exc:
        _fail(exc, show_all)
    console.print(
        f"[green]OK[/] {data.config.name}: {len(inputs.hubs)} hubs, {len(inputs.footprints)} "
        f"footprints, {len(inputs.sites)} sites, {len(inputs.services)} services, "
        f"years {inputs.years[0]}–{inputs.years[-1]}.")


START_FROM_HELP = ("Start from an earlier run's plan: its run folder, its plan_start.json, or `last` "
                   "(this scenario's newest complete run). Checked first; not feasible: solved as without.")


@app.command()
def solve(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder.")],
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit, seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    arcs: Annotated[str | None, typer.Option(
        help="Placement arcs: all, or nearest:K (the K nearest sites, then the rest priced in).")] = None,
    first_plan: Annotated[str | None, typer.Option(
        help="highs, relax_and_fix (a first plan year by year, later years relaxed), "
             "rolling_horizon (year by year, later years left out: for big models) or "
             "lp_neighbourhood (near the LP relaxation's wards), before HiGHS's search.")] = None,
    hub_search: Annotated[float | None, typer.Option(
        help="Share of the time limit for improving the first plan hub by hub (0: none).")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("runs"),
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Skip the do-nothing run.")] = False,
    no_breakdown: Annotated[bool, typer.Option(
        "--no-breakdown", help="Skip the saving breakdown by lever (one re-solve per lever).")] = False,
    show_log: Annotated[bool, typer.Option("--log", help="Stream the solver log.")] = False,
    no_price: Annotated[bool, typer.Option(
        "--no-price", help="Skip pricing the fixed decisions (one re-solve per lock).")] = False,
    workers: Annotated[int, typer.Option(help="Processes for the pricing re-solves (1: here).")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler.")] = None,
    no_report: Annotated[bool, typer.Option(
        "--no-report", help="Skip report.html and report.pdf (bedplan report makes them later).")
    ] = False,
    start_from: Annotated[str | None, typer.Option(help=START_FROM_HELP)] = None,
) -> None:
    """Solve a scenario and write runs/<scenario>/<run-id>/ (with report.html and report.pdf)."""
    from model.run import solve_scenario

    solver = {k: v for k, v in {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads,
                                "arcs": arcs, "first_plan": first_plan,
                                "hub_search": hub_search}.items() if v is not None}
    _check_flags(solver)
    overrides = {"solver": solver} if solver else None
    stream = sys.stdout if show_log else None
    try:
        with _stages() as progress:
            result = solve_scenario(scenario, runs_dir, overrides, baseline=not no_baseline,
                                    levers=not no_breakdown, price=not no_price, workers=workers,
                                    scheduler=scheduler, progress=progress, solver_stream=stream,
                                    start_from=start_from)
    except BedplanError as exc:
        _fail(exc)
    _print_result(result)
    if not no_report and result.run_dir is not None:
        _write_report(result.run_dir, [], None)
    raise typer.Exit(EXIT_OK)


Flags = list[str] | None


@app.command()
def price(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder.")],
    keep: Annotated[Flags, typer.Option(help="SITE[:SERVICE]: keep as it is.")] = None,
    keep_open: Annotated[Flags, typer.Option(help="SITE[:SERVICE]: keep operating.")] = None,
    close_by: Annotated[Flags, typer.Option(help="SITE[:SERVICE]@YEAR: closed from YEAR.")] = None,
    open_in: Annotated[Flags, typer.Option(help="SITE[:SERVICE]@YEAR: opens in YEAR.")] = None,
    wards_min: Annotated[Flags, typer.Option(help="SITE:SERVICE=N\\[@YEAR]: at least N wards.")] = None,
    wards_max: Annotated[Flags, typer.Option(help="SITE:SERVICE=N\\[@YEAR]: at most N wards.")] = None,
    wards_exact: Annotated[Flags, typer.Option(help="SITE:SERVICE=N\\[@YEAR]: exactly N wards.")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit, seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("runs"),
    workers: Annotated[int, typer.Option(help="Processes for the re-solves (1: here).")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler.")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="Also solve the do-nothing baseline.")] = False,
    start_from: Annotated[str | None, typer.Option(help=START_FROM_HELP)] = None,
) -> None:
    """What does a decision cost? Solve with the decisions given here fixed (with the scenario's
    own), then with each of them released; writes a run folder with price.csv."""
    from model.earlier_plan import start_statement
    from model.errors import Problem
    from model.run import solve_scenario

    given = {"keep": keep, "keep_open": keep_open, "close_by": close_by, "open_in": open_in,
             "wards_min": wards_min, "wards_max": wards_max, "wards_exact": wards_exact}
    rows, problems = [], []
    for kind, values in given.items():
        for text in values or []:
            row, problem = _lock_flag(kind, text)
            if problem:
                problems.append(Problem("command line", None, None, text,
                                        f"--{kind.replace('_', '-')}: {problem}"))
            else:
                rows.append(row)
    if not rows and not problems:
        problems.append(Problem("command line", None, None, None,
                                "give at least one decision to price, e.g. --keep SITE"))
    if problems:
        _fail(ScenarioError(problems))
    solver = {k: v for k, v in {"time_limit": time_limit, "mip_gap": mip_gap,
                                "threads": threads}.items() if v is not None}
    _check_flags(solver)
    overrides = {"solver": solver, "changes": [{"op": "add_row", "table": "fixed_decisions", "row": r}
                                               for r in rows]}
    try:
        with _stages() as progress:
            result = solve_scenario(scenario, runs_dir, overrides, baseline=baseline, levers=False,
                                    price_only=[r["decision"] for r in rows], workers=workers,
                                    scheduler=scheduler, progress=progress, start_from=start_from)
    except BedplanError as exc:
        _fail(exc)
    table = Table(title=f"The price of fixed decisions ({result.scenario.config.name})")
    for heading in ("decision", "price (disc. £)", "carbon (t)", "patient-km", "verdict"):
        table.add_column(heading, justify="left" if heading in ("decision", "verdict") else "right")
    for r in result.prices.itertuples(index=False):
        priced = r.price_gbp is not None and r.price_gbp == r.price_gbp
        table.add_row(r.what, f"{r.price_gbp:,.0f}" if priced else "–",
                      f"{r.carbon_t_change:+,.1f}" if priced else "–",
                      f"{r.patient_km_change:+,.0f}" if priced else "–", r.verdict)
    console.print(table)
    started = start_statement(result.outcome.earlier_plan)
    if started:
        console.print(started, highlight=False)
    console.print(f"wrote {result.run_dir} (price.csv, summary.md)")
    raise typer.Exit(EXIT_OK)


def _lock_flag(kind: str, text: str) -> tuple[dict, str | None]:
    """A --keep/--close-by/... value as a fixed_decisions row, or why it cannot be read."""
    body, _, year = text.partition("@")
    wards = None
    if kind.startswith("wards_"):
        body, sep, number = body.partition("=")
        if not sep or not number.strip().isdigit():
            return {}, "write SITE:SERVICE=N (N a whole number of wards)"
        wards = int(number)
    site, _, service = body.partition(":")
    if not site.strip():
        return {}, "no site given"
    if kind in ("close_by", "open_in") and not year:
        return {}, "write SITE[:SERVICE]@YEAR"
    if year and not year.strip().isdigit():
        return {}, f"year '{year}' is not a year"
    row = {"decision": f"{kind} {text}", "site": site.strip(), "kind": kind}
    if service.strip():
        row["service"] = service.strip()
    if year:
        row["year"] = int(year)
    if wards is not None:
        row["wards"] = wards
    return row, None


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="First run folder (A).")],
    run_b: Annotated[Path, typer.Argument(help="Second run folder (B).")],
    output: Annotated[Path | None, typer.Option(
        help="Folder for compare.md/.csv and the map (default: RUNS_DIR/compare/<A>--<B>).")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("runs"),
    shared_only: Annotated[bool, typer.Option(
        "--shared-only", help="Compare runs of different years or footprints on what they share.")] = False,
) -> None:
    """Compare two runs: objective terms, KPIs, the site decisions that differ (B - A)."""
    from model.compare import write_comparison

    out = output or runs_dir / "compare" / f"{run_a.resolve().name}--{run_b.resolve().name}"
    try:
        written = write_comparison(run_a, run_b, out, shared_only)
    except BedplanError as exc:
        _fail(exc)
    console.print((out / "compare.md").read_text(encoding="utf-8").split("\n## ")[0])
    for path in written:
        console.print(f"wrote {path}")
    raise typer.Exit(EXIT_OK)


def _check_flags(solver: dict) -> None:
    """Solver flags are checked as flags: a bad value is blamed on the flag, not on
    scenario.yaml (exit 2)."""
    from pydantic import ValidationError

    from model.config import SolverConfig
    from model.errors import Problem

    try:
        SolverConfig.model_validate(solver)
    except ValidationError as exc:
        problems = [Problem("command line", None, None, err.get("input"),
                            f"--{str(err['loc'][0]).replace('_', '-')}: {err.get('msg', 'invalid')}")
                    for err in exc.errors()]
        _fail(ScenarioError(problems))


def _print_result(result) -> None:
    from model.earlier_plan import start_statement
    from model.summary import _money, change_counts, headline

    outcome = result.outcome
    last = result.inputs.years[-1]
    table = Table(title=f"{result.scenario.config.name}: {outcome.status}", show_header=True)
    table.add_column("measure")
    for heading in ("recommended", "do nothing", f"recommended {last}", f"do nothing {last}"):
        table.add_column(heading, justify="right")
    all_years, final = headline(result.kpis, "all"), headline(result.kpis, last)

    def cells(column: str, scale: float = 1.0) -> list[str]:
        out = []
        for frame in (all_years, final):
            for case in ("optimised", "baseline"):
                out.append(f"{frame[case][column] / scale:,.1f}" if case in frame else "")
        return out

    base_objective = (f"{sum(result.baseline.objective_terms.values()) / 1e6:,.1f}"
                      if result.baseline else "")
    table.add_row("objective (disc. £m)", f"{sum(result.solution.objective_terms.values()) / 1e6:,.1f}",
                  base_objective, "", "")
    for name, column, scale in (("cost (£m)", "cost_gbp", 1e6), ("carbon (tCO2e)", "carbon_t", 1.0),
                                ("patient-km", "patient_km", 1.0),
                                ("unmet (bed-years)", "unmet_beds", 1.0),
                                ("delayed discharges", "delayed_discharges", 1.0)):
        table.add_row(name, *cells(column, scale))
    console.print(table)
    if result.saving is not None and not result.saving.empty:
        parts = [f"{row.lever.replace('_', ' ')} {_money(row.saving_gbp)}"
                 + ("" if row.distinguishable else " (within gaps)")
                 for row in result.saving.itertuples()]
        console.print("saving by lever: " + "; ".join(parts) + " (saving.csv)")
    counts = change_counts(result.decisions) if result.decisions is not None else None
    if counts:
        console.print(f"units: {counts['changed_units']} of {counts['units']} change "
                      f"({counts['changed_site_years']} site-years with a change); "
                      f"{counts['kept_units']} kept as they are")
    gap = outcome.gap_rel or 0.0
    build_seconds = result.manifest["build_seconds"]
    console.print(f"gap {gap:.4%} (£{outcome.gap_abs or 0:,.0f}); build {build_seconds:.1f}s, "
                  f"solve {outcome.seconds:.1f}s")
    started = start_statement(outcome.earlier_plan)
    if started:
        console.print(started, highlight=False)
    if outcome.status == SolveStatus.FEASIBLE:
        err.print(f"[yellow]warning[/]: the solver stopped ({outcome.termination}) before proving "
                  f"optimality; the solution is within {gap:.3%} of the best bound.", soft_wrap=True)
    console.print(f"written: [bold]{result.run_dir}[/]  (summary.md, decisions.csv, kpis.csv, ...)")


@app.command()
def dictionary(
    output: Annotated[Path, typer.Option(help="Where to write the data dictionary.")] = Path(
        "docs/data-dictionary.md"),
    readme: Annotated[Path | None, typer.Option(
        help="Also refresh this README's table of run files (README.md).")] = None,
) -> None:
    """Write docs/data-dictionary.md from the data dictionary in the code (and, with --readme,
    the README's table of run files from the registry of run files)."""
    from model.dictionary import render_markdown
    from model.run_files import with_readme_table

    output.write_text(render_markdown(), encoding="utf-8")
    console.print(f"written {output}")
    if readme is not None:
        readme.write_text(with_readme_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
        console.print(f"written the run-files table of {readme}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder: runs/<scenario>/<run-id>.")],
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="gpkg, geojson (WGS84), shapefile or csv.")] = "gpkg",
    year: Annotated[int | None, typer.Option(help="Only this year's flows, site wards and KPIs.")
                    ] = None,
    output: Annotated[Path | None, typer.Option(
        help="Output folder (default RUN_DIR/exports/<format>[-<year>]).")] = None,
    scenario: Annotated[Path | None, typer.Option(
        help="Scenario folder, if not where the run's manifest says.")] = None,
) -> None:
    """Export a run's recommended configuration for QGIS/ArcGIS; never overwrites files."""
    from model.gis import export_run

    try:
        written = export_run(run_dir, fmt, year=year, output=output, scenario=scenario)
    except BedplanError as exc:
        _fail(exc)
    folder = written[0].parent if written else output
    console.print(f"[green]written[/] {len(written)} files to [bold]{folder}[/]: "
                  + ", ".join(p.name for p in written), highlight=False)


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (data/sweeps/*.yaml).")],
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one a core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Results go to RUNS_DIR/sweeps/<name>/.")] = Path("runs"),
    retry_failed: Annotated[bool, typer.Option("--retry-failed",
                                               help="Solve again variants that had no solution.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the variants; solve nothing.")] = False,
) -> None:
    """Run a sensitivity sweep in parallel (Dask); a rerun skips the variants already done."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from model.sweep import SOLVED, build_variants, load_sweep, pending, run_sweep

    try:
        spec = load_sweep(file)
    except ScenarioError as exc:
        err.print(f"[bold red]Invalid sweep[/]: {len(exc.problems)} problem(s) found:")
        for problem in exc.problems:
            err.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    if dry_run:
        variants = build_variants(spec)
        todo, _done = pending(spec, variants, runs_dir, retry_failed)
        waiting = {v.key for v in todo}
        for v in variants:
            console.print(f"{v.index:5d} {v.key} {'to solve' if v.key in waiting else 'done    '} {v.label}",
                          highlight=False)
        console.print(f"{len(variants)} variants, {len(todo)} to solve -> {spec.output_folder(runs_dir)}")
        raise typer.Exit(EXIT_OK)
    counts = {"ok": 0, "failed": 0}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(spec.name, total=None, status="starting workers")

        def on_event(kind: str, info: dict) -> None:
            if kind == "start":
                bar.update(task, total=info["todo"],
                           status=f"{info['done']} of {info['total']} already done")
            elif kind == "cluster":
                console.log(f"solving on {info['cluster']}", highlight=False)
            elif kind == "base_plan":
                gap = info.get("gap_rel")
                console.log(f"base plan for the variants' MIP starts: {info['status']}"
                            + (f" (gap {gap:.3%})" if gap is not None else "")
                            + (f": {info['reason']}" if info.get("reason") else ""), highlight=False)
            elif kind == "waiting":
                console.log(f"variant {info['variant']} waits for more plans ({info['reason']})",
                            highlight=False)
            else:
                counts["ok" if info["status"] in SOLVED else "failed"] += 1
                bar.update(task, advance=1, status=f"[green]{counts['ok']} solved[/] "
                                                   f"[red]{counts['failed']} failed[/]")

        try:
            run = run_sweep(spec, runs_dir, workers=workers, scheduler=scheduler, on_event=on_event,
                            retry_failed=retry_failed)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: finished variants are kept; run the same command to go on.")
            raise typer.Exit(130) from None
    statuses = run.results["status"].value_counts().to_dict()
    done = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    console.print(f"{len(run.variants)} variants: {done} ({len(run.solved)} solved now, "
                  f"{len(run.skipped)} reused) in {run.seconds / 60:.1f} min"
                  + (f" on {run.cluster}" if run.cluster else " (nothing to solve: no cluster started)"),
                  highlight=False)
    console.print(f"written: [bold]{run.folder}[/]  (summary.md, results.parquet, decisions.parquet, charts)")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder: runs/<scenario>/<run-id>.")],
    analysis: Annotated[list[Path] | None, typer.Option(
        help="A further analysis folder to include (a sweep's, a frontier's, ...); repeatable.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Output folder (default: RUN_DIR).")] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Write report.html only.")] = False,
) -> None:
    """The board report of a run: report.html (prints to A4) and report.pdf (headless Chromium)."""
    _write_report(run_dir, list(analysis or []), output, pdf=not no_pdf)


def _write_report(run_dir: Path, analyses: list[Path], output: Path | None, pdf: bool = True) -> None:
    from model.report import write_report

    try:
        made = write_report(run_dir, analyses, output, pdf=pdf)
    except BedplanError as exc:
        _fail(exc)
    console.print(f"report: [bold]{made.html}[/]" + (f" and [bold]{made.pdf.name}[/]" if made.pdf else ""),
                  highlight=False)
    if made.pdf is None and pdf:
        err.print(f"[yellow]note[/]: {made.note}", highlight=False, soft_wrap=True)


@app.command()
def frontier(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder.")],
    objectives: Annotated[str, typer.Option(
        help="Two or three of cost, carbon, patient_km (or cost,worst_km): the first minimised, "
             "the others bounded on the grid.")
    ] = "cost,carbon",
    points: Annotated[int, typer.Option(help="Grid points, the two ends included.")] = 9,
    supported: Annotated[int, typer.Option(
        help="Up to N weighted-sum solves for the frontier's corners: points of it, and the "
             "grid points' starts (0: none; two linear objectives).")] = 0,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit per solve, seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads per solve.")] = None,
    first_plan: Annotated[str | None, typer.Option(
        help="highs, relax_and_fix (year by year), rolling_horizon (year by year, later years "
             "left out) or lp_neighbourhood (near the LP relaxation's wards): a first plan for a "
             "solve with no start.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Results go to RUNS_DIR/frontiers/<name>/.")] = Path("runs"),
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one a core).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a running Dask scheduler (its workers must see the same folders).")] = None,
) -> None:
    """The efficient frontier between two or three objectives (AUGMECON2), each point a full run;
    a rerun reuses the points already solved."""
    from model.tradeoffs import run_frontier

    solver = {k: v for k, v in {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads,
                                "first_plan": first_plan}.items() if v is not None}
    _check_flags(solver)
    chosen = [o.strip() for o in objectives.split(",") if o.strip()]

    def on_event(kind: str, info: dict) -> None:
        if kind == "start":
            console.log(f"{info['phase']}: {info['todo']} to solve")
        else:
            console.log(f"{info.get('label')}: {info.get('status')}"
                        + (f" (same plan as {info['same_as']})" if info.get("same_as") else ""))

    _run_resumable(lambda: run_frontier(scenario, chosen, points, runs_dir,
                                        {"solver": solver} if solver else None, workers=workers,
                                        scheduler=scheduler, on_event=on_event,
                                        supported=supported), "points")


@app.command()
def alternatives(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder.")],
    slack: Annotated[float, typer.Option(help="Objective within this share of the optimum.")] = 0.02,
    count: Annotated[int, typer.Option(help="Alternatives to look for.")] = 5,
    method: Annotated[str, typer.Option(
        help="price (a price on likeness to the plans found, searched to stay within the slack), "
             "or distance (the most distant plan within the slack: exact, but slow on big "
             "scenarios).")] = "price",
    tries: Annotated[int, typer.Option(
        help="Method price: solves per alternative (more for a more distant plan).")] = 2,
    time_limit: Annotated[float | None, typer.Option(help="Solver time limit per solve, seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads per solve.")] = None,
    first_plan: Annotated[str | None, typer.Option(
        help="highs, relax_and_fix (year by year), rolling_horizon (year by year, later years "
             "left out) or lp_neighbourhood (near the LP relaxation's wards): a first plan for a "
             "solve with no start.")] = None,
    runs_dir: Annotated[Path, typer.Option(
        help="Results go to RUNS_DIR/alternatives/<name>/.")] = Path("runs"),
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default 1: each alternative depends on those before).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a running Dask scheduler (its workers must see the same folders).")] = None,
) -> None:
    """Near-optimal plans as different as possible from the optimum and each other (MGA), each a
    full run; which decisions every good plan shares and which are a matter of choice."""
    from model.tradeoffs.alternatives import run_alternatives

    solver = {k: v for k, v in {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads,
                                "first_plan": first_plan}.items() if v is not None}
    _check_flags(solver)

    def on_event(kind: str, info: dict) -> None:
        if kind == "try":
            console.log(f"{info.get('label')} at £{info.get('price'):,.4g} a unit of distance: "
                        f"{info.get('verdict')}")
            return
        console.log(f"{info.get('label')}: {info.get('status')}"
                    + (f" ({info['reason']})" if info.get("reason") else ""))

    _run_resumable(lambda: run_alternatives(scenario, slack, count, runs_dir,
                                            {"solver": solver} if solver else None, workers=workers,
                                            scheduler=scheduler, on_event=on_event, method=method,
                                            tries=tries), "plans")


def _run_resumable(run_it, kept: str) -> None:
    """Run a frontier or alternatives search; say what was solved and written, or, when
    interrupted, that the finished `kept` are kept for the next run."""
    try:
        run = run_it()
    except BedplanError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        err.print(f"[yellow]interrupted[/]: finished {kept} are kept; run the same command to go on.")
        raise typer.Exit(130) from None
    console.print(f"{len(run.solved)} solved now, {len(run.reused)} reused, in {run.seconds / 60:.1f} min")
    console.print(f"written: [bold]{run.folder}[/]  (" + ", ".join(p.name for p in run.files)
                  + ", runs/)")
    raise typer.Exit(EXIT_OK)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
