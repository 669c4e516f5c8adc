"""Malformed instances through the command line: exit code 2, the place named, no traceback."""

import pytest
from click.testing import CliRunner

from allocator.commands.main import cli
from allocator.data.tables import MAX_TABLE_BYTES


@pytest.fixture
def two(copy_instance):
    return copy_instance("tiny-two-provinces")


@pytest.fixture
def matrix(copy_instance):
    return copy_instance("tiny-budget")


def refused(folder, *expected, command="validate"):
    r = CliRunner().invoke(cli, [command, str(folder)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    for text in expected:
        assert text in r.output, r.output
    return r.output


def set_cell(edit, table, row, column, value):
    def fn(df):
        df.loc[row - 2, column] = value
        return df

    edit(table, fn)


@pytest.mark.parametrize("name", ["instance.toml", "provinces.csv", "municipalities.csv", "sites.csv", "links.csv"])
def test_missing_file(two, name):
    folder, _ = two
    (folder / name).unlink()
    refused(folder, f"{name}: file not found")


def test_missing_travel_matrix(matrix):
    folder, _ = matrix
    (folder / "travel_times.csv").unlink()
    refused(folder, "travel_times.csv: file not found")


@pytest.mark.parametrize(
    "table, column", [("provinces", "name"), ("municipalities", "lat"), ("sites", "capacity"), ("links", "minutes")]
)
def test_missing_column(two, table, column):
    folder, edit = two
    edit(table, lambda df: df.drop(columns=column))
    refused(folder, f"{table}.csv, row 1, column '{column}': required column is missing")


@pytest.mark.parametrize("table", ["provinces", "municipalities", "sites", "links"])
def test_extra_column(two, table):
    folder, edit = two
    edit(table, lambda df: df.assign(colour="red"))
    refused(folder, f"{table}.csv, row 1, column 'colour': unknown column (expected:")


def test_column_given_twice(two):
    folder, _ = two
    path = folder / "provinces.csv"
    path.write_text(path.read_text().replace("province,name,task", "province,name,name", 1))
    refused(folder, "provinces.csv, row 1, column 'name': a column name appears twice")


@pytest.mark.parametrize(
    "table, row, column, value, message",
    [
        ("sites", 2, "capacity", "true", "not a whole number"),
        ("sites", 3, "fixed_cost", "EUR 5", "not a number"),
        ("sites", 2, "lat", "NaN", "must be a finite number"),
        ("sites", 2, "cost_per_place", "inf", "must be a finite number"),
        ("sites", 2, "cost_per_place", "-inf", "must be a finite number"),
        ("sites", 2, "capacity", "1e400", "must be a finite number"),
        ("sites", 2, "capacity", "1e300", "must be <= 1000000000"),
        ("sites", 2, "min_size", "-1", "must be >= 0"),
        ("sites", 2, "fixed_cost", "1e300", "must be <= 1000000000000"),
        ("sites", 2, "cost_per_place", "1e300", "must be <= 1000000000000"),
        ("municipalities", 2, "lat", "1000", "must be <= 90"),
        ("municipalities", 2, "lon", "-1000", "must be >= -180"),
        ("municipalities", 2, "population", "1e300", "must be <= 10000000000"),
        ("municipalities", 2, "demand", "1e15", "must be <= 1000000000"),
        ("provinces", 2, "task", "1e300", "must be <= 1000000000"),
        ("links", 2, "minutes", "0", "must be > 0"),
        ("links", 2, "minutes", "1e300", "must be <= 10000"),
        ("links", 2, "minutes", "nan", "must be a finite number"),
    ],
)
def test_bad_cell(two, table, row, column, value, message):
    folder, edit = two
    set_cell(edit, table, row, column, value)
    refused(folder, f"{table}.csv, row {row}, column '{column}': {message} (value: '{value}')")


def test_absurd_weight(two):
    folder, edit = two
    edit("municipalities", lambda df: df.assign(weight=["1", "1e300", "1", "1"]))
    refused(folder, "municipalities.csv, row 3, column 'weight': must be <= 1000000 (value: '1e300')")


@pytest.mark.parametrize(
    "row, column, value, message",
    [
        (2, "minutes", "-10", "must be >= 0"),
        (2, "minutes", "nan", "must be a finite number"),
        (2, "site", "S9", "unknown site"),
        (3, "municipality", "Q", "unknown municipality"),
    ],
)
def test_bad_matrix_cell(matrix, row, column, value, message):
    folder, edit = matrix
    set_cell(edit, "travel_times", row, column, value)
    refused(folder, f"travel_times.csv, row {row}, column '{column}': {message} (value: '{value}')")


def test_duplicate_and_unknown_ids(two):
    folder, edit = two
    set_cell(edit, "municipalities", 3, "municipality", "A")
    set_cell(edit, "provinces", 3, "province", "P1")
    set_cell(edit, "links", 2, "from", "Z")
    refused(
        folder,
        "municipalities.csv, row 3, column 'municipality': duplicate id (first used in row 2) (value: 'A')",
        "provinces.csv, row 3, column 'province': duplicate id (first used in row 2) (value: 'P1')",
        "links.csv, row 2, column 'from': unknown municipality (value: 'Z')",
    )


def test_site_in_unknown_province(two):
    folder, edit = two
    set_cell(edit, "sites", 2, "province", "P9")
    refused(folder, "sites.csv, row 2, column 'province': unknown province (not in provinces.csv) (value: 'P9')")


@pytest.mark.parametrize("table", ["provinces", "municipalities", "sites", "links"])
def test_empty_table(two, table):
    folder, _ = two
    (folder / f"{table}.csv").write_text("")
    refused(folder, f"{table}.csv: the file is empty (a header row is required)")


@pytest.mark.parametrize("name", ["provinces.csv", "sites.csv", "links.csv"])
def test_not_utf8(two, name):
    folder, _ = two
    path = folder / name
    lines = path.read_bytes().count(b"\n")
    path.write_bytes(path.read_bytes() + "Ærø,x\n".encode("latin-1"))
    # The line is named, and the encoding guessed.
    refused(
        folder, f"{name}, row {lines + 1}: not valid UTF-8 text: byte 0xc6 at character 1; it looks like Windows-1252"
    )


def test_instance_settings_not_utf8(two):
    folder, _ = two
    path = folder / "instance.toml"
    path.write_bytes(path.read_bytes().replace(b"Two", "Twø".encode("latin-1")))
    refused(folder, "instance.toml: not valid UTF-8 text")


def test_binary_file(two):
    folder, _ = two
    (folder / "sites.csv").write_bytes(bytes(range(256)) * 8)
    refused(folder, "sites.csv, row 2: not valid UTF-8 text")


def test_row_longer_than_the_header(two):
    folder, _ = two
    path = folder / "sites.csv"
    lines = path.read_text().splitlines()
    lines[1] += ",9,9"
    path.write_text("\n".join(lines) + "\n")
    refused(folder, "sites.csv, row 2: not a readable CSV table: a row has more fields than the header")


@pytest.mark.parametrize(
    "setting, message",
    [
        ("budget = nan", "instance.toml, column 'budget': must be a finite number (value: nan)"),
        ("budget = -1", "instance.toml, column 'budget': must be >= 0 (value: -1)"),
        ("budget = 1e300", "instance.toml, column 'budget': must be <= 1e+15 (value: 1e+300)"),
        ("budget = true", "instance.toml, column 'budget': must be a number (value: True)"),
    ],
)
def test_bad_budget(two, setting, message):
    folder, _ = two
    path = folder / "instance.toml"
    path.write_text(path.read_text().replace("[travel]", f"{setting}\n[travel]"))
    refused(folder, message)


@pytest.mark.parametrize(
    "setting, message",
    [
        ("speed_kmh = inf", "column 'travel.speed_kmh': must be a finite number (value: inf)"),
        ("speed_kmh = 1e6", "column 'travel.speed_kmh': must be <= 1000 (value: 1000000.0)"),
        ("detour_factor = 0.5", "column 'travel.detour_factor': must be >= 1 (value: 0.5)"),
    ],
)
def test_bad_travel_settings(two, setting, message):
    folder, _ = two
    path = folder / "instance.toml"
    key = setting.split(" ")[0]
    text = "\n".join(setting if line.startswith(key) else line for line in path.read_text().splitlines())
    path.write_text(text + "\n")
    refused(folder, message)


def test_huge_file_is_refused_before_reading(two):
    folder, _ = two
    with open(folder / "sites.csv", "r+b") as f:
        f.truncate(MAX_TABLE_BYTES + 1)  # sparse: as large as it gets on disk, without the writing
    refused(folder, "sites.csv: the file is too large (64.0 MB; at most 64 MB)")


def test_a_million_rows_is_refused(two):
    folder, _ = two
    header = (folder / "sites.csv").read_text().splitlines()[0]
    with open(folder / "sites.csv", "w") as f:
        f.write(header + "\n" + ",,,,,,,,,,,\n" * 1_000_000)
    refused(folder, "sites.csv: too many rows (1,000,000; at most 100,000)")


@pytest.mark.parametrize("command", ["solve", "explain"])
def test_solve_and_explain_refuse_bad_input_too(two, command):
    folder, edit = two
    set_cell(edit, "sites", 2, "capacity", "1e300")
    refused(folder, "sites.csv, row 2, column 'capacity': must be <= 1000000000", command=command)


def test_policy_file_not_utf8(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_bytes('description = "Twø"\n'.encode("latin-1"))
    r = CliRunner().invoke(cli, ["solve", "--policy", str(path)])
    assert r.exit_code == 2 and "mine.toml: not valid TOML" in r.output and "Traceback" not in r.output


def test_instance_folder_is_a_file(tmp_path):
    path = tmp_path / "inst"
    path.write_text("x")
    refused(path, "no such instance folder")
