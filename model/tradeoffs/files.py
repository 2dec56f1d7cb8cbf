"""The registry of what `bedplan frontier` and `bedplan alternatives` write into their folders:
each file's purpose and, for the CSV tables, every column's unit and meaning. Each table is
written through ``conform`` (its columns checked against the registry and put in its order), and
``markdown`` renders the registry into docs/data-dictionary.md (``make docs``; a test fails when
they differ). To add a column, add it here and write the code that computes it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class OutputColumn:
    name: str
    unit: str
    meaning: str
    optional: bool = False  # written only in some runs (the condition is in `meaning`)


@dataclass(frozen=True)
class OutputTable:
    file: str
    command: str
    what: str
    columns: tuple[OutputColumn, ...]
    # one column for each plan, named by the plan's label (e.g. `optimum`, `alt-01`), after the
    # column named `plans_after`
    plan_column: OutputColumn | None = None
    plans_after: str | None = None

    def names(self) -> list[str]:
        return [c.name for c in self.columns]


C = OutputColumn

_KPIS = (
    C("mean_km", "km", "England's mean distance from home of a placed bed-year, all years."),
    C("in_hub_share", "share", "England's share of placed bed-years within the patient's own hub, "
      "all years."),
    C("unmet_beds", "bed-years", "Unmet need over the horizon."),
    C("worst_footprint", "", "The footprint with the largest mean km (fairness.csv)."),
    C("worst_footprint_mean_km", "km", "That footprint's mean km."),
    C("gini_mean_km", "index 0-1", "Population-weighted Gini index of footprints' mean km."),
    C("share_over_far_km", "share", "Share of placed bed-years farther than `policy.far_km`."),
)

_OBJECTIVE_VALUES = (
    C("cost", "GBP", "Financial cost over the horizon, discounted (capital less residual value, "
      "running, occupied beds, community places)."),
    C("carbon", "tCO2e", "Carbon over the horizon: estate, beds, embodied in builds, patients' and "
      "visitors' travel."),
    C("patient_km", "km", "Patient-km from home over the horizon (a placed bed-year times its km)."),
)

FRONTIER = OutputTable(
    "frontier.csv", "frontier",
    "Every grid point (loosest bound first; a three-objective frontier's cells by outer, then "
    "inner index), the supported points of `--supported`, then the weighted-sum plan and doing "
    "nothing.",
    (C("kind", "", "`frontier` (a grid point), `supported` (a weighted-sum corner), "
       "`weighted_sum` (the scenario's own objective) or `do_nothing`."),
     C("label", "", "The solve's name: `grid-NN` (`grid-NN-MM` with three objectives), "
       "`supported-NN`, `weighted` or `do_nothing`; the points/ folder keeps its record."),
     C("index", "", "The grid index of the bounded (second) objective; empty for other rows."),
     C("e", "objective's unit", "The bound on the second objective at this grid point."),
     C("index3", "", "Three objectives: the grid index of the third objective's bound.", optional=True),
     C("e3", "objective's unit", "Three objectives: the bound on the third objective.", optional=True),
     C("slack3", "objective's unit", "Three objectives: the third objective's slack below its bound.",
       optional=True),
     C("status", "", "`optimal`, `feasible` (stopped with a plan), `bypassed` (skipped: a proven "
       "neighbour's plan meets this bound too), `infeasible` (solved, or by the early exit), "
       "`no_solution` (a limit, no plan), `error` or `pending` (not solved yet)."),
     C("same_as", "", "A bypassed point: the label whose plan it takes."),
     C("plan_from", "", "A grid point that took a cheaper plan found after it was solved, meeting "
       "its bound: that plan's label (the point keeps its own proven bound; its own plan stays in "
       "its record in points/)."),
     C("reason", "", "Why a point has no plan of its own (infeasible, time limit, bypassed)."),
     *_OBJECTIVE_VALUES,
     C("worst_km", "km", "The worst footprint's mean km (the minimax objective's measure)."),
     C("gap_abs", "primary's unit", "The proven gap of the primary (first) objective: the plan is "
       "within it of the best plan meeting the same bounds."),
     C("gap_rel", "share", "`gap_abs` over the primary objective's value."),
     C("slack", "objective's unit", "The second objective's slack below its bound (AUGMECON2)."),
     *_KPIS,
     C("run_dir", "", "The point's run folder, relative to the frontier folder."),
     C("worst_km_bound", "km", "Worst-km frontiers: the Dinkelbach iteration's proven lower bound "
       "of the point's worst km at its cost.", optional=True),
     C("point", "", "The distinct plan's name, P1 (best in the primary objective) onwards; two "
       "solves that found the same plan share it."),
     C("dominated_by", "", "The points that dominate this one (empty: efficient)."),
     C("dominated_within_gap", "", "True when the domination is smaller than the points' gaps: it "
       "may be the gaps alone, so the point is kept and marked."),
     ))

ALTERNATIVES = OutputTable(
    "alternatives.csv", "alternatives",
    "One row per plan, the optimum first: its cost and KPIs side by side, how far above the "
    "optimum, and how different from the other plans.",
    (C("plan", "", "`optimum`, then `alt-01`, `alt-02`, ..."),
     C("status", "", "`optimal`, `feasible`, `repeat` (no new plan within the budget), "
       "`infeasible` or `no_solution`."),
     C("reason", "", "Why a plan is missing or a repeat."),
     C("run_dir", "", "The plan's run folder, relative to the alternatives folder."),
     C("price_per_unit", "GBP per unit of distance", "Method `price`: the price that found the plan."),
     C("objective_gbp", "GBP", "The scenario's objective (cost plus carbon and travel at their prices)."),
     C("above_optimum", "share", "`objective_gbp` over the optimum's, less 1."),
     C("within_slack", "", "True when within the budget: optimum x (1 + slack)."),
     *_OBJECTIVE_VALUES,
     *_KPIS,
     C("gap_abs", "GBP", "The proven gap of the solve that found the plan (method `price`: of its "
       "priced objective)."),
     C("distance_to_optimum", "decisions", "Site-years with wards in one plan only, plus ward-years "
       "of difference, against the optimum."),
     C("distance_to_nearest", "decisions", "The same distance to the nearest other plan."),
     C("sites_open_final_year", "sites", "Sites operating in the final year."),
     C("wards_final_year", "wards", "Wards in the final year."),
     ))

AGREEMENT = OutputTable(
    "agreement.csv", "alternatives",
    "One row per site and inpatient service: each plan's final-year wards, and whether the "
    "service is needed in every good plan, in none, or a matter of choice.",
    (C("site", "", "Site code."),
     C("name", "", "Site name."),
     C("footprint", "", "The site's footprint."),
     C("service", "", "Inpatient service."),
     C("wards_today", "wards", "Wards in the base year."),
     C("min_wards", "wards", "The fewest final-year wards in any plan."),
     C("max_wards", "wards", "The most final-year wards in any plan."),
     C("same_every_year_in_every_plan", "", "True when every plan has the same wards every year."),
     C("verdict", "", "`in every good plan` (wards in the final year in every plan), `in no good "
       "plan` (in none) or `a matter of choice`."),
     ),
    plan_column=C("<plan>", "wards", "One column per plan (`optimum`, `alt-01`, ...): its final-year wards."),
    plans_after="wards_today")

TRIES = OutputTable(
    "tries.csv", "alternatives",
    "Method `price`: every solve of the price search, in order.",
    (C("alternative", "", "The alternative the try was for (`alt-01`, ...)."),
     C("label", "", "The try's name (`alt-01.try1`, ...); its record is in points/."),
     C("price", "GBP per unit of distance", "The price on mean distance from the plans found so far."),
     C("verdict", "", "`within budget`, `over budget`, `repeat` (a plan found before) or `no plan`."),
     C("status", "", "The solver's status."),
     C("objective", "GBP", "The plan's objective (the scenario's own, without the price term)."),
     C("distance_to_nearest", "decisions", "The plan's distance to the nearest earlier plan."),
     C("gap_abs", "GBP", "The proven gap of the priced objective."),
     C("solve_seconds", "s", "The solve's wall seconds."),
     C("run_dir", "", "The try's run folder, relative to the alternatives folder."),
     C("kept", "", "True for the try whose plan the alternative kept."),
     ))

TABLES: tuple[OutputTable, ...] = (FRONTIER, ALTERNATIVES, AGREEMENT, TRIES)

#: the other files, by command: (name, what)
OTHER_FILES: tuple[tuple[str, str, str], ...] = (
    ("frontier", "summary.md", "the payoff table, the knee, the implied price between neighbouring "
     "points, the decisions that change along the frontier, and what is proved"),
    ("frontier", "cost_carbon.png, cost_patient_km.png, cost_worst_km.png, <y>_<x>.png",
     "the frontier drawn against the primary objective (three objectives: each pair), with each "
     "point's gap as a bar, doing nothing and the weighted-sum plan marked"),
    ("frontier", "points/, runs/", "each solve's record (resumable) and its full run folder"),
    ("alternatives", "summary.md", "each plan's KPIs, the agreement by site, and what is proved"),
    ("alternatives", "map.png", "sites by verdict: in every good plan, a matter of choice, in none"),
    ("alternatives", "points/, runs/", "each solve's record (resumable) and its full run folder"),
)


def conform(spec: OutputTable, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its columns in the registry's order; a column the registry does not know, or
    a required one missing, is a bug (ValueError), so the registry and the files never drift."""
    if frame.empty and not len(frame.columns):
        return frame
    known = spec.names()
    extra = [c for c in frame.columns if c not in known]
    plans = extra if spec.plan_column is not None else []
    unknown = [c for c in extra if c not in plans]
    missing = [c.name for c in spec.columns if not c.optional and c.name not in frame.columns]
    if unknown or missing:
        raise ValueError(f"{spec.file}: columns not in model/tradeoffs/files.py {unknown}, "
                         f"registered but missing {missing}")
    order = [c for c in known if c in frame.columns]
    if plans:
        at = order.index(spec.plans_after) + 1
        order = order[:at] + plans + order[at:]
    return frame[order]


def markdown() -> list[str]:
    """The trade-off commands' outputs, for docs/data-dictionary.md."""
    lines = ["# Outputs of `bedplan frontier` and `bedplan alternatives`", "",
             "Generated from `model/tradeoffs/files.py`. Each command writes a folder "
             "(`<runs-dir>/frontiers/<name>/`, `<runs-dir>/alternatives/<name>/`); every plan in it "
             "is also a full run folder (the run files in the README).", ""]
    for spec in TABLES:
        lines += [f"## `{spec.file}` (`bedplan {spec.command}`)", "", spec.what, "",
                  "| column | unit | meaning |", "|---|---|---|"]
        for col in spec.columns:
            lines.append(f"| `{col.name}` | {col.unit} | {col.meaning} |")
            if spec.plan_column is not None and col.name == spec.plans_after:
                plan = spec.plan_column
                lines.append(f"| `{plan.name}` | {plan.unit} | {plan.meaning} |")
        lines.append("")
    lines += ["## Other files", "", "| command | file | what |", "|---|---|---|"]
    lines += [f"| `{command}` | `{name}` | {what} |" for command, name, what in OTHER_FILES]
    lines.append("")
    return lines
