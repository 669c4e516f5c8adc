"""Reception Allocator: allocate reception demand to reception locations (Pyomo + HiGHS).

The stages, usable one by one from a notebook or chained by :func:`solve`::

    load_instance -> build_model -> solve_model -> extract_solution -> check_solution -> write_solution
"""

from .check import CheckReport, check_solution
from .errors import InputError, InstanceError, PolicyError, Problem, SolutionError
from .instance import Instance, load_instance
from .model import build_model
from .pipeline import Outcome, solve
from .policy import Policy, load_policy
from .solution import Solution, extract_solution, read_solution, write_solution
from .solver import SolveOptions, SolveResult, Status, solve_model

__all__ = [
    "CheckReport", "Instance", "InputError", "InstanceError", "Outcome", "Policy", "PolicyError", "Problem",
    "Solution", "SolutionError", "SolveOptions", "SolveResult", "Status",
    "build_model", "check_solution", "extract_solution", "load_instance", "load_policy", "read_solution",
    "solve", "solve_model", "write_solution",
]
