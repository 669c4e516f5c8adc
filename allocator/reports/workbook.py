"""A solution as an Excel workbook: a summary sheet, then one sheet per table.

Cells are written by the instance workbook's safe writer (text stays text, never a formula);
the file is written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

from ..core.outputs import check_file_target
from ..data.workbook import fill_sheet, save_book

SOLUTION_SHEETS = ("provinces", "sites", "municipalities", "placements")
NUMBER_FORMATS = {
    "realisation": "0.0%",
    "utilisation": "0.0%",
    "fixed_cost": "#,##0",
    "place_cost": "#,##0",
    "travel_value": "#,##0",
    "cost": "#,##0",
    "travel_minutes": "0.0",
    "mean_travel_minutes": "0.0",
    "max_travel_minutes": "0.0",
}


def write_solution_workbook(solution, target: str | Path, inputs=()) -> Path:
    """The solution as a workbook: a summary sheet (key/value rows) first, then one sheet per table."""
    from openpyxl import Workbook

    check_file_target(target, inputs)
    book = Workbook()
    ws = book.active
    ws.title = "summary"
    fill_sheet(ws, ["key", "value"], summary_rows(solution.summary))
    for key, value in ws.iter_rows(min_row=2, max_col=2):
        if value.data_type == "n" and not isinstance(value.value, bool):
            value.number_format = _summary_format(str(key.value))
    for name in SOLUTION_SHEETS:
        table = getattr(solution, name)
        fill_sheet(
            book.create_sheet(name),
            list(table.columns),
            [list(row) for row in table.itertuples(index=False)],
            NUMBER_FORMATS,
        )
    return save_book(book, Path(target))


def _summary_format(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if leaf in ("gap", "budget_used"):
        return "0.000%" if leaf == "gap" else "0.00%"
    if leaf in ("objective", "bound", "absolute_gap", "budget", "unmet_penalty") or leaf.endswith(("_cost", "_value")):
        return "#,##0"
    return "General"


def summary_rows(summary: dict) -> list[list]:
    """Status, objective, bound, gaps, KPIs, check and policy as key/value rows (nested keys dotted)."""
    rows = [[key, summary.get(key)] for key in ("status", "message", "objective", "bound", "gap", "absolute_gap")]
    rows += [[f"kpis.{k}", v] for k, v in (summary.get("kpis") or {}).items()]
    check = summary.get("check")
    if check is not None:
        rows.append(["check.passed", check.get("passed")])
        rows.append(["check.violations", len(check.get("violations") or [])])
    rows += [
        [f"policy.{k}", "; ".join(map(str, v)) if isinstance(v, list) else v]
        for k, v in (summary.get("policy") or {}).items()
    ]
    rows += [[f"instance.{k}", v] for k, v in (summary.get("instance") or {}).items()]
    rows += [[f"options.{k}", v] for k, v in (summary.get("options") or {}).items()]
    return rows
