"""`summary.md`: what changes, where, when, and what it gains against doing nothing."""

from __future__ import annotations

import pandas as pd

from model.inputs import ModelInputs
from model.solve import SolveOutcome


def _money(x: float) -> str:
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e9:
        return f"{sign}£{x / 1e9:.2f}bn"
    if x >= 1e6:
        return f"{sign}£{x / 1e6:.1f}m"
    if x >= 1e3:
        return f"{sign}£{x / 1e3:.0f}k"
    return f"{sign}£{x:.0f}"


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def _num1(x: float) -> str:
    return _num(x, 1)


def _row(label: str, recommended: float, baseline: float, fmt) -> str:
    return f"| {label} | {fmt(recommended)} | {fmt(baseline)} | {fmt(recommended - baseline)} |"


def _change_text(row: pd.Series, services: list[str]) -> str:
    parts = []
    for v in services:
        before, after = row[f"wards_before_{v}"], row[f"wards_after_{v}"]
        if before != after:
            beds = f"{row[f'beds_before_{v}']}→{row[f'beds_after_{v}']} beds"
            parts.append(f"{v} {before}→{after} wards ({beds})")
    return "; ".join(parts) if parts else "no change in wards"


def render_summary(data: ModelInputs, outcome: SolveOutcome, decisions: pd.DataFrame,
                   kpis: pd.DataFrame, terms: dict[str, float], baseline_terms: dict[str, float] | None,
                   manifest: dict) -> str:
    cfg = data.config
    services = [v for v in data.inpatient if f"wards_before_{v}" in decisions.columns]
    lines = [f"# {cfg.name}: recommended configuration {data.years[0]}–{data.years[-1]}", ""]
    if cfg.description:
        lines += [cfg.description, ""]
    gap = outcome.gap_rel or 0.0
    proof = ("proven optimal (within the requested gap of "
             f"{cfg.solver.mip_gap:.2%})" if outcome.status == "optimal" else
             f"**not proven optimal**: the solver stopped ({outcome.termination}) first")
    lines += [
        f"Solver: {outcome.solver}, {proof}; gap {gap:.3%} of the objective "
        f"({_money(outcome.gap_abs or 0.0)}), {manifest.get('gap_rel_controllable', 0.0):.2%} of the "
        "part decisions can change. Run id `" + manifest["run_id"] + "`.",
        "",
    ]
    eng = kpis[(kpis["scope"] == "england") & (kpis["year"] == "all")].set_index("case")
    last = kpis[(kpis["scope"] == "england") & (kpis["year"] == data.years[-1])].set_index("case")
    lines += ["## Against doing nothing", ""]
    if baseline_terms is not None and "baseline" in eng.index:
        opt, base = eng.loc["optimised"], eng.loc["baseline"]
        total, total_base = sum(terms.values()), sum(baseline_terms.values())
        lines += [
            "Do nothing = today's units and wards kept as they are, only placements optimised.",
            "",
            "| measure (all years) | recommended | do nothing | change |",
            "|---|---:|---:|---:|",
            _row("objective (discounted)", total, total_base, _money),
            _row("cost (undiscounted)", opt["cost_gbp"], base["cost_gbp"], _money),
            _row("carbon, tCO2e", opt["carbon_t"], base["carbon_t"], _num),
            _row("patient-km from home (bed-years x km)", opt["patient_km"], base["patient_km"], _num),
            _row("unmet need, bed-years (out of area)", opt["unmet_beds"], base["unmet_beds"], _num1),
            _row("delayed discharges (patients)", opt["delayed_discharges"],
                 base["delayed_discharges"], _num1),
            f"| in-hub share, {data.years[-1]} | {last.loc['optimised', 'in_hub_share']:.1%} | "
            f"{last.loc['baseline', 'in_hub_share']:.1%} | |",
            "",
        ]
    else:
        lines += ["The do-nothing baseline was not evaluated.", ""]

    lines += ["## What changes, where and when", ""]
    changes = decisions[decisions["action"] != "keep"] if not decisions.empty else decisions
    if changes.empty:
        lines += ["No unit changes: today's configuration is kept.", ""]
    else:
        lines += ["| year | unit | hub | action | change |", "|---|---|---|---|---|"]
        for _, row in changes.sort_values(["year", "hub", "site"]).iterrows():
            lines.append(f"| {row['year']} | {row['name']} ({row['site']}) | {row['hub']} | "
                         f"{row['action']} | {_change_text(row, services)} |")
        kept = sorted(set(decisions["site"]) - set(changes["site"]))
        lines += ["", f"Units kept as they are throughout: {len(kept)}"
                  + (f" ({', '.join(kept[:12])}{', ...' if len(kept) > 12 else ''})." if kept else "."), ""]

    lines += ["## Beds by hub and service", "",
              f"| hub | service | beds {data.years[0] - 1} (today) | beds {data.years[-1]} |",
              "|---|---|---:|---:|"]
    for h in data.hubs:
        for v in services:
            today = sum(data.existing_wards.get((s, v), 0) for s in data.sites
                        if data.hub_of_site[s] == h) * int(data.service.at[v, "beds_per_ward"])
            final = decisions[(decisions["hub"] == h) & (decisions["year"] == data.years[-1])]
            final_beds = int(final[f"beds_after_{v}"].sum()) if not final.empty else 0
            if today or final_beds:
                lines.append(f"| {h} | {v} | {today} | {final_beds} |")
    lines += ["", "## Objective terms (discounted GBP)", "", "| term | recommended | do nothing |",
              "|---|---:|---:|"]
    for key, value in terms.items():
        base_value = baseline_terms.get(key) if baseline_terms else None
        lines.append(f"| {key} | {_money(value)} | {_money(base_value) if base_value is not None else ''} |")
    lines += ["", "Figures in the default data are partly illustrative: see the scenario's "
              "ASSUMPTIONS.md. Full tables: decisions.csv, wards.csv, allocation.csv, kpis.csv.", ""]
    return "\n".join(lines)
