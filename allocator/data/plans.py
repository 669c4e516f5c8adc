"""Provincial plans: the places a province commits, read from CSV files or workbook sheets (instances/README.md).

A plan row commits places of one group at one site of the province, optionally for one
municipality. Unknown ids and bad cells are input errors (file, row, column and value, all at
once); whether the commitments keep the rules and meet the task is the plan check's business.

A solution folder is a plan too: its ``plan.csv`` (``allocator solve --province`` writes one), or,
in folders without one, the plan table derived from its ``placements.csv`` (:func:`plan_table`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import InputError, Problem
from .tables import Column, check_table, read_table, typed

MAX_PLACES = 1e9
MAX_PLAN_ROWS = 1_000_000
PLAN_SHEET = "plan"
PLAN_FILE = "plan.csv"  # the plan table in a solution folder
SUMMARY = "summary.json"  # what makes a folder a solution folder
# A solution folder's tables other than its plan table: given as a plan, they are a mistake worth naming.
SOLUTION_TABLES = ("sites.csv", "placements.csv", "municipalities.csv", "provinces.csv", "groups.csv")
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


def is_solution_folder(path: Path) -> bool:
    """A folder that holds a solution (its summary.json), not a folder of plan files."""
    return path.is_dir() and (path / SUMMARY).is_file()


def plan_table(placements: pd.DataFrame, instance) -> pd.DataFrame:
    """The plan table of a solution's placements (municipality, site, [group,] placed): one row per placement of
    a group of the provinces' task, the province the site's, the places those placed, named for the municipality
    (left empty when it lies in another province). Columns: province, site, group (with groups), places,
    municipality; rows in the placements' order."""
    rows = placements
    grouped = instance.groups is not None
    if grouped:
        rows = rows[rows["group"].isin(instance.groups.province_groups)]
    rows = rows[rows["placed"] > 0]
    site_province = instance.sites["province"]
    muni_province = instance.municipalities["province"]
    province = [site_province.get(s, "") for s in rows["site"]]
    same = [muni_province.get(m) == p for m, p in zip(rows["municipality"], province)]
    places = [int(q) if float(q).is_integer() else float(q) for q in rows["placed"]]
    table = pd.DataFrame(
        {
            "province": province,
            "site": rows["site"].to_numpy(),
            **({"group": rows["group"].to_numpy()} if grouped else {}),
            "places": pd.Series(places, dtype=object).to_numpy(),
            "municipality": [m if keep else "" for m, keep in zip(rows["municipality"], same)],
        },
        index=rows.index,
    )
    return table


def plan_files(paths) -> list[Path]:
    """The plan files named: files as given; a solution folder as itself; for another folder, every .csv and .xlsx
    file in it (sorted)."""
    out = []
    for path in map(Path, paths):
        if is_solution_folder(path):
            out.append(path)
        elif path.is_dir():
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
        found: list[Problem] = []
        label, table, locate = _read_source(path, instance, found)
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


def _read_source(path: Path, instance, problems: list[Problem]):
    """(label, table, locate) of one plan source: a solution folder, or a plan file."""
    if is_solution_folder(path):
        return _read_folder(path, instance, problems)
    if path.name in SOLUTION_TABLES and is_solution_folder(path.parent):
        problems.append(
            Problem(
                f"{path.parent.name}/{path.name}",
                f"a table of a solution folder, not a plan table: give the folder itself ({path.parent}), "
                f"whose {PLAN_FILE} (or placements) is its plan",
            )
        )
        return path.name, None, _as_is
    return (path.name, *_read_one(path, instance.groups is not None, problems))


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


def _read_folder(path: Path, instance, problems: list[Problem]):
    """A solution folder's plan table: its plan.csv, else derived from its placements.csv; (label, table, locate)."""
    columns = plan_columns(instance.groups is not None)
    _same_instance(path, instance, problems)
    if (path / PLAN_FILE).is_file():
        label = f"{path.name}/{PLAN_FILE}"
        return label, read_table(path / PLAN_FILE, columns, problems, label=label, max_rows=MAX_PLAN_ROWS), _as_is
    label = f"{path.name}/placements.csv"
    placements = _placements(path / "placements.csv", instance, label, problems)
    if placements is None:
        return label, None, _as_is
    table = plan_table(placements, instance).astype(str)
    if table.empty:
        problems.append(Problem(label, "no places of the provinces' task: the solution holds no plan"))
        return label, None, _as_is
    rows = [int(k) + 2 for k in table.index]
    return label, check_table(table, columns, problems, label, rows), _as_is


def _same_instance(path: Path, instance, problems: list[Problem]) -> None:
    """The solution folder was made for this version of the instance."""
    label = f"{path.name}/{SUMMARY}"
    try:
        summary = json.loads((path / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(Problem(label, f"not readable: {exc}"))
        return
    facts = summary.get("instance") if isinstance(summary, dict) else None
    fingerprint = facts.get("fingerprint") if isinstance(facts, dict) else None
    if fingerprint != instance.fingerprint:
        name = facts.get("name") if isinstance(facts, dict) else None
        problems.append(
            Problem(
                label,
                f"made for instance {name} (fingerprint {str(fingerprint)[:12]}), not for {instance.name} "
                f"({instance.fingerprint[:12]}): give its instance as the first argument",
                column="instance.fingerprint",
            )
        )


def _placements(path: Path, instance, label: str, problems: list[Problem]) -> pd.DataFrame | None:
    """A solution's placements.csv as municipality, site, [group,] placed (numbers), or None with the problems."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(label, "file not found (a solution folder without plan.csv needs it)"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.append(Problem(label, f"not a readable CSV table: {exc}"))
        return None
    needed = ["municipality", "site", "placed"] + (["group"] if instance.groups is not None else [])
    missing = [c for c in needed if c not in table]
    problems += [Problem(label, "required column is missing", row=1, column=c) for c in missing]
    if missing:
        return None
    placed = pd.to_numeric(table["placed"], errors="coerce")
    bad = placed.isna() | ~placed.abs().lt(MAX_PLACES)
    problems += [
        Problem(label, "not a number of places", row=int(k) + 2, column="placed", value=table.at[k, "placed"])
        for k in table.index[bad]
    ]
    return None if bad.any() else table.assign(placed=placed)


def _validate(table: pd.DataFrame, instance, label: str, problems: list[Problem]) -> None:
    """Unknown ids, and sites or municipalities of another province than the row's."""
    municipality = table["municipality"] if "municipality" in table else [None] * len(table)
    outside = _national_sites(instance)
    for row, province, site, muni in zip(table["row"], table["province"], table["site"], municipality):
        if province is not None and province not in instance.provinces.index:
            problems.append(Problem(label, "unknown province (not in the instance)", row, "province", province))
            continue
        _located(instance.sites, "site", site, province, label, row, problems)
        _located(instance.municipalities, "municipality", muni, province, label, row, problems)
        if site in outside:
            problems.append(
                Problem(
                    label,
                    f"the site takes only groups with a national target ({outside[site]}): it is outside provincial plans",
                    row,
                    "site",
                    site,
                )
            )
    if "group" in table:
        _validate_groups(table, instance.groups, label, problems)


def _national_sites(instance) -> dict[str, str]:
    """Sites that take no group of the provinces' task, with the names of the groups they take."""
    groups = instance.groups
    if groups is None:
        return {}
    e = groups.eligible
    task = set(e.loc[e["group"].isin(groups.province_groups), "site"])
    out: dict[str, list[str]] = {}
    for site, group in zip(e["site"], e["group"]):
        if site not in task:
            out.setdefault(site, []).append(groups.name(group))
    return {s: ", ".join(names) for s, names in out.items()}


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
