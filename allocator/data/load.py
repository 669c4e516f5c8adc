"""Load an instance from a folder of CSV files or from an Excel workbook."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import Problem, SolutionError
from ..core.paths import bundled_instance
from .instance import Instance, is_workbook, load_folder_instance
from .period import summary_instance
from .workbook import load_workbook_instance


def load_instance(path: str | Path) -> Instance:
    """Read and validate the instance folder (or .xlsx workbook) at ``path``; raise InstanceError listing every problem."""
    root = Path(path)
    if is_workbook(root):
        return load_workbook_instance(root)
    return load_folder_instance(root)


def find_instance(summary: dict, folder: str | Path, given: str | Path | None = None) -> Instance:
    """The instance a solution folder was made for: ``given``, else the path in its summary.json (relative to the
    folder), else the bundled instance of that name; SolutionError when none is found or the fingerprint differs."""
    folder = Path(folder)
    facts = summary.get("instance") if isinstance(summary.get("instance"), dict) else {}
    candidates = [Path(given)] if given else []
    if not given:
        source = facts.get("source")
        if isinstance(source, str) and source:
            candidates.append(folder / source if not Path(source).is_absolute() else Path(source))
        if isinstance(facts.get("name"), str) and facts["name"]:
            candidates.append(bundled_instance(facts["name"]))
    tried = []
    for path in candidates:
        if not path.exists():
            tried.append(str(path))
            continue
        instance = load_instance(path)
        if given or instance.fingerprint == facts.get("fingerprint"):
            return summary_instance(instance, summary)
        tried.append(f"{path} (another version: fingerprint {instance.fingerprint[:12]})")
    where = "; ".join(tried) or "no instance named"
    raise SolutionError(
        [
            Problem(
                str(folder / "summary.json"),
                f"the instance of this solution ({facts.get('name')}, fingerprint {str(facts.get('fingerprint'))[:12]}) was not found ({where}): name it after the solution folder, e.g. `allocator check SOLUTION INSTANCE`",
                column="instance",
            )
        ]
    )
