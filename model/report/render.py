"""``report.html`` (one self-contained file that prints cleanly to A4) and ``report.pdf``
(printed from it by headless Chromium when Chromium is installed)."""

from __future__ import annotations

import html
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from model.errors import OutputError
from model.outputs import ATTRIBUTION, write_atomic
from model.report.browser import find_chromium, print_pdf
from model.report.data import RunData, read_run
from model.report.extras import analysis_pages, caveats_page
from model.report.pages import england_page, hub_page

log = logging.getLogger(__name__)

REPORT_HTML, REPORT_PDF = "report.html", "report.pdf"

CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; margin: 0 auto;
       max-width: 186mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #003087; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; color: #003087; border-bottom: 1px solid #ccd;
     break-after: avoid; }
.sub, .note { color: #555; font-size: 9pt; }
.headline { font-size: 12pt; background: #eef3fa; padding: 3mm; border-left: 3px solid #005eb8; }
.code { color: #666; font-size: 8pt; }
.caveat { background: #fff6e5; padding: 2mm 3mm; border-left: 3px solid #ed8b00; }
.warnings { background: #fff6e5; padding: 2mm 3mm; border-left: 3px solid #da291c; }
.warnings ul { margin: 1mm 0 0; padding-left: 5mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 1mm 0 3mm; }
th { background: #e8edf4; text-align: left; }
th, td { border: 1px solid #c8ccd4; padding: 1mm 1.6mm; vertical-align: top; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
img.map { width: 100%; max-height: 195mm; object-fit: contain; }
img.chart { width: 100%; max-height: 62mm; object-fit: contain; break-inside: avoid; }
.pair { display: flex; gap: 4mm; align-items: flex-start; }
.pair > div { flex: 1; }
section.hub table { font-size: 7.8pt; }
section.hub th, section.hub td { padding: 0.6mm 1.4mm; }
section.hub h2 { margin-top: 3mm; }
section.page { break-after: page; }
section.page:last-of-type { break-after: auto; }
footer { font-size: 7.5pt; color: #666; margin-top: 4mm; }
@media screen { body { padding: 8mm; } section.page { border-bottom: 2px dashed #bbb;
                margin-bottom: 10mm; padding-bottom: 6mm; } }
"""


@dataclass
class Report:
    html: Path
    pdf: Path | None
    note: str  # what happened to the PDF, in words for the user


def render(run: RunData, analyses: list[Path]) -> str:
    with tempfile.TemporaryDirectory(prefix="bedplan-report-") as tmp:
        chart = _saving_chart(run, Path(tmp) / "saving.svg")
        pages = [england_page(run, chart)]
        pages += [hub_page(run, hub, name) for hub, name in run.hubs()]
        footer = (f"<footer>{html.escape(ATTRIBUTION)} Made by bedplan from the run folder "
                  f"{html.escape(run.folder.name)}.</footer>")
        pages += [caveats_page(run, footer), analysis_pages(analyses)]
    title = html.escape(f"{run.scenario}: recommended secure bed plan")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{CSS}</style></head><body>{''.join(pages)}</body></html>")


def write_report(run_dir: Path, analyses: list[Path] | None = None, output: Path | None = None,
                 pdf: bool = True, overwrite: bool = False) -> Report:
    """Write report.html (and report.pdf when Chromium is there) for a finished run folder.

    Into `output` (default: the run folder). An existing report is kept unless `overwrite`.
    """
    run = read_run(Path(run_dir))
    out = Path(output) if output is not None else run.folder
    out.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out / REPORT_HTML, out / REPORT_PDF
    existing = [p.name for p in (html_path, pdf_path) if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"refusing to overwrite {', '.join(existing)} in {out}: choose another "
                          "folder with --output (nothing was written)")
    write_atomic(html_path, render(run, list(analyses or [])).encode("utf-8"))
    if not pdf:
        return Report(html_path, None, "PDF not asked for")
    chromium = find_chromium()
    if chromium is None:
        return Report(html_path, None, "PDF not made: Chromium is not installed (install the "
                      "chromium package, or print report.html from a browser)")
    try:
        return Report(html_path, print_pdf(html_path, pdf_path, chromium), "PDF printed by Chromium")
    except Exception as exc:  # the HTML stands on its own
        log.exception("report.pdf not made")
        return Report(html_path, None, f"PDF not made: {exc}")


def _saving_chart(run: RunData, path: Path) -> Path | None:
    """Horizontal bars: each lever's saving, with its gaps as an error bar."""
    if run.saving is None or run.saving.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = run.saving.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(s) + 0.8))
    colors = ["#005eb8" if v >= 0 else "#d7191c" for v in s["saving_gbp"]]
    ax.barh(s["label"], s["saving_gbp"] / 1e6, color=colors,
            xerr=s["gaps_gbp"].fillna(0) / 1e6, capsize=3, ecolor="#555555")
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xlabel("saving, £m discounted (error bars: the proven gaps)", fontsize=8)
    ax.tick_params(labelsize=7.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.savefig(path, format="svg", bbox_inches="tight")
    plt.close(fig)
    return path
