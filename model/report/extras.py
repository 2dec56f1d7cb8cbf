"""The report's closing pages: the data caveats (what is illustrative, from the scenario's
ASSUMPTIONS.md) and, where the run folder or given folders hold them, further analyses.

A further analysis is included only when its files are there, and shown as its own files say
it (its ``summary.md``, its charts, its main table), so the report never guesses at a format:

- a sweep folder (``robustness.csv``): the robustness of each unit across the variants, its
  map and its trade-off chart;
- a frontier folder (``frontier.csv``), an alternatives or a price folder, or any other folder
  with a ``summary.md``: that summary, its PNG charts and its first CSV table.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from model.report.data import RunData
from model.report.pages import image, pct, table

e = html.escape
_ROWS = 40


def caveats_page(run: RunData, footer: str = "") -> str:
    parts = ["<section class='page'><h1>Data caveats</h1>",
             "<p>The model's answer is only as good as its inputs. Figures differing by less "
             "than the proven gaps are indistinguishable. Costs are discounted where the "
             "objective is meant; KPIs are undiscounted.</p>"]
    text = run.assumptions or ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)
                  if "illustrative" in p.lower() and not p.lstrip().startswith("|")]
    parts += [f"<p class='caveat'>{_md_inline(p)}</p>" for p in paragraphs[:6]]
    parts += [f"<p class='note'>{e(n)}</p>" for n in run.notes] + [footer]
    rows = _table_rows(text)
    # rows that are estimates through and through; rows from a source with an estimated part
    # are counted and left to the file
    estimates = [r for r in rows if re.match(r"^\W*\[E\]", r[-1])]
    partly = sum(1 for r in rows if "[E]" in r[-1]) - len(estimates)
    if estimates:
        parts += ["<h2>Estimates and illustrative choices ([E] in ASSUMPTIONS.md)</h2>",
                  table(["item", "value", "status"],
                        [[_md_inline(c) for c in (r[0], _short(r[1]), _short(r[-1]))]
                         for r in estimates], "caveats")]
    if partly > 0:
        parts.append(f"<p class='note'>{partly} further items are taken from a source with an "
                     "estimated part; ASSUMPTIONS.md lists them.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _table_rows(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] != "item":
                rows.append(cells)
    return rows


def _short(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _md_inline(text: str) -> str:
    """Markdown of one paragraph or cell, rendered inline (bold, code, links as text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").renderInline(text)


def analysis_pages(folders: list[Path]) -> str:
    """A section for each folder holding a known analysis; nothing for the others."""
    out = []
    for folder in folders:
        folder = Path(folder)
        if (folder / "robustness.csv").exists():
            out.append(sweep_page(folder))
        elif (folder / "summary.md").exists():
            out.append(summary_page(folder))
    return "\n".join(out)


_VERDICTS = ("kept", "reduced", "decommissioned", "commissioned", "reconfigured", "expanded")


def sweep_page(folder: Path) -> str:
    robust = pd.read_csv(folder / "robustness.csv", keep_default_na=False, na_values=[""])
    parts = [f"<section class='page'><h1>Sweep robustness: {e(folder.name)}</h1>",
             "<p>Share of the sweep's solved variants in which each unit is kept (no change in "
             "any year) or changed in at least one year.</p>"]
    shares = [c for c in _VERDICTS if c in robust.columns]
    label = [c for c in ("name", "site") if c in robust.columns]
    rows = [[" ".join(e(str(r[c])) for c in label), *(pct(r[c]) for c in shares),
             e(str(r.get("verdict", "")))] for r in robust.head(_ROWS).to_dict("records")]
    parts.append(table(["unit", *shares, "verdict"], rows, "robust"))
    if len(robust) > _ROWS:
        parts.append(f"<p class='note'>… {len(robust) - _ROWS} more units in robustness.csv.</p>")
    for png in ("robustness_map.png", "tradeoffs.png", "tornado.png"):
        if (folder / png).exists():
            parts.append(image(folder / png, png, "chart"))
    parts.append("</section>")
    return "\n".join(parts)


def summary_page(folder: Path) -> str:
    """Any other analysis folder, as it describes itself."""
    from markdown_it import MarkdownIt

    text = (folder / "summary.md").read_text(encoding="utf-8")
    # its images are drawn from the folder below, not as links that would break once printed
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    body = MarkdownIt("commonmark").enable("table").render(text)
    parts = [f"<section class='page'><p class='sub'>from {e(folder.name)}</p>", body]
    for png in sorted(folder.glob("*.png")):
        parts.append(image(png, png.name, "chart"))
    parts.append("</section>")
    return "\n".join(parts)
