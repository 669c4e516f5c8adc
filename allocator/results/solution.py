"""A solved plan as tables (Solution) and the solution folder that holds them.

The folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is then renamed into place. This module knows the folder's format only: it owes
nothing to the model or the solver, so the independent checker can read folders through it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import Problem, SolutionError
from ..core.outputs import Claim, write_folder

TABLES = ("sites", "placements", "municipalities", "provinces")
# With demand groups: placements.csv gains a group column and groups.csv is written.
GROUP_TABLE = "groups"
# A provincial plan's plan table (allocator check-plan reads it): province, site, group, places, municipality.
PLAN_TABLE = "plan"
# The version of summary.json: 2 added ``scope`` (the provinces and groups a plan answers for) in place of the
# ``province`` of a provincial plan. Folders without ``format`` are format 1; both are read.
FORMAT = 2
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


class Summarised:
    """What a solution's summary.json states: status, claimed objective, KPIs."""

    summary: dict

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


@dataclass(frozen=True, eq=False)
class Solution(Summarised):
    """Summary (status, objective, KPIs, policy, provenance) and the four tables (five with demand groups)."""

    summary: dict
    sites: pd.DataFrame
    placements: pd.DataFrame
    municipalities: pd.DataFrame
    provinces: pd.DataFrame
    groups: pd.DataFrame | None = None  # per province and group: demand, placed, unmet (demand groups only)
    plan: pd.DataFrame | None = None  # a provincial plan's plan table (plan.csv), written, not read back

    @property
    def national_groups(self) -> list[str]:
        """Names of the groups with a national target (none without demand groups)."""
        if self.groups is None:
            return []
        national = self.groups[self.groups["target"] == "national"]
        return list(dict.fromkeys(national["group_name"]))

    @property
    def task_groups(self) -> list[str]:
        """Names of the groups in the provinces' task (none without demand groups)."""
        if self.groups is None:
            return []
        return list(dict.fromkeys(self.groups.loc[self.groups["target"] != "national", "group_name"]))

    def by_target(self) -> pd.DataFrame:
        """Per province (provinces.csv order): demand, placed and unmet of the task (``task``, ``task_placed``,
        ``task_unmet``: the groups with a provincial target, or the one demand without groups), of the national
        groups (``national``, ``national_placed``, ``national_unmet``) and of both (``demand``, ``placed``, ``unmet``)."""
        prov = self.provinces.set_index("province")
        figures = ["demand", "placed", "unmet"]
        if self.groups is None:
            task = prov[figures].astype(float)
            national = task * 0.0
        else:
            parts = {
                national: self.groups[(self.groups["target"] == "national") == national]
                .groupby("province")[figures]
                .sum()
                .reindex(prov.index, fill_value=0.0)
                .astype(float)
                for national in (False, True)
            }
            task, national = parts[False], parts[True]
        out = pd.concat(
            [
                task.set_axis(["task", "task_placed", "task_unmet"], axis=1),
                national.set_axis(["national", "national_placed", "national_unmet"], axis=1),
            ],
            axis=1,
        )
        out["demand"], out["placed"], out["unmet"] = out["task"] + out["national"], prov["placed"], prov["unmet"]
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name (groups after the four, when there are demand groups; then the plan table)."""
        out = {name: getattr(self, name) for name in TABLES}
        if self.groups is not None:
            out[GROUP_TABLE] = self.groups
        if self.plan is not None:
            out[PLAN_TABLE] = self.plan
        return out


def write_solution(solution: Solution, folder: str | Path | Claim, inputs: Iterable[str | Path] = ()) -> Path:
    """Write summary.json and the tables into ``folder``, whole or not at all.

    ``folder`` may only be a new folder or a solution folder this package wrote, and never one of
    ``inputs`` (or a folder holding one): see :mod:`allocator.core.outputs`. Pass a Claim (from
    ``claim_folder``) to write a target this run already holds.
    """

    target = folder.target if isinstance(folder, Claim) else Path(folder)

    def fill(staging: Path) -> None:
        fill_solution(staging, solution, target)

    if isinstance(folder, Claim):
        return folder.write(fill)
    return write_folder(folder, "solution", fill, inputs)


def fill_solution(staging: Path, solution: Solution, target: Path) -> None:
    """Write summary.json (in the current format) and the tables of ``solution`` into ``staging``, the folder
    that becomes ``target``."""
    summary = {"format": FORMAT, **_portable(solution.summary, target)}
    text = json.dumps(_jsonable(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    (staging / "summary.json").write_text(text, encoding="utf-8")
    for name, table in solution.tables().items():
        table.to_csv(staging / f"{name}.csv", index=False, lineterminator="\n", float_format=number_text)


def _portable(summary: dict, target: Path) -> dict:
    """The summary as written: the instance's path relative to the solution folder, not where this machine keeps it."""
    facts = summary.get("instance")
    if (
        not isinstance(facts, dict)
        or not isinstance(facts.get("source"), str)
        or not Path(facts["source"]).is_absolute()
    ):
        return summary
    relative = os.path.relpath(facts["source"], start=target.resolve())
    return {**summary, "instance": {**facts, "source": Path(relative).as_posix()}}


def number_text(x: float) -> str:
    """Every digit kept (the shortest text that reads back to the same float), so that a plan passes its check after
    it is written; whole numbers without a decimal point."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(float(x))


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


# Columns that must hold a number in every row, and those that may be empty (nothing placed, no demand).
NUMBERS = {
    "sites": ("open_site", "placed", "min_size", "capacity", "utilisation", "fixed_cost", "place_cost", "travel_value"),
    "placements": ("placed", "travel_minutes", "place_cost", "travel_value"),
    "municipalities": ("demand", "placed", "unmet", "sites"),
    "provinces": ("demand", "placed", "unmet", "open_sites", "fixed_cost", "place_cost", "travel_value", "cost"),
    GROUP_TABLE: ("demand", "placed", "unmet", "open_sites", "place_cost", "travel_value"),
}
OPTIONAL_NUMBERS = {
    "municipalities": ("mean_travel_minutes", "max_travel_minutes"),
    "provinces": ("realisation", "mean_travel_minutes"),
    GROUP_TABLE: ("realisation",),
}
KEYS = {
    "sites": ("site",),
    "placements": ("municipality", "site"),
    "municipalities": ("municipality",),
    "provinces": ("province",),
    GROUP_TABLE: ("province", "group"),
}
SUMMARY_OBJECTS = ("kpis", "policy", "instance")
SUMMARY_NUMBERS = ("objective", "bound", "gap", "absolute_gap")


def read_solution(folder: str | Path) -> Solution:
    """Read a solution folder; SolutionError lists every missing, unreadable or malformed part (file, row, column, value)."""
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
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem("summary.json", "file not found"))
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("summary.json", f"not valid JSON: {exc}"))
        return {}
    if not isinstance(summary, dict):
        problems.append(Problem("summary.json", f"must be a JSON object, is {type(summary).__name__}"))
        return {}
    version = summary.get("format", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT:
        problems.append(
            Problem(
                "summary.json",
                f"a format this version does not read (it reads formats 1 to {FORMAT}; a newer allocator wrote it?)",
                column="format",
                value=version,
            )
        )
    if not isinstance(summary.get("status"), str):
        problems.append(
            Problem("summary.json", "must give the status as text", column="status", value=summary.get("status"))
        )
    for key in SUMMARY_OBJECTS:
        if not isinstance(summary.get(key), dict):
            problems.append(Problem("summary.json", "must be a JSON object", column=key, value=summary.get(key)))
    for key in SUMMARY_NUMBERS:
        value = summary.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ):
            problems.append(Problem("summary.json", "must be a finite number or null", column=key, value=value))
    return summary


def _read_table(root: Path, name: str, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        table = pd.read_csv(root / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(f"{name}.csv", "file not found"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"{name}.csv", f"not a readable CSV table: {exc}"))
        return None
    missing = [c for c in COLUMNS[name] if c not in table]
    for column in missing:
        problems.append(Problem(f"{name}.csv", "required column is missing", row=1, column=column))
    if missing:
        return None
    before = len(problems)
    for column in NUMBERS[name] + OPTIONAL_NUMBERS.get(name, ()):
        table[column] = _numbers(table[column], f"{name}.csv", column, column in NUMBERS[name], problems)
    _unique_keys(table, name, problems)
    return table if len(problems) == before else None


def _numbers(values: pd.Series, label: str, column: str, required: bool, problems: list[Problem]) -> pd.Series:
    """The column as floats; a Problem for every cell that is text, NaN or infinite (or empty where a number is required)."""
    parsed = pd.to_numeric(values.where(values != "", None), errors="coerce").astype(float)
    for k, (text, number) in enumerate(zip(values, parsed)):
        if text == "":
            if required:
                problems.append(Problem(label, "value is missing", row=k + 2, column=column, value=text))
        elif not math.isfinite(number):
            problems.append(Problem(label, "not a finite number", row=k + 2, column=column, value=text))
    whole = parsed.notna().all() and bool(((parsed % 1) == 0).all()) and bool((parsed.abs() < 2**53).all())
    return parsed.astype("int64") if whole else parsed  # as pandas would infer it: counts stay whole numbers


def _unique_keys(table: pd.DataFrame, name: str, problems: list[Problem]) -> None:
    keys = list(KEYS[name]) + (["group"] if name == "placements" and "group" in table else [])
    for k in range(len(table)):
        if any(table.at[k, c] == "" for c in keys):
            problems.append(Problem(f"{name}.csv", "id is missing", row=k + 2, column=keys[-1], value=""))
    for k in table.index[table.duplicated(keys)]:
        value = ",".join(str(table.at[k, c]) for c in keys)
        problems.append(Problem(f"{name}.csv", "listed twice", row=int(k) + 2, column=",".join(keys), value=value))


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
