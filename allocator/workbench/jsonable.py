"""Engine values as JSON: table cells, tables, input problems and errors."""

from __future__ import annotations

import dataclasses
import math

from ..core.errors import InputError

MAX_PROBLEMS = 50  # problems listed in one error; the rest are counted
MAX_VALUE_CHARS = 120  # a longer text value is shown cut


class RequestError(InputError):
    """Problems in the fields of a request: as the framework's checks of the request models find them, or what
    the workbench cannot do with the instance or plan a request names."""

    what = "request"


def plain(value):
    """A table cell as JSON: numpy scalars as Python numbers, missing values as None."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        if value != value:  # pandas NA and NaN
            return None
    except TypeError:
        return None
    return value


def records(df) -> list[dict]:
    """A table as a list of rows."""
    return [{k: plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def problem_dict(problem) -> dict:
    """A Problem as JSON: file or sheet, row, column, cell, value and message, and the whole as text."""
    out = dataclasses.asdict(problem)
    out["value"] = None if problem.value is None else str(problem.value)
    out["text"] = str(problem)
    return {k: writable(v) if isinstance(v, str) else v for k, v in out.items()}


def writable(text: str) -> str:
    """Text as UTF-8 can hold it: a lone surrogate (from a JSON \\u escape) spelled as its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_dict(error) -> dict:
    """An InputError as the API answers it: ``{"message", "problems"}``, at most MAX_PROBLEMS problems listed."""
    n = len(error.problems)
    shown = [_cut(p) for p in error.problems[:MAX_PROBLEMS]]
    lines = [f"{n} problem{'s' if n != 1 else ''} in the {error.what}:"] + [f"  - {p}" for p in shown]
    if n > len(shown):
        lines.append(f"  ... and {n - len(shown)} more")
    return {"message": writable("\n".join(lines)), "problems": [problem_dict(p) for p in shown]}


def _cut(problem):
    text = problem.value if isinstance(problem.value, str) else repr(problem.value)
    if len(text) <= MAX_VALUE_CHARS:
        return problem
    return dataclasses.replace(problem, value=f"{text[: MAX_VALUE_CHARS - 20]}... ({len(text)} characters)")
