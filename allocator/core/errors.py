"""Errors that carry every problem found, each with the place it was found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is, what was found, and what is wrong."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    cell: str | None = None  # spreadsheet cell such as "F12"; then ``file`` is the sheet name

    def location(self) -> str:
        if self.cell is not None:
            return f"{self.file}!{self.cell}" + (f" ({self.column})" if self.column is not None else "")
        place = self.file
        if self.row is not None:
            place += f", row {self.row}"
        if self.column is not None:
            place += f", column '{self.column}'"
        return place

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return text


class AllocatorError(Exception):
    """Base class of the errors the command line reports without a traceback."""


class InputError(AllocatorError):
    """Bad input: holds every problem found, not just the first."""

    what = "input"

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the {self.what}:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


class InstanceError(InputError):
    """Problems in an instance folder or workbook."""

    what = "instance"


class PolicyError(InputError):
    """Problems in a policy preset or its overrides."""

    what = "policy"


class SolutionError(InputError):
    """Problems in a solution folder."""

    what = "solution"


class OutputError(InputError):
    """An output that may not be written where it was asked (it would replace something that is not ours)."""

    what = "output"
