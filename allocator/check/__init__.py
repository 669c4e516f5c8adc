"""The independent checker: a solution folder re-checked against its instance and policy, from the tables alone.

It owes nothing to the model, the solver or the code that wrote the tables: it imports the ground
floor (core), the instance and policy readers (data) and the solution folder format
(results.solution) only. Travel times are recomputed with its own Dijkstra, demand is re-derived
with its own arithmetic, every constraint of models/README.md is re-evaluated by one check per
constraint family (named like the model's builders) for every shape of plan, over its cases (a
snapshot is one case, a plan over periods has one per period and scenario), and the objective and
KPIs are recomputed.
"""

from .checker import CheckReport, check_solution
from .horizon import check_horizon_solution

__all__ = ["CheckReport", "check_horizon_solution", "check_solution"]
