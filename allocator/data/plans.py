"""Provincial plans: the places a province commits, read from CSV files or workbook sheets (instances/README.md).

A plan row commits places of one group at one site of the province, optionally for one
municipality. Unknown ids and bad cells are input errors (file, row, column and value, all at
once); whether the commitments keep the rules and meet the task is the plan check's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import InputError, Problem
from .tables import Column, check_table, read_table, typed

MAX_PLACES = 1e9
MAX_PLAN_ROWS = 1_000_000
PLAN_SHEET = "plan"
# The one group of an instance without groups.
ALL = "all"


class PlanError(InputError):
    """Bad plan files: every problem with its file, row, column and value."""

    what = "plan"


def plan_columns(grouped: bool) -> tuple[Column, ...]:
    """The columns of a plan table; ``group`` is required when the instance has demand groups."""
    return (
        Column("province", "id"),
        Column("site", "id"),
        Column("group", "id", required=grouped),
        Column("places", "int", min=0, max=MAX_PLACES),
        Column("municipality", "id", required=False),
    )


@dataclass(frozen=True, eq=False)
class Plan:
    """Commitments of one or more provinces. ``commitments``: province, site, group, municipality ("" = any), places, file, row."""

    commitments: pd.DataFrame
    files: dict[str, str]  # province -> the file its plan came from

    @property
    def provinces(self) -> list[str]:
        return sorted(self.files)

    def of(self, province: str) -> pd.DataFrame:
        c = self.commitments
        return c[c["province"] == province]

    def site_places(self, province: str | None = None) -> pd.Series:
        """Committed places per (site, group)."""
        c = self.commitments if province is None else self.of(province)
        return c.groupby(["site", "group"], sort=True)["places"].sum()


def plan_files(paths) -> list[Path]:
    """The plan files named: files as given; for a folder, every .csv and .xlsx file in it (sorted)."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in (".csv", ".xlsx") and not p.name.startswith((".", "~$"))
            )
        else:
            out.append(path)
    return out


def read_plans(paths, instance, allow_none: bool = False) -> Plan:
    """Read and validate plan files against ``instance``; raise PlanError listing every problem.

    A province may have its plan in one file only. ``allow_none``: a folder without plan files is an
    empty plan (no province has submitted one) rather than an error.
    """
    problems: list[Problem] = []
    grouped = instance.groups is not None
    frames = []
    files: dict[str, str] = {}
    paths = plan_files(paths)
    if not paths:
        if allow_none:
            return Plan(
                pd.DataFrame(columns=["province", "site", "group", "municipality", "places", "file", "row"]), {}
            )
        raise PlanError([Problem("plans", "no plan files (.csv or .xlsx) given")])
    for path in paths:
        label = path.name
        found: list[Problem] = []
        table, locate = _read_one(path, grouped, found)
        if table is not None:
            table = table.assign(file=label)
            _validate(table, instance, label, found)
        problems += [locate(p) for p in found]
        if table is None:
            continue
        for province in dict.fromkeys(p for p in table["province"] if p is not None):
            if province in files and files[province] != label:
                problems.append(
                    Problem(
                        label,
                        f"province {province} already has a plan in {files[province]}",
                        column="province",
                        value=province,
                    )
                )
            else:
                files[province] = label
        frames.append(table)
    if problems:
        raise PlanError(problems)
    columns = plan_columns(grouped)
    rows = []
    for table in frames:
        t = typed(table, columns)
        rows.append(
            pd.DataFrame(
                {
                    "province": t["province"].to_numpy(),
                    "site": t["site"].to_numpy(),
                    "group": t["group"].to_numpy() if grouped else ALL,
                    "municipality": t["municipality"].fillna("").to_numpy() if "municipality" in t else "",
                    "places": t["places"].astype("int64").to_numpy(),
                    "file": t["file"].to_numpy(),
                    "row": t["row"].to_numpy(),
                }
            )
        )
    return Plan(pd.concat(rows, ignore_index=True), files)


def _read_one(path: Path, grouped: bool, problems: list[Problem]):
    """The plan table of one file and a function that places a problem in it (a workbook cell)."""
    columns = plan_columns(grouped)
    if path.suffix.lower() == ".xlsx":
        from .workbook import read_sheets

        sheets = read_sheets(path, problems, {PLAN_SHEET: MAX_PLAN_ROWS + 1})
        if sheets is None:
            return None, _as_is
        sheet = sheets.get(PLAN_SHEET)
        if sheet is None:
            problems.append(
                Problem(
                    path.name, f"sheet '{PLAN_SHEET}' not found (the workbook has: {', '.join(sheets) or 'no sheets'})"
                )
            )
            return None, _as_is

        def locate(p: Problem) -> Problem:
            if p.file == path.name and p.row is not None and p.column in sheet.letters and p.cell is None:
                return Problem(
                    f"{path.name} {PLAN_SHEET}",
                    p.message,
                    p.row,
                    p.column,
                    p.value,
                    cell=f"{sheet.letters[p.column]}{p.row}",
                )
            return p

        return check_table(sheet.frame(), columns, problems, path.name, sheet.rows), locate
    if path.suffix.lower() != ".csv":
        problems.append(Problem(path.name, f"a plan is a .csv file or an .xlsx workbook with a sheet '{PLAN_SHEET}'"))
        return None, _as_is
    return read_table(path, columns, problems, label=path.name, max_rows=MAX_PLAN_ROWS), _as_is


def _as_is(p: Problem) -> Problem:
    return p


def _validate(table: pd.DataFrame, instance, label: str, problems: list[Problem]) -> None:
    """Unknown ids, and sites or municipalities of another province than the row's."""
    municipality = table["municipality"] if "municipality" in table else [None] * len(table)
    for row, province, site, muni in zip(table["row"], table["province"], table["site"], municipality):
        if province is not None and province not in instance.provinces.index:
            problems.append(Problem(label, "unknown province (not in the instance)", row, "province", province))
            continue
        _located(instance.sites, "site", site, province, label, row, problems)
        _located(instance.municipalities, "municipality", muni, province, label, row, problems)
    if "group" in table:
        _validate_groups(table, instance.groups, label, problems)


def _located(df: pd.DataFrame, column: str, value, province, label: str, row: int, problems: list[Problem]) -> None:
    """``value`` is a known id of ``df`` in ``province``."""
    if value is None:
        return
    if value not in df.index:
        problems.append(Problem(label, f"unknown {column} (not in the instance)", row, column, value))
    elif province is not None and df.at[value, "province"] != province:
        problems.append(
            Problem(
                label,
                f"the {column} lies in province {df.at[value, 'province']}, not in {province}",
                row,
                column,
                value,
            )
        )


def _validate_groups(table: pd.DataFrame, groups, label: str, problems: list[Problem]) -> None:
    """Groups named in a plan exist and belong to the provinces' task."""
    if groups is None:
        if any(g is not None for g in table["group"]):
            problems.append(
                Problem(label, "the instance has no groups; leave the group column out", row=1, column="group")
            )
        return
    for row, group in zip(table["row"], table["group"]):
        if group is None:
            continue
        if group not in groups.table.index:
            problems.append(Problem(label, f"unknown group (groups: {', '.join(groups.ids)})", row, "group", group))
        elif groups.table.at[group, "target"] != "province":
            problems.append(
                Problem(
                    label, "this group has a national target and is not part of a provincial plan", row, "group", group
                )
            )
