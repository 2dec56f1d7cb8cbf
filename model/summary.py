"""`summary.md`: what changes, where, when, and what it gains against doing nothing."""

from __future__ import annotations

import pandas as pd

from model.earlier_plan import start_statement
from model.inputs import ModelInputs
from model.pricing import render_prices
from model.solve import SolveOutcome
from model.vocabulary import SolveStatus


def _money(x: float) -> str:
    x = 0.0 if abs(x) < 0.5 else x  # no "-£0" from solver round-off
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
    x = 0.0 if abs(x) < 0.5 * 10 ** -digits else x  # no "-0" from solver round-off
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


HEADLINE = (  # (label, KPI column, formatter)
    ("cost, undiscounted", "cost_gbp", _money),
    ("carbon, tCO2e", "carbon_t", _num),
    ("patient-km from home (bed-years x km)", "patient_km", _num),
    ("unmet need, bed-years (out of area)", "unmet_beds", _num1),
    ("delayed discharges (patients)", "delayed_discharges", _num1),
    ("community places", "community_places", _num1),
)


def headline(kpis: pd.DataFrame, year: object) -> dict[str, pd.Series]:
    """England KPIs of each case ('optimised', 'baseline') for `year` ('all' or a year)."""
    eng = kpis[(kpis["scope"] == "england") & (kpis["year"].astype(str) == str(year))]
    return {case: row for case, row in eng.set_index("case").iterrows()}


def change_counts(decisions: pd.DataFrame) -> dict[str, int]:
    """Units with at least one change, units kept throughout, and site-years with a change:
    the counts the terminal, the summary and the map all use."""
    if decisions.empty:
        return {"units": 0, "changed_units": 0, "kept_units": 0, "changed_site_years": 0}
    changed = decisions[decisions["action"] != "keep"]
    units = decisions["site"].nunique()
    return {"units": units, "changed_units": changed["site"].nunique(),
            "kept_units": units - changed["site"].nunique(), "changed_site_years": len(changed)}


def render_summary(data: ModelInputs, outcome: SolveOutcome, decisions: pd.DataFrame,
                   kpis: pd.DataFrame, terms: dict[str, float], baseline_terms: dict[str, float] | None,
                   manifest: dict, saving: pd.DataFrame | None = None,
                   solution=None, prices: pd.DataFrame | None = None) -> str:
    cfg = data.config
    first, last = data.years[0], data.years[-1]
    hub_names = data.scenario.hubs.set_index("hub")["name"].to_dict()
    services = [v for v in data.inpatient if f"wards_before_{v}" in decisions.columns]
    lines = [f"# {cfg.name}: recommended configuration {first}–{last}", ""]
    if cfg.description:
        lines += [cfg.description, ""]
    gap = outcome.gap_rel or 0.0
    gap_abs = outcome.gap_abs or 0.0
    proof = ("proven optimal (within the requested gap of "
             f"{cfg.solver.mip_gap:.2%})" if outcome.status == SolveStatus.OPTIMAL else
             f"**not proven optimal**: the solver stopped ({outcome.termination}) first")
    lines += [
        f"Solver: {outcome.solver}, {proof}; gap {gap:.3%} of the objective "
        f"({_money(gap_abs)}), {manifest.get('gap_rel_controllable', 0.0):.2%} of the part "
        f"decisions can change (the objective less {_money(manifest.get('unavoidable_gbp', 0.0))} "
        "of beds no decision or community place can avoid, at the cheapest site). Run id `"
        + manifest["run_id"] + "`.",
        "",
    ]
    ignored = cfg.solver.ignored()
    if ignored:  # an override can leave a scenario's setting without effect: the run went on without it
        lines += ["**Settings without effect.** " + " ".join(f"{line}." for line in ignored), ""]
    started = start_statement(outcome.earlier_plan)
    if started:  # --start-from: which plan the solve started from, and whether it could
        lines += [f"**Start.** {started}", ""]
    arcs = manifest.get("arc_pricing")
    if arcs:  # solver.arcs nearest:K: what the pricing proved over every arc, and what not
        lines += ["**Restricted arcs.** " + " ".join(arcs["statements"]), ""]
    lines += ["## Against doing nothing", ""]
    all_years, final = headline(kpis, "all"), headline(kpis, last)
    if baseline_terms is not None and "baseline" in all_years:
        total, total_base = sum(terms.values()), sum(baseline_terms.values())
        base_gap = (manifest.get("baseline") or {}).get("gap_abs_gbp") or 0.0
        saving_total = total_base - total
        lines += [
            "Do nothing = " + "; ".join(manifest.get("baseline", {}).get("keeps", ())) + ". It "
            "drops " + "; ".join(manifest.get("baseline", {}).get("drops", ())) + " (today's "
            "estate may break them; the recommended plan obeys them).",
            "",
            f"Saving: {_money(saving_total)} of discounted objective over {first}–{last}"
            + (" (within the two solves' proven gaps: not distinguishable from zero)."
               if abs(saving_total) <= gap_abs + base_gap else "."),
            "",
            f"| measure | recommended, all years | do nothing, all years | change | "
            f"recommended, {last} | do nothing, {last} | change, {last} |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| objective (discounted) | {_money(total)} | {_money(total_base)} | "
            f"{_money(total - total_base)} | | | |",
        ]
        for label, column, fmt in HEADLINE:
            a, b = all_years["optimised"][column], all_years["baseline"][column]
            fa, fb = final["optimised"][column], final["baseline"][column]
            lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {fmt(a - b)} | {fmt(fa)} | {fmt(fb)} | "
                         f"{fmt(fa - fb)} |")
        lines.append(f"| in-hub share of need | {all_years['optimised']['in_hub_share']:.1%} | "
                     f"{all_years['baseline']['in_hub_share']:.1%} | | "
                     f"{final['optimised']['in_hub_share']:.1%} | "
                     f"{final['baseline']['in_hub_share']:.1%} | |")
        lines.append("")
    else:
        lines += ["The do-nothing baseline was not evaluated.", ""]

    if saving is not None and not saving.empty:
        lines += _saving_section(saving, manifest)
    lines += render_prices(prices)

    counts = change_counts(decisions)
    lines += ["## What changes, where and when", ""]
    changes = decisions[decisions["action"] != "keep"] if not decisions.empty else decisions
    if changes.empty:
        lines += ["No unit changes: today's configuration is kept.", ""]
    else:
        lines += [f"{counts['changed_units']} of {counts['units']} units change "
                  f"({counts['changed_site_years']} site-years with a change); "
                  f"{counts['kept_units']} are kept as they are throughout.", "",
                  "| year | unit | hub | action | wards built / converted out / converted in / "
                  "removed | change |", "|---|---|---|---|---|---|"]
        for _, row in changes.sort_values(["year", "hub", "site"]).iterrows():
            moves = (f"{row['wards_built']} / {row['wards_converted_out']} / "
                     f"{row['wards_converted_in']} / {row['wards_removed']}")
            lines.append(f"| {row['year']} | {row['name']} ({row['site']}) | "
                         f"{hub_names.get(row['hub'], row['hub'])} | {row['action']} | {moves} | "
                         f"{_change_text(row, services)} |")
        kept = sorted(set(decisions["site"]) - set(changes["site"]))
        lines += ["", f"Units kept as they are throughout: {len(kept)}"
                  + (f" ({', '.join(kept[:12])}{', ...' if len(kept) > 12 else ''})." if kept else "."), ""]

    lines += ["## Beds by hub and service", "",
              f"| hub | service | beds at the start of {first} (today) | beds in {last} |",
              "|---|---|---:|---:|"]
    for h in data.hubs:
        for v in services:
            today = sum(data.existing_wards.get((s, v), 0) for s in data.sites
                        if data.hub_of_site[s] == h) * int(data.service.at[v, "beds_per_ward"])
            final_rows = decisions[(decisions["hub"] == h) & (decisions["year"] == last)]
            final_beds = int(final_rows[f"beds_after_{v}"].sum()) if not final_rows.empty else 0
            if today or final_beds:
                lines.append(f"| {hub_names.get(h, h)} ({h}) | {v} | {today} | {final_beds} |")
    if solution is not None:
        lines += _spending_section(solution)
    lines += ["", "## Objective terms (discounted GBP)", "", "| term | recommended | do nothing |",
              "|---|---:|---:|"]
    for key, value in terms.items():
        base_value = baseline_terms.get(key) if baseline_terms else None
        lines.append(f"| {key} | {_money(value)} | {_money(base_value) if base_value is not None else ''} |")
    lines += ["", "Figures in the default data are partly illustrative: see the scenario's "
              "ASSUMPTIONS.md. Full tables: decisions.csv, wards.csv, allocation.csv, kpis.csv, "
              "saving.csv, objective_by_year.csv, site_costs.csv.", ""]
    return "\n".join(lines)


def _saving_section(saving: pd.DataFrame, manifest: dict) -> list[str]:
    total = saving["saving_gbp"].sum()
    lines = ["## Where the saving comes from", "",
             "Each step switches one more lever on (in this order) and re-solves; its saving is "
             "the fall in the discounted objective it brings, so the steps add up to the whole "
             "saving. Re-placing patients is part of every step, the do-nothing baseline "
             "included. Levers interact: with another order a shared gap would be credited to "
             "another lever.", "",
             "| step | lever | saving | of which cost | carbon | travel | delay penalty | "
             "solver gaps | |", "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for _, row in saving.iterrows():
        note = "" if row["distinguishable"] else "within the gaps: not distinguishable from zero"
        lines.append(
            f"| {row['step']} | {row['label']} | {_money(row['saving_gbp'])} | "
            f"{_money(row.get('saving_cost_gbp', 0.0))} | {_money(row.get('saving_carbon_gbp', 0.0))} | "
            f"{_money(row.get('saving_travel_gbp', 0.0))} | "
            f"{_money(row.get('saving_delay_penalty_gbp', 0.0))} | {_money(row['gaps_gbp'])} | "
            f"{note} |")
    lines += [f"| | **total** | **{_money(total)}** | | | | | | |", ""]
    return lines


def _spending_section(solution) -> list[str]:
    years = solution.years
    lines = ["", "## Capital and embodied carbon, year by year", "",
             "Cash actually spent (not discounted) and embodied carbon actually emitted; the "
             "residual value is the part of that year's spending still in use after the horizon, "
             "credited back because those wards still stand at the end.", "",
             "| year | capital spent | residual value | decommissioning and closure | "
             "embodied tCO2e emitted | embodied tCO2e carried beyond the horizon |",
             "|---|---:|---:|---:|---:|---:|"]
    for _, row in years.iterrows():
        lines.append(
            f"| {int(row['year'])} | {_money(row['cost_capital_gbp'])} | "
            f"{_money(-row['cost_residual_gbp'])} | "
            f"{_money(row['cost_decommission_gbp'] + row['cost_closure_gbp'])} | "
            f"{_num(row['carbon_embodied_t'])} | {_num(-row['carbon_embodied_residual_t'])} |")
    return lines
