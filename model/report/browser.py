"""Headless Chromium, for what only a browser can do: print the report to PDF, and (in tests)
open a page with the network disabled to check what it draws.

Chromium is found on the PATH (``chromium``, ``chromium-browser``, ``google-chrome``) or
from ``BEDPLAN_CHROMIUM``; without it the caller says so and carries on.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Each run starts from a fresh profile, never asks the network for updates or sync, and
# (offline=True) cannot reach any host: every name fails to resolve and the proxy is a dead port.
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--mute-audio")
_OFFLINE = ("--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")


def find_chromium() -> str | None:
    """The Chromium executable, or None when there is none."""
    explicit = os.environ.get("BEDPLAN_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(args: list[str], url: str, *, offline: bool = True, timeout: float = 120,
                 chromium: str | None = None) -> subprocess.CompletedProcess:
    """Run headless Chromium on `url` with `args` (e.g. ``--dump-dom``) in a fresh profile."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("Chromium not found (install the chromium package, or set "
                                "BEDPLAN_CHROMIUM to its executable)")
    with tempfile.TemporaryDirectory(prefix="bedplan-chromium-") as profile:
        cmd = [exe, *_FLAGS, *(_OFFLINE if offline else ()), f"--user-data-dir={profile}",
               *args, url]
        log.debug("running %s", " ".join(cmd))
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def print_pdf(html_path: Path, pdf_path: Path, chromium: str | None = None) -> Path:
    """Print `html_path` to `pdf_path` as Chromium prints it (the page's print CSS decides
    the paper size and the page breaks)."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    tmp = pdf_path.with_name(f".{pdf_path.name}.tmp")
    proc = run_chromium(["--no-pdf-header-footer", "--virtual-time-budget=20000",
                         f"--print-to-pdf={tmp}"], html_path.as_uri(), chromium=chromium)
    if not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"Chromium did not print {html_path.name} (exit {proc.returncode}): "
                           + proc.stderr.strip()[-500:])
    os.replace(tmp, pdf_path)
    return pdf_path


def dump_dom(html_path: Path, width: int = 1400, height: int = 1000) -> str:
    """The page's DOM after its scripts ran, opened with the network disabled."""
    proc = run_chromium(["--virtual-time-budget=20000", f"--window-size={width},{height}",
                         "--dump-dom"], Path(html_path).resolve().as_uri())
    return proc.stdout
