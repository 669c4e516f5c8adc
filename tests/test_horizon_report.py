"""The HTML report of a plan over several periods with demand groups: the table per group and period, the figure of
the capacity of each group's sites against its need, and the site timeline as a table."""

import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES

from allocator.commands.main import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


class _Tables(HTMLParser):
    """The cells of every <table id=...> of a page, and the open attribute of each <details>."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.details: list[bool] = []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "id" in attrs:
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "details":
            self.details.append("open" in attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def report(tmp_path, instance, *extra):
    out, html = tmp_path / "solution", tmp_path / "report.html"
    solved = run("solve", instance, *HAND_ARGS, "--gap", "0", "--workers", "1", *extra, "--out", out)
    assert solved.exit_code in (0, 1), solved.output
    result = run("report", out, "--out", html, "--png", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    return html.read_text()


HEADER = ["Group", "Period", "Need", "Placed", "Emergency", "Unmet", "Capacity open", "Capacity on standby"]


def test_groups_per_period_as_the_readme_solves_them(tmp_path):
    page = report(tmp_path, INSTANCES / "tiny-horizon-groups")
    parsed = tables(page)
    # instances/tiny-horizon-groups/README.md: L0 and S1 take asylum seekers, S1 (10 minors at most) and M1 the
    # minors, U1 Ukraine; S1 and M1 open in 2025, S1 closes in 2026.
    assert parsed.tables["groups-mid"] == [
        HEADER,
        ["asylum seekers", "2025", "150", "150", "0", "0", "200", "0"],
        ["asylum seekers", "2026", "50", "50", "0", "0", "100", "0"],
        ["unaccompanied minors", "2025", "30", "30", "0", "0", "30", "0"],
        ["unaccompanied minors", "2026", "10", "10", "0", "0", "20", "0"],
        ["displaced from Ukraine (national)", "2025", "30", "30", "0", "0", "50", "0"],
        ["displaced from Ukraine (national)", "2026", "10", "10", "0", "0", "50", "0"],
    ]
    timeline = {row[0]: row for row in parsed.tables["timeline-table"]}
    assert timeline["Site"] == ["Site", "Name", "Province", "Kind", "Groups", "2025", "2026"]
    assert timeline["S1"][4:] == ["asylum, amv", "open, opening", "closed, closing"]
    assert timeline["M1"][4:] == ["amv", "open, opening", "open"]
    # Every group has sites of its own here: one panel each, drawn inline and as a PNG.
    assert '<figure id="groups">' in page and page.count('id="groups-axes_') == 3
    assert (tmp_path / "figures" / "groups.png").is_file()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # offline


def test_unmet_minors_when_their_own_unit_is_forbidden(tmp_path):
    page = report(tmp_path, INSTANCES / "tiny-horizon-groups", "--forbid-site", "M1", "--no-baseline")
    minors = [row for row in tables(page).tables["groups-mid"] if row[0] == "unaccompanied minors"]
    # README variant: S1's 10 places for minors are all they have; 20 stay unmet in 2025.
    assert minors == [
        ["unaccompanied minors", "2025", "30", "10", "0", "20", "10", "0"],
        ["unaccompanied minors", "2026", "10", "10", "0", "0", "10", "0"],
    ]
    assert "Some demand is left unmet" in page


@pytest.fixture
def three_scenarios(tmp_path):
    """tiny-horizon-groups with a band of need in 2025: low 120, mid 180, high 240."""
    folder = tmp_path / "band-groups"
    shutil.copytree(INSTANCES / "tiny-horizon-groups", folder)
    need = {"low": (120, 60), "mid": (180, 60), "high": (240, 60)}
    rows = [(t, w, n[k]) for k, t in enumerate(("2025", "2026")) for w, n in need.items()]
    pd.DataFrame(rows, columns=["period", "scenario", "need"]).to_csv(folder / "need.csv", index=False)
    return folder


def test_a_table_per_scenario_the_shown_one_open(three_scenarios, tmp_path):
    parsed = tables(report(tmp_path, three_scenarios, "--no-baseline"))
    assert [k for k in parsed.tables if k.startswith("groups-")] == ["groups-mid", "groups-low", "groups-high"]
    assert parsed.details[-3:] == [True, False, False]  # mid shown, low and high a click away
    high = {(row[0], row[1]): row[2:] for row in parsed.tables["groups-high"][1:]}
    # 240 split 100 : 20 over asylum seekers and minors; Ukraine's own rows hold in every scenario.
    assert [high[(g, "2025")][0] for g in ("asylum seekers", "unaccompanied minors")] == ["200", "40"]
    assert high[("displaced from Ukraine (national)", "2025")][0] == "30"
    for need, placed, emergency, unmet, *_ in high.values():
        assert int(need) == int(placed) + int(emergency) + int(unmet)


def test_a_plan_without_groups_has_no_group_section_but_a_timeline_table(tmp_path):
    page = report(tmp_path, INSTANCES / "tiny-horizon-standby", "--no-baseline")
    parsed = tables(page)
    assert 'id="groups-section"' not in page and not (tmp_path / "figures" / "groups.png").exists()
    timeline = {row[0]: row for row in parsed.tables["timeline-table"]}
    assert timeline["Site"][4:] == ["2025", "2026", "2027"]
    assert timeline["S1"][4:] == ["open, opening", "standby", "open"]


def test_the_report_replaces_only_its_own_files(tmp_path):
    """As a snapshot's report: a page or figures folder of ours is replaced; another file, a folder of the user's or
    a file of the solution is left alone, with the reason, and nothing is written."""
    report(tmp_path, INSTANCES / "tiny-horizon-standby")
    again = run("report", tmp_path / "solution", "--out", tmp_path / "report.html", "--png", tmp_path / "figures")
    assert again.exit_code == 0, again.output
    assert {"band.png", "timeline.png"} <= {p.name for p in (tmp_path / "figures").iterdir()}
    notes = tmp_path / "notes.html"
    notes.write_text("mine")
    (tmp_path / "mine").mkdir()
    for args, reason in (
        (["--out", notes], "exists and was not written by allocator"),
        (["--out", tmp_path / "solution" / "timeline.csv"], "timeline.csv"),
        (["--out", tmp_path / "new.html", "--png", tmp_path / "mine"], "is not a figures folder written by allocator"),
    ):
        refused = run("report", tmp_path / "solution", *args)
        assert refused.exit_code != 0 and reason in refused.output and "Traceback" not in refused.output, refused.output
    assert notes.read_text() == "mine" and not (tmp_path / "new.html").exists()
    assert list((tmp_path / "mine").iterdir()) == []
