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


def __getattr__(name: str):
    # imported on first use, so that `import model` stays light (no Pyomo, no solver), yet
    # `from model import solve_scenario` is the function itself: its signature and arguments
    # show in help()
    if name == "solve_scenario":
        from model.run import solve_scenario

        return solve_scenario
    raise AttributeError(f"module 'model' has no attribute {name!r}")
