"""The per-variant results table of a sweep's summary.md: one row per variant with its
parameter values, status, proven gap and results, so the morning read shows every variant."""

from __future__ import annotations

from typing import Any

import pandas as pd

#: (column, heading, scale, digits)
COLUMNS = (("objective", "objective £m", 1e-6, 1), ("gap_rel", "gap", None, 3),
           ("cost_gbp", "cost £m", 1e-6, 1), ("carbon_t", "carbon kt", 1e-3, 1),
           ("patient_km", "patient-km k", 1e-3, 1), ("in_hub_share", "in hub", None, 1),
           ("unmet_beds", "unmet", 1.0, 1), ("delayed_discharges", "delayed", 1.0, 1))
MAX_ROWS = 300


def variant_table_lines(parameters: list[str], results: pd.DataFrame) -> list[str]:
    """Markdown lines: a table of every variant (at most MAX_ROWS; the rest in plan.xlsx)."""
    if results.empty:
        return []
    cols = [c for c in COLUMNS if c[0] in results.columns]
    params = [p for p in parameters if p in results.columns]
    head = ["variant", *params, "status", *(c[1] for c in cols)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ordered = results.sort_values("index") if "index" in results.columns else results
    for _, r in ordered.head(MAX_ROWS).iterrows():
        cells = [_text(r.get("label", r.get("variant"))), *(_value(r[p]) for p in params),
                 _text(r["status"])]
        for col, _head, scale, digits in cols:
            v = r[col]
            if v is None or pd.isna(v):
                cells.append("")
            elif scale is None:
                cells.append(f"{float(v):.{digits}%}")
            else:
                cells.append(f"{float(v) * scale:,.{digits}f}")
        lines.append("| " + " | ".join(cells) + " |")
    if len(results) > MAX_ROWS:
        lines.append(f"| ... {len(results) - MAX_ROWS} more in plan.xlsx and results.parquet |"
                     + " |" * (len(head) - 1))
    return lines


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return _text(v)


def _text(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")
