"""The board report of a run: one self-contained HTML file that prints cleanly to A4, and its
PDF printed by headless Chromium.

- :mod:`.data`: what the report reads from a run folder (files only, so a report can be made
  again from any finished run);
- :mod:`.pages`: the England page and one page per hub;
- :mod:`.extras`: the data caveats, and further analyses where their folders are given;
- :mod:`.render`: the page, its print CSS, the saving chart, writing HTML and PDF;
- :mod:`.browser`: headless Chromium (PDF printing; the browser tests).
"""

from model.report.render import REPORT_HTML, REPORT_PDF, Report, write_report

__all__ = ["REPORT_HTML", "REPORT_PDF", "Report", "write_report"]
