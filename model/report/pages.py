"""The report's pages as HTML fragments: England (the headline against doing nothing, where the
saving comes from, the map, what changes when) and one page per hub (its units before and
after, its footprints' distances and in-hub shares, its delayed discharges)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from model.report.data import RunData

e = html.escape


def money(value: float) -> str:
    """GBP in millions (or thousands when small), as a board reads it."""
    if value is None or pd.isna(value):
        return "–"
    sign = "−" if value < 0 else ""
    v = abs(float(value))
    return f"{sign}£{v / 1e6:,.1f}m" if v >= 1e5 else f"{sign}£{v / 1e3:,.1f}k"


def num(value: float, digits: int = 0) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}"


def pct(value: float) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.1%}"


def table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table of already-escaped cells; numbers right-aligned by the `num` class."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(path: Path, alt: str, cls: str = "map") -> str:
    """A PNG or SVG inside the page (base64), so the report is one file."""
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img class='{cls}' alt='{e(alt)}' src='data:{mime};base64,{data}'>"


def headline(run: RunData) -> str:
    """The plan against doing nothing over the whole plan, with the proven gaps it must beat."""
    m = run.manifest
    base = m.get("baseline") or {}
    ours = sum((m.get("objective_terms") or {}).values())
    gap = float(m.get("gap_abs_gbp") or 0.0)
    status = f"solver status <b>{e(str(m.get('status')))}</b>, proven gap {money(gap)} " \
             f"({float(m.get('gap_rel') or 0):.3%} of the objective)"
    if not base.get("objective_terms"):
        return (f"<p class='headline'>Total discounted cost of the plan (cost, carbon and travel "
                f"priced, delay penalty): <b>{money(ours)}</b>. No do-nothing comparison in this "
                f"run.</p><p>{status}.</p>")
    theirs = sum(base["objective_terms"].values())
    gaps = gap + float(base.get("gap_abs_gbp") or 0.0)
    saving = theirs - ours
    verdict = ("larger than the proven gaps, so it is a real difference" if abs(saving) > gaps
               else "within the proven gaps: the two are indistinguishable")
    return (f"<p class='headline'>The recommended plan costs <b>{money(ours)}</b> against "
            f"<b>{money(theirs)}</b> for doing nothing (discounted over the plan, carbon and "
            f"travel priced): a saving of <b>{money(saving)}</b> "
            f"({saving / theirs if theirs else 0:.1%}).</p>"
            f"<p>The saving is {verdict} (gaps {money(gaps)}); {status}; do nothing: "
            f"{e(str(base.get('status')))}.</p>")


def warnings(run: RunData) -> str:
    """What the run's manifest warns of (a solve stopped short, arcs left unpriced, a setting
    without effect): a board reads the plan with them."""
    said = run.manifest.get("warnings") or []
    if not said:
        return ""
    return "<div class='warnings'><b>Warnings</b><ul>" + "".join(f"<li>{e(str(w))}</li>" for w in said) \
        + "</ul></div>"


_KPIS = (("cost_gbp", "Cost (undiscounted)", money), ("carbon_t", "Carbon (tCO2e)", num),
         ("patient_km", "Patient-km", num), ("mean_km", "Mean km from home",
                                              lambda v: num(v, 1)),
         ("in_hub_share", "Need placed in home hub", pct),
         ("unmet_beds", "Unmet need (bed-years)", lambda v: num(v, 1)),
         ("delayed_discharges", "Delayed discharges (patients)", lambda v: num(v, 1)))


def kpi_table(run: RunData, scope: str, ident: str | None = None) -> str:
    ours = run.kpi("optimised", scope, ident)
    theirs = run.kpi("baseline", scope, ident)
    if ours is None:
        return ""
    rows = [[label, fmt(ours[col]), fmt(theirs[col]) if theirs is not None else "–"]
            for col, label, fmt in _KPIS if col in ours.index]
    return table(["all years of the plan", "recommended", "do nothing"], rows, "kpis")


def saving_table(run: RunData) -> str:
    s = run.saving
    rows = [[e(str(r.label)), money(r.saving_gbp), money(r.gaps_gbp),
             "yes" if str(r.distinguishable).lower() == "true" else "no: within the gaps"]
            for r in s.itertuples(index=False)]
    rows.append(["<b>total</b>", f"<b>{money(s['saving_gbp'].sum())}</b>", "", ""])
    return table(["lever (added in turn)", "saving", "gaps it must beat", "distinguishable"],
                 rows, "saving")


def prices_table(run: RunData) -> str:
    """price.csv as a board reads it: the decision, its price and what the price means."""
    rows = []
    for r in run.prices.itertuples(index=False):
        priced = not pd.isna(r.price_gbp)
        rows.append([f"{e(str(r.what))}" + (f"<br><span class='code'>{e(str(r.note))}</span>"
                                             if str(r.note or "").strip() else ""),
                     money(r.price_gbp) if priced else "–",
                     num(r.carbon_t_change, 1) if priced else "–",
                     num(r.unmet_beds_change, 1) if priced else "–", e(str(r.verdict))])
    return table(["fixed decision", "price", "carbon it adds (t)", "unmet need it adds (bed-years)",
                  "what the price means"], rows, "prices")


def changes_table(run: RunData, hub: str | None = None, limit: int = 40) -> str:
    """What changes when: every site-year whose action is not keep."""
    d = run.decisions
    d = d[d["action"] != "keep"]
    if hub is not None:
        d = d[d["hub"] == hub]
    if d.empty:
        return "<p>No unit changes in any year: every unit is kept as it is.</p>"
    d = d.sort_values(["year", "hub_name", "name"])
    services = [c[len("beds_after_"):] for c in d.columns if c.startswith("beds_after_")]
    rows = []
    for r in d.head(limit).itertuples(index=False):
        row = r._asdict()
        before = sum(int(row[f"beds_before_{v}"]) for v in services)
        after = sum(int(row[f"beds_after_{v}"]) for v in services)
        detail = ", ".join(f"{e(v)} {row[f'beds_before_{v}']}→{row[f'beds_after_{v}']}"
                           for v in services if row[f"beds_before_{v}"] != row[f"beds_after_{v}"])
        cells = [e(str(row["year"])), f"{e(str(row['name']))} <span class='code'>"
                 f"{e(str(row['site']))}</span>", e(str(row["action"])), f"{before}→{after}",
                 detail or "–"]
        if hub is None:
            cells.insert(2, e(str(row["hub_name"])))
        rows.append(cells)
    headers = ["year", "unit", "action", "beds", "beds per service"]
    if hub is None:
        headers.insert(2, "hub")
    more = (f"<p class='note'>… and {len(d) - limit} more in decisions.csv and plan.xlsx.</p>"
            if len(d) > limit else "")
    return table(headers, rows, "changes") + more


def units_table(run: RunData, hub: str) -> str:
    """The hub's units before (start of the base year) and after (final year)."""
    if run.sites is None:
        return ""
    s = run.sites[run.sites["hub"] == hub].sort_values("name")
    unused = s[(s["action"] == "not_used") & (s["beds_base"] == 0) & (s["beds_final"] == 0)]
    s = s.drop(unused.index)
    services = [c[len("beds_base_"):] for c in s.columns if c.startswith("beds_base_")]
    rows = []
    for r in s.to_dict("records"):
        per = ", ".join(f"{e(v)} {int(r[f'beds_base_{v}'])}→{int(r[f'beds_final_{v}'])}"
                        for v in services if r[f"beds_base_{v}"] or r[f"beds_final_{v}"])
        rows.append([f"{e(str(r['name']))} <span class='code'>{e(str(r['site']))}</span>",
                     e(str(r["action"]).replace("_", " ")), f"{int(r['beds_base'])}",
                     f"{int(r['beds_final'])}", per or "–"])
    note = ("<p class='note'>Candidate sites not used: " + ", ".join(
        e(str(n)) for n in unused["name"]) + ".</p>") if len(unused) else ""
    if not rows:
        return "<p>No unit in this hub.</p>" + note
    return table(["unit", "over the plan", "beds before", "beds after", "per service"], rows,
                 "units") + note


def footprints_table(run: RunData, hub: str) -> str:
    if run.footprints is None:
        return ""
    f = run.footprints[run.footprints["hub"] == hub].sort_values("name")
    rows = [[f"{e(str(r['name']))} <span class='code'>{e(str(r['footprint']))}</span>",
             num(r["mean_km"], 1), num(r["max_km"], 0), pct(r["in_hub_share"]),
             pct(r["in_hub_share_baseline"]), num(r["unmet_beds"], 1),
             num(r["delayed_discharges"], 1)] for r in f.to_dict("records")]
    return table(["footprint", "mean km", "farthest km", "in home hub", "do nothing",
                  "unmet (bed-years)", "delayed discharges"], rows, "footprints")


def delayed_by_year(run: RunData, hub: str) -> str:
    k = run.kpis
    rows = k[(k["scope"] == "hub") & (k["id"] == hub) & (k["year"] != "all")]
    if rows.empty:
        return ""
    wide = rows.pivot_table(index="year", columns="case", values="delayed_discharges",
                            aggfunc="sum")
    body = [[e(str(y)), num(r.get("optimised"), 1), num(r.get("baseline"), 1)]
            for y, r in wide.iterrows()]
    return table(["year", "delayed discharges: recommended", "do nothing"], body, "delayed")


def changes_by_year(run: RunData) -> str:
    """Units changing each year, by action (a unit with two changes in a year counts under
    each)."""
    d = run.decisions[run.decisions["action"] != "keep"]
    if d.empty:
        return ""
    actions = d["action"].str.split(r"\s*\+\s*").explode()
    counts = pd.crosstab(d.loc[actions.index, "year"], actions.to_numpy())
    headers = ["year", *counts.columns, "units changing"]
    units = d.groupby("year")["site"].nunique()
    rows = [[e(str(y)), *(str(int(v)) if v else "–" for v in r), str(int(units[y]))]
            for y, r in counts.iterrows()]
    return table([e(str(h)) for h in headers], rows, "counts")


def england_page(run: RunData, saving_chart: Path | None) -> str:
    parts = [f"<section class='page'><h1>{e(run.scenario)}: recommended secure bed plan</h1>",
             f"<p class='sub'>{e(_period(run))}; run {e(str(run.manifest.get('run_id')))}</p>",
             headline(run), warnings(run), "<h2>England, against doing nothing</h2>",
             kpi_table(run, "england")]
    if run.saving is not None and len(run.saving):
        parts += ["<h2>Where the saving comes from</h2>",
                  "<p>Each planner's lever added in turn to doing nothing; the steps add up to "
                  "the whole saving. A step smaller than its gaps is indistinguishable from "
                  "zero.</p>", saving_table(run)]
        if saving_chart is not None:
            parts.append(image(saving_chart, "saving by lever", "chart"))
    if run.prices is not None and len(run.prices):
        parts += ["<h2>What the fixed decisions cost</h2>",
                  "<p>Each decision fixed by the planners against the plan without it (every other "
                  "fixed decision kept): the discounted cost of keeping to it, and what releasing "
                  "it would change. A price within the two solves' proven gaps cannot be told "
                  "from zero.</p>", prices_table(run)]
    if (run.folder / "map.png").exists():
        parts += ["</section><section class='page'><h2>The plan on the map</h2>",
                  image(run.folder / "map.png", "map of the recommended configuration")]
    by_year = changes_by_year(run)
    if by_year:
        parts += ["<h2>Changes by year</h2>", by_year]
    parts += ["</section><section class='page'><h2>What changes when</h2>",
              changes_table(run), "</section>"]
    return "\n".join(parts)


def hub_page(run: RunData, hub: str, name: str) -> str:
    # the hub's totals and its delayed discharges by year side by side: one page per hub
    # where the hub's tables allow
    parts = [f"<section class='page hub'><h1>{e(str(name))} <span class='code'>{e(str(hub))}"
             f"</span></h1>", "<div class='pair'><div>", kpi_table(run, "hub", hub),
             "</div><div>", delayed_by_year(run, hub), "</div></div>",
             "<h2>Units before and after</h2>",
             units_table(run, hub) or "<p>No site layer in this run.</p>",
             "<h2>Footprints: distance from home and need placed in the hub</h2>",
             footprints_table(run, hub) or "<p>No footprint layer in this run.</p>",
             "<h2>What changes when</h2>", changes_table(run, hub, limit=25), "</section>"]
    return "\n".join(parts)


def _period(run: RunData) -> str:
    years = run.manifest.get("years") or []
    return f"plan years {years[0]}–{years[-1]}" if years else ""
