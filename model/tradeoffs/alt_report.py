"""The report of `bedplan alternatives`: each plan's KPIs side by side (``alternatives.csv``),
the agreement per site and service (``agreement.csv``: in every good plan, in none, or a
matter of choice), a map of the agreement per site, every try of the price search
(``tries.csv``, method `price`), and ``summary.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from model.data import load_scenario
from model.outputs import write_csv
from model.tradeoffs.files import AGREEMENT, ALTERNATIVES, TRIES, conform
from model.tradeoffs.plans import distance

SOLVED = ("optimal", "feasible")
EVERY, NONE, CHOICE = "in every good plan", "in no good plan", "a matter of choice"
COLOURS = {EVERY: "#1a9850", NONE: "#bdbdbd", CHOICE: "#fdae61"}


def plans_table(records: list[dict[str, Any]], slack: float) -> pd.DataFrame:
    """One row per plan (the optimum first): status, objective and how far above the optimum,
    cost, carbon, patient-km, fairness KPIs, gap, distance to the optimum and to the nearest
    other plan, final-year sites and wards."""
    solved = [r for r in records if r.get("status") in SOLVED]
    z = records[0].get("objective") if records and records[0].get("status") in SOLVED else None
    rows = []
    for r in records:
        row: dict[str, Any] = {"plan": r["label"], "status": r.get("status"), "reason": r.get("reason", ""),
                               "run_dir": r.get("run_dir")}
        if r.get("status") in SOLVED:
            plan = r["plan"]
            last = max(int(k.rsplit("|", 1)[1]) for k in plan)
            others = [distance(plan, q["plan"]) for q in solved if q is not r]
            row.update({"price_per_unit": r.get("price"), "objective_gbp": r["objective"],
                        "above_optimum": (r["objective"] / z - 1.0) if z else None,
                        "within_slack": bool(z is not None and r["objective"] <= z + slack * abs(z) + 1e-6),
                        **{k: v for k, v in r["objectives"].items()}, **r["kpis"],
                        "gap_abs": r.get("gap_abs"),
                        "distance_to_optimum": distance(plan, solved[0]["plan"]) if solved else None,
                        "distance_to_nearest": min(others) if others else None,
                        "sites_open_final_year": sum(v for k, v in plan.items()
                                                     if k.startswith("o|") and k.endswith(f"|{last}")),
                        "wards_final_year": sum(v for k, v in plan.items()
                                                if k.startswith("w|") and k.endswith(f"|{last}"))})
        rows.append(row)
    return pd.DataFrame(rows)


def agreement_table(records: list[dict[str, Any]], sites: pd.DataFrame,
                    existing: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Per site and service: today's wards, each plan's final-year wards, whether every plan
    has the same wards in every year, and the verdict: wards in the final year in every plan
    (in every good plan), in none (in no good plan), or in some (a matter of choice)."""
    solved = [r for r in records if r.get("status") in SOLVED]
    if not solved:
        return pd.DataFrame()
    keys = sorted({tuple(k.split("|")[1:]) for k in solved[0]["plan"] if k.startswith("w|")})
    last = max(int(t) for (_s, _v, t) in keys)
    pairs = sorted({(s, v) for (s, v, _t) in keys})
    years = sorted({int(t) for (_s, _v, t) in keys})
    names = sites.set_index("site")
    rows = []
    for s, v in pairs:
        final = [r["plan"].get(f"w|{s}|{v}|{last}", 0) for r in solved]
        paths = {tuple(r["plan"].get(f"w|{s}|{v}|{t}", 0) for t in years) for r in solved}
        verdict = EVERY if min(final) > 0 else NONE if max(final) == 0 else CHOICE
        row = {"site": s, "name": names.at[s, "name"], "footprint": names.at[s, "footprint"],
               "service": v, "wards_today": existing.get((s, v), 0)}
        row.update({r["label"]: n for r, n in zip(solved, final, strict=True)})
        row.update({"min_wards": min(final), "max_wards": max(final),
                    "same_every_year_in_every_plan": len(paths) == 1, "verdict": verdict})
        rows.append(row)
    return pd.DataFrame(rows)


def site_verdicts(agreement: pd.DataFrame) -> pd.Series:
    """Per site: in every good plan when one of its services has final-year wards in every
    plan, in no good plan when it has none in any, else a matter of choice. (A site whose
    wards move between services from plan to plan counts as a matter of choice.)"""
    by_site = agreement.groupby("site")
    wards_min = by_site["min_wards"].max()  # a service present in every plan keeps the site
    wards_max = by_site["max_wards"].max()
    return pd.Series({s: EVERY if wards_min[s] > 0 else NONE if wards_max[s] == 0 else CHOICE
                      for s in wards_min.index})


def tries_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every solve of the price search: the alternative it was for, its price a unit of
    distance, and what its plan was (within the budget, over it, a repeat; `kept` marks the
    plan each alternative kept)."""
    rows = [{"alternative": r["label"], **t, "kept": t.get("label") == r.get("kept_try")}
            for r in records for t in r.get("tries", [])]
    return pd.DataFrame(rows)


def write_alternatives_report(out: Path, scenario: Path, slack: float, records: list[dict[str, Any]],
                              seconds: float, method: str = "price") -> list[Path]:
    data = load_scenario(scenario)
    sites = data.tables["sites"]
    existing = {(s, v): int(n) for s, v, n in zip(data.tables["site_services"]["site"],
                                                   data.tables["site_services"]["service"],
                                                   data.tables["site_services"]["wards"], strict=True)}
    plans = plans_table(records, slack)
    agreement = agreement_table(records, sites, existing)
    write_csv(conform(ALTERNATIVES, plans), out / ALTERNATIVES.file)
    write_csv(conform(AGREEMENT, agreement), out / AGREEMENT.file)
    files = [out / ALTERNATIVES.file, out / AGREEMENT.file]
    tries = tries_table(records)
    if not tries.empty:
        write_csv(conform(TRIES, tries), out / TRIES.file)
        files.append(out / TRIES.file)
    if not agreement.empty:
        files.append(_map(out, data, sites, site_verdicts(agreement)))
    (out / "summary.md").write_text(_summary(plans, agreement, slack, seconds, method, len(tries)),
                                    encoding="utf-8")
    return files + [out / "summary.md"]


def _map(out: Path, data: Any, sites: pd.DataFrame, verdicts: pd.Series) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 8))
    if data.geometry is not None:
        data.geometry.to_crs(4326).boundary.plot(ax=ax, color="#969696", linewidth=0.4)
    placed = sites.set_index("site").loc[list(verdicts.index)]
    for verdict, colour in COLOURS.items():
        chosen = placed[verdicts.reindex(placed.index) == verdict]
        if not chosen.empty:
            ax.scatter(chosen["lon"], chosen["lat"], s=40, color=colour, edgecolor="black",
                       linewidth=0.4, label=f"{verdict} ({len(chosen)})", zorder=3)
    if len(placed) <= 60:  # more labels than that cover the map: agreement.csv names them
        for site, row in placed.iterrows():
            ax.annotate(site, (row["lon"], row["lat"]), textcoords="offset points", xytext=(4, 4),
                        fontsize=7)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Units with final-year wards: the optimum and its alternatives", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_aspect(1.6)
    fig.tight_layout()
    fig.savefig(out / "map.png", dpi=120)
    plt.close(fig)
    return out / "map.png"


def _summary(plans: pd.DataFrame, agreement: pd.DataFrame, slack: float, seconds: float,
             method: str = "price", tries: int = 0) -> str:
    solved = plans[plans["status"].isin(SOLVED)]
    how = ("each the plan within the slack most distant, on site and ward decisions, from the "
           "optimum and the alternatives before it that its solve found (proven most distant where "
           "its status is optimal)" if method == "distance"
           else "each found by pricing its likeness to the optimum and the alternatives before it "
           f"(site and ward decisions), the price searched so that the plan stays within the slack "
           f"({tries} solves in all, tries.csv); each is within the slack and differs from every plan "
           "before it, but a more distant plan within the slack may exist")
    lines = [f"# Near-optimal alternatives (within {slack:.1%} of the optimum)", "",
             f"{len(solved) - 1 if len(solved) else 0} alternatives found beside the optimum "
             f"({len(plans) - len(solved)} more asked for: a repeat or no solution, see "
             f"alternatives.csv), {how}; {seconds / 60:.1f} min.", ""]
    if solved.empty:
        return "\n".join(lines + ["No plan has a solution."]) + "\n"
    lines += ["| plan | objective | above optimum | cost | carbon (tCO2e) | patient-km | mean km | "
              "worst footprint (mean km) | distance to optimum | to nearest plan | gap | run |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in solved.itertuples():
        lines.append(f"| {r.plan} | £{r.objective_gbp / 1e6:,.2f}m | {r.above_optimum:.2%} | "
                     f"£{r.cost / 1e6:,.2f}m | {r.carbon:,.0f} | {r.patient_km:,.0f} | {r.mean_km:.1f} | "
                     f"{r.worst_footprint} ({r.worst_footprint_mean_km:.1f}) | {r.distance_to_optimum:.0f} | "
                     f"{r.distance_to_nearest:.0f} | £{(r.gap_abs or 0):,.0f} | {r.run_dir} |")
    counts = agreement["verdict"].value_counts().to_dict() if not agreement.empty else {}
    lines += ["", "Distance: site-years where one plan has wards and the other none, plus "
              "ward-years of difference. Each plan's gap is its own proven gap; objectives closer "
              "than the gaps are not distinguishable."
              + (" An alternative found by price has the gap of its priced objective (the objective "
                 "less the price times its distance from the plans before it): no plan does better "
                 "on that by more than the gap; its objective's place within the slack is exact."
                 if method == "price" else ""), "",
              "## Agreement per site and service (final-year wards)", "",
              f"- {EVERY}: {counts.get(EVERY, 0)}", f"- {CHOICE}: {counts.get(CHOICE, 0)}",
              f"- {NONE}: {counts.get(NONE, 0)}", ""]
    choice = agreement[agreement["verdict"] == CHOICE] if not agreement.empty else agreement
    if not choice.empty:
        lines += ["A matter of choice:", ""]
        for r in choice.itertuples():
            lines.append(f"- {r.site} ({r.name}) {r.service}: {r.min_wards}-{r.max_wards} wards "
                         f"(today {r.wards_today})")
    lines += ["", "agreement.csv has every site and service; map.png shows the units."]
    return "\n".join(lines) + "\n"
