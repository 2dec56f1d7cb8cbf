from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "scenarios" / "demo"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo scenario solved once, with its run folder (baseline included)."""
    from model.run import solve_scenario

    runs = tmp_path_factory.mktemp("runs")
    return solve_scenario(DEMO, runs_root=runs)
