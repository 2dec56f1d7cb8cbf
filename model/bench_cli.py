"""`bedplan bench ...`: benchmarks (correctness against published optima, performance)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

bench_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Benchmarks: published optima (OR-Library) and performance.")
console = Console()

REL_TOLERANCE = 1e-6


@bench_app.command()
def orlib(
    paths: Annotated[list[Path], typer.Argument(
        help="OR-Library cap*.txt / pmed*.txt files, or folders holding them.")],
    capacity: Annotated[float | None, typer.Option(
        help="Every facility's capacity: required by files whose capacities are the literal word "
        "'capacity' (capa), an override otherwise (e.g. total demand: the uncapacitated variant).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Keep the scenario folders here (default: a temporary folder, removed).")] = None,
    runs_dir: Annotated[Path | None, typer.Option(
        help="Also write each run folder here (default: none).")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit per instance, seconds.")] = 600.0,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    show_log: Annotated[bool, typer.Option("--log", help="Stream the solver log.")] = False,
) -> None:
    """Convert OR-Library instances to scenarios, solve each with `bedplan solve`'s path, and
    compare with the published optimum (exit 1 if any differs by more than 1e-6 relative, exit 2
    if a file is not an instance or lacks a capacity it needs)."""
    from model.orlib import OrlibInputError, instance_files, solve_instance

    files = instance_files(paths)
    if not files:
        console.print("[red]no OR-Library instance (capacitated warehouse location or p-median) found[/]")
        raise typer.Exit(2)
    header = (f"{'instance':<22} {'status':<9} {'objective':>16} {'published optimum':>18} "
              f"{'rel. error':>10} {'build s':>8} {'solve s':>8}")
    typer.echo(header)
    failed = bad_input = False
    stream = sys.stdout if show_log else None
    for path in files:
        try:
            r = solve_instance(path, capacity=capacity, out=out, time_limit=time_limit, threads=threads,
                               runs_root=runs_dir, solver_stream=stream)
        except OrlibInputError as exc:
            console.print(f"{path}: {exc}", style="red", highlight=False, markup=False, soft_wrap=True)
            bad_input = True
            continue
        name = r.instance + (f" (cap. {capacity:g})" if capacity is not None else "")
        ok = r.rel_error is None or r.rel_error < REL_TOLERANCE
        failed |= not ok or r.objective is None
        objective = "" if r.objective is None else f"{r.objective:,.3f}"
        optimum = "unknown" if r.optimum is None else f"{r.optimum:,.3f}"
        rel = "" if r.rel_error is None else f"{r.rel_error:.1e}"
        line = (f"{name:<22} {r.status:<9} {objective:>16} {optimum:>18} {rel:>10} "
                f"{_secs(r.build_seconds):>8} {_secs(r.solve_seconds):>8}")
        typer.echo(line if ok else f"{line}  <- differs from the published optimum")
        if r.scenario_dir is not None:
            typer.echo(f"  scenario: {r.scenario_dir}")
    raise typer.Exit(2 if bad_input else 1 if failed else 0)


def _secs(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.2f}"
