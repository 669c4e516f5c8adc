"""Measure the routes from a built Pyomo model to HiGHS, apart from HiGHS' own solve time.

Run from the repository root:  python benchmarks/handoff.py
Prints a markdown report and writes it to benchmarks/HANDOFF.md.

Instance nl-2024, policy "default". Every route gets the same built MIP model (integrality
included) and tells HiGHS to solve its LP relaxation (HiGHS option solve_relaxation):
  * the LP optimum value is unique, so all routes must report the same objective, which
    checks that each route handed over the same model and loaded the values back correctly;
  * it takes a fraction of a second, so the hand-off cost is not drowned in solve time.
The whole MIP in one HiGHS call is not a fair yardstick: within 20 s it stops at the time limit
with an incumbent far from optimal, and which incumbent depends on column order, so objectives
would differ between routes for reasons that have nothing to do with the hand-off.
Other HiGHS options are the same for every route: 1 thread, time_limit 20 s, mip_rel_gap 1e-4,
random_seed 0.

Each route runs REPEATS full passes (fresh HiGHS object: hand-off, run, load-back); the table
shows the median of each column. Columns:
  hand-off   Pyomo model -> HiGHS model ready to run
  HiGHS run  wall time of Highs.run()
  load-back  solution -> values of the Pyomo variables
  other      rest of the interface's solve() call (options, output capture, results object)
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "HANDOFF.md"
INSTANCE = ROOT / "instances" / "nl-2024"
POLICY = "default"
REPEATS = 3
HIGHS_OPTIONS = {"threads": 1, "time_limit": 20.0, "mip_rel_gap": 1e-4, "random_seed": 0, "solve_relaxation": True}
REL_TOL = 1e-7  # objectives within this relative difference count as equal


def import_time_pyomo_environ() -> float:
    """Median time of `import pyomo.environ` in a fresh interpreter (after one unmeasured warm-up run)."""
    code = "import time; t = time.perf_counter(); import pyomo.environ; print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
        for _ in range(REPEATS + 1)
    ]
    return statistics.median(runs[1:])


# Imports below this line are what the routes need; pyomo.environ is timed above in a subprocess.
import highspy  # noqa: E402
import numpy as np  # noqa: E402
import pyomo  # noqa: E402
import pyomo.environ as pyo  # noqa: E402
from pyomo.common.timing import HierarchicalTimer  # noqa: E402
from pyomo.contrib.appsi.base import LegacySolverInterface  # noqa: E402
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory  # noqa: E402
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler  # noqa: E402

from allocator.data.load import load_instance  # noqa: E402
from allocator.data.policy import load_policy  # noqa: E402
from allocator.model.build import build_model  # noqa: E402
from allocator.solve import highs as allocator_solve  # noqa: E402


def clear_values(model) -> None:
    """Forget the values of free variables, so a route that fails to load one is caught."""
    for v in model.component_data_objects(pyo.Var, descend_into=True):
        if not v.fixed:
            v.set_value(None, skip_validation=True)


def pyomo_objective(model) -> float | None:
    """Objective evaluated by Pyomo from the loaded values (None if a variable was not loaded)."""
    try:
        return float(pyo.value(model.total_cost))
    except (ValueError, TypeError):
        return None


# --- Route 1: pyomo.contrib.solver persistent HiGHS interface ("highs") -------------------
def route_contrib(model) -> dict:
    opt = ContribSolverFactory("highs")
    options = {k: v for k, v in HIGHS_OPTIONS.items() if k not in ("threads", "time_limit", "mip_rel_gap")}
    t0 = time.perf_counter()
    res = opt.solve(
        model,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        threads=HIGHS_OPTIONS["threads"],
        time_limit=HIGHS_OPTIONS["time_limit"],
        rel_gap=HIGHS_OPTIONS["mip_rel_gap"],
        solver_options=options,
    )
    wall = time.perf_counter() - t0
    timer = res.timing_info.timer  # solve() times set_instance (the hand-off) and run() ('optimize')
    handoff, run = timer.get_total_time("set_instance"), timer.get_total_time("optimize")
    t0 = time.perf_counter()
    res.solution_loader.load_vars()
    load = time.perf_counter() - t0
    return dict(
        handoff=handoff,
        run=run,
        load=load,
        other=wall - handoff - run,
        status=str(res.termination_condition.name),
        objective=res.incumbent_objective,
    )


# --- Route 2: appsi_highs through pyomo.environ.SolverFactory ----------------------------
def route_appsi(model) -> dict:
    opt = pyo.SolverFactory("appsi_highs")
    opt.config.load_solution = False
    opt.highs_options = dict(HIGHS_OPTIONS)
    timer = HierarchicalTimer()
    t0 = time.perf_counter()
    # The legacy solve() wrapper hides its timer; call the APPSI solve() underneath it.
    res = super(LegacySolverInterface, opt).solve(model, timer=timer)
    wall = time.perf_counter() - t0
    handoff, run = timer.get_total_time("set_instance"), timer.get_total_time("optimize")
    t0 = time.perf_counter()
    res.solution_loader.load_vars()
    load = time.perf_counter() - t0
    return dict(
        handoff=handoff,
        run=run,
        load=load,
        other=wall - handoff - run,
        status=str(res.termination_condition.name),
        objective=res.best_feasible_objective,
    )


# --- Route 3: LP file written by Pyomo, read by highspy, values mapped back by name ----------
def route_lp_file(model) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.lp")
        t0 = time.perf_counter()
        _, smap_id = model.write(path, io_options={"symbolic_solver_labels": True})
        h = new_highs()
        h.readModel(path)
        handoff = time.perf_counter() - t0
    run = run_highs(h)
    status, objective = h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value
    t0 = time.perf_counter()
    by_name = model.solutions.symbol_map[smap_id].bySymbol
    for name, value in zip(h.allVariableNames(), h.getSolution().col_value):
        var = by_name.get(name)
        if var is not None:  # None: the writer's ONE_VAR_CONSTANT column
            var.set_value(value, skip_validation=True)
    load = time.perf_counter() - t0
    del model.solutions.symbol_map[smap_id]
    return dict(handoff=handoff, run=run, load=load, other=0.0, status=status, objective=objective)


# --- Route 4: ours, standard-form compiler -> arrays -> highspy (allocator/solver.py) ---------
def route_standard_form(model) -> dict:
    options = allocator_solve.SolveOptions(
        time_limit=HIGHS_OPTIONS["time_limit"],
        gap=HIGHS_OPTIONS["mip_rel_gap"],
        threads=HIGHS_OPTIONS["threads"],
        seed=HIGHS_OPTIONS["random_seed"],
    )
    t0 = time.perf_counter()
    compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
    offset = float(compiled.c_offset[0]) if len(compiled.c_offset) else 0.0
    (block,) = allocator_solve._make_blocks(compiled, decompose=False)
    h = allocator_solve._highs(block, options, time.monotonic() + options.time_limit, block.integer)
    h.setOptionValue("solve_relaxation", HIGHS_OPTIONS["solve_relaxation"])
    handoff = time.perf_counter() - t0
    run = run_highs(h)
    status, objective = h.modelStatusToString(h.getModelStatus()), offset + h.getInfo().objective_function_value
    t0 = time.perf_counter()
    x = np.zeros(len(compiled.columns))
    x[block.columns] = h.getSolution().col_value
    allocator_solve._load(model, compiled.columns, x)
    load = time.perf_counter() - t0
    return dict(handoff=handoff, run=run, load=load, other=0.0, status=status, objective=objective)


def new_highs() -> highspy.Highs:
    h = allocator_solve._new_highs()  # swallows the banner of the first Highs object
    h.setOptionValue("output_flag", False)
    for key, value in HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    return h


def run_highs(h: highspy.Highs) -> float:
    t0 = time.perf_counter()
    h.run()
    return time.perf_counter() - t0


ROUTES = {
    "pyomo.contrib.solver `highs` (persistent)": route_contrib,
    "`appsi_highs`": route_appsi,
    "LP file (Pyomo writer -> `readModel`)": route_lp_file,
    "standard-form compiler -> arrays (ours)": route_standard_form,
}


def median_of(passes: list[dict], key: str) -> float:
    return statistics.median(p[key] for p in passes)


def main() -> None:
    allocator_solve.highs_version()  # create the first Highs object now, banner swallowed
    import_s = import_time_pyomo_environ()
    instance, policy = load_instance(INSTANCE), load_policy(POLICY)
    builds = []
    for _ in range(REPEATS):
        gc.collect()
        t0 = time.perf_counter()
        model = build_model(instance, policy)
        builds.append(time.perf_counter() - t0)
    variables = sum(1 for _ in model.component_data_objects(pyo.Var, descend_into=True))
    constraints = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True, descend_into=True))

    # Rounds interleave the routes so drift in machine speed hits them alike.
    passes: dict[str, list[dict]] = {name: [] for name in ROUTES}
    for _ in range(REPEATS):
        for name, route in ROUTES.items():
            clear_values(model)
            gc.collect()
            try:
                p = route(model)
                p["pyomo_objective"] = pyomo_objective(model)
            except Exception as exc:  # a failing route is a result, not a reason to stop
                p = dict(error=f"{type(exc).__name__}: {exc}")
            passes[name].append(p)

    # Table: median of the passes for each column; objectives from the last pass.
    rows = []
    objectives = []
    for name, ps in passes.items():
        failed = [p["error"] for p in ps if "error" in p]
        if failed:
            rows.append(f"| {name} | failed: {failed[0]} | | | | | | | |")
            continue
        last = ps[-1]
        cells = [median_of(ps, k) for k in ("handoff", "run", "load", "other")]
        total = statistics.median(p["handoff"] + p["run"] + p["load"] + p["other"] for p in ps)
        objectives += [p["objective"] for p in ps] + [p["pyomo_objective"] for p in ps]
        pyomo_obj = "not all loaded" if last["pyomo_objective"] is None else f"{last['pyomo_objective']:,.2f}"
        rows.append(
            f"| {name} | {cells[0]:.3f} | {cells[1]:.3f} | {cells[2]:.3f} | {cells[3]:.3f} | {total:.3f} "
            f"| {last['status']} | {last['objective']:,.2f} | {pyomo_obj} |"
        )

    known = [o for o in objectives if o is not None]
    if known and len(known) == len(objectives):
        spread = (max(known) - min(known)) / max(abs(max(known)), 1.0)
        agree = (
            f"All routes and passes agree on the objective: largest relative difference {spread:.1e} "
            f"({'within' if spread <= REL_TOL else 'ABOVE'} the tolerance {REL_TOL:g})."
        )
    else:
        agree = "**Objectives could not be compared: a route failed or did not load every variable.**"
    ok = [
        (statistics.median(p["handoff"] for p in ps), name)
        for name, ps in passes.items()
        if not any("error" in p for p in ps)
    ]
    fastest = f"Fastest hand-off: {min(ok)[1]} ({min(ok)[0]:.3f} s)." if ok else ""

    h = allocator_solve._new_highs()
    lines = [
        "# Hand-off from Pyomo to HiGHS",
        "",
        f"Generated by `python benchmarks/handoff.py` on {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}.",
        "",
        f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        f"- python {platform.python_version()}, pyomo {pyomo.version.version}, highspy {version('highspy')} "
        f"(HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}), numpy {np.__version__}",
        f"- model: instance `nl-2024`, policy `{POLICY}`: {variables:,} variables, {constraints:,} constraints",
        "",
        f"| step | seconds (median of {REPEATS}) |",
        "|---|---:|",
        f"| `import pyomo.environ` (fresh interpreter) | {import_s:.3f} |",
        f"| `build_model` (Pyomo model build) | {statistics.median(builds):.3f} |",
        "",
        "Every route gets the same MIP model and HiGHS solves its LP relaxation (option "
        "`solve_relaxation`; 1 thread, time limit 20 s, mip_rel_gap 1e-4, seed 0): the LP optimum "
        "value is unique, so equal objectives show each route handed over the same model and loaded "
        "the values back. The whole MIP in one HiGHS call is no fair yardstick: in 20 s it stops "
        "at the time limit far from optimal, at an incumbent that depends on column order.",
        "",
        f"Seconds, median of {REPEATS} full passes (fresh HiGHS object each). hand-off: Pyomo model -> "
        "HiGHS model ready to run; HiGHS run: `Highs.run()`; load-back: solution -> Pyomo variables; "
        "other: rest of the interface's `solve()` call; objective (Pyomo): `value(total_cost)` "
        "from the loaded values.",
        "",
        "| route | hand-off | HiGHS run | load-back | other | total | status | objective (HiGHS) | objective (Pyomo) |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
        *rows,
        "",
        agree,
        fastest,
        "",
        "Notes: `appsi_highs` is created with `pyomo.environ.SolverFactory`, but timed through the APPSI "
        "`solve()` under the legacy wrapper (the wrapper hides its timer). The LP-file hand-off includes "
        "writing the file (temporary directory) and `readModel`. Ours is `allocator/solver.py` without "
        "decomposition: `LinearStandardFormCompiler(mixed_form=True)`, `_make_blocks`, `_highs`, `_load`.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    OUT.write_text(text, encoding="utf-8")
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
