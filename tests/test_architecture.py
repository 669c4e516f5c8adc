"""The package's floors: imports only point down, and the checker owes nothing to the model, at import time too."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import INSTANCES, ROOT

PACKAGE = ROOT / "allocator"
FLOORS = {
    "core": 0,
    "data": 1,
    "model": 2,
    "solve": 3,
    "results": 4,
    "check": 4,
    "analysis": 5,
    "reports": 6,
    "commands": 7,
    "workbench": 7,
}
# The checker may read instances, policies and solution folders, and nothing that produces a plan.
CHECK_MAY_IMPORT = ("allocator.core", "allocator.data", "allocator.results.solution", "allocator.check")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path) -> set[str]:
    """Every allocator module ``name`` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= {f"{target}.{a.name}" if f"{target}.{a.name}" in modules() else target for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {t for t in found if t.startswith("allocator.")}


def floor(module: str) -> int:
    return FLOORS[module.split(".")[1]]


@pytest.mark.parametrize("name", [m for m in modules() if m.count(".") >= 1])
def test_imports_point_down(name):
    path = modules()[name]
    own = floor(name)
    for target in imports(name, path):
        if name.startswith("allocator.check"):
            assert target.startswith(CHECK_MAY_IMPORT), (
                f"{name} imports {target}: the checker must owe nothing to the model or the producing code"
            )
        else:
            assert floor(target) <= own, (
                f"{name} (floor {own}) imports {target} (floor {floor(target)}): imports point down"
            )
            if target.startswith("allocator.check"):
                assert own > FLOORS["results"], f"{name} imports the checker from below it"


def test_no_import_cycles():
    graph = {name: imports(name, path) for name, path in modules().items()}
    seen, stack = set(), set()

    def visit(node, trail):
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join(trail + [node]))
        if node in seen or node not in graph:
            return
        stack.add(node)
        for nxt in sorted(graph[node]):
            visit(nxt, trail + [node])
        stack.discard(node)
        seen.add(node)

    for name in graph:
        visit(name, [])


# Pyomo and HiGHS made unimportable: the checker must still read and check a solution folder.
HIDDEN = """
import sys, importlib.abc
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('pyomo', 'highspy'):
            raise ImportError(f'{name} is hidden in this test')
sys.meta_path.insert(0, Hide())
"""


def test_the_checker_works_without_pyomo_and_highs(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.commands.main",
            "solve",
            str(INSTANCES / "tiny-two-provinces"),
            "--out",
            str(tmp_path / "sol"),
        ],
        check=True,
        capture_output=True,
    )
    script = (
        HIDDEN
        + f"""
from allocator.check import check_solution
from allocator.data.load import load_instance
from allocator.results.solution import read_solution
report = check_solution(read_solution({str(tmp_path / "sol")!r}), load_instance({str(INSTANCES / "tiny-two-provinces")!r}))
assert report.passed, report.violations
loaded = [m for m in sys.modules if m.split('.')[0] in ('pyomo', 'highspy') or m.startswith(('allocator.model', 'allocator.solve.highs', 'allocator.results.extract', 'allocator.analysis'))]
assert not loaded, loaded
print('checked', report.objective)
"""
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("checked")


def test_the_command_line_starts_without_the_solver():
    script = "import sys; import allocator.commands.main; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyomo', 'highspy', 'pandas', 'scipy', 'matplotlib', 'fastapi', 'uvicorn')))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def constraint_builders(kinds: tuple[str, ...] = ("Constraint",)) -> dict[str, set[str]]:
    """Component name -> the functions of allocator/model that assign it (``m.<name> = pyo.Constraint(...)``, or
    another of ``kinds``)."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / "model").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and node.value.func.attr in kinds
                ):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute):
                            found.setdefault(target.attr, set()).add(f"{path.stem}.{func.name}")
    return found


def test_one_builder_per_constraint_family():
    """One model for every shape: a snapshot, periods and scenarios, and the allocation decision share each
    family's builder; no floor holds a second copy of a constraint family."""
    builders = constraint_builders()
    assert {"demand_balance", "site_capacity", "budget_limit", "state_transition"} <= set(builders)
    twice = {name: sorted(where) for name, where in builders.items() if len(where) > 1}
    assert not twice, f"constraint families built in more than one function: {twice}"


def test_one_builder_per_set_variable_and_cost():
    """Sets, variables, the parts of the cost and the objective are built once for every shape of model too: no
    two modules of allocator/model define a builder of the same name, and no component is assigned in two."""
    builders = constraint_builders(("Set", "Var", "Expression", "Objective", "Constraint"))
    assert {"open_site", "placed", "unmet", "site_cost_total"} <= set(builders)
    twice = {name: sorted(where) for name, where in builders.items() if len(where) > 1}
    assert not twice, f"model components built in more than one function: {twice}"
    defined: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / "model").glob("*.py")):
        for func in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(func, ast.FunctionDef) and func.name.startswith("add_"):
                defined.setdefault(func.name, set()).add(path.stem)
    again = {name: sorted(where) for name, where in defined.items() if len(where) > 1}
    assert not again, f"builders defined in more than one module: {again}"


def test_one_greedy_start_for_every_shape():
    """One starting plan for a snapshot, a plan over periods and the allocation decision: no two modules of
    allocator/model define a function or class of the same name, and one function of allocator/model makes a start."""
    defined: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / "model").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.setdefault(node.name, set()).add(path.stem)
    again = {name: sorted(where) for name, where in defined.items() if len(where) > 1}
    assert not again, f"defined in more than one module of allocator/model: {again}"
    starts = sorted(
        f"{path.relative_to(ROOT)}:{node.name}"
        for path in (PACKAGE / "model").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_start")
    )
    assert starts == ["allocator/model/start.py:greedy_start"], starts


# The families a snapshot and a plan over periods share; the checker has one check of each, over the plan's cases.
SHARED_FAMILIES = (
    "domains",
    "demand_balance",
    "site_capacity",
    "group_capacity",
    "site_min_size",
    "large_site_per_province",
    "operator_choice",
    "fixings",
    "arcs",
    "mean_travel_limit",
    "budget_limit",
    "fair_share",
    "objective",
    "kpis",
)


def test_one_check_per_constraint_family():
    """One checker for every shape of plan: each shared family is checked by one function of check/families.py,
    whatever the plan's periods and scenarios, and no module of allocator/check defines a check of the same name
    again. decision.py checks an allocation decision's own tables (committed and added places) and stands apart."""
    defined: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / "check").glob("*.py")):
        if path.stem == "decision":
            continue
        for func in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(func, ast.FunctionDef) and func.name.startswith("check_"):
                defined.setdefault(func.name, set()).add(path.stem)
    again = {name: sorted(where) for name, where in defined.items() if len(where) > 1}
    assert not again, f"checks defined in more than one module: {again}"
    missing = [f for f in SHARED_FAMILIES if defined.get(f"check_{f}") != {"families"}]
    assert not missing, f"shared families without their one check in check/families.py: {missing}"
    from allocator.check.families import SHARED

    assert [c.__name__ for c in SHARED] == [f"check_{f}" for f in SHARED_FAMILIES]


def _functions_by_name(floor: str) -> dict[str, set[str]]:
    """Function name -> the modules of allocator/``floor`` that define it at their top level."""
    defined: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / floor).glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.setdefault(node.name, set()).add(path.stem)
    return defined


def test_one_function_per_name_in_reports():
    """A snapshot's reports and a plan's over several periods share their lines, page shell and figure styling: no
    two modules of allocator/reports define a function of the same name (a second copy would drift apart)."""
    defined = _functions_by_name("reports")
    assert {"format_summary", "format_horizon_summary", "page_html", "figure_html"} <= set(defined)
    again = {name: sorted(where) for name, where in defined.items() if len(where) > 1}
    assert not again, f"functions defined in more than one module of allocator/reports: {again}"


def test_one_extraction_and_one_folder_format():
    """One results floor for every shape of plan: a table a snapshot and a plan over periods share is made by one
    function over the model's cases, and their folders are written and read by one module; no two modules of
    allocator/results define a function of the same name (private helpers included), and none is a module of one
    shape alone."""
    defined = _functions_by_name("results")
    again = {name: sorted(where) for name, where in defined.items() if len(where) > 1}
    assert not again, f"functions defined in more than one module of allocator/results: {again}"
    shared = ("placements_table", "municipalities_table", "provinces_table", "amount", "unmet_penalty")
    assert all(defined.get(name) == {"extract"} for name in shared), {name: defined.get(name) for name in shared}
    assert defined.get("write_solution") == {"solution"} and defined.get("fill_solution") == {"solution"}
    twins = sorted(p.stem for p in (PACKAGE / "results").glob("*.py") if "horizon" in p.stem)
    assert not twins, f"modules of allocator/results for plans over periods alone: {twins}"
