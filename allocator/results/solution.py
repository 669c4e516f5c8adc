"""A solved plan as tables and the solution folder that holds them: a snapshot (Solution) or a plan over
several periods (HorizonSolution), whose tables carry the period and scenario of each row.

The folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is then renamed into place. This module knows the folder's format only: it owes
nothing to the model or the solver, so the independent checker can read folders through it.

Over periods, the timeline has one row per site, period and scenario: the integrated plan has the
same states in every scenario (one site plan for the band), the myopic baseline of a band has one
plan per scenario. ``moves`` counts person-moves out of a site: the fall of its load from the
period before.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
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
# A plan over several periods: its tables, their columns and the columns read as text (the others as numbers).
HORIZON_TABLES = ("timeline", "events", "placements", "municipalities", "periods", "scenarios", "provinces")
COMPARISONS = ("comparison", "robustness")  # written beside them when computed
CASE_COLUMNS = ["period", "scenario"]  # the case of a row over periods; a snapshot has one case, without them
# The places of a period, scenario or province, its events, and the money of placing people over periods.
NEED = ["need", "placed", "emergency", "unmet"]
EVENT_COUNTS = ["openings", "closings", "extensions", "moves"]
PLACING_MONEY = ["place_cost", "emergency_cost", "move_cost", "total_cost", "travel_value", "unmet_penalty"]
HORIZON_COLUMNS = {
    "timeline": [
        "site",
        "name",
        "province",
        "kind",
        "status",
        *CASE_COLUMNS,
        "state",
        "event",
        "placed",
        "moves",
        "capacity",
    ],
    "events": ["scenario", "period", "site", "name", "province", "kind", "event", "cost"],
    "placements": [*PLACEMENT_COLUMNS[:2], *CASE_COLUMNS, *PLACEMENT_COLUMNS[2:]],
    "municipalities": ["municipality", "province", *CASE_COLUMNS, "demand", *NEED[1:]],
    "periods": [
        *CASE_COLUMNS,
        "years",
        *NEED,
        "open_sites",
        "standby_sites",
        "open_capacity",
        *EVENT_COUNTS,
        "fixed_cost",
        "standby_cost",
        "event_cost",
        *PLACING_MONEY,
        "registration_occupancy",
        "nights_above_limit",
        "person_nights_above_limit",
    ],
    "scenarios": [
        "scenario",
        "weight",
        *NEED,
        *EVENT_COUNTS,
        "site_cost",
        *PLACING_MONEY,
        "objective",
        "nights_above_limit",
        "registration_penalty",
    ],
    "provinces": ["province", "name", *CASE_COLUMNS, *NEED, "open_sites", "open_capacity", "standby_capacity", "moves"],
}
TEXT_COLUMNS = (*HORIZON_COLUMNS["timeline"][:7], "state", "event", "municipality", "group")
# The tables of a plan over periods with demand groups, and the column their group column follows.
GROUPED = {"placements": "site", "municipalities": "municipality"}


def horizon_columns(name: str, grouped: bool) -> list[str]:
    """The columns of table ``name`` over periods: with demand groups, placements and municipalities have a ``group``
    column."""
    out = list(HORIZON_COLUMNS[name])
    if grouped and name in GROUPED:
        out.insert(out.index(GROUPED[name]) + 1, "group")
    return out


class Summarised:
    """What a solution's summary.json states: status, claimed objective, KPIs."""

    summary: dict
    baseline = None  # a plan over periods may hold its myopic baseline, written into the folder's baseline/

    def written_summary(self) -> dict:
        """summary.json as written."""
        return self.summary

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

    def written_summary(self) -> dict:
        """summary.json as written: in the current format."""
        return {"format": FORMAT, **self.summary}


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
        out = {name: getattr(self, name) for name in HORIZON_TABLES}
        for name in COMPARISONS:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def is_horizon_folder(folder: str | Path) -> bool:
    """A solution folder of a plan over several periods (it has a timeline)."""
    return (Path(folder) / "timeline.csv").is_file()


def write_solution(
    solution: Solution | HorizonSolution, folder: str | Path | Claim, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write summary.json and the tables (and a plan over periods' baseline) into ``folder``, whole or not at all.

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


def fill_solution(staging: Path, solution: Solution | HorizonSolution, target: Path) -> None:
    """Write summary.json and the tables of ``solution`` into ``staging``, the folder that becomes ``target``, and
    its baseline's into baseline/."""
    staging.mkdir(parents=True, exist_ok=True)
    summary = _portable(solution.written_summary(), target)
    text = json.dumps(_jsonable(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    (staging / "summary.json").write_text(text, encoding="utf-8")
    for name, table in solution.tables().items():
        table.to_csv(staging / f"{name}.csv", index=False, lineterminator="\n", float_format=number_text)
    if solution.baseline is not None:
        fill_solution(staging / "baseline", solution.baseline, target / "baseline")


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
    root = _solution_folder(folder)
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


def read_horizon_solution(folder: str | Path) -> HorizonSolution:
    """Read the solution folder of a plan over periods (and its baseline); SolutionError lists every missing or
    unreadable part."""
    root = _solution_folder(folder)
    problems: list[Problem] = []
    summary = _read_json(root, problems)
    tables = {name: _read_horizon_table(root, name, HORIZON_COLUMNS[name], problems) for name in HORIZON_TABLES}
    extra = {
        name: _read_horizon_table(root, name, [], problems) for name in COMPARISONS if (root / f"{name}.csv").is_file()
    }
    if problems:
        raise SolutionError(problems)
    baseline = read_horizon_solution(root / "baseline") if (root / "baseline").is_dir() else None
    return HorizonSolution(summary, **tables, **extra, baseline=baseline)


def _solution_folder(folder: str | Path) -> Path:
    root = Path(folder)
    if not root.is_dir():
        raise SolutionError([Problem(str(root), "no such solution folder")])
    return root


def _read_json(root: Path, problems: list[Problem]) -> dict:
    """summary.json as an object, or {} with the Problem that keeps it from being one."""
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
    return summary


def _read_summary(root: Path, problems: list[Problem]) -> dict:
    """summary.json of a snapshot, with a Problem for each part it must hold and does not."""
    before = len(problems)
    summary = _read_json(root, problems)
    if len(problems) > before:
        return summary
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
    """Table ``name`` of a snapshot, its numbers checked, or None when it has a problem."""
    table = _read_csv(root, name, problems, dtype=str)
    if table is None or _missing_columns(table, name, COLUMNS[name], problems):
        return None
    before = len(problems)
    for column in NUMBERS[name] + OPTIONAL_NUMBERS.get(name, ()):
        table[column] = _numbers(table[column], f"{name}.csv", column, column in NUMBERS[name], problems)
    _unique_keys(table, name, problems)
    return table if len(problems) == before else None


def _read_horizon_table(root: Path, name: str, columns: list[str], problems: list[Problem]) -> pd.DataFrame | None:
    """Table ``name`` of a plan over periods, its numbers as pandas reads them, or None when it cannot be read."""
    table = _read_csv(root, name, problems, dtype={c: str for c in TEXT_COLUMNS}, na_values=[""])
    if table is None:
        return None
    _missing_columns(table, name, columns, problems)
    if "event" in table:
        table["event"] = table["event"].fillna("")
    return table


def _read_csv(root: Path, name: str, problems: list[Problem], **how) -> pd.DataFrame | None:
    """``name``.csv read as ``how`` says, or None with the Problem of a missing file or one that is no CSV table."""
    try:
        return pd.read_csv(root / f"{name}.csv", keep_default_na=False, encoding="utf-8", **how)
    except FileNotFoundError:
        problems.append(Problem(f"{name}.csv", "file not found"))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"{name}.csv", f"not a readable CSV table: {exc}"))
    return None


def _missing_columns(table: pd.DataFrame, name: str, columns: list[str], problems: list[Problem]) -> list[str]:
    """The ``columns`` that ``table`` lacks, each with its Problem."""
    missing = [c for c in columns if c not in table]
    problems += [Problem(f"{name}.csv", "required column is missing", row=1, column=c) for c in missing]
    return missing


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
