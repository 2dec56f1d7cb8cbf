"""A sweep's morning read: `summary.md` with robustness per site, a map, a tornado chart
(one-at-a-time designs) and cost / carbon / travel scatter plots."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from model.outputs import ATTRIBUTION  # noqa: F401 - the sweep tests take it from here
from model.sweep import charts
from model.sweep.store import DECISIONS_FILE, SOLVED, Sweep, SweepRun
from model.sweep.variants_table import variant_table_lines
from model.workbook import write_sweep_workbook

log = logging.getLogger(__name__)

SUMMARY_FILE = "summary.md"
ROBUSTNESS_FILE = "robustness.csv"
MAP_FILE = "robustness_map.png"
TORNADO_FILE = "tornado.png"
SCATTER_FILE = "tradeoffs.png"
#: how the share of variants counts a site: an action in any year (kept: no change in any year)
SHARE_ACTIONS = ("kept", "reduced", "decommissioned", "commissioned", "reconfigured", "expanded")
_ACTION_OF = {"reduce": "reduced", "decommission": "decommissioned", "commission": "commissioned",
              "reconfigure": "reconfigured", "expand": "expanded"}
#: a site's verdict is robust when its most common outcome holds in at least this share
ROBUST = 0.9
METRICS = (("objective", "objective (discounted £m)", 1e-6), ("cost_gbp", "cost (£m)", 1e-6),
           ("carbon_t", "carbon (ktCO2e)", 1e-3), ("patient_km", "patient-km (thousand)", 1e-3))


def robustness(decisions: pd.DataFrame, results: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Per site: the share of solved variants in which it is kept (no change in any year),
    reduced, decommissioned, commissioned, reconfigured, expanded (in at least one year)."""
    solved = results.loc[results["status"].isin(SOLVED), "variant"].tolist()
    n = len(solved)
    base = sites[["site", "name", "status"]].copy()
    base["hub"] = sites["hub"] if "hub" in sites.columns else ""
    if n == 0:
        for col in SHARE_ACTIONS:
            base[col] = float("nan")
        base["verdict"] = "no solved variant"
        return base
    dec = decisions[decisions["variant"].isin(solved)]
    flags = pd.DataFrame({"variant": dec["variant"], "site": dec["site"]})
    for action, label in _ACTION_OF.items():
        flags[label] = dec["action"].eq(action).to_numpy()
    flags["changed"] = dec["action"].ne("keep").to_numpy()
    per = flags.groupby(["variant", "site"]).any().reset_index()
    per["kept"] = ~per["changed"]
    shares = per.groupby("site")[list(SHARE_ACTIONS)].sum() / n
    out = base.merge(shares, left_on="site", right_index=True, how="left")
    # a site with no decision rows in a variant: an existing unit is kept as is there only if it
    # appears (it always does while open); a candidate not used is simply not commissioned
    out[list(SHARE_ACTIONS)] = out[list(SHARE_ACTIONS)].fillna(0.0)
    out["verdict"] = [_verdict(row) for _, row in out.iterrows()]
    return out


def _verdict(row: pd.Series) -> str:
    if row["status"] == "candidate":
        share = row["commissioned"]
        if share >= ROBUST:
            return "commission (robust)"
        if share <= 1 - ROBUST:
            return "not needed (robust)"
        return f"commission in {share:.0%}"
    dec = row["decommissioned"]
    if dec >= ROBUST:
        return "decommission (robust)"
    if row["kept"] >= ROBUST:
        return "keep as is (robust)"
    if dec <= 1 - ROBUST:
        changes = {a: row[a] for a in ("reduced", "reconfigured", "expanded")}
        top = max(changes, key=changes.get)
        if changes[top] >= ROBUST:
            return f"stays open, {top} (robust)"
        return "stays open (robust)" if changes[top] > 0 else "keep as is (robust)"
    return f"decommission in {dec:.0%}"


def write_report(sweep: Sweep, out: Path, results: pd.DataFrame, run: SweepRun | None = None) -> Path:
    """Write summary.md, robustness.csv and the charts into the sweep folder `out`."""
    decisions = pd.read_parquet(out / DECISIONS_FILE)
    sites = _sites(sweep)
    robust = robustness(decisions, results, sites)
    robust.to_csv(out / ROBUSTNESS_FILE, index=False, float_format="%.4g")
    solved = results[results["status"].isin(SOLVED)]
    charts: dict[str, str] = {}
    for name, make in ((MAP_FILE, lambda p: robustness_map(sweep, robust, p)),
                       (TORNADO_FILE, lambda p: tornado(sweep, results, p)),
                       (SCATTER_FILE, lambda p: tradeoffs(sweep, solved, p))):
        try:
            if make(out / name):
                charts[name] = name
        except Exception:  # a chart must never lose the night's results
            log.exception("could not draw %s", name)
    text = render_summary(sweep, results, robust, charts, run)
    (out / SUMMARY_FILE).write_text(text, encoding="utf-8")
    write_sweep_workbook(out, _workbook_facts(sweep, results), results, robust)
    return out / SUMMARY_FILE


def _workbook_facts(sweep: Sweep, results: pd.DataFrame) -> list[tuple[str, object]]:
    spec = sweep.spec
    counts = results["status"].value_counts().to_dict()
    return [("sweep", sweep.name), ("base scenario", str(spec.base)), ("design", spec.design),
            ("variants", len(results)),
            ("status", ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))),
            ("per-variant time limit (s)", spec.solver.time_limit),
            ("per-variant MIP gap", spec.solver.mip_gap)]


def _sites(sweep: Sweep) -> pd.DataFrame:
    data = sweep.scenario
    sites = data.tables["sites"].copy()
    hub_of = data.tables["footprints"].set_index("footprint")["hub"]
    sites["hub"] = sites["footprint"].map(hub_of)
    return sites


def _fmt(x: Any, digits: int = 1, scale: float = 1.0) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return ""
    return f"{float(x) * scale:,.{digits}f}"


def _cell(value: Any) -> str:
    return str(value).replace("|", "/").replace("\n", " ")


def render_summary(sweep: Sweep, results: pd.DataFrame, robust: pd.DataFrame, charts: dict[str, str],
                   run: SweepRun | None) -> str:
    spec = sweep.spec
    counts = results["status"].value_counts().to_dict()
    solved = results[results["status"].isin(SOLVED)]
    lines = [
        f"# Sweep `{sweep.name}`",
        "",
        spec.description.strip() or "",
        "",
        f"Base scenario `{sweep.scenario.config.name}` ({spec.base}); design **{spec.design}**, "
        f"{len(results)} variants; per variant: time limit {spec.solver.time_limit:g}s, MIP gap "
        f"{spec.solver.mip_gap:g}, {spec.solver.threads} solver thread(s).",
        "",
        "Status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".",
    ]
    if run is not None:
        lines.append(f"This run solved {len(run.solved)} variant(s) ({len(run.failed)} without a "
                     f"solution) and reused {len(run.skipped)} already done, in {run.seconds / 60:.1f} min"
                     + (f", on {run.cluster}." if run.cluster else "."))
    lines += ["", "## Parameters", "", "| parameter | target | op | values | meaning |",
              "|---|---|---|---|---|"]
    for p in spec.parameters:
        target = p.key or f"{p.table}.{p.column}"
        filters = [f"{k}={v}" for k, v in p.where.items()] + ([f"hub={p.hub}"] if p.hub else [])
        if filters:
            target += f" where {', '.join(filters)}"
        values = ", ".join(str(v) for v in p.values) if p.values is not None else f"{p.low:g} .. {p.high:g}"
        lines.append(f"| `{p.name}` | {_cell(target)} | {p.op} | {_cell(values)} | {_cell(p.description)} |")
    if not solved.empty:
        lines += ["", "## Outcomes across solved variants", "",
                  "| measure | min | median | max |", "|---|---|---|---|"]
        for col, label, scale in METRICS + (("unmet_beds", "unmet (bed-years)", 1.0),
                                            ("delayed_discharges", "delayed discharges", 1.0),
                                            ("in_hub_share", "in-hub share", 1.0)):
            if col in solved.columns and solved[col].notna().any():
                v = solved[col].astype(float)
                digits = 3 if col == "in_hub_share" else 1
                cells = " | ".join(_fmt(x, digits, scale) for x in (v.min(), v.median(), v.max()))
                lines.append(f"| {label} | {cells} |")
        gaps = solved["gap_rel"].astype(float)
        lines.append("")
        secs = solved["solve_seconds"].astype(float)
        lines.append(f"Proven gap: median {gaps.median():.3%}, worst {gaps.max():.3%}; solve time median "
                     f"{secs.median():.1f}s, longest {secs.max():.1f}s.")
    lines += ["", "## Results per variant", "",
              "Gap: the proven relative gap of the variant's own solve; results differing by less "
              "than the gaps are indistinguishable. Cost, carbon and patient-km are the whole "
              "scenario's totals over all years; unmet in bed-years; delayed discharges in "
              "patients.", ""]
    lines += variant_table_lines([p.name for p in spec.parameters], results)
    lines += ["", "## Robustness per site", ""]
    if solved.empty:
        lines += ["No variant has a solution yet, so there is nothing to compare: see the reasons "
                  "below (a longer time limit, or fixing the input, is the usual cure)."]
    else:
        lines += _robustness_lines(robust, len(solved), charts)
    if TORNADO_FILE in charts:
        lines += ["", "## Tornado (one at a time)", "",
                  "Each bar: the change from the base variant when one parameter is at its low or "
                  "high value and the others at base.", "", f"![tornado]({TORNADO_FILE})"]
    if SCATTER_FILE in charts:
        lines += ["", "## Cost, carbon and travel", "", f"![trade-offs]({SCATTER_FILE})"]
    failed = results[~results["status"].isin(SOLVED)]
    if len(failed):
        lines += ["", "## Variants without a solution", "",
                  "| variant | label | status | reason |", "|---|---|---|---|"]
        for _, r in failed.head(200).iterrows():
            lines.append(f"| `{r['variant']}` | {_cell(r['label'])} | {r['status']} | "
                         f"{_cell(r['reason'])[:400]} |")
        if len(failed) > 200:
            lines.append(f"| ... | {len(failed) - 200} more in results.parquet | | |")
    time_limited = solved[solved["status"] == "feasible"]
    if len(time_limited):
        lines += ["", f"{len(time_limited)} variant(s) reached the time limit with a solution not "
                      "proven optimal (status `feasible`; their gap is in results.parquet)."]
    lines += ["", "## Files", "",
              "`results.parquet` (one row per variant: parameters, status, reason, gap, seconds, "
              "objective terms `term_*`, England KPIs), `decisions.parquet` (variant, site, year, "
              "action, wards, beds), `robustness.csv`, `plan.xlsx` (the variants and the robustness "
              "as an Excel workbook), `sweep.json` (the design), `variants/` (one "
              "file per finished variant; a rerun skips these).", ""]
    return "\n".join(lines)


def _robustness_lines(robust: pd.DataFrame, n_solved: int, charts: dict[str, str]) -> list[str]:
    lines = [f"Share of the {n_solved} solved variants in which each site is kept (no change in "
              "any year) or is reduced, decommissioned, commissioned, reconfigured or expanded (in at "
              f"least one year). A verdict is robust when it holds in at least {ROBUST:.0%} of variants. "
              f"Also in `{ROBUSTNESS_FILE}`.", ""]
    lines += _headline(robust) + [""]
    if MAP_FILE in charts:
        lines += [f"![map of robustness]({MAP_FILE})", ""]
    shown = robust[(robust["status"] == "existing") | (robust["commissioned"] > 0)].copy()
    shown = shown.sort_values(["decommissioned", "commissioned", "kept", "hub", "site"],
                              ascending=[False, False, True, True, True])
    lines += ["| site | name | hub | kept | reduced | decomm. | comm. | reconf. | expanded | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in shown.iterrows():
        shares = " | ".join(f"{r[a]:.0%}" for a in SHARE_ACTIONS)
        lines.append(f"| {_cell(r['site'])} | {_cell(r['name'])} | {_cell(r['hub'])} | {shares} | "
                     f"{r['verdict']} |")
    unused = robust[(robust["status"] == "candidate") & (robust["commissioned"] == 0)]
    if len(unused):
        lines += ["", f"Candidate sites never commissioned in any variant: {len(unused)} "
                      f"({', '.join(unused['site'].astype(str).head(30))}"
                      f"{', ...' if len(unused) > 30 else ''})."]
    return lines


def _headline(robust: pd.DataFrame) -> list[str]:
    """The decisions that hold up and those that do not, named."""

    def names(frame: pd.DataFrame, share: str | None = None) -> str:
        items = [f"{r['site']}" + (f" ({r[share]:.0%})" if share else "") for _, r in frame.iterrows()]
        return ", ".join(items[:20]) + (f" and {len(items) - 20} more" if len(items) > 20 else "")

    existing = robust[robust["status"] == "existing"]
    candidates = robust[robust["status"] == "candidate"]
    groups = [
        ("Decommissioned in every variant (or nearly)", existing[existing["decommissioned"] >= ROBUST], None),
        ("Commissioned in every variant (or nearly)", candidates[candidates["commissioned"] >= ROBUST], None),
        ("Depends on the inputs: decommissioned in some variants",
         existing[existing["decommissioned"].between(1 - ROBUST, ROBUST, inclusive="neither")]
         .sort_values("decommissioned", ascending=False), "decommissioned"),
        ("Depends on the inputs: commissioned in some variants",
         candidates[candidates["commissioned"].between(1 - ROBUST, ROBUST, inclusive="neither")]
         .sort_values("commissioned", ascending=False), "commissioned"),
    ]
    stays = existing[existing["decommissioned"] <= 1 - ROBUST]
    lines = [f"- {label}: {len(frame)}" + (f": {names(frame, share)}" if len(frame) else "")
             for label, frame, share in groups]
    lines.append(f"- Existing units open in every variant (or nearly): {len(stays)} of {len(existing)}")
    return lines


def robustness_map(sweep: Sweep, robust: pd.DataFrame, path: Path) -> bool:
    """The robustness map in British National Grid, zoomed to the hubs the sweep touches."""
    sites = _sites(sweep)
    hub_of = sweep.scenario.tables["footprints"].set_index("footprint")["hub"]
    return charts.robustness_map(sweep.name, sites, robust, sweep.scenario.geometry, hub_of,
                                 [p.hub for p in sweep.spec.parameters if p.hub], path)


def tornado_table(sweep: Sweep, results: pd.DataFrame) -> pd.DataFrame:
    """One-at-a-time: per parameter and metric, the change from base at its lowest and highest
    result (rows: parameter, metric, low, high, swing)."""
    base = results[results["label"] == "base"]
    if base.empty or base.iloc[0]["status"] not in SOLVED:
        return pd.DataFrame(columns=["parameter", "metric", "low", "high", "swing"])
    base_row = base.iloc[0]
    solved = results[results["status"].isin(SOLVED) & (results["label"] != "base")]
    rows = []
    for p in sweep.spec.parameters:
        mine = solved[solved["label"].str.startswith(f"{p.name}=")]
        if mine.empty:
            continue
        for col, _label, _scale in METRICS:
            if col not in mine.columns:
                continue
            delta = mine[col].astype(float) - float(base_row[col])
            rows.append({"parameter": p.name, "metric": col, "low": min(0.0, delta.min()),
                         "high": max(0.0, delta.max()), "swing": delta.max() - delta.min()})
    return pd.DataFrame(rows)


def tornado(sweep: Sweep, results: pd.DataFrame, path: Path) -> bool:
    if sweep.spec.design != "one_at_a_time":
        return False
    table = tornado_table(sweep, results)
    if table.empty:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in METRICS if m[0] in set(table["metric"])]
    height = 1.2 + len(metrics) * (0.6 + 0.45 * len(sweep.spec.parameters))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, height), squeeze=False)
    for ax, (col, label, scale) in zip(axes[:, 0], metrics, strict=True):
        sub = table[table["metric"] == col].sort_values("swing")
        y = range(len(sub))
        ax.barh(list(y), sub["low"] * scale, color="#2b8cbe", label="decrease")
        ax.barh(list(y), sub["high"] * scale, color="#e34a33", label="increase")
        ax.set_yticks(list(y), sub["parameter"])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"change from base: {label}")
    axes[0, 0].set_title(f"Sweep {sweep.name}: one at a time")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def tradeoffs(sweep: Sweep, solved: pd.DataFrame, path: Path) -> bool:
    return charts.tradeoffs(sweep.name, list(sweep.spec.parameters), solved, path)
