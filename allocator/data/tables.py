"""Typed reading of CSV tables that reports every bad cell with its file, row and column."""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import Problem

# Free-text columns any table may carry; they are read and ignored by the model.
NOTE_COLUMNS = ("note", "notes", "source")
# Larger files are refused before parsing, so a wrong or runaway file fails at once.
MAX_TABLE_BYTES = 64_000_000


@dataclass(frozen=True)
class Column:
    """One column of an input table: its name, kind and limits."""

    name: str
    kind: str  # id | text | int | float | choice
    required: bool = True
    min: float | None = None
    max: float | None = None
    strict_min: bool = False  # value must be > min rather than >= min
    choices: tuple[str, ...] = ()


def read_table(
    path: Path,
    columns: Sequence[Column],
    problems: list[Problem],
    label: str | None = None,
    max_rows: int | None = None,
):
    """Read ``path`` and convert each column; append a Problem for every bad file, column or cell.

    Returns a DataFrame with one row per data row (``row`` column = row number as a spreadsheet
    shows it, header = 1), or None when the file cannot be read at all.
    """
    label = label or path.name
    if not path.is_file():
        problems.append(Problem(label, "file not found"))
        return None
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        problems.append(
            Problem(label, f"the file is too large ({size / 1e6:,.1f} MB; at most {MAX_TABLE_BYTES / 1e6:,.0f} MB)")
        )
        return None
    dialect = dialect_problem(path, label)
    if dialect is not None:
        problems.append(dialect)
        return None
    try:
        with warnings.catch_warnings():
            # A first data row longer than the header would silently become an index.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Blank lines are kept while reading so that row numbers match the file, then dropped.
            raw = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skipinitialspace=False,
                index_col=False,
                skip_blank_lines=False,
            )
    except pd.errors.ParserWarning:
        problems.append(Problem(label, "not a readable CSV table: a row has more fields than the header", row=2))
        return None
    except pd.errors.EmptyDataError:
        problems.append(Problem(label, "the file is empty (a header row is required)"))
        return None
    except (pd.errors.ParserError, ValueError) as exc:
        problems.append(Problem(label, f"not a readable CSV table: {str(exc).strip()}"))
        return None
    raw = raw.fillna("")
    blank = (raw == "").all(axis=1) if len(raw.columns) else pd.Series(True, index=raw.index)
    if max_rows is not None and len(raw) > max_rows:
        problems.append(Problem(label, f"too many rows ({len(raw):,}; at most {max_rows:,})"))
        return None
    rows = [int(i) + 2 for i in raw.index[~blank]]
    return check_table(raw[~blank], columns, problems, label, rows, written=_header(path))


def dialect_problem(path: Path, label: str) -> Problem | None:
    """The two ways real files most often arrive wrong, named: not UTF-8 (with the line), or ';' as separator."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = ""
        try:
            data.decode("cp1252")
            guess = "; it looks like Windows-1252 (Excel's 'CSV' without UTF-8)"
        except UnicodeDecodeError:
            pass
        return Problem(
            label,
            f"not valid UTF-8 text: byte 0x{data[exc.start]:02x} at character {column}{guess}; save it as 'CSV UTF-8'",
            row=line,
        )
    header = text.split("\n", 1)[0]
    if header.count(";") > header.count(","):
        return Problem(
            label,
            "uses ';' as separator (the Dutch Excel default); save it as comma-separated CSV ('CSV UTF-8 (comma delimited)')",
            row=1,
        )
    return None


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def check_table(
    raw: pd.DataFrame,
    columns: Sequence[Column],
    problems: list[Problem],
    label: str,
    rows: Sequence[int] | None = None,
    written: Sequence[str] | None = None,
):
    """Convert the text cells of ``raw`` column by column, appending a Problem for every bad header or cell.

    ``rows`` gives each data row's number as the spreadsheet shows it (default: header = row 1 and
    no gaps, as in a CSV file); every Problem names the row by that number. ``written`` is the
    header as written in the file, when the reader renamed repeated names (pandas: "x" to "x.1").
    """
    rows = [int(i) + 2 for i in range(len(raw))] if rows is None else [int(r) for r in rows]
    raw = raw.reset_index(drop=True)
    known = {c.name for c in columns}
    header = list(raw.columns)
    written = list(header) if written is None else list(written)
    for name in header:
        if name not in known and name not in NOTE_COLUMNS and name in written:
            problems.append(
                Problem(label, f"unknown column (expected: {', '.join(c.name for c in columns)})", row=1, column=name)
            )
    for name in sorted({n for n in written if written.count(n) > 1}):
        problems.append(Problem(label, "a column name appears twice", row=1, column=name))
    missing = [c.name for c in columns if c.required and c.name not in header]
    for name in missing:
        problems.append(Problem(label, "required column is missing", row=1, column=name))
    if raw.empty:
        problems.append(Problem(label, "the table has no data rows"))
    out = pd.DataFrame(index=raw.index)
    out["row"] = rows
    for col in columns:
        if col.name not in header:
            continue
        out[col.name] = pd.Series(_convert(raw[col.name], col, label, problems, rows), index=raw.index, dtype=object)
    return out


def _convert(values: pd.Series, col: Column, label: str, problems: list[Problem], rows: Sequence[int]) -> list:
    converted = []
    for row, text in zip(rows, values):
        if text == "" or text.strip() == "":
            if col.required:
                problems.append(Problem(label, "value is missing", row, col.name, text))
            converted.append(None)
            continue
        if col.kind in ("id", "choice") and text != text.strip():
            problems.append(Problem(label, "leading or trailing spaces", row, col.name, text))
            converted.append(None)
            continue
        value, message = _parse(text.strip(), col)
        if message:
            problems.append(Problem(label, message, row, col.name, text))
            converted.append(None)
        else:
            converted.append(value)
    return converted


def _parse(text: str, col: Column):
    if col.kind in ("id", "text"):
        return text, None
    if col.kind == "choice":
        return (text, None) if text in col.choices else (None, f"must be one of {', '.join(col.choices)}")
    number, message = _number(text, col)
    if message:
        return None, message
    if col.min is not None and (number < col.min or (col.strict_min and number == col.min)):
        return None, f"must be {'>' if col.strict_min else '>='} {_fmt(col.min)}"
    if col.max is not None and number > col.max:
        return None, f"must be <= {_fmt(col.max)}"
    return number, None


def _number(text: str, col: Column):
    try:
        number = float(text)
    except ValueError:
        if col.kind == "float" and re.fullmatch(r"[+-]?\d+,\d+", text):
            return None, "a comma in a number: write decimals with a point (2.5) and no thousands separator"
        return None, "not a number" if col.kind == "float" else "not a whole number"
    if not math.isfinite(number):
        return None, "must be a finite number"
    if col.kind != "int":
        return number, None
    if number != int(number) or "." in text or "," in text:
        # "2.000" is 2000 to a Dutch reader and 2 to Python: refuse rather than guess.
        if number == int(number):
            return None, "not a whole number (write it without a decimal point or thousands separator)"
        return None, "not a whole number"
    return int(number), None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def duplicates(df: pd.DataFrame, column: str, label: str, problems: list[Problem]) -> None:
    """One Problem per row whose ``column`` repeats an earlier row's value."""
    if df is None or column not in df:
        return
    seen: dict[object, int] = {}
    for row, value in zip(df["row"], df[column]):
        if value is None:
            continue
        if value in seen:
            problems.append(Problem(label, f"duplicate id (first used in row {seen[value]})", row, column, value))
        else:
            seen[value] = row


def typed(df: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """Give a table without problems its final dtypes (whole numbers int64, numbers float)."""
    df = df.copy()
    for col in columns:
        if col.name not in df:
            continue
        if col.kind == "int":
            df[col.name] = df[col.name].astype("Int64" if df[col.name].isna().any() else "int64")
        elif col.kind == "float":
            df[col.name] = df[col.name].astype(float)
    return df
