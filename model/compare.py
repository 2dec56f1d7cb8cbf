"""Comparing two run folders (`bedplan compare RUN_A RUN_B`): objective terms, KPIs for England,
each hub and each footprint (final year and all years), and the site decisions that differ.

Each run's objective is proven only within its gap, so a difference in the objective or one of
its (discounted) terms smaller than the two gaps together is marked as within the gaps (not
distinguishable). The gaps bound the objective, not the KPIs (undiscounted cost, carbon,
patient-km): those differences are shown as they are, and when the objectives are
indistinguishable the two plans may simply be alternative optima.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import Problem, ScenarioError
from model.outputs import ATTRIBUTION, write_atomic, write_csv

log = logging.getLogger(__name__)

KPI_MEASURES = {"cost_gbp": "GBP", "carbon_t": "tCO2e", "patient_km": "km", "mean_km": "km",
                "in_hub_share": "share", "unmet_beds": "beds", "delayed_discharges": "patients"}
DECISION_COLUMNS = ("action", "wards_built", "wards_converted_out", "wards_converted_in", "wards_removed")


@dataclass
class Run:
    folder: Path
    manifest: dict[str, Any]
    kpis: pd.DataFrame
    decisions: pd.DataFrame

    @property
    def label(self) -> str:
        return f"{self.manifest.get('scenario', '?')}/{self.manifest.get('run_id', self.folder.name)}"

    @property
    def gap(self) -> float:
        return float(self.manifest.get("gap_abs_gbp") or 0.0)


def read_run(folder: Path) -> Run:
    """A finished run folder (its manifest, KPIs and decisions), or a ScenarioError saying why not."""
    manifest_path = folder / "manifest.json"
    needed = ("manifest.json", "kpis.csv", "decisions.csv")
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise ScenarioError([Problem(str(folder), None, None, None,
                                     f"not a finished run folder (no {', '.join(missing)})")])
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    kpis = pd.read_csv(folder / "kpis.csv", dtype={"year": str, "id": str})
    decisions = pd.read_csv(folder / "decisions.csv")
    return Run(folder, manifest, kpis[kpis["case"] == "optimised"], decisions)


def check_comparable(a: Run, b: Run, shared_only: bool) -> list[str]:
    """What the runs do not share (years, footprints); an error unless `shared_only`."""
    notes = []
    years_a, years_b = set(a.manifest.get("years", [])), set(b.manifest.get("years", []))
    fps_a = set(a.kpis.loc[a.kpis["scope"] == "footprint", "id"])
    fps_b = set(b.kpis.loc[b.kpis["scope"] == "footprint", "id"])
    if years_a != years_b:
        notes.append(f"years differ: {sorted(years_a)} and {sorted(years_b)}")
    if fps_a != fps_b:
        notes.append(f"footprints differ: {len(fps_a - fps_b)} only in {a.label}, "
                     f"{len(fps_b - fps_a)} only in {b.label}")
    if notes and not shared_only:
        raise ScenarioError([Problem("command line", None, None, None,
                                     "; ".join(notes) + ": the runs are of different scenario shapes. "
                                     "Use --shared-only to compare what they share")])
    return notes


def compare_runs(a: Run, b: Run, shared_only: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """The long table of differences (B - A) and the notes on what was left out."""
    notes = check_comparable(a, b, shared_only)
    gaps = a.gap + b.gap
    rows = []
    terms_a, terms_b = a.manifest.get("objective_terms", {}), b.manifest.get("objective_terms", {})
    for term in sorted(set(terms_a) | set(terms_b)):
        rows.append(_row("objective", "england", "England", "all", term, "GBP", terms_a.get(term, 0.0),
                         terms_b.get(term, 0.0), gaps))
    rows.append(_row("objective", "england", "England", "all", "objective", "GBP",
                     sum(terms_a.values()), sum(terms_b.values()), gaps))
    last = str(max(set(a.manifest.get("years", [])) & set(b.manifest.get("years", []))))
    keys = ["scope", "id", "year"]
    merged = a.kpis.merge(b.kpis, on=keys, suffixes=("_a", "_b"))
    merged = merged[merged["year"].isin(["all", last])]
    for r in merged.itertuples(index=False):
        for measure, unit in KPI_MEASURES.items():
            # the gaps bound the discounted objective, not these (undiscounted) figures
            rows.append(_row("kpi", r.scope, r.id, r.year, measure, unit, getattr(r, f"{measure}_a"),
                             getattr(r, f"{measure}_b"), None))
    table = pd.DataFrame(rows)
    return table, notes


def _row(kind: str, scope: str, key: str, year: str, measure: str, unit: str, a: float, b: float,
         gaps: float | None) -> dict[str, Any]:
    diff = float(b) - float(a)
    within = None if gaps is None else abs(diff) <= gaps
    return {"kind": kind, "scope": scope, "id": key, "year": year, "measure": measure, "unit": unit,
            "run_a": float(a), "run_b": float(b), "difference": diff, "gaps_gbp": gaps,
            "within_gaps": within}


def decision_differences(a: Run, b: Run) -> pd.DataFrame:
    """Site and year rows whose action or ward changes differ (a site in one run only included)."""
    keys = ["site", "year"]
    cols = [c for c in DECISION_COLUMNS if c in a.decisions.columns and c in b.decisions.columns]
    left = a.decisions[["site", "name", "hub", "year", *cols]]
    right = b.decisions[["site", "name", "hub", "year", *cols]]
    merged = left.merge(right, on=keys, how="outer", suffixes=("_a", "_b"))
    merged["name"] = merged["name_a"].fillna(merged["name_b"])
    merged["hub"] = merged["hub_a"].fillna(merged["hub_b"])
    differs = pd.Series(False, index=merged.index)
    for c in cols:
        fill = "not in plan" if c == "action" else 0
        differs |= merged[f"{c}_a"].fillna(fill) != merged[f"{c}_b"].fillna(fill)
    out = merged[differs].copy()
    out["action_a"] = out["action_a"].fillna("not in plan")
    out["action_b"] = out["action_b"].fillna("not in plan")
    return out[["site", "name", "hub", "year", *[f"{c}_{x}" for c in cols for x in ("a", "b")]]] \
        .sort_values(keys).reset_index(drop=True)


def render_markdown(a: Run, b: Run, table: pd.DataFrame, changed: pd.DataFrame, notes: list[str]) -> str:
    objective = table[(table["kind"] == "objective") & (table["measure"] == "objective")].iloc[0]
    lines = [f"# {a.label} compared with {b.label}", "",
             f"A: `{a.folder}` ({a.manifest.get('status')}, proven gap £{a.gap:,.0f}); "
             f"B: `{b.folder}` ({b.manifest.get('status')}, proven gap £{b.gap:,.0f}). "
             "Differences are B - A.", ""]
    lines += [f"- {note} (only what both share is compared)" for note in notes]
    diff = objective["difference"]
    if objective["within_gaps"]:
        lines += [f"**Objective: not distinguishable** (B - A = £{diff:,.0f}, within the two gaps of "
                  f"£{objective['gaps_gbp']:,.0f}): the decisions that differ may be equally good "
                  "alternatives.", ""]
    else:
        lines += [f"**Objective: B - A = £{diff:,.0f}** (discounted, beyond the two gaps of "
                  f"£{objective['gaps_gbp']:,.0f}).", ""]
    lines += ["## Objective terms (discounted GBP)", "", "| term | A | B | B - A | within gaps |",
              "|---|---:|---:|---:|---|"]
    for r in table[table["kind"] == "objective"].itertuples(index=False):
        lines.append(f"| {r.measure} | {r.run_a:,.0f} | {r.run_b:,.0f} | {r.difference:+,.0f} | "
                     f"{'yes' if r.within_gaps else 'no'} |")
    lines += ["", "## England and hubs (all years, and the final year)", "",
              "| scope | id | year | measure | A | B | B - A |", "|---|---|---|---|---:|---:|---:|"]
    moved = table["difference"].abs() > 1e-6
    kpi = table[(table["kind"] == "kpi") & (table["scope"] != "footprint") & moved]
    for r in kpi.itertuples(index=False):
        lines.append(f"| {r.scope} | {r.id} | {r.year} | {r.measure} | {r.run_a:,.2f} | {r.run_b:,.2f} | "
                     f"{r.difference:+,.2f} |")
    fp = table[(table["kind"] == "kpi") & (table["scope"] == "footprint") & moved]
    lines += ["", f"Footprints: {fp['id'].nunique()} with a different KPI (every row in compare.csv).", "",
              "## Site decisions that differ", ""]
    if changed.empty:
        lines.append("None: the two plans make the same decisions at every site in every year.")
    else:
        lines += ["| site | name | hub | year | action A | action B |", "|---|---|---|---|---|---|"]
        for r in changed.itertuples(index=False):
            lines.append(f"| {r.site} | {r.name} | {r.hub} | {r.year} | {r.action_a} | {r.action_b} |")
    lines += ["", "The proven gaps bound the discounted objective (and are compared with its terms) "
              "only: the KPIs (undiscounted cost, carbon, patient-km and the rest) are shown as the two "
              "plans have them.", ""]
    return "\n".join(lines)


def draw_map(a: Run, b: Run, changed: pd.DataFrame, path: Path) -> bool:
    """compare_map.png: footprints of run A and the sites whose decisions differ (False if run A
    has no GeoPackage to draw from)."""
    gpkg = a.folder / "configuration.gpkg"
    if not gpkg.exists():
        return False
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pyogrio

    layers = {str(name) for name, _kind in pyogrio.list_layers(gpkg)}
    if "sites" not in layers:
        return False
    sites = gpd.read_file(gpkg, layer="sites")
    fig, ax = plt.subplots(figsize=(7, 8))
    if "footprints" in layers:  # a scenario without polygons has sites only
        gpd.read_file(gpkg, layer="footprints").plot(ax=ax, color="#eeeeee", edgecolor="#999999",
                                                      linewidth=0.4)
    sites.plot(ax=ax, color="#bbbbbb", markersize=8)
    differing = sites[sites["site"].isin(set(changed["site"]))]
    if not differing.empty:
        differing.plot(ax=ax, color="#d7301f", markersize=40, edgecolor="black", linewidth=0.5)
        for point, name in zip(differing.geometry, differing["site"], strict=True):
            ax.annotate(str(name), (point.x, point.y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_title(f"Sites whose decisions differ ({len(differing)})\nA: {a.label}   B: {b.label}", fontsize=9)
    ax.set_axis_off()
    fig.text(0.01, 0.01, ATTRIBUTION, fontsize=5, color="#555555")
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return True


def write_comparison(a_folder: Path, b_folder: Path, out: Path, shared_only: bool = False) -> list[Path]:
    """compare.md, compare.csv, compare_decisions.csv and compare_map.png in `out` (made if
    needed; files of an earlier comparison there are replaced, nothing else is touched)."""
    a, b = read_run(a_folder), read_run(b_folder)
    table, notes = compare_runs(a, b, shared_only)
    changed = decision_differences(a, b)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "compare.csv", out / "compare_decisions.csv", out / "compare.md"]
    write_csv(table, written[0])
    write_csv(changed, written[1])
    write_atomic(written[2], render_markdown(a, b, table, changed, notes).encode("utf-8"))
    if draw_map(a, b, changed, out / "compare_map.png"):
        written.append(out / "compare_map.png")
    return written
