"""A plan over several periods as tables (HorizonSolution) and the solution folder that holds them.

One row per site, period and scenario in the timeline: the integrated plan has the same states in
every scenario (one site plan for the band), the myopic baseline of a band has one plan per
scenario. ``moves`` counts person-moves out of a site: the fall of its load from the period before. Like results.solution, this module knows the folder's format only, so the independent
checker reads folders through it. The folder is written whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import Problem, SolutionError
from ..core.outputs import Claim, write_folder
from .solution import Summarised, _jsonable, _portable, number_text

STATES = ("closed", "open", "standby")
EVENTS = ("opening", "closing", "extension")
TABLES = ("timeline", "events", "placements", "municipalities", "periods", "scenarios", "provinces")
COLUMNS = {
    "timeline": [
        "site",
        "name",
        "province",
        "kind",
        "status",
        "period",
        "scenario",
        "state",
        "event",
        "placed",
        "moves",
        "capacity",
    ],
    "events": ["scenario", "period", "site", "name", "province", "kind", "event", "cost"],
    "placements": [
        "municipality",
        "site",
        "period",
        "scenario",
        "placed",
        "travel_minutes",
        "place_cost",
        "travel_value",
    ],
    "municipalities": ["municipality", "province", "period", "scenario", "demand", "placed", "emergency", "unmet"],
    "periods": [
        "period",
        "scenario",
        "years",
        "need",
        "placed",
        "emergency",
        "unmet",
        "open_sites",
        "standby_sites",
        "open_capacity",
        "openings",
        "closings",
        "extensions",
        "moves",
        "fixed_cost",
        "standby_cost",
        "event_cost",
        "place_cost",
        "emergency_cost",
        "move_cost",
        "total_cost",
        "travel_value",
        "unmet_penalty",
        "registration_occupancy",
        "nights_above_limit",
        "person_nights_above_limit",
    ],
    "scenarios": [
        "scenario",
        "weight",
        "need",
        "placed",
        "emergency",
        "unmet",
        "openings",
        "closings",
        "extensions",
        "moves",
        "site_cost",
        "place_cost",
        "emergency_cost",
        "move_cost",
        "total_cost",
        "travel_value",
        "unmet_penalty",
        "objective",
        "nights_above_limit",
        "registration_penalty",
    ],
    "provinces": [
        "province",
        "name",
        "period",
        "scenario",
        "need",
        "placed",
        "emergency",
        "unmet",
        "open_sites",
        "open_capacity",
        "standby_capacity",
        "moves",
    ],
}
TEXT_COLUMNS = (
    "site",
    "name",
    "province",
    "kind",
    "status",
    "period",
    "scenario",
    "state",
    "event",
    "municipality",
    "group",
)
GROUPED = {
    "placements": "site",
    "municipalities": "municipality",
}  # the tables with demand groups, and the column before


def columns(name: str, grouped: bool) -> list[str]:
    """The columns of table ``name``: with demand groups, placements and municipalities have a ``group`` column."""
    out = list(COLUMNS[name])
    if grouped and name in GROUPED:
        out.insert(out.index(GROUPED[name]) + 1, "group")
    return out


@dataclass(frozen=True, eq=False)
class HorizonSolution(Summarised):
    """Summary (status, objective, plan, KPIs, policy, provenance), the seven tables and, when
    computed, the comparisons with the baselines (``baseline`` holds the myopic plan's solution)."""

    summary: dict
    timeline: pd.DataFrame
    events: pd.DataFrame
    placements: pd.DataFrame
    municipalities: pd.DataFrame
    periods: pd.DataFrame
    scenarios: pd.DataFrame
    provinces: pd.DataFrame
    comparison: pd.DataFrame | None = None  # integrated against myopic, per scenario
    robustness: pd.DataFrame | None = None  # band plan against the mid-only plan, per scenario
    baseline: HorizonSolution | None = field(default=None)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, with the comparisons where present."""
        out = {name: getattr(self, name) for name in TABLES}
        for name in ("comparison", "robustness"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def is_horizon_folder(folder: str | Path) -> bool:
    """A solution folder of a plan over several periods (it has a timeline)."""
    return (Path(folder) / "timeline.csv").is_file()


def write_horizon_solution(
    solution: HorizonSolution, folder: str | Path | Claim, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write summary.json, the tables and the baseline's folder into ``folder``, whole or not at all.

    As for static solutions (:func:`allocator.results.solution.write_solution`): a new folder or a
    solution folder this package wrote, never one of ``inputs``; a Claim writes a target this run holds.
    """
    target = folder.target if isinstance(folder, Claim) else Path(folder)

    def fill(staging: Path) -> None:
        _write_into(solution, staging, target)

    if isinstance(folder, Claim):
        return folder.write(fill)
    return write_folder(folder, "solution", fill, inputs)


def _write_into(solution: HorizonSolution, folder: Path, target: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    summary = _portable(solution.summary, target)
    text = json.dumps(_jsonable(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    (folder / "summary.json").write_text(text, encoding="utf-8")
    for name, table in solution.tables().items():
        table.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", float_format=number_text)
    if solution.baseline is not None:
        _write_into(solution.baseline, folder / "baseline", target / "baseline")


def read_horizon_solution(folder: str | Path) -> HorizonSolution:
    """Read a horizon solution folder (and its baseline); SolutionError lists every missing or unreadable part."""
    root = Path(folder)
    if not root.is_dir():
        raise SolutionError([Problem(str(root), "no such solution folder")])
    problems: list[Problem] = []
    try:
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem("summary.json", "file not found"))
        summary = {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("summary.json", f"not valid JSON: {exc}"))
        summary = {}
    tables = {name: _read_table(root / f"{name}.csv", COLUMNS[name], problems) for name in TABLES}
    extra = {
        name: _read_table(root / f"{name}.csv", None, problems)
        for name in ("comparison", "robustness")
        if (root / f"{name}.csv").is_file()
    }
    if problems:
        raise SolutionError(problems)
    baseline = read_horizon_solution(root / "baseline") if (root / "baseline").is_dir() else None
    return HorizonSolution(summary, **tables, **extra, baseline=baseline)


def _read_table(path: Path, columns: list[str] | None, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        table = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        problems.append(Problem(path.name, "file not found"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(path.name, f"not a readable CSV table: {exc}"))
        return None
    for column in columns or []:
        if column not in table:
            problems.append(Problem(path.name, "required column is missing", row=1, column=column))
    for column in ("event",):
        if column in table:
            table[column] = table[column].fillna("")
    return table
