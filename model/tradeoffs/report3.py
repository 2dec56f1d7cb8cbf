"""A three-objective frontier's report: ``frontier.csv`` (every cell of the grid, the weighted-sum
plan and doing nothing), the three pairwise projections, and ``summary.md`` (the payoff table, the
distinct plans, the knee, implied prices between neighbouring cells along each bounded axis, and
the decisions that change between them)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.outputs import write_csv
from model.tradeoffs.augmecon import grid_label, knee
from model.tradeoffs.files import FRONTIER, conform
from model.tradeoffs.objectives import OBJECTIVES
from model.tradeoffs.report import (
    FRONTIER_CSV,
    SOLVED,
    _mark_points,
    _money,
    _price,
    _row,
    efficient_points,
    final_config,
    reference_rows,
    unchanged_sites,
    ward_changes,
)

#: how each objective is drawn: axis label, divisor
AXES = {"cost": ("cost, discounted (£m)", 1e6), "carbon": ("carbon over the horizon (ktCO2e)", 1e3),
        "patient_km": ("patient-km over the horizon (thousands)", 1e3)}


def frontier_table3(objectives: list[str], points: int, records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per grid cell (outer index, then inner, loosest first), then the weighted-sum plan
    and doing nothing. ``e``/``index``/``slack`` are the inner (second) objective's,
    ``e3``/``index3``/``slack3`` the outer (third) objective's."""
    rows = []
    for i3, i2 in itertools.product(range(points), range(points)):
        label = grid_label(i2, i3)
        rec = records.get(label, {"status": "pending", "reason": "not solved yet"})
        row = _row("frontier", label, rec, i2, objectives[0])
        row.update(index3=i3, e3=rec.get("e3"), slack3=rec.get("slack3"))
        rows.append(row)
    rows += reference_rows(records, objectives[0])
    table = pd.DataFrame(rows)
    _mark_points(table, objectives)
    return table


def axis_steps(table: pd.DataFrame, objectives: list[str]) -> pd.DataFrame:
    """Neighbouring distinct plans along each bounded axis: the next solved cell whose plan
    differs, tightening that axis's bound with the other bound held. One row per distinct pair:
    the primary's extra cost, the axis objective's saving, the price, the other's change."""
    first = objectives[0]
    cells = table[(table["kind"] == "frontier") & table["status"].isin(SOLVED)]
    rows, seen = [], set()
    for axis, held, along, fixed in ((objectives[1], objectives[2], "index", "index3"),
                                     (objectives[2], objectives[1], "index3", "index")):
        for _value, line in cells.groupby(fixed):
            line = line.sort_values(along)
            for a, b in zip(line.iloc[:-1].itertuples(), line.iloc[1:].itertuples(), strict=True):
                if a.point == b.point or (axis, a.point, b.point) in seen:
                    continue
                seen.add((axis, a.point, b.point))
                saved = getattr(a, axis) - getattr(b, axis)
                extra = getattr(b, first) - getattr(a, first)
                rows.append({"axis": axis, "held": held, "from_point": a.point, "to_point": b.point,
                             "extra": extra, "saved": saved,
                             "price": extra / saved if saved > 1e-9 else np.nan,
                             "held_change": getattr(b, held) - getattr(a, held),
                             "gaps": (a.gap_abs or 0.0) + (b.gap_abs or 0.0),
                             "run_dirs": (a.run_dir, b.run_dir)})
    return pd.DataFrame(rows)


def write_frontier_report3(out: Path, objectives: list[str], points: int,
                           records: dict[str, dict[str, Any]], seconds: float) -> list[Path]:
    table = frontier_table3(objectives, points, records)
    write_csv(conform(FRONTIER, table), out / FRONTIER_CSV)
    efficient = efficient_points(table, objectives)
    written = [out / FRONTIER_CSV] + _projections(out, table, efficient, objectives)
    (out / "summary.md").write_text(_summary(out, objectives, points, table, efficient, records, seconds),
                                    encoding="utf-8")
    return written + [out / "summary.md"]


def _projections(out: Path, table: pd.DataFrame, efficient: pd.DataFrame,
                 objectives: list[str]) -> list[Path]:
    """One picture per pair of objectives: the distinct plans coloured by the third, the knee,
    the weighted-sum plan and doing nothing. Not joined: a projection of a surface has no order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    k = knee(efficient[objectives].to_numpy(float)) if len(efficient) else None
    for y, x in itertools.combinations(objectives, 2):
        third = next(o for o in objectives if o not in (x, y))
        (ylabel, ys), (xlabel, xs), (clabel, cs) = (_axis(o, efficient) for o in (y, x, third))
        fig, ax = plt.subplots(figsize=(7, 5))
        if len(efficient):
            dots = ax.scatter(efficient[x] / xs, efficient[y] / ys, c=efficient[third] / cs,
                              cmap="viridis", s=45, zorder=3, label="frontier points")
            fig.colorbar(dots, ax=ax, label=clabel)
            for row in efficient.itertuples():
                ax.annotate(row.point, (getattr(row, x) / xs, getattr(row, y) / ys),
                            textcoords="offset points", xytext=(5, 5), fontsize=8)
            knee_row = efficient.iloc[k]
            ax.plot(knee_row[x] / xs, knee_row[y] / ys, "o", ms=14, mfc="none", color="#d95f02",
                    label=f"knee ({knee_row['point']})")
        for kind, marker, color, text in (("weighted_sum", "D", "#4d4d4d", "weighted-sum plan"),
                                          ("do_nothing", "X", "#b2182b", "do nothing")):
            rows = table[table["kind"] == kind]
            if not rows.empty and pd.notna(rows.iloc[0][x]):
                ax.plot(rows.iloc[0][x] / xs, rows.iloc[0][y] / ys, marker, ms=9, color=color, label=text)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{OBJECTIVES[y].label} against {OBJECTIVES[x].label}\n"
                     f"(projection of the {' / '.join(objectives)} frontier)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"{y}_{x}.png"
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        files.append(out / name)
    return files


def _axis(name: str, efficient: pd.DataFrame) -> tuple[str, float]:
    if name == "patient_km" and len(efficient) and efficient[name].max() >= 1e6:
        return "patient-km over the horizon (millions)", 1e6
    return AXES[name]


#: what a unit of each objective is called in the summary's prose
UNITS = {"cost": "£", "carbon": "tCO2e", "patient_km": "patient-km"}


def _value(name: str, x: float) -> str:
    return _money(x) if name == "cost" else f"{x:,.0f}"


def _with_unit(name: str, x: float) -> str:
    return _value(name, x) if name == "cost" else f"{_value(name, x)} {UNITS[name]}"


def _summary(out: Path, objectives: list[str], points: int, table: pd.DataFrame, efficient: pd.DataFrame,
             records: dict[str, dict[str, Any]], seconds: float) -> str:
    first, second, third = (OBJECTIVES[o] for o in objectives)
    cells = table[table["kind"] == "frontier"]
    counts = cells["status"].value_counts().to_dict()
    lines = [f"# Frontier: {first.label} against {second.label} and {third.label}", "",
             f"AUGMECON2 (augmented epsilon-constraint) with three objectives: minimise {first.label} "
             f"with {second.label} (inner) and {third.label} (outer) bounded on a {points} x {points} "
             f"grid, each between its best and its worst in the payoff table. Bypass on the inner "
             f"bound's slack, early exit along an inner line once a cell is infeasible. Cells: "
             + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
             + f" ({len(efficient)} distinct plans); {seconds / 60:.1f} min.", "",
             "## Payoff table (lexicographic optimisation)", "",
             "| minimised first (then) | " + " | ".join(OBJECTIVES[o].label for o in objectives) + " |",
             "|---|" + "---|" * len(objectives)]
    for k in range(3):
        rec = records.get(f"payoff-{k}")
        if rec:
            lines.append(f"| {rec['order'][0]} ({', '.join(rec['order'][1:])}) | "
                         + " | ".join(_value(o, rec["objectives"][o]) for o in objectives) + " |")
    if efficient.empty:
        return "\n".join(lines + ["", "No frontier point has a solution."]) + "\n"
    k = knee(efficient[objectives].to_numpy(float))
    lines += ["", f"## Points (in order of {first.label})", "",
              "| point | " + " | ".join(OBJECTIVES[o].label for o in objectives)
              + " | mean km | worst footprint (mean km) | gap | run |", "|---|" + "---|" * 7]
    for row in efficient.itertuples():
        flag = " (dominated by " + row.dominated_by + (", within the gaps)" if row.dominated_within_gap
                                                       else ")") if row.dominated_by else ""
        lines.append(f"| {row.point}{' (knee)' if row.Index == k else ''}{flag} | "
                     + " | ".join(_value(o, getattr(row, o)) for o in objectives)
                     + f" | {row.mean_km:.1f} | {row.worst_footprint} ({row.worst_footprint_mean_km:.1f}) | "
                     f"{(row.gap_abs or 0):,.0f} | {row.run_dir} |")
    for kind, text in (("weighted_sum", "the weighted-sum plan"), ("do_nothing", "doing nothing")):
        rows = table[table["kind"] == kind]
        if not rows.empty:
            lines.append(f"\nFor reference, {text}: "
                         + ", ".join(_with_unit(o, rows.iloc[0][o]) for o in objectives)
                         + ".")
    lines += ["", f"**Knee: {efficient.iloc[k]['point']}**, the point closest to the ideal (every "
              f"objective at its best along the frontier, each scaled to its range).", ""]
    lines += _axis_sections(out, objectives, axis_steps(table, objectives))
    configs = [final_config(out, run_dir) for run_dir in efficient["run_dir"]]
    fixed = unchanged_sites(configs)
    lines += ["", f"Sites with the same final-year wards at every point ({len(fixed)}): "
              + (", ".join(fixed) if fixed else "none") + ".", "",
              f"Gaps are in {first.label}'s units. A point another point dominates is marked, not "
              "dropped; where the margin is within the two points' gaps the difference is not "
              "distinguishable. frontier.csv holds every cell (bypassed cells name the plan they "
              "share; cells tighter than an infeasible one are infeasible without a solve)."]
    return "\n".join(lines) + "\n"


def _axis_sections(out: Path, objectives: list[str], steps: pd.DataFrame) -> list[str]:
    first = OBJECTIVES[objectives[0]]
    lines: list[str] = []
    for axis, held in ((objectives[1], objectives[2]), (objectives[2], objectives[1])):
        a, h = OBJECTIVES[axis], OBJECTIVES[held]
        lines += [f"## Along {a.label} ({h.label} bound held)", "",
                  f"Neighbouring cells whose plans differ, tightening the {a.label} bound: the "
                  f"extra {first.label} per {UNITS[axis]} saved, and what {h.label} does meanwhile.", ""]
        part = steps[steps["axis"] == axis] if not steps.empty else steps
        if part.empty:
            lines += ["No two neighbouring cells along this axis have different plans.", ""]
            continue
        unit, per = UNITS[objectives[0]], UNITS[axis]
        lines += [f"| step | extra {unit} | {per} saved | {unit} per {per} saved | "
                  f"{h.label} change | what changes (final-year wards) | |", "|---|---|---|---|---|---|---|"]
        for p in part.itertuples():
            note = "step within the solvers' gaps" if abs(p.extra) <= p.gaps else ""
            change = ward_changes(final_config(out, p.run_dirs[0]), final_config(out, p.run_dirs[1]))
            lines.append(f"| {p.from_point} → {p.to_point} | {_value(objectives[0], p.extra)} | "
                         f"{p.saved:,.0f} | {_price(p.price, 2 if axis == 'patient_km' else 0)} | "
                         f"{p.held_change:+,.0f} | {change} | {note} |")
        lines.append("")
    return lines
