"""Engine values as JSON: table cells, tables and input problems."""

from __future__ import annotations

import dataclasses
import math


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
    return out
