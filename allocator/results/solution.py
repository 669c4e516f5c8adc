"""A solved plan as tables (Solution) and the solution folder that holds them.

The folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is then renamed into place. This module knows the folder's format only: it owes
nothing to the model or the solver, so the independent checker can read folders through it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import Problem, SolutionError

TABLES = ("sites", "placements", "municipalities", "provinces")
# With demand groups: placements.csv gains a group column and groups.csv is written.
GROUP_TABLE = "groups"
SITE_COLUMNS = [
    "site",
    "name",
    "municipality",
    "province",
    "kind",
    "status",
    "fixing",
    "open_site",
    "placed",
    "min_size",
    "capacity",
    "utilisation",
    "fixed_cost",
    "place_cost",
    "travel_value",
]
PLACEMENT_COLUMNS = ["municipality", "site", "placed", "travel_minutes", "place_cost", "travel_value"]
GROUP_PLACEMENT_COLUMNS = ["municipality", "site", "group", "placed", "travel_minutes", "place_cost", "travel_value"]
GROUP_COLUMNS = [
    "province",
    "name",
    "group",
    "group_name",
    "target",
    "demand",
    "placed",
    "unmet",
    "realisation",
    "open_sites",
    "place_cost",
    "travel_value",
]
MUNICIPALITY_COLUMNS = [
    "municipality",
    "name",
    "province",
    "demand",
    "placed",
    "unmet",
    "sites",
    "mean_travel_minutes",
    "max_travel_minutes",
]
PROVINCE_COLUMNS = [
    "province",
    "name",
    "demand",
    "placed",
    "unmet",
    "realisation",
    "large_sites",
    "large_site_names",
    "open_sites",
    "fixed_cost",
    "place_cost",
    "travel_value",
    "cost",
    "mean_travel_minutes",
]


@dataclass(frozen=True, eq=False)
class Solution:
    """Summary (status, objective, KPIs, policy, provenance) and the four tables (five with demand groups)."""

    summary: dict
    sites: pd.DataFrame
    placements: pd.DataFrame
    municipalities: pd.DataFrame
    provinces: pd.DataFrame
    groups: pd.DataFrame | None = None  # per province and group: demand, placed, unmet (demand groups only)

    @property
    def status(self) -> str:
        """The solve status as written in summary.json."""
        return self.summary["status"]

    @property
    def objective(self) -> float | None:
        """The objective the solve claims."""
        return self.summary.get("objective")

    @property
    def kpis(self) -> dict:
        """The KPIs of summary.json."""
        return self.summary["kpis"]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name (groups last, when there are demand groups)."""
        out = {name: getattr(self, name) for name in TABLES}
        if self.groups is not None:
            out[GROUP_TABLE] = self.groups
        return out


def write_solution(solution: Solution, folder: str | Path, overwrite: bool = True) -> Path:
    """Write summary.json and the tables into ``folder`` atomically (whole or not at all)."""
    target = Path(folder)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (staging / "summary.json").write_text(
            json.dumps(_jsonable(solution.summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name, table in solution.tables().items():
            table.to_csv(staging / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


TEXT_COLUMNS = (
    "site",
    "municipality",
    "province",
    "name",
    "kind",
    "status",
    "fixing",
    "large_sites",
    "large_site_names",
    "group",
    "group_name",
    "target",
)
COLUMNS = {
    "sites": SITE_COLUMNS,
    "placements": PLACEMENT_COLUMNS,
    "municipalities": MUNICIPALITY_COLUMNS,
    "provinces": PROVINCE_COLUMNS,
    GROUP_TABLE: GROUP_COLUMNS,
}


def read_solution(folder: str | Path) -> Solution:
    """Read a solution folder; SolutionError lists every missing or unreadable part."""
    root = Path(folder)
    if not root.is_dir():
        raise SolutionError([Problem(str(root), "no such solution folder")])
    problems: list[Problem] = []
    summary = _read_summary(root, problems)
    tables = {name: _read_table(root, name, problems) for name in TABLES}
    groups = _read_table(root, GROUP_TABLE, problems) if (root / f"{GROUP_TABLE}.csv").is_file() else None
    if groups is not None and tables["placements"] is not None and "group" not in tables["placements"]:
        problems.append(Problem("placements.csv", "required column is missing (the plan has groups.csv)", 1, "group"))
    if problems:
        raise SolutionError(problems)
    return Solution(
        summary, tables["sites"], tables["placements"], tables["municipalities"], tables["provinces"], groups
    )


def _read_summary(root: Path, problems: list[Problem]) -> dict:
    try:
        return json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem("summary.json", "file not found"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("summary.json", f"not valid JSON: {exc}"))
    return {}


def _read_table(root: Path, name: str, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        table = pd.read_csv(
            root / f"{name}.csv", dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""]
        )
    except FileNotFoundError:
        problems.append(Problem(f"{name}.csv", "file not found"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"{name}.csv", f"not a readable CSV table: {exc}"))
        return None
    for column in COLUMNS[name]:
        if column not in table:
            problems.append(Problem(f"{name}.csv", "required column is missing", row=1, column=column))
    for column in ("fixing", "large_sites", "large_site_names"):
        if column in table:
            table[column] = table[column].fillna("")
    return table


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
