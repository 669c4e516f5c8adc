"""An allocation decision as tables (Decision) and the decision folder that holds them.

Like a solution folder, the decision folder is written whole or not at all, and this module
knows its format only, so that the independent checker can read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import Problem, SolutionError
from ..core.outputs import write_folder
from .solution import _jsonable

DECISION_TABLES = {
    "provinces": [
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
    "groups": [
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
    "sites": [
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
    "placements": ["municipality", "site", "group", "places", "travel_minutes", "source"],
}
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
    """The minister's allocation decision: summary.json, the tables of DECISION_TABLES and a letter per province."""

    summary: dict
    provinces: pd.DataFrame
    groups: pd.DataFrame
    sites: pd.DataFrame
    assigned: pd.DataFrame
    placements: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)  # province -> readable summary (markdown)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name."""
        return {name: getattr(self, name) for name in DECISION_TABLES}


def letter_name(province: str) -> str:
    """The file of a province's readable summary."""
    return f"decision-{province}.md"


def write_decision(decision: Decision, folder: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Write summary.json, the tables and the letters into ``folder``, whole or not at all; ``folder`` may only
    be new or a decision folder this package wrote, never one of ``inputs`` (see :mod:`allocator.core.outputs`)."""

    def fill(staging: Path) -> None:
        text = json.dumps(_jsonable(decision.summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        (staging / "summary.json").write_text(text, encoding="utf-8")
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
    problems: list[Problem] = []
    try:
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("summary.json", f"not readable: {exc}"))
        summary = {}
    tables = {}
    for name, columns in DECISION_TABLES.items():
        try:
            table = pd.read_csv(
                root / f"{name}.csv", dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""]
            )
        except (FileNotFoundError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"{name}.csv", f"not readable: {exc}"))
            continue
        problems += [Problem(f"{name}.csv", "required column is missing", 1, c) for c in columns if c not in table]
        for column in set(TEXT_COLUMNS) & set(table):
            table[column] = table[column].fillna("")
        tables[name] = table
    if problems:
        raise SolutionError(problems)
    letters = {
        p.stem.removeprefix("decision-"): p.read_text(encoding="utf-8") for p in sorted(root.glob("decision-*.md"))
    }
    return Decision(summary, **tables, letters=letters)
