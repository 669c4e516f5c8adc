"""Reception Allocator: allocate reception demand to reception locations (Pyomo + HiGHS).

The stages, usable one by one from a notebook or chained by :func:`solve`::

    load_instance -> build_model -> solve_model -> extract_solution -> check_solution -> write_solution

The package is arranged in floors; imports only point down (README, "Developers")::

    core -> data -> model -> solve -> results -> analysis -> reports -> commands
                                        \\-> check (independent: core, data, results.solution only)

The names below are imported when first used, so that ``import allocator.check`` (or
``allocator --help``) does not load Pyomo or HiGHS.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "AllocatorError": "core.errors",
    "InputError": "core.errors",
    "InstanceError": "core.errors",
    "PolicyError": "core.errors",
    "Problem": "core.errors",
    "SolutionError": "core.errors",
    "Instance": "data.instance",
    "load_instance": "data.load",
    "Policy": "data.policy",
    "load_policy": "data.policy",
    "build_model": "model.build",
    "SolveOptions": "solve.options",
    "SolveResult": "solve.options",
    "Status": "solve.options",
    "solve_model": "solve.highs",
    "Solution": "results.solution",
    "read_solution": "results.solution",
    "write_solution": "results.solution",
    "extract_solution": "results.extract",
    "CheckReport": "check",
    "check_solution": "check",
    "Outcome": "analysis.pipeline",
    "solve": "analysis.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'allocator' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
