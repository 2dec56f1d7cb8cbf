"""map.html and the report opened in a real headless Chromium with the network disabled: the
footprints, hubs, sites and flows must be drawn (counted in the page's SVG after plotly.js ran),
and the report's pages must render. Without Chromium these tests are skipped, saying so."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from model.gis.maps.web import FLOW_UID, FOOTPRINT_UID, HUB_UID, SITE_UID
from model.report.browser import dump_dom, find_chromium

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="Chromium not found: the browser tests need it (apt-get install chromium); NOT RUN")


class _Drawn(HTMLParser):
    """Counts, per plotly trace id, the SVG paths drawn with a non-empty outline: fills
    (`js-fill`), lines (`js-line`) and markers (`point`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.counts: Counter[tuple[str, str]] = Counter()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        trace = None
        m = re.search(r"\btrace scatter trace(\S+)", a.get("class") or "")
        if tag == "g" and m:
            trace = m.group(1)
        elif self.stack:
            trace = self.stack[-1]
        if tag == "path" and trace and re.search(r"[Mm]\s*-?\d", a.get("d") or ""):
            kind = (a.get("class") or "").split()
            for k in ("js-fill", "js-line", "point"):
                if k in kind:
                    self.counts[(trace, k)] += 1
        if tag not in ("path", "rect", "circle", "line", "br", "img", "meta", "link", "input"):
            self.stack.append(trace)

    def handle_endtag(self, tag):
        if tag not in ("path", "rect", "circle", "line", "br", "img", "meta", "link", "input") \
                and self.stack:
            self.stack.pop()

    def total(self, prefix: str, kind: str) -> int:
        return sum(n for (t, k), n in self.counts.items() if t.startswith(prefix) and k == kind)


def test_map_draws_everything_offline(demo_run):
    run = demo_run.run_dir
    page = (run / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)  # nothing to fetch
    drawn = _Drawn()
    drawn.feed(dump_dom(run / "map.html"))
    gpkg = run / "configuration.gpkg"
    footprints = gpd.read_file(gpkg, layer="footprints")
    hubs = gpd.read_file(gpkg, layer="hubs")
    sites = gpd.read_file(gpkg, layer="sites")
    flows = gpd.read_file(gpkg, layer="flows")
    final = flows["year"].max()
    # every footprint filled, every hub outlined, every site marked, every final-year flow drawn
    # (one path per flow width class, each holding its flows as sub-paths)
    assert drawn.total(FOOTPRINT_UID, "js-fill") == len(footprints) > 0
    assert drawn.total(HUB_UID, "js-line") == len(hubs) > 0
    assert drawn.total(SITE_UID, "point") == len(sites) > 0
    lines = drawn.total(f"{FLOW_UID}{final}", "js-line")
    assert 1 <= lines <= len(flows[flows["year"] == final])
    assert drawn.total(f"tip{final}", "point") == len(flows[flows["year"] == final])
    # earlier years are in the legend, not drawn until chosen
    assert drawn.total(f"{FLOW_UID}{final - 1}", "js-line") == 0
    assert "Flows 2017 (beds placed)" in page


def test_map_tooltips_carry_each_sites_decisions(demo_run):
    page = (demo_run.run_dir / "map.html").read_text(encoding="utf-8")
    decisions = pd.read_csv(demo_run.run_dir / "decisions.csv")
    changed = decisions[decisions["action"] != "keep"].iloc[0]
    text = page.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u002f", "/")
    assert f"{changed['year']}: <b>{changed['action']}</b>" in text
    assert f"{changed['name']}" in text


def test_report_prints_to_a4_pages_that_render(demo_run, tmp_path):
    """The PDF Chromium prints: A4 pages, an England page, one per hub, the caveats; each page
    rasterised (pdftoppm) shows ink, and the map page shows the map's colours."""
    from model.report import write_report

    made = write_report(demo_run.run_dir, output=tmp_path, pdf=True)
    assert made.pdf is not None, made.note
    data = made.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    hubs = pd.read_csv(demo_run.run_dir / "decisions.csv")["hub"].nunique()
    assert len(sizes) >= 3 + hubs  # England (headline, map, changes), a page per hub, caveats
    assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in sizes)  # A4
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not found: the PDF was printed but its pages "
                    "were NOT rasterised and checked")
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(made.pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(sizes)
    blue = []
    for page in pages:
        with Image.open(page) as im:
            px = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
        ink = (px.sum(axis=1) < 600).mean()
        assert ink > 0.005, f"{page.name} is blank"
        # the in-hub share blues of the footprints (#4393c3, #92c5de)
        blue.append(((px[:, 2] > 180) & (px[:, 0] < 170) & (px[:, 2] - px[:, 0] > 60)).mean())
    assert max(blue) > 0.05  # the map page: the footprints are drawn
