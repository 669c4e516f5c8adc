"""Comparing solution folders of tiny-two-provinces (plans worked out by hand).

a: the optimum (8,100): LA serves A, RB serves B, LC serves C, RD serves D.
b: RB forbidden (9,300): LA serves A and B (B travels 20 minutes); P1 costs 1000 + 300 x 10 = 4,000 (-800).
c: RD forbidden (8,450): LC serves C and D (D travels 15 minutes); P2 costs 900 + 200 x 10 = 2,900 (-400).
"""

import json

import pytest
from click.testing import CliRunner
from helpers import INSTANCES, run

from allocator.analysis.compare import compare_folders
from allocator.commands.main import cli
from allocator.results.solution import write_solution

TWO = INSTANCES / "tiny-two-provinces"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("solutions")
    write_solution(run(TWO).solution, root / "a")
    write_solution(run(TWO, forbid_sites="RB").solution, root / "b")
    write_solution(run(TWO, forbid_sites="RD").solution, root / "c")
    write_solution(run(INSTANCES / "tiny-budget").solution, root / "other")
    return root


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_kpis_side_by_side(folders):
    r = invoke("compare", folders / "a", folders / "b", folders / "c")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    for line in [
        "KPI                                  a                   b  change                   c  change",
        "Status                         optimal             optimal                     optimal",
        "Objective                        8,100               9,300  +1,200               8,450    +350",
        "Total cost                       8,100               7,300    -800               7,700    -400",
        "  fixed                          2,400               2,100    -300               2,200    -200",
        "Travel value                         0               2,000  +2,000                 750    +750",
        "Open sites                           4                   3      -1                   3      -1",
        "  regular                            2                   1      -1                   1      -1",
        "Max travel (min)                   0.0                20.0   +20.0                15.0   +15.0",
        "Check (re-run now)              passed              passed                      passed",
        "P1        North  100%  100%  100%",
    ]:
        assert line in lines, line


def test_what_changed_from_the_first(folders):
    r = invoke("compare", folders / "a", folders / "b", folders / "c")
    text = r.output
    assert (
        "Changes from a to b: sites opened or closed (1)\n"
        "Change  Site  Name             Province  Kind\n"
        "------  ----  ---------------  --------  -------\n"
        "closed  RB    Beedorp regular  P1        regular\n"
    ) in text
    assert (
        "Changes from a to b: municipalities whose sites changed (1)\n"
        "Municipality  Name     Province  Sites (from -> to)\n"
        "------------  -------  --------  ------------------\n"
        "B             Beedorp  P1        RB -> LA\n"
    ) in text
    assert (
        "Changes from a to b: provinces that differ (1)\n"
        "Province  Name   Placed  Unmet  Cost EUR  Large site\n"
        "--------  -----  ------  -----  --------  ----------\n"
        "P1        North      +0     +0      -800  LA\n"
    ) in text
    assert "closed  RD    Deeveen regular  P2        regular" in text
    assert "D             Deeveen  P2        RD -> LC" in text
    assert "P2        South      +0     +0      -400  LC" in text


def test_large_site_change_and_nothing_changed(folders, tmp_path):
    write_solution(run(TWO, force_sites="LB").solution, tmp_path / "lb")
    c = compare_folders([folders / "a", tmp_path / "lb", folders / "a"])
    lb, same = c.changes
    assert list(lb.sites.itertuples(index=False, name=None)) == [
        ("opened", "LB", "Beedorp large", "P1", "large"),
        ("closed", "LA", "Aburg large", "P1", "large"),
    ]
    assert lb.provinces[["province", "cost", "large_site_from", "large_site_to"]].values.tolist() == [
        ["P1", -150.0, "LA", "LB"]
    ]
    assert same.sites.empty and same.municipalities.empty and same.provinces.empty
    assert c.names == (
        str(folders / "a"),
        str(tmp_path / "lb"),
        str(folders / "a"),
    )  # names repeat: the paths label the columns


def test_csv_format(folders):
    r = invoke("compare", folders / "a", folders / "b", "--format", "csv")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == "section,id,name,a,b"
    assert "kpi,objective,Objective,8100.0,9300.0" in lines
    assert "province.cost,P1,North,4800,4000" in lines
    assert "site.open_site,RB,Beedorp regular,1,0" in lines
    assert "municipality.sites,B,Beedorp,RB,LA" in lines
    assert sum(line.startswith("site.") for line in lines) == 1


def test_markdown_format(folders):
    r = invoke("compare", folders / "a", folders / "b", "--format", "markdown")
    assert "### Changes from a to b: sites opened or closed (1)" in r.output
    assert "| closed | RB | Beedorp regular | P1 | regular |" in r.output
    assert "| Objective | 8,100 | 9,300 | +1,200 |" in r.output


def test_json_format_to_a_file(folders, tmp_path):
    out = tmp_path / "report" / "cmp.json"
    r = invoke("compare", folders / "a", folders / "b", "--format", "json", "--out", out)
    assert r.exit_code == 0 and f"Comparison written to {out}" in r.output
    data = json.loads(out.read_text())
    assert [s["objective"] for s in data["solutions"]] == [8100, 9300]
    change = data["changes"][0]
    assert change["from"] == "a" and change["to"] == "b"
    assert change["sites"] == [
        {"change": "closed", "site": "RB", "name": "Beedorp regular", "province": "P1", "kind": "regular"}
    ]
    assert change["municipalities"] == [
        {"municipality": "B", "name": "Beedorp", "province": "P1", "from_sites": ["RB"], "to_sites": ["LA"]}
    ]
    assert sorted(p.name for p in out.parent.iterdir()) == ["cmp.json"]  # no temporary file left


def test_different_instances_are_refused(folders):
    r = invoke("compare", folders / "a", folders / "other")
    assert r.exit_code == 2
    assert "1 problem in the comparison:" in r.output
    assert "summary.json, column 'instance.fingerprint': made for instance tiny-budget" in r.output
    assert "compare different instances only with --allow-different-instances" in r.output
    assert "Traceback" not in r.output


def test_different_instances_when_allowed(folders):
    r = invoke("compare", folders / "a", folders / "other", "--allow-different-instances")
    assert r.exit_code == 0
    assert "Instance            tiny-two-provinces  tiny-budget" in r.output
    assert "closed  LA    Aburg large      P1        large" in r.output  # sites of the first instance only


def test_missing_folder(folders, tmp_path):
    r = invoke("compare", folders / "a", tmp_path / "nothing")
    assert r.exit_code == 2 and "nothing: no such solution folder" in r.output


def test_needs_two_solutions(folders):
    r = invoke("compare", folders / "a")
    assert r.exit_code == 2 and "compare needs at least two solution folders" in r.output


def test_a_site_serving_several_groups_of_a_municipality_is_named_once():
    from types import SimpleNamespace

    import pandas as pd

    from allocator.analysis.compare import _site_sets

    placements = pd.DataFrame(
        {"municipality": ["A", "A", "A"], "site": ["S2", "S1", "S2"], "group": ["asylum", "asylum", "amv"]}
    )
    assert _site_sets(SimpleNamespace(placements=placements)) == {"A": "S1;S2"}
