"""An allocation decision as tables (Decision) and the decision folder that holds them.

A decision folder is a solution folder: the standard tables (sites.csv, placements.csv,
municipalities.csv, provinces.csv, groups.csv and summary.json) hold the decided plan, committed
and added places together, over the decision's scope; beside them are the decision's own tables
(DECISION_TABLES), the plans as submitted (submitted_plans.csv) and a letter per province. Like a
solution folder it is written whole or not at all, and this module knows its format only, so that
the independent checker can read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import Problem, SolutionError
from ..core.outputs import MARKER, write_folder
from .solution import Solution, fill_solution, read_solution

DECISION_TABLES = {
    "decision_provinces": [
        "province",
        "name",
        "plan",
        "status",
        "task",
        "committed",
        "within_reach",
        "short",
        "added",
        "unmet",
        "new_sites",
        "committed_cost",
        "decision_cost",
    ],
    "decision_groups": [
        "province",
        "name",
        "group",
        "group_name",
        "task",
        "committed",
        "within_reach",
        "short",
        "added",
        "placed",
        "unmet",
    ],
    "decision_sites": [
        "site",
        "name",
        "municipality",
        "municipality_name",
        "province",
        "kind",
        "group",
        "committed",
        "added",
        "new",
        "fixed_cost",
        "place_cost",
    ],
    "assigned": ["municipality", "name", "province", "group", "group_name", "places", "sites"],
}
# The plans as submitted, in the format of a plan table (allocator check-plan reads it); ``source``: the plan's file.
SUBMITTED = "submitted_plans"
SUBMITTED_COLUMNS = ["province", "site", "group", "places", "municipality", "source"]
TEXT_COLUMNS = (
    "province",
    "name",
    "plan",
    "status",
    "group",
    "group_name",
    "site",
    "municipality",
    "municipality_name",
    "kind",
    "sites",
    "source",
)


@dataclass(frozen=True, eq=False)
class Decision:
    """The minister's allocation decision: the decided plan as a solution (its summary.json is the decision's), the
    tables of DECISION_TABLES, the plans as submitted and a letter per province."""

    solution: Solution
    provinces: pd.DataFrame  # decision_provinces.csv
    groups: pd.DataFrame  # decision_groups.csv
    sites: pd.DataFrame  # decision_sites.csv
    assigned: pd.DataFrame
    submitted: pd.DataFrame  # SUBMITTED_COLUMNS
    letters: dict[str, str] = field(default_factory=dict)  # province -> readable summary (markdown)

    @property
    def summary(self) -> dict:
        """summary.json: the decided plan's (status, objective, KPIs, scope) with the decision's own figures under
        ``decision`` (cost, committed cost, provinces decided, plans)."""
        return self.solution.summary

    @property
    def placements(self) -> pd.DataFrame:
        """Which places count for which municipality (placements.csv, with ``source``: plan or decision)."""
        return self.solution.placements

    def tables(self) -> dict[str, pd.DataFrame]:
        """The decision's own tables by name, then the plans as submitted."""
        return {**{name: getattr(self, _FIELDS[name]) for name in DECISION_TABLES}, SUBMITTED: self.submitted}


_FIELDS = {
    "decision_provinces": "provinces",
    "decision_groups": "groups",
    "decision_sites": "sites",
    "assigned": "assigned",
    SUBMITTED: "submitted",
}


def submitted_table(plan, grouped: bool) -> pd.DataFrame:
    """The commitments of ``plan`` (a data.plans.Plan) as a plan table with the file each came from."""
    c = plan.commitments
    table = pd.DataFrame(
        {
            "province": c["province"],
            "site": c["site"],
            "group": c["group"],
            "places": c["places"],
            "municipality": c["municipality"],
            "source": c["file"],
        },
        columns=SUBMITTED_COLUMNS,
    )
    return table if grouped else table.drop(columns="group")


def letter_name(province: str) -> str:
    """The file of a province's readable summary."""
    return f"decision-{province}.md"


def is_decision_folder(folder: str | Path) -> bool:
    """A folder that holds an allocation decision (of any version)."""
    root = Path(folder)
    return (root / f"{next(iter(DECISION_TABLES))}.csv").is_file() or _marked_decision(root)


def _marked_decision(root: Path) -> bool:
    try:
        return json.loads((root / MARKER).read_text(encoding="utf-8")).get("kind") == "decision"
    except (OSError, ValueError, AttributeError):
        return False


def write_decision(decision: Decision, folder: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Write the decided plan's tables and summary.json, the decision's tables, the plans as submitted and the
    letters into ``folder``, whole or not at all; ``folder`` may only be new or a decision folder this package
    wrote, never one of ``inputs`` (see :mod:`allocator.core.outputs`)."""
    target = Path(folder)

    def fill(staging: Path) -> None:
        fill_solution(staging, decision.solution, target)
        for name, table in decision.tables().items():
            table.to_csv(staging / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
        for province, letter in decision.letters.items():
            (staging / letter_name(province)).write_text(letter, encoding="utf-8")

    return write_folder(folder, "decision", fill, inputs)


def read_decision(folder: str | Path) -> Decision:
    """Read a decision folder; SolutionError lists every missing or unreadable part."""
    root = Path(folder)
    if not root.is_dir():
        raise SolutionError([Problem(str(root), "no such decision folder")])
    if not (root / f"{next(iter(DECISION_TABLES))}.csv").is_file() and (root / "provinces.csv").is_file():
        raise SolutionError(
            [
                Problem(
                    str(root),
                    "a decision folder of an earlier version (without the decided plan's solution tables): "
                    "run allocator decide again to check, report or compare it",
                )
            ]
        )
    problems: list[Problem] = []
    try:
        solution = read_solution(root)
    except SolutionError as exc:
        problems += exc.problems
        solution = None
    tables = {}
    for name, columns in {**DECISION_TABLES, SUBMITTED: None}.items():
        try:
            table = pd.read_csv(
                root / f"{name}.csv", dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""]
            )
        except (FileNotFoundError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"{name}.csv", f"not readable: {exc}"))
            continue
        needed = columns or [c for c in SUBMITTED_COLUMNS if c != "group"]
        problems += [Problem(f"{name}.csv", "required column is missing", 1, c) for c in needed if c not in table]
        for column in set(TEXT_COLUMNS) & set(table):
            table[column] = table[column].fillna("")
        tables[_FIELDS.get(name, name)] = table
    if problems:
        raise SolutionError(problems)
    letters = {
        p.stem.removeprefix("decision-"): p.read_text(encoding="utf-8") for p in sorted(root.glob("decision-*.md"))
    }
    return Decision(solution, **tables, letters=letters)
