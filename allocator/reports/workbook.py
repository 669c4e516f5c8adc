"""A solution as an Excel workbook: a summary sheet, then one sheet per table (for a plan over several periods:
its periods, scenarios, provinces, timeline, events, municipalities and placements, and its comparisons with the
baselines).

Cells are written by the instance workbook's safe writer (text stays text, never a formula);
the file is written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

from ..core.outputs import check_file_target
from ..data.workbook import fill_sheet, save_book

SOLUTION_SHEETS = ("provinces", "sites", "municipalities", "placements")
# The tables of a plan over several periods, the totals first; comparison and robustness where the folder has them.
HORIZON_SHEETS = ("scenarios", "periods", "provinces", "timeline", "events", "municipalities", "placements")
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
    **{
        column: "#,##0"
        for column in (
            "total_cost",
            "site_cost",
            "standby_cost",
            "event_cost",
            "emergency_cost",
            "move_cost",
            "unmet_penalty",
            "objective",
            "band_plan",
            "mid_plan",
            "difference",
        )
    },
    "weight": "0.00%",
}


def write_solution_workbook(solution, target: str | Path, inputs=()) -> Path:
    """The solution as a workbook: a summary sheet (key/value rows) first, then one sheet per table."""
    return _write(solution.summary, {name: getattr(solution, name) for name in SOLUTION_SHEETS}, target, inputs)


def write_horizon_workbook(solution, target: str | Path, inputs=()) -> Path:
    """A plan over several periods as a workbook: the summary sheet, then the folder's tables (HORIZON_SHEETS, and
    comparison and robustness where computed). The myopic baseline stays in the folder's baseline/."""
    tables = solution.tables()
    names = [*HORIZON_SHEETS, *(name for name in ("comparison", "robustness") if name in tables)]
    return _write(solution.summary, {name: tables[name] for name in names}, target, inputs)


def _write(summary: dict, tables: dict, target: str | Path, inputs) -> Path:
    from openpyxl import Workbook

    check_file_target(target, inputs)
    book = Workbook()
    ws = book.active
    ws.title = "summary"
    fill_sheet(ws, ["key", "value"], summary_rows(summary))
    for key, value in ws.iter_rows(min_row=2, max_col=2):
        if value.data_type == "n" and not isinstance(value.value, bool):
            value.number_format = _summary_format(str(key.value))
    for name, table in tables.items():
        fill_sheet(
            book.create_sheet(name),
            list(table.columns),
            [list(row) for row in table.itertuples(index=False)],
            NUMBER_FORMATS,
        )
    return save_book(book, Path(target))


def _summary_format(key: str) -> str:
    leaf = key.split(".")[1] if key.startswith("kpis.") else key.rsplit(".", 1)[-1]  # kpis.total_cost.low: per scenario
    if leaf in ("gap", "budget_used"):
        return "0.000%" if leaf == "gap" else "0.00%"
    if key.startswith("weights."):
        return "0.00%"
    if leaf in ("objective", "bound", "absolute_gap", "budget", "unmet_penalty") or leaf.endswith(("_cost", "_value")):
        return "#,##0"
    return "General"


def summary_rows(summary: dict) -> list[list]:
    """Status, objective, bound, gaps, KPIs, check and policy as key/value rows (nested keys dotted); a plan over
    several periods adds its plan, scenario, weights and the price of robustness, and its KPIs per scenario."""
    rows = [[key, summary.get(key)] for key in ("status", "message", "objective", "bound", "gap", "absolute_gap")]
    if "plan" in summary:
        rows += [[key, summary.get(key)] for key in ("plan", "scenario")]
        rows += [[f"weights.{w}", v] for w, v in (summary.get("weights") or {}).items()]
    for k, v in (summary.get("kpis") or {}).items():
        rows += [[f"kpis.{k}.{w}", x] for w, x in v.items()] if isinstance(v, dict) else [[f"kpis.{k}", v]]
    rows += [[f"robustness.{k}", v] for k, v in (summary.get("robustness") or {}).items()]
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
