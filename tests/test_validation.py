"""One test per validation message: each names the file, row, column and value."""

import pandas as pd
import pytest

from allocator.core.errors import InstanceError
from allocator.data.load import load_instance


def problems(folder) -> list[str]:
    with pytest.raises(InstanceError) as exc:
        load_instance(folder)
    return [str(p) for p in exc.value.problems]


def one(folder) -> str:
    found = problems(folder)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def two(copy_instance):
    return copy_instance("tiny-two-provinces")


def set_cell(edit, table, row, column, value):
    def fn(df):
        df.loc[row - 2, column] = value
        return df

    edit(table, fn)


# One row per validation message about a cell: (table, row, column, new value, the message, or a part of it).
CELL_MESSAGES = [
    ("sites", 3, "capacity", "lots", "sites.csv, row 3, column 'capacity': not a whole number (value: 'lots')"),
    ("sites", 4, "min_size", "2.5", "sites.csv, row 4, column 'min_size': not a whole number (value: '2.5')"),
    ("sites", 2, "fixed_cost", "-5", "sites.csv, row 2, column 'fixed_cost': must be >= 0 (value: '-5')"),
    ("sites", 2, "capacity", "0", "sites.csv, row 2, column 'capacity': must be > 0 (value: '0')"),
    (
        "sites",
        2,
        "cost_per_place",
        "nan",
        "sites.csv, row 2, column 'cost_per_place': must be a finite number (value: 'nan')",
    ),
    (
        "municipalities",
        5,
        "population",
        "",
        "municipalities.csv, row 5, column 'population': value is missing (value: '')",
    ),
    ("municipalities", 2, "lat", "152", "municipalities.csv, row 2, column 'lat': must be <= 90 (value: '152')"),
    (
        "sites",
        2,
        "kind",
        "huge",
        "sites.csv, row 2, column 'kind': must be one of large, regular, transit (value: 'huge')",
    ),
    (
        "sites",
        2,
        "status",
        " existing",
        "sites.csv, row 2, column 'status': leading or trailing spaces (value: ' existing')",
    ),
    ("sites", 3, "site", "LA", "sites.csv, row 3, column 'site': duplicate id (first used in row 2) (value: 'LA')"),
    (
        "sites",
        6,
        "municipality",
        "Z",
        "sites.csv, row 6, column 'municipality': unknown municipality (not in municipalities.csv) (value: 'Z')",
    ),
    (
        "sites",
        2,
        "province",
        "P2",
        "sites.csv, row 2, column 'province': province differs from the province of municipality A (P1) (value: 'P2')",
    ),
    (
        "sites",
        2,
        "min_size",
        "500",
        "sites.csv, row 2, column 'min_size': min_size exceeds capacity (400) (value: 500)",
    ),
    (
        "provinces",
        3,
        "task",
        "201",
        "provinces.csv, row 3, column 'task': task differs from the sum of its municipalities' demand (200) (value: 201)",
    ),
]


@pytest.mark.parametrize(
    "table, row, column, value, message",
    CELL_MESSAGES,
    ids=[m.split(": ")[1].split(" (")[0] for *_, m in CELL_MESSAGES],
)
def test_cell_message(two, table, row, column, value, message):
    folder, edit = two
    set_cell(edit, table, row, column, value)
    assert one(folder) == message


# Messages that come with others (a wrong reference breaks more than one rule): the message must be among them.
CELL_MESSAGES_AMONG = [
    (
        "municipalities",
        3,
        "province",
        "P9",
        "municipalities.csv, row 3, column 'province': unknown province (not in provinces.csv) (value: 'P9')",
    ),
    (
        "links",
        2,
        "to",
        "A",
        "links.csv, row 2, column 'to': a link must join two different municipalities (value: 'A')",
    ),
]


@pytest.mark.parametrize("table, row, column, value, message", CELL_MESSAGES_AMONG)
def test_cell_message_among_others(two, table, row, column, value, message):
    folder, edit = two
    set_cell(edit, table, row, column, value)
    assert message in problems(folder)


def test_missing_column(two):
    folder, edit = two
    edit("sites", lambda df: df.drop(columns="fixed_cost"))
    assert one(folder) == "sites.csv, row 1, column 'fixed_cost': required column is missing"


def test_unknown_column(two):
    folder, edit = two
    edit("sites", lambda df: df.assign(colour="red"))
    assert one(folder).startswith("sites.csv, row 1, column 'colour': unknown column")


def test_missing_file(two):
    folder, _ = two
    (folder / "links.csv").unlink()
    assert one(folder) == "links.csv: file not found"


def test_empty_table(two):
    folder, _ = two
    (folder / "sites.csv").write_text("")
    assert one(folder) == "sites.csv: the file is empty (a header row is required)"


def test_header_only_table(two):
    folder, edit = two
    edit("sites", lambda df: df.iloc[0:0])
    assert one(folder) == "sites.csv: the table has no data rows"


def test_not_utf8(two):
    folder, _ = two
    path = folder / "municipalities.csv"
    path.write_bytes(path.read_bytes().replace(b"Aburg", "Åburg".encode("latin-1")))
    assert one(folder).startswith(
        "municipalities.csv, row 2: not valid UTF-8 text: byte 0xc5 at character 3; it looks like Windows-1252"
    )


def test_duplicate_link(two):
    folder, edit = two
    extra = pd.DataFrame([{"from": "B", "to": "A", "minutes": "5", "mode": "road", "note": ""}])
    edit("links", lambda df: pd.concat([df, extra], ignore_index=True))
    assert one(folder) == "links.csv, row 5, column 'to': duplicate link (first given in row 2) (value: 'A')"


def test_disconnected_network(two):
    folder, edit = two
    edit("links", lambda df: df[df["from"] != "B"])
    message = one(folder)
    assert message.startswith("links.csv: the travel network is not connected")
    assert "C (Ceestad)" in message and "D (Deeveen)" in message


def test_derived_demand_needs_a_task(two):
    folder, edit = two
    edit("municipalities", lambda df: df.drop(columns="demand"))
    edit("provinces", lambda df: df.assign(task=["300", ""]))
    assert one(folder).startswith("provinces.csv, row 3, column 'task': municipalities.csv has no 'demand' column")


def test_derived_demand_with_weight(two):
    folder, edit = two
    edit("municipalities", lambda df: df.drop(columns="demand").assign(weight=["1", "2", "1", "1"]))
    inst = load_instance(folder)
    # P1: populations 20000 and 10000 weighted 1 and 2 share the task 300 equally.
    assert inst.municipalities["demand"].to_dict() == {"A": 150, "B": 150, "C": 150, "D": 50}


def test_instance_toml_problems(two):
    folder, _ = two
    (folder / "instance.toml").write_text('name = "x"\nunits = 3\ncolour = "red"\n[travel]\nmode = "teleport"\n')
    found = problems(folder)
    assert (
        "instance.toml, column 'colour': unknown key (known: name, description, units, currency, planning_period, budget, travel, registration)"
        in found
    )
    assert "instance.toml, column 'description': required key is missing" in found
    assert "instance.toml, column 'units': must be text (value: 3)" in found
    assert "instance.toml, column 'travel.mode': must be \"network\" or \"matrix\" (value: 'teleport')" in found


def test_every_problem_at_once(two):
    folder, edit = two
    set_cell(edit, "sites", 2, "capacity", "x")
    set_cell(edit, "municipalities", 4, "lat", "y")
    set_cell(edit, "links", 3, "minutes", "-1")
    found = problems(folder)
    assert len(found) == 3
    assert {f.split(":")[0] for f in found} == {
        "sites.csv, row 2, column 'capacity'",
        "municipalities.csv, row 4, column 'lat'",
        "links.csv, row 3, column 'minutes'",
    }


def test_missing_folder(tmp_path):
    assert one(tmp_path / "nowhere").endswith("no such instance folder")


def test_blank_lines_keep_row_numbers(two):
    folder, _ = two
    path = folder / "sites.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, "")  # a blank line after the first data row (LA); LB is now on line 4
    lines[3] = lines[3].replace(",250,", ",many,")
    path.write_text("\n".join(lines) + "\n")
    assert one(folder) == "sites.csv, row 4, column 'capacity': not a whole number (value: 'many')"


def test_thousands_separator_is_not_a_decimal_point(two):
    folder, edit = two
    set_cell(edit, "sites", 2, "capacity", "2.000")
    assert (
        one(folder)
        == "sites.csv, row 2, column 'capacity': not a whole number (write it without a decimal point or thousands separator) (value: '2.000')"
    )
