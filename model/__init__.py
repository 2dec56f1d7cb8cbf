"""bedplan: planning model for NHS secure mental health services."""

from model.data import ScenarioData, load_scenario
from model.errors import BedplanError, InfeasibleError, NoSolutionError, ScenarioError

__version__ = "0.1.0"

__all__ = [
    "BedplanError",
    "InfeasibleError",
    "NoSolutionError",
    "ScenarioData",
    "ScenarioError",
    "load_scenario",
    "solve_scenario",
]


def solve_scenario(*args, **kwargs):
    """Solve a scenario folder (see model.run.solve_scenario)."""
    from model.run import solve_scenario as _solve

    return _solve(*args, **kwargs)
