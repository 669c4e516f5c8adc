"""Instances as Excel workbooks (read, validated cell by cell, written) and solutions as workbooks."""

import datetime as dt
import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, run

from allocator.commands.main import cli
from allocator.core.errors import InstanceError
from allocator.data.load import load_instance
from allocator.data.workbook import export_instance
from allocator.reports.workbook import write_solution_workbook
from allocator.results.solution import TABLES

TWO = INSTANCES / "tiny-two-provinces"
HAND = HAND_ARGS


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def book(tmp_path):
    """tiny-two-provinces as a workbook; returns (path, edit) where edit(fn) changes it with openpyxl."""
    path = tmp_path / "plan.xlsx"
    export_instance(TWO, path)

    def edit(fn):
        wb = openpyxl.load_workbook(path)
        fn(wb)
        wb.save(path)

    return path, edit


def problems(path) -> list[str]:
    with pytest.raises(InstanceError) as exc:
        load_instance(path)
    return [str(p) for p in exc.value.problems]


def assert_same_instance(a, b):
    for table in ("provinces", "municipalities", "sites", "links", "matrix"):
        x, y = getattr(a, table), getattr(b, table)
        if x is None:
            assert y is None
        else:
            pd.testing.assert_frame_equal(x, y)
    assert (a.travel == b.travel).all()
    assert (
        a.name,
        a.description,
        a.units,
        a.currency,
        a.planning_period,
        a.budget,
        a.travel_mode,
        a.speed_kmh,
        a.detour_factor,
    ) == (
        b.name,
        b.description,
        b.units,
        b.currency,
        b.planning_period,
        b.budget,
        b.travel_mode,
        b.speed_kmh,
        b.detour_factor,
    )


def test_exported_workbook_has_the_instance_sheets(book):
    path, _ = book
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["settings", "provinces", "municipalities", "sites", "links"]
    settings = {row[0]: row[1] for row in wb["settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["travel.mode"] == "network" and settings["travel.speed_kmh"] == 60 and settings["budget"] is None
    sites = wb["sites"]
    assert [c.value for c in sites[1]] == [
        "site",
        "name",
        "municipality",
        "province",
        "kind",
        "status",
        "min_size",
        "capacity",
        "fixed_cost",
        "cost_per_place",
        "lat",
        "lon",
    ]
    assert sites["H2"].value == 400 and sites["H2"].data_type == "n"  # numbers stay numbers
    assert sites.freeze_panes == "A2" and sites["A1"].font.b


def test_round_trip_tiny_solves_to_the_same_tables(book):
    path, _ = book
    folder, workbook = load_instance(TWO), load_instance(path)
    assert_same_instance(folder, workbook)
    assert workbook.source == str(path)
    a, b = run(folder), run(workbook)
    assert a.check.passed and b.check.passed
    assert a.solution.objective == b.solution.objective == 8100
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a.solution, table), getattr(b.solution, table))


def test_round_trip_matrix_instance_with_budget(tmp_path):
    path = tmp_path / "budget.xlsx"
    export_instance(INSTANCES / "tiny-budget", path)
    a, b = load_instance(INSTANCES / "tiny-budget"), load_instance(path)
    assert b.budget == 2500 and b.travel_mode == "matrix"
    assert_same_instance(a, b)


def test_round_trip_national_instance(tmp_path):
    path = tmp_path / "nl.xlsx"
    export_instance(INSTANCES / "nl-2024", path)
    folder, workbook = load_instance(INSTANCES / "nl-2024"), load_instance(path)
    assert_same_instance(folder, workbook)
    assert workbook.total_demand == 96_002
    # municipalities.csv has no demand column: the template keeps it that way (demand derived from the task)
    header = [c.value for c in openpyxl.load_workbook(path, read_only=True)["municipalities"][1]]
    assert "demand" not in header


def test_fingerprint_follows_content_not_file(book, tmp_path):
    path, edit = book
    other = tmp_path / "copy.xlsx"
    export_instance(path, other)  # written again: other bytes, same content
    assert load_instance(other).fingerprint == load_instance(path).fingerprint
    edit(lambda wb: wb["sites"].cell(row=2, column=8, value=401))
    assert load_instance(path).fingerprint != load_instance(other).fingerprint


def test_bad_cell_is_named_as_excel_shows_it(book):
    path, edit = book
    edit(lambda wb: wb["sites"].__setitem__("F3", "closed"))
    assert problems(path) == ["sites!F3 (status): must be one of candidate, existing (value: 'closed')"]


def test_bad_number_cell(book):
    path, edit = book
    edit(lambda wb: wb["sites"].__setitem__("H4", "lots"))
    assert problems(path) == ["sites!H4 (capacity): not a whole number (value: 'lots')"]


def test_cell_position_follows_the_sheet_columns_and_skips_blank_rows(book):
    path, edit = book

    def fn(wb):
        ws = wb["municipalities"]
        ws.move_range("A3:G5", rows=2)  # two blank rows after the first data row
        ws.insert_cols(1)  # a column before the table: every letter moves right
        ws["A1"] = "note"
        ws["E7"] = "-3"

    edit(fn)
    assert problems(path) == ["municipalities!E7 (population): must be >= 0 (value: '-3')"]


def test_reference_error_names_the_sheet(book):
    path, edit = book
    edit(lambda wb: wb["municipalities"].__setitem__("C3", "P9"))
    assert "municipalities!C3 (province): unknown province (not in sheet provinces) (value: 'P9')" in problems(path)


def test_settings_error_names_the_value_cell(book):
    path, edit = book

    def fn(wb):
        ws = wb["settings"]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "travel.mode")
        ws.cell(row=row, column=2, value="teleport")
        ws.cell(row=ws.max_row + 1, column=1, value="colour")
        ws.cell(row=ws.max_row, column=2, value="red")

    edit(fn)
    found = problems(path)
    assert 'settings!B8 (travel.mode): must be "network" or "matrix" (value: \'teleport\')' in found
    assert any(p.startswith("settings!A11 (colour): unknown key") for p in found)


def test_missing_sheet(book):
    path, edit = book
    edit(lambda wb: wb.remove(wb["links"]))
    assert problems(path) == ["links: sheet not found (the workbook has: settings, provinces, municipalities, sites)"]


def test_missing_column(book):
    path, edit = book
    edit(lambda wb: wb["sites"].delete_cols(9))
    assert problems(path) == ["sites, row 1, column 'fixed_cost': required column is missing"]


def test_formula_without_saved_result(book):
    path, edit = book
    edit(lambda wb: wb["sites"].__setitem__("H2", "=2*200"))
    assert (
        problems(path)[0]
        == "sites!H2: a formula without a saved result: open the workbook in Excel (or LibreOffice) and save it (value: '=2*200')"
    )


def test_not_a_workbook(tmp_path):
    path = tmp_path / "plan.xlsx"
    path.write_text("not a zip")
    assert problems(path)[0].startswith("plan.xlsx: not a readable Excel workbook (.xlsx)")


def test_cli_validate_and_solve_a_workbook(book, tmp_path):
    path, edit = book
    r = invoke("validate", path)
    assert r.exit_code == 0 and "tiny-two-provinces: valid" in r.output
    out = tmp_path / "sol"
    r = invoke("solve", path, *HAND, "--out", out)
    assert r.exit_code == 0, r.output
    r = invoke("check", out)  # finds the workbook through summary.json
    assert r.exit_code == 0 and "passed" in r.output
    edit(lambda wb: wb["sites"].__setitem__("F3", "closed"))
    r = invoke("validate", path)
    assert r.exit_code == 2
    assert "sites!F3 (status): must be one of candidate, existing (value: 'closed')" in r.output
    assert "Traceback" not in r.output


def test_cli_export_instance(tmp_path):
    target = tmp_path / "plan.xlsx"
    r = invoke("export-instance", TWO, "--out", target)
    assert r.exit_code == 0, r.output
    assert_same_instance(load_instance(TWO), load_instance(target))
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]  # no temporary file left behind
    assert invoke("export-instance", TWO, "--out", tmp_path / "plan.csv").exit_code == 2


HOSTILE = ['=HYPERLINK("http://example.com","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1"]


def test_solution_workbook_escapes_formulas(copy_instance, tmp_path):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(name=HOSTILE))
    outcome = run(folder)
    target = tmp_path / "result.xlsx"
    write_solution_workbook(outcome.solution, target)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["summary", "provinces", "sites", "municipalities", "placements"]
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
                    seen.append(cell.value)
    assert set(HOSTILE) <= set(seen)  # kept exactly, as text
    names = [c.value for c in wb["sites"]["B"][1:]]
    assert names == HOSTILE


def test_solution_workbook_summary_and_formatting(tmp_path):
    outcome = run(TWO)
    target = tmp_path / "result.xlsx"
    write_solution_workbook(outcome.solution, target)
    wb = openpyxl.load_workbook(target)
    summary = {row[0]: row[1] for row in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal" and summary["objective"] == 8100 and summary["gap"] == 0
    assert summary["kpis.placed"] == 500 and summary["check.passed"] is True
    assert summary["policy.travel_value"] == 1 and summary["policy.large_site_rule"] == "exactly"
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("DCE6F1") for c in ws[1])
        assert ws.column_dimensions["A"].width >= len(str(ws["A1"].value))
    sites = pd.read_excel(target, sheet_name="sites")
    assert list(sites.columns) == list(outcome.solution.sites.columns)
    assert sites["placed"].sum() == 500


def test_cli_solve_writes_the_workbook(tmp_path):
    target = tmp_path / "result.xlsx"
    r = invoke("solve", TWO, *HAND, "--out", tmp_path / "sol", "--xlsx", target)
    assert r.exit_code == 0, r.output
    assert f"Workbook written to {target}" in r.output
    assert openpyxl.load_workbook(target).sheetnames[0] == "summary"


def test_exported_template_escapes_text(copy_instance, tmp_path):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(name=HOSTILE))
    target = tmp_path / "plan.xlsx"
    export_instance(folder, target)
    cell = openpyxl.load_workbook(target)["sites"]["B2"]
    assert cell.value == HOSTILE[0] and cell.data_type == "s" and cell.quotePrefix
    assert list(load_instance(target).sites["name"]) == HOSTILE


# ------------------------------------------------------------------ instances with periods


def assert_same_horizon(a, b):
    """The periods, scenarios, need, emergency capacity, life cycles, registration centre and (with groups) the
    demand of every group in every period and scenario."""
    x, y = a.horizon, b.horizon
    pd.testing.assert_frame_equal(x.periods, y.periods)
    pd.testing.assert_frame_equal(x.need, y.need)
    pd.testing.assert_frame_equal(x.emergency, y.emergency)
    pd.testing.assert_frame_equal(x.lifecycle, y.lifecycle)
    assert (x.scenarios, x.demand, x.registration, x.group_demand, x.key) == (
        y.scenarios,
        y.demand,
        y.registration,
        y.group_demand,
        y.key,
    )


@pytest.mark.parametrize("name", ["tiny-horizon-band", "tiny-horizon-groups", "tiny-horizon-lifecycle"])
def test_round_trip_instances_with_periods(name, tmp_path):
    path = tmp_path / f"{name}.xlsx"
    export_instance(INSTANCES / name, path)
    folder, workbook = load_instance(INSTANCES / name), load_instance(path)
    assert_same_instance(folder, workbook)
    assert_same_horizon(folder, workbook)
    if name == "tiny-horizon-groups":
        pd.testing.assert_frame_equal(folder.groups.periodic, workbook.groups.periodic)
    sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert sheets[-2:] == ["periods", "need"] or sheets[-3:] == ["periods", "need", "emergency"]


def test_round_trip_registration_centre(tmp_path):
    """The registration centre's settings (whole and decimal numbers) come back as instance.toml holds them."""
    folder = tmp_path / "band"
    shutil.copytree(INSTANCES / "tiny-horizon-band", folder)
    with (folder / "instance.toml").open("a") as f:
        f.write('\n[registration]\nsite = "L0"\nlimit = 90\npenalty_per_night = 1.5\npenalty_cap = 500\n')
    path = tmp_path / "band.xlsx"
    export_instance(folder, path)
    settings = {row[0]: row[1] for row in openpyxl.load_workbook(path)["settings"].iter_rows(values_only=True)}
    assert (settings["registration.site"], settings["registration.limit"]) == ("L0", 90)
    assert_same_horizon(load_instance(folder), load_instance(path))
    assert load_instance(path).horizon.registration.penalty_per_night == 1.5


@pytest.fixture
def horizon_book(tmp_path):
    path = tmp_path / "band.xlsx"
    export_instance(INSTANCES / "tiny-horizon-band", path)

    def edit(fn):
        wb = openpyxl.load_workbook(path)
        fn(wb)
        wb.save(path)

    return path, edit


def test_bad_period_cells_are_named_as_excel_shows_them(horizon_book):
    path, edit = horizon_book

    def fn(wb):
        wb["periods"]["C3"] = "two"
        wb["need"]["A4"] = "2027"

    edit(fn)
    assert problems(path) == [
        "periods!C3 (years): not a number (value: 'two')",
        "need!A4 (period): unknown period (not in sheet periods) (value: '2027')",
    ]


def test_periods_sheet_missing(horizon_book):
    path, edit = horizon_book
    edit(lambda wb: wb.remove(wb["periods"]))
    found = problems(path)
    assert "need: needs sheet periods: without periods the instance is one snapshot" in found
    assert "sites!M1 (earliest_open): a life-cycle column needs sheet periods" in found


def test_a_date_typed_into_a_start_cell_is_the_date(horizon_book):
    """Excel turns 2026-01-01 typed into a cell into a date: it reads as the date written, not as a timestamp."""
    path, edit = horizon_book
    edit(lambda wb: wb["periods"].__setitem__("B3", dt.datetime(2026, 1, 1)))
    assert load_instance(path).horizon.periods.at["2026", "start"] == "2026-01-01"


def test_cli_solve_writes_the_workbook_of_a_plan_over_several_periods(tmp_path):
    target = tmp_path / "plan.xlsx"
    r = invoke("solve", INSTANCES / "tiny-horizon-band", *HAND, "--out", tmp_path / "sol", "--xlsx", target)
    assert r.exit_code == 0, r.output
    assert f"Workbook written to {target}" in r.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == [
        "summary",
        "scenarios",
        "periods",
        "provinces",
        "timeline",
        "events",
        "municipalities",
        "placements",
        "comparison",
        "robustness",
    ]
    summary = {row[0]: row[1] for row in wb["summary"].iter_rows(min_row=2, values_only=True)}
    # tiny-horizon-band (README): the band plan opens S1 in 2026, expected cost 250; mid-only would save 50 in mid.
    assert summary["plan"] == "integrated" and summary["scenario"] == "band" and summary["objective"] == 250
    assert summary["kpis.openings.high"] == 1 and summary["robustness.price_of_robustness"] == 50
    periods = pd.read_excel(target, sheet_name="periods", dtype={"period": str})
    pd.testing.assert_frame_equal(periods, pd.read_csv(tmp_path / "sol" / "periods.csv", dtype={"period": str}))
