"""A frontier's report: ``frontier.csv`` (every grid point, the weighted-sum plan and doing
nothing), the two plots, and ``summary.md`` (the knee, implied prices between neighbouring
points, the decisions that change along the frontier and those that never do)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.outputs import write_csv
from model.tradeoffs.augmecon import dominated_by, grid_label, knee
from model.tradeoffs.files import FRONTIER, conform
from model.tradeoffs.objectives import OBJECTIVES

log = logging.getLogger(__name__)
FRONTIER_CSV = FRONTIER.file
SOLVED = ("optimal", "feasible", "bypassed")
KPI_COLUMNS = ("mean_km", "in_hub_share", "unmet_beds", "worst_footprint", "worst_footprint_mean_km",
               "gini_mean_km", "share_over_far_km")


# rows that are points of the frontier: grid points, and the supported points of `--supported`
FRONTIER_KINDS = ("frontier", "supported")


def reference_rows(records: dict[str, dict[str, Any]], primary: str) -> list[dict[str, Any]]:
    """The weighted-sum plan's row and doing nothing's (solved with it), when solved."""
    weighted = records.get("weighted")
    if weighted is None:
        return []
    rows = [_row("weighted_sum", "weighted", weighted, None, primary)]
    if weighted.get("do_nothing"):
        rows.append(_row("do_nothing", "do_nothing", {**weighted["do_nothing"], "run_dir":
                                                      weighted.get("run_dir")}, None, primary))
    return rows


def frontier_table(objectives: list[str], points: int, records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per grid point (loosest first), then the weighted-sum plan and doing nothing."""
    rows = []
    for i in range(points):
        rec = records.get(grid_label(i), {"status": "pending", "reason": "not solved yet"})
        rows.append(_row("frontier", grid_label(i), rec, i, objectives[0]))
    # the weighted-sum solves of `--supported`: efficient points too (within their gaps)
    rows += [_row("supported", label, records[label], None, objectives[0])
             for label in sorted(records) if label.startswith("supported-")]
    rows += reference_rows(records, objectives[0])
    table = pd.DataFrame(rows)
    if "worst_km" in objectives:
        # the Dinkelbach iteration's proven lower bound of each point's worst km (at its cost)
        table["worst_km_bound"] = [((records.get(label) or {}).get("minimax") or {}).get("bound")
                                   if kind == "frontier" else None
                                   for kind, label in zip(table["kind"], table["label"], strict=True)]
    _mark_points(table, objectives)
    return table


def primary_gap(rec: dict[str, Any], primary: str) -> tuple[float | None, float | None]:
    """A point's proven gap in the primary objective's units (absolute, relative). A payoff
    row's last solve minimised the other objective when the primary came first: its primary
    gap is the first stage's."""
    if rec.get("order") and rec.get("stages") and primary in rec["order"]:
        # three objectives: the stage that minimised the primary (the last is the record's own)
        k = rec["order"].index(primary)
        if k < len(rec["stages"]):
            return rec["stages"][k].get("gap_abs"), rec["stages"][k].get("gap_rel")
        return rec.get("gap_abs"), rec.get("gap_rel")
    if rec.get("order") and rec["order"][0] == primary and rec.get("first_stage"):
        return rec["first_stage"].get("gap_abs"), rec["first_stage"].get("gap_rel")
    return rec.get("gap_abs"), rec.get("gap_rel")


def _row(kind: str, label: str, rec: dict[str, Any], index: int | None, primary: str) -> dict[str, Any]:
    objectives = rec.get("objectives") or {}
    gap_abs, gap_rel = primary_gap(rec, primary)
    kpis = rec.get("kpis") or {}
    row: dict[str, Any] = {"kind": kind, "label": label, "index": index, "e": rec.get("e"),
                           "status": rec.get("status"), "same_as": rec.get("same_as", ""),
                           "plan_from": rec.get("plan_from", ""), "reason": rec.get("reason", "")}
    row.update({f"{k}": objectives.get(k) for k in OBJECTIVES})
    row.update({"gap_abs": gap_abs, "gap_rel": gap_rel, "slack": rec.get("slack")})
    row.update({k: kpis.get(k) for k in KPI_COLUMNS})
    row["run_dir"] = rec.get("run_dir")
    return row


def _mark_points(table: pd.DataFrame, objectives: list[str]) -> None:
    """Number the distinct frontier plans P1.. (best first in the primary objective), and mark
    each point another frontier point dominates, and whether that could be the gaps alone."""
    table["point"] = ""
    table["dominated_by"] = ""
    table["dominated_within_gap"] = False
    on_frontier = table["kind"].isin(FRONTIER_KINDS)
    # a plan found by several solves is shown with the least of their gaps (the strongest proof
    # about it: a grid point's solve and a weighted sum's bound it differently)
    solved = _least_gap_first(table[on_frontier & table["status"].isin(SOLVED)])
    if solved.empty:
        return
    # one name per distinct plan: the same objective values (to 9 significant digits) found by
    # two solves (a grid point and a payoff row) are one point of the frontier
    keys = solved[objectives].apply(lambda r: tuple(float(f"{x:.9g}") for x in r), axis=1)
    names: dict[tuple, str] = {}
    for key in keys.loc[solved.sort_values(objectives[0]).index]:
        names.setdefault(key, f"P{len(names) + 1}")
    table.loc[solved.index, "point"] = keys.map(names)
    distinct = solved.loc[keys.drop_duplicates().index]
    name_of_run = dict(zip(distinct["run_dir"], table.loc[distinct.index, "point"], strict=True))
    values = distinct[objectives].to_numpy(float)
    gaps = distinct["gap_abs"].fillna(0.0).to_numpy(float)
    for row, by in zip(distinct.itertuples(), dominated_by(values), strict=True):
        if not by:
            continue
        mine = table["point"] == name_of_run[row.run_dir]
        table.loc[mine & on_frontier, "dominated_by"] = " ".join(
            name_of_run[distinct.iloc[j]["run_dir"]] for j in by)
        i = distinct.index.get_loc(row.Index)
        margin = min(values[i, 0] - values[j, 0] for j in by)
        table.loc[mine & on_frontier, "dominated_within_gap"] = bool(
            any(margin <= gaps[i] + gaps[j] + 1e-9 for j in by))


def _least_gap_first(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(_gap=rows["gap_abs"].fillna(np.inf)).sort_values("_gap", kind="stable").drop(
        columns="_gap")


def efficient_points(table: pd.DataFrame, objectives: list[str]) -> pd.DataFrame:
    """The distinct frontier plans, cheapest in the primary objective first (each from its solve
    with the least gap)."""
    solved = _least_gap_first(table[table["kind"].isin(FRONTIER_KINDS) & table["status"].isin(SOLVED)])
    return solved.drop_duplicates("point").sort_values(objectives[0]).reset_index(drop=True)


def implied_prices(points: pd.DataFrame) -> pd.DataFrame:
    """Between neighbouring points (in the primary objective's order): extra cost per tCO2e
    avoided and per patient-km saved, and whether the cost step is within the two gaps."""
    rows = []
    for a, b in zip(points.iloc[:-1].itertuples(), points.iloc[1:].itertuples(), strict=True):
        d_cost = b.cost - a.cost
        d_carbon = a.carbon - b.carbon
        d_km = a.patient_km - b.patient_km
        rows.append({"from_point": a.point, "to_point": b.point, "extra_cost_gbp": d_cost,
                     "carbon_avoided_t": d_carbon, "patient_km_saved": d_km,
                     # a price only where the step buys a saving (along a cost-carbon frontier
                     # distance may grow: that is a cost, not a price, and shows as km saved < 0)
                     "gbp_per_t_avoided": d_cost / d_carbon if d_carbon > 1e-9 else np.nan,
                     "gbp_per_patient_km_saved": d_cost / d_km if d_km > 1e-9 else np.nan,
                     "gaps_gbp": (a.gap_abs or 0.0) + (b.gap_abs or 0.0)})
        if "worst_km" in points.columns:
            d_worst = a.worst_km - b.worst_km
            rows[-1].update(worst_km_reduced=d_worst,
                            gbp_per_worst_km=d_cost / d_worst if d_worst > 1e-9 else np.nan)
    return pd.DataFrame(rows)


def final_config(out: Path, run_dir: str) -> dict[tuple[str, str], int]:
    """Final-year wards per (site, service) of a point's run folder."""
    wards = pd.read_csv(out / run_dir / "wards.csv")
    last = wards[wards["year"] == wards["year"].max()]
    return {(s, v): int(n) for s, v, n in zip(last["site"], last["service"], last["wards"], strict=True)}


def ward_changes(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> str:
    diff = [f"{s} {v} {before.get((s, v), 0)}→{after.get((s, v), 0)}"
            for (s, v) in sorted(set(after) | set(before)) if after.get((s, v), 0) != before.get((s, v), 0)]
    return "; ".join(diff) if diff else "same final-year wards (placements differ)"


def unchanged_sites(configs: list[dict[tuple[str, str], int]]) -> list[str]:
    """Sites whose final-year wards are the same in every configuration."""
    sites = sorted({s for c in configs for (s, _v) in c})
    return [s for s in sites if len({tuple(sorted((v, n) for (ss, v), n in c.items() if ss == s))
                                     for c in configs}) == 1]


def decision_changes(out: Path, points: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Final-year wards per site and service that change between neighbouring points, and the
    sites whose final-year configuration is the same at every point."""
    configs = [final_config(out, run_dir) for run_dir in points["run_dir"]]
    changes = [f"{points.iloc[k - 1]['point']} → {points.iloc[k]['point']}: "
               + ward_changes(configs[k - 1], configs[k]) for k in range(1, len(configs))]
    return changes, unchanged_sites(configs)


def write_frontier_report(out: Path, objectives: list[str], points: int,
                          records: dict[str, dict[str, Any]], seconds: float) -> list[Path]:
    table = frontier_table(objectives, points, records)
    write_csv(conform(FRONTIER, table), out / FRONTIER_CSV)
    written = [out / FRONTIER_CSV]
    efficient = efficient_points(table, objectives)
    written += _plots(out, table, efficient, objectives)
    summary = _summary(out, objectives, points, table, efficient, records, seconds)
    (out / "summary.md").write_text(summary, encoding="utf-8")
    return written + [out / "summary.md"]


def _plots(out: Path, table: pd.DataFrame, efficient: pd.DataFrame, objectives: list[str]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    k = knee(efficient[objectives].to_numpy(float)) if len(efficient) else None
    planes = [("carbon", "carbon over the horizon (ktCO2e)", 1e3, "cost_carbon.png"),
              ("patient_km", "patient-km over the horizon (millions)", 1e6, "cost_patient_km.png")]
    if "worst_km" in objectives:
        planes.append(("worst_km", "worst footprint's mean km", 1.0, "cost_worst_km.png"))
    for other, label, scale, name in planes:
        if other == "patient_km" and len(efficient) and efficient[other].max() < 1e6:
            label, scale = "patient-km over the horizon (thousands)", 1e3
        fig, ax = plt.subplots(figsize=(7, 5))
        if len(efficient):
            # joined only in the frontier's own plane: elsewhere the points need not be ordered
            on_frontier = set(objectives) == {"cost", other}
            ax.plot(efficient[other] / scale, efficient["cost"] / 1e6, "o-" if on_frontier else "o",
                    color="#1b6ca8", label="frontier points" if on_frontier else
                    f"points of the {' / '.join(objectives)} frontier")
            # each point's proven gap: its true optimum lies between the plan and the bound below
            gaps = efficient["gap_abs"].fillna(0.0).clip(lower=0.0) / 1e6
            if (gaps > 0).any():
                ax.errorbar(efficient[other] / scale, efficient["cost"] / 1e6,
                            yerr=[gaps, 0.0 * gaps], fmt="none", ecolor="#1b6ca8", alpha=0.5,
                            capsize=3, label="proven gap (bound to plan)")
            for row in efficient.itertuples():
                ax.annotate(row.point, (getattr(row, other) / scale, row.cost / 1e6),
                            textcoords="offset points", xytext=(5, 5), fontsize=8)
            knee_row = efficient.iloc[k]
            ax.plot(knee_row[other] / scale, knee_row["cost"] / 1e6, "o", ms=14, mfc="none",
                    color="#d95f02", label=f"knee ({knee_row['point']})")
        for kind, marker, color, text in (("weighted_sum", "D", "#4d4d4d", "weighted-sum plan"),
                                          ("do_nothing", "X", "#b2182b", "do nothing")):
            rows = table[table["kind"] == kind]
            if not rows.empty and pd.notna(rows.iloc[0]["cost"]):
                ax.plot(rows.iloc[0][other] / scale, rows.iloc[0]["cost"] / 1e6, marker, ms=9,
                        color=color, label=text)
        ax.set_xlabel(label)
        ax.set_ylabel("cost, discounted (£m)")
        ax.set_title("Cost against " + {"carbon": "carbon", "patient_km": "distance from home"}.get(
            other, "the worst footprint's distance from home"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        files.append(out / name)
    return files


def _price(x: float, digits: int) -> str:
    return "–" if pd.isna(x) else f"{x:,.{digits}f}"


def _money(x: float) -> str:
    return f"£{x / 1e6:,.2f}m"


def _amount(x: float, objective: Any) -> str:
    return _money(x) if objective.unit == "GBP" else f"{x:,.0f} {objective.unit}"


def _summary(out: Path, objectives: list[str], points: int, table: pd.DataFrame,
             efficient: pd.DataFrame, records: dict[str, dict[str, Any]], seconds: float) -> str:
    first, second = (OBJECTIVES[o] for o in objectives)
    frontier = table[table["kind"] == "frontier"]
    counts = frontier["status"].value_counts().to_dict()
    lines = [f"# Frontier: {first.label} against {second.label}", "",
             f"AUGMECON2 (augmented epsilon-constraint): minimise {first.label} with "
             f"{second.label} bounded on a grid of {points} values between its best and worst "
             f"in the payoff table. Grid points: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
             + f" ({len(efficient)} distinct plans); {seconds / 60:.1f} min.", ""]
    supported = table[table["kind"] == "supported"]
    if not supported.empty:
        lines += [f"Supported points (`--supported`: weighted sums of the two objectives, each at "
                  f"the price between two neighbouring points, a corner of the frontier where "
                  f"proven): {len(supported)}, "
                  + ", ".join(f"{v} {k}" for k, v in sorted(supported['status'].value_counts().items()))
                  + ". They are points of the frontier like the grid's, with their own gaps.", ""]
    if "worst_km" in objectives:
        lines += ["The worst footprint's mean km is a ratio (its km over its patients, both "
                  "decided by the plan): each point minimises cost under the bound (exact linear "
                  "rows), then the worst mean at that cost by a Dinkelbach iteration, in place of "
                  "AUGMECON2's augmentation; `worst_km_bound` in frontier.csv is each point's "
                  "proven lower bound of it.", ""]
    lines += ["## Payoff table (lexicographic optimisation)", "",
              "| minimised first | " + " | ".join(OBJECTIVES[o].label for o in objectives) + " |",
              "|---|" + "---|" * len(objectives)]
    for label in ("payoff-0", "payoff-1"):
        rec = records.get(label)
        if rec:
            lines.append(f"| {rec['order'][0]} | " + " | ".join(
                f"{rec['objectives'][o]:,.1f}" for o in objectives) + " |")
    if efficient.empty:
        return "\n".join(lines + ["", "No frontier point has a solution."]) + "\n"
    k = knee(efficient[objectives].to_numpy(float))
    lines += ["", "## Points", "",
              "| point | cost | carbon (tCO2e) | patient-km | mean km | worst footprint (mean km) | "
              "gap | run |", "|---|---|---|---|---|---|---|---|"]
    for row in efficient.itertuples():
        flag = " (dominated by " + row.dominated_by + (", within the gaps)" if row.dominated_within_gap
                                                       else ")") if row.dominated_by else ""
        lines.append(f"| {row.point}{' (knee)' if row.Index == k else ''}{flag} | {_money(row.cost)} | "
                     f"{row.carbon:,.0f} | {row.patient_km:,.0f} | {row.mean_km:.1f} | "
                     f"{row.worst_footprint} ({row.worst_footprint_mean_km:.1f}) | "
                     f"{_amount(row.gap_abs or 0, first)} | {row.run_dir} |")
    adopted = [r for _label, r in sorted(records.items()) if r.get("plan_from") and r.get("own_plan")]
    if adopted:
        taken = "; ".join(f"{r['label']} takes {r['plan_from']}'s plan "
                          f"({_amount(r['objectives'][first.name], first)}; its own solve stopped at "
                          f"{_amount(r['own_plan']['objectives'][first.name], first)})" for r in adopted)
        lines.append("\nA point takes a cheaper plan found after it was solved that meets its bound "
                     f"(its own proven bound kept, so its gap shrinks): {taken}.")
    weighted = records.get("weighted") or {}
    if weighted and not weighted.get("do_nothing"):
        lines.append("\nDoing nothing has no solution here (today's estate cannot place every "
                     "patient under the rules that stay on): it is not on the plots.")
    for kind, text in (("weighted_sum", "the weighted-sum plan"), ("do_nothing", "doing nothing")):
        rows = table[table["kind"] == kind]
        if not rows.empty:
            r = rows.iloc[0]
            lines.append(f"\nFor reference, {text}: {_money(r['cost'])}, {r['carbon']:,.0f} tCO2e, "
                         f"{r['patient_km']:,.0f} patient-km.")
    knee_row = efficient.iloc[k]
    lines += ["", f"**Knee: {knee_row['point']}**, the point closest to the ideal (every objective "
              f"at its best along the frontier, each scaled to its range).", ""]
    prices = implied_prices(efficient)
    if not prices.empty and "worst_km" in objectives:
        lines += ["## Implied prices between neighbouring points", "",
                  "| step | extra cost | worst footprint's mean km reduced | £ per km off the worst "
                  "footprint's mean | |", "|---|---|---|---|---|"]
        for p in prices.itertuples():
            note = "cost step within the solvers' gaps" if abs(p.extra_cost_gbp) <= p.gaps_gbp else ""
            lines.append(f"| {p.from_point} → {p.to_point} | {_money(p.extra_cost_gbp)} | "
                         f"{p.worst_km_reduced:,.2f} | {_price(p.gbp_per_worst_km, 0)} | {note} |")
    elif not prices.empty:
        lines += ["## Implied prices between neighbouring points", "",
                  "| step | extra cost | tCO2e avoided | £ per tCO2e avoided | patient-km saved | "
                  "£ per patient-km saved | |", "|---|---|---|---|---|---|---|"]
        for p in prices.itertuples():
            note = "cost step within the solvers' gaps" if abs(p.extra_cost_gbp) <= p.gaps_gbp else ""
            lines.append(f"| {p.from_point} → {p.to_point} | {_money(p.extra_cost_gbp)} | "
                         f"{p.carbon_avoided_t:,.0f} | {_price(p.gbp_per_t_avoided, 0)} | "
                         f"{p.patient_km_saved:,.0f} | {_price(p.gbp_per_patient_km_saved, 2)} | {note} |")
    changes, fixed = decision_changes(out, efficient)
    lines += ["", "## What changes along the frontier (final-year wards)", ""]
    lines += [f"- {c}" for c in changes] or ["- one plan only"]
    lines += ["", f"Sites with the same final-year wards at every point ({len(fixed)}): "
              + (", ".join(fixed) if fixed else "none") + ".", "",
              "Gaps are in the primary objective's units (the augmented objective's proven gap). "
              "A point another point dominates is marked, not dropped; where the margin is within "
              "the two points' gaps the difference is not distinguishable. frontier.csv holds "
              "every grid point (bypassed points name the plan they share)."]
    return "\n".join(lines) + "\n"
