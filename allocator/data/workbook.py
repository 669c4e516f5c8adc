"""Instance workbooks (read and written), and the safe cell writing every workbook of the package uses.

An instance workbook has one sheet per CSV table (``provinces``, ``municipalities``, ``sites``,
``links`` or ``travel_times``; with demand groups ``groups``, ``group_demand``, ``site_groups``; with
periods ``periods``, ``need``, ``emergency``), header in row 1, and a ``settings`` sheet of key/value
rows holding instance.toml (nested keys dotted: ``travel.mode``, ``registration.limit``). Its cells go
through the same column checks as the CSV files; problems name the cell as Excel shows it (``sites!F12``).

Every text cell is written as an explicit string, and text that a spreadsheet could take for a
formula (starting with ``=``, ``+``, ``-``, ``@``) also gets Excel's quote prefix, so no value
from the data can ever run as a formula. Workbooks are written to a temporary file beside the
target and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InstanceError, Problem
from ..core.files import atomic_file
from ..core.outputs import SIGNATURE, check_file_target
from .groups import COLUMNS as GROUP_COLUMNS
from .groups import MAX_ROWS as GROUP_ROWS
from .horizon import HORIZON_COLUMNS, HORIZON_FILES, HORIZON_ROWS, REGISTRATION_SETTINGS, horizon_tables
from .instance import (
    LINK_COLUMNS,
    MATRIX_COLUMNS,
    MAX_ROWS,
    MUNICIPALITY_COLUMNS,
    PROVINCE_COLUMNS,
    SETTINGS,
    SITE_COLUMNS,
    TRAVEL_SETTINGS,
    Instance,
    build_instance,
    check_settings,
    is_workbook,
    load_folder_instance,
    travel_mode,
)
from .operators import COLUMNS as OPERATOR_COLUMNS
from .operators import FILE as OPERATOR_FILE
from .tables import check_table

SETTINGS_SHEET = "settings"
GROUP_SHEETS = ("groups", "group_demand", "site_groups")
OPERATOR_SHEET = OPERATOR_FILE.removesuffix(".csv")
HORIZON_SHEETS = tuple(name.removesuffix(".csv") for name in HORIZON_FILES)
TABLE_COLUMNS = {
    "provinces": PROVINCE_COLUMNS,
    "municipalities": MUNICIPALITY_COLUMNS,
    "sites": SITE_COLUMNS,
    "links": LINK_COLUMNS,
    "travel_times": MATRIX_COLUMNS,
    **{name: GROUP_COLUMNS[f"{name}.csv"] for name in GROUP_SHEETS},
    **{name: HORIZON_COLUMNS[f"{name}.csv"] for name in HORIZON_SHEETS},
    OPERATOR_SHEET: OPERATOR_COLUMNS,
}
TRAVEL_SHEET = {"network": "links", "matrix": "travel_times"}
# Most rows a sheet may have (its table's row limit plus the header); sheets not listed here are not read.
SHEET_ROWS = {
    SETTINGS_SHEET: 200,
    **{name: MAX_ROWS[f"{name}.csv"] + 1 for name in ("provinces", "municipalities", "sites", "links", "travel_times")},
    **{name: GROUP_ROWS[f"{name}.csv"] + 1 for name in GROUP_SHEETS},
    **{name: HORIZON_ROWS[f"{name}.csv"] + 1 for name in HORIZON_SHEETS},
    OPERATOR_SHEET: MAX_ROWS[OPERATOR_FILE] + 1,
}
MAX_COLUMNS = 64
MAX_WORKBOOK_BYTES = 64_000_000
MAX_UNPACKED_BYTES = 1_000_000_000
SETTING_NOTES = {
    "name": "short name, used in reports",
    "description": "one or two sentences",
    "units": "what demand and capacity count, e.g. places",
    "currency": "every cost column is in this currency",
    "planning_period": "the period every cost covers, e.g. 1 year",
    "budget": "money available for the planning period; empty = no budget limit",
    "travel.mode": "network (sheet links) or matrix (sheet travel_times)",
    "travel.speed_kmh": "network mode: speed of the access leg from a site to its municipality's node",
    "travel.detour_factor": "network mode: road distance / straight-line distance on the access leg (>= 1)",
    "registration.site": "with periods: the site where people wait who are not placed (in sheet sites)",
    "registration.limit": "persons at the registration centre above which a night counts as above the limit",
    "registration.penalty_per_night": "money per night with occupancy above the limit (reported, not optimised)",
    "registration.penalty_cap": "money, the most the penalty can add up to",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = "DCE6F1"
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # characters an .xlsx cannot hold


@dataclass(frozen=True)
class Sheet:
    """A sheet as text: header names, their column letters, and the non-empty data rows."""

    name: str
    header: list[str]
    letters: dict[str, str]  # column name -> letter of its first occurrence
    rows: list[int]  # row number of each data row as Excel shows it
    values: list[list[str]]

    def frame(self) -> pd.DataFrame:
        return (
            pd.DataFrame(self.values, columns=self.header, dtype=object)
            if self.values
            else pd.DataFrame(columns=self.header, dtype=object)
        )


# ---------------------------------------------------------------- reading an instance workbook


def load_workbook_instance(path: str | Path) -> Instance:
    """Read and validate an instance workbook; InstanceError names every bad cell (``sites!F12``)."""
    path = Path(path)
    problems: list[Problem] = []
    sheets = read_sheets(path, problems)
    if sheets is None:
        raise InstanceError(problems)
    settings, key_rows = _settings(sheets.get(SETTINGS_SHEET), problems)
    mode = travel_mode(settings)
    tables = {}
    for name in ("provinces", "municipalities", "sites") + ((TRAVEL_SHEET[mode],) if mode in TRAVEL_SHEET else ()):
        sheet = sheets.get(name)
        if sheet is None:
            problems.append(
                Problem(f"{name}.csv", f"sheet not found (the workbook has: {', '.join(sheets) or 'no sheets'})")
            )
            tables[name] = None
        else:
            tables[name] = check_table(sheet.frame(), TABLE_COLUMNS[name], problems, f"{name}.csv", sheet.rows)
    group_tables = {
        f"{name}.csv": check_table(
            sheets[name].frame(), TABLE_COLUMNS[name], problems, f"{name}.csv", sheets[name].rows
        )
        for name in GROUP_SHEETS
        if name in sheets
    }
    horizon = horizon_tables(
        [f"{name}.csv" for name in HORIZON_SHEETS if name in sheets],
        lambda file: _sheet_table(sheets, file.removesuffix(".csv"), problems),
        problems,
    )
    used = [
        SETTINGS_SHEET,
        *tables,
        *(name for name in (*GROUP_SHEETS, *HORIZON_SHEETS, OPERATOR_SHEET) if name in sheets),
    ]

    def fingerprint() -> str:
        return content_fingerprint([sheets[n] for n in used if n in sheets])

    return build_instance(
        settings,
        tables["provinces"],
        tables["municipalities"],
        tables["sites"],
        tables.get("links"),
        tables.get("travel_times"),
        problems,
        str(Path(path).resolve()),
        fingerprint,
        locate=_locator(sheets, key_rows),
        group_tables=group_tables,
        horizon_tables=horizon,
        operator_table=_sheet_table(sheets, OPERATOR_SHEET, problems) if OPERATOR_SHEET in sheets else None,
    )


def _sheet_table(sheets: dict[str, Sheet], name: str, problems: list[Problem]):
    """Sheet ``name`` through its table's column checks, or None with a Problem when the workbook lacks it."""
    sheet = sheets.get(name)
    if sheet is None:
        problems.append(Problem(f"{name}.csv", f"sheet not found (the workbook has: {', '.join(sheets)})"))
        return None
    return check_table(sheet.frame(), TABLE_COLUMNS[name], problems, f"{name}.csv", sheet.rows)


def read_sheets(path: Path, problems: list[Problem], limits: dict[str, int] | None = None) -> dict[str, Sheet] | None:
    """The instance's sheets of the workbook as text (other sheets are not read); formulas give their saved results.

    Each sheet is bounded before it is read (rows, columns, and the unpacked size of the file), so that a
    stray cell far away (XFD1048576) or a packed file cannot exhaust the memory. ``limits`` names the
    sheets to read and their most rows (default: the instance's sheets, SHEET_ROWS).
    """
    limits = SHEET_ROWS if limits is None else limits
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        problems.append(Problem(str(path), "no such workbook"))
        return None
    if not _within_size(path, problems):
        return None
    try:
        book = load_workbook(path, read_only=True, data_only=False)
        used = [ws for ws in book.worksheets if ws.title in limits]
        if not all(_within_bounds(ws, limits[ws.title], problems) for ws in used):
            book.close()
            return None
        grids = {ws.title: _grid(ws, limits[ws.title], formulas=True) for ws in used}
        book.close()
        if any(f for grid in grids.values() for row in grid for _, f in row):
            _saved_results(path, grids, limits, problems)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        problems.append(Problem(path.name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return None
    return {
        title: _sheet(title, [[_text(v) for v, _ in row] for row in grid], problems) for title, grid in grids.items()
    }


def _within_size(path: Path, problems: list[Problem]) -> bool:
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(Problem(path.name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return False
    if size > MAX_WORKBOOK_BYTES or unpacked > MAX_UNPACKED_BYTES:
        problems.append(
            Problem(
                path.name,
                f"the workbook is too large ({size / 1e6:,.1f} MB, {unpacked / 1e6:,.0f} MB unpacked; at most {MAX_WORKBOOK_BYTES / 1e6:,.0f} MB and {MAX_UNPACKED_BYTES / 1e6:,.0f} MB)",
            )
        )
        return False
    return True


def _within_bounds(ws, limit: int, problems: list[Problem]) -> bool:
    """The sheet's stated extent within the rows its table may have (``limit``) and MAX_COLUMNS."""
    rows, columns = ws.max_row or 0, ws.max_column or 0
    if rows <= limit and columns <= MAX_COLUMNS:
        return True
    far = f"{_letter(columns - 1)}{rows}"
    problems.append(
        Problem(
            ws.title,
            f"the sheet reaches cell {far} ({rows:,} rows, {columns:,} columns; at most {limit:,} rows and {MAX_COLUMNS} columns): delete what lies beyond the table",
            cell=far,
        )
    )
    return False


def _grid(ws, limit: int, formulas: bool) -> list[list]:
    rows = ws.iter_rows(max_row=limit, max_col=MAX_COLUMNS)
    if formulas:
        return [[(c.value, c.data_type == "f") for c in row] for row in rows]
    return [[c.value for c in row] for row in rows]


def _saved_results(path: Path, grids: dict, limits: dict[str, int], problems: list[Problem]) -> None:
    """Replace each formula by the result saved with the workbook (a Problem where there is none)."""
    from openpyxl import load_workbook

    results = load_workbook(path, read_only=True, data_only=True)
    saved = {ws.title: _grid(ws, limits[ws.title], formulas=False) for ws in results.worksheets if ws.title in grids}
    results.close()
    for title, grid in grids.items():
        for r, row in enumerate(grid):
            for c, (value, formula) in enumerate(row):
                if not formula:
                    continue
                result = saved[title][r][c] if r < len(saved[title]) and c < len(saved[title][r]) else None
                if result is None:
                    problems.append(
                        Problem(
                            title,
                            "a formula without a saved result: open the workbook in Excel (or LibreOffice) and save it",
                            cell=f"{_letter(c)}{r + 1}",
                            value=value,
                        )
                    )
                grid[r][c] = (result, False)


def _sheet(title: str, grid: list[list[str]], problems: list[Problem]) -> Sheet:
    width = max((len(r) for r in grid), default=0)
    grid = [r + [""] * (width - len(r)) for r in grid]
    header = [h.strip() for h in grid[0]] if grid else []
    body = grid[1:]
    keep = [c for c in range(width) if header[c] != "" or any(r[c] != "" for r in body)]
    letters: dict[str, str] = {}
    columns = []
    for c in keep:
        name = header[c]
        if name in letters:
            problems.append(
                Problem(
                    title,
                    f"a column name appears twice (first in column {letters[name]})",
                    1,
                    name,
                    cell=f"{_letter(c)}1",
                )
            )
            continue
        letters[name] = _letter(c)
        columns.append(c)
    rows, values = [], []
    for r, row in enumerate(body, start=2):
        cells = [row[c] for c in columns]
        if any(v != "" for v in cells):
            rows.append(r)
            values.append(cells)
    return Sheet(title, [header[c] for c in columns], letters, rows, values)


def _settings(sheet: Sheet | None, problems: list[Problem]) -> tuple[dict, dict[str, int]]:
    """instance.toml rebuilt from key/value rows; returns it and the row of every key."""
    if sheet is None:
        problems.append(
            Problem("instance.toml", "sheet not found (a settings sheet of key and value columns is required)")
        )
        return {}, {}
    missing = [c for c in ("key", "value") if c not in sheet.header]
    for column in missing:
        problems.append(Problem(SETTINGS_SHEET, "required column is missing", 1, column))
    unknown = [c for c in sheet.header if c not in ("key", "value", "note", "notes")]
    for column in unknown:
        problems.append(
            Problem(
                SETTINGS_SHEET,
                "unknown column (expected: key, value, note)",
                1,
                column,
                cell=f"{sheet.letters[column]}1",
            )
        )
    if missing:
        return {}, {}
    k, v = sheet.header.index("key"), sheet.header.index("value")
    data: dict = {}
    key_rows: dict[str, int] = {}
    for row, cells in zip(sheet.rows, sheet.values):
        key = cells[k].strip()
        if key in key_rows:
            problems.append(
                Problem(
                    SETTINGS_SHEET,
                    f"key given twice (first in row {key_rows[key]})",
                    row,
                    "key",
                    key,
                    cell=f"{sheet.letters['key']}{row}",
                )
            )
            continue
        key_rows[key] = row
        if cells[v] == "":
            continue  # an empty value leaves the key out, e.g. no budget
        target, leaf = data, key
        if "." in key:
            head, leaf = key.split(".", 1)
            target = data.setdefault(head, {})
            if not isinstance(target, dict):
                continue  # "travel" given as a plain value: check_settings reports it
        target[leaf] = _setting_value(cells[v], key)
    return check_settings(data, "instance.toml", problems), key_rows


def _setting_value(text: str, key: str):
    """Numbers for the numeric keys, text for the rest (as TOML would hold them)."""
    leaf = key.split(".")[-1]
    if key.startswith("registration."):
        kind = REGISTRATION_SETTINGS.get(leaf)
    else:
        spec = (TRAVEL_SETTINGS if key.startswith("travel.") else SETTINGS).get(leaf)
        kind = spec[0] if spec else None
    if kind not in (None, str):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return text


def _locator(sheets: dict[str, Sheet], key_rows: dict[str, int]):
    """Map a Problem reported under a CSV file name to its sheet and cell."""
    sheet_of = {f"{name}.csv": name for name in TABLE_COLUMNS} | {"instance.toml": SETTINGS_SHEET}

    def locate(p: Problem) -> Problem:
        name = sheet_of.get(p.file)
        if name is None or p.cell is not None:
            return p
        message = re.sub(
            r"\b(provinces|municipalities|sites|links|travel_times|groups|group_demand|site_groups|periods|need|emergency)\.csv\b",
            r"sheet \1",
            p.message,
        )
        if name == SETTINGS_SHEET:
            row = key_rows.get(p.column) if p.column else None
            if row is None:
                return Problem(name, message, None, p.column, p.value)
            letters = sheets[name].letters
            column = letters["key"] if message.startswith("unknown key") else letters.get("value", letters["key"])
            return Problem(name, message, row, p.column, p.value, cell=f"{column}{row}")
        sheet = sheets.get(name)
        if sheet is not None and p.row is not None and p.column in sheet.letters:
            return Problem(name, message, p.row, p.column, p.value, cell=f"{sheet.letters[p.column]}{p.row}")
        return Problem(name, message, p.row, p.column, p.value)

    return locate


def content_fingerprint(sheets: list[Sheet]) -> str:
    """sha256 over the sheets' text content: the same data gives the same fingerprint, however saved."""
    digest = hashlib.sha256()
    for sheet in sheets:
        digest.update(sheet.name.encode() + b"\0")
        for cells in [sheet.header, *sheet.values]:
            digest.update("\x1f".join(cells).encode() + b"\x1e")
    return digest.hexdigest()


def _text(value) -> str:
    """A cell's value as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # a date typed into a cell (a period's start) reads as the date written
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# ---------------------------------------------------------------- writing workbooks


def export_instance(instance: str | Path, target: str | Path) -> Path:
    """Write a valid instance (folder or workbook) as an instance workbook at ``target``.

    The sheets hold the instance's own tables as given (a municipalities table without a demand
    column stays without one), so the workbook is a template to edit and solve.
    """
    source = Path(instance)
    check_file_target(target, inputs=[source])
    inst = load_workbook_instance(source) if is_workbook(source) else load_folder_instance(source)
    settings, tables = _raw_instance(source, inst.travel_mode)
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = SETTINGS_SHEET
    rows = []
    for key in [
        *(k for k in SETTINGS if k not in ("travel", "registration")),
        *(f"travel.{k}" for k in TRAVEL_SETTINGS),
        *(f"registration.{k}" for k in REGISTRATION_SETTINGS if "registration" in settings),
    ]:
        head, _, leaf = key.partition(".")
        value = settings.get(head, {}).get(leaf) if leaf else settings.get(head)
        rows.append([key, value, SETTING_NOTES[key]])
    fill_sheet(ws, ["key", "value", "note"], rows)
    for name, frame in tables.items():
        kinds = {c.name: c.kind for c in TABLE_COLUMNS[name]}
        cells = [
            [_typed(v, kinds.get(col)) for col, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)
        ]
        fill_sheet(book.create_sheet(name), list(frame.columns), cells)
    return save_book(book, Path(target))


def _raw_instance(source: Path, mode: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    names = ("provinces", "municipalities", "sites", TRAVEL_SHEET[mode], *GROUP_SHEETS, *HORIZON_SHEETS, OPERATOR_SHEET)
    if is_workbook(source):
        problems: list[Problem] = []
        sheets = read_sheets(source, problems)
        settings, _ = _settings(sheets[SETTINGS_SHEET], problems)
        return settings, {n: sheets[n].frame() for n in names if n in sheets}
    settings = tomllib.loads((source / "instance.toml").read_text(encoding="utf-8-sig"))
    return settings, {
        n: pd.read_csv(source / f"{n}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        for n in names
        if (source / f"{n}.csv").is_file()
    }


def _typed(text: str, kind: str | None):
    """Numbers as numbers (the instance was validated, so they parse), everything else as text."""
    if text == "":
        return None
    if kind in ("int", "float"):
        number = float(text)
        return int(number) if kind == "int" else number
    return text


def fill_sheet(ws, header: list[str], rows: list[list], formats: dict[str, str] | None = None) -> None:
    """Header (bold, filled, frozen), safe cells, column widths from the content."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    widths = [len(str(h)) for h in header]
    for c, name in enumerate(header, start=1):
        cell = put(ws, 1, c, name)
        cell.font, cell.fill = bold, fill
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = put(ws, r, c, value)
            if cell.value is not None:
                if formats and header[c - 1] in formats and cell.data_type == "n":
                    cell.number_format = formats[header[c - 1]]
                shown = f"{cell.value:,.2f}" if isinstance(cell.value, float) else _text(cell.value)
                widths[c - 1] = max(widths[c - 1], min(len(shown), 60))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width + 2
    ws.freeze_panes = "A2"


def put(ws, row: int, column: int, value):
    """Write one cell so that it can never run as a formula: text stays text."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        return cell
    if isinstance(value, (bool, int, float)):
        cell.value = value
        return cell
    text = _ILLEGAL.sub("", str(value))
    cell.value = text
    cell.data_type = "s"  # openpyxl takes any text starting with "=" for a formula
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True  # Excel shows and keeps it as text even when the cell is edited
    return cell


def save_book(book, target: Path) -> Path:
    """Save an openpyxl workbook to ``target`` whole or not at all."""
    book.properties.creator = SIGNATURE  # so that a later run recognises the file as ours
    with atomic_file(target) as tmp:
        book.save(tmp)
    return target
