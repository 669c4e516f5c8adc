"""Comparing solution folders of tiny-two-provinces (plans worked out by hand), then of plans over several periods
(tiny-horizon-band and tiny-horizon-groups, their fixture says what each plan does).

a: the optimum (8,100): LA serves A, RB serves B, LC serves C, RD serves D.
b: RB forbidden (9,300): LA serves A and B (B travels 20 minutes); P1 costs 1000 + 300 x 10 = 4,000 (-800).
c: RD forbidden (8,450): LC serves C and D (D travels 15 minutes); P2 costs 900 + 200 x 10 = 2,900 (-400).
"""

import json

import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, run

from allocator.analysis.compare import compare_folders
from allocator.analysis.compare_horizon import compare_any_folders
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


# ------------------------------------------------------------------ plans over several periods

BAND = INSTANCES / "tiny-horizon-band"
GROUPS = INSTANCES / "tiny-horizon-groups"


@pytest.fixture(scope="module")
def horizons(tmp_path_factory):
    """tiny-horizon-band (README): the band plan opens S1 in 2026 (expected 250); the myopic plan opens it only
    when high happens (low 150, mid 200, high 300: expected 216.67); the mid-only plan never opens it (200).
    tiny-horizon-groups as solved, and with the minors' unit M1 forbidden (20 minors unmet in 2025)."""
    root = tmp_path_factory.mktemp("horizons")
    fast = ("--time-limit", "10", "--workers", "1", "--out")
    for name, instance, extra in (
        ("band", BAND, ()),
        ("myopic", BAND, ("--myopic",)),
        ("mid", BAND, ("--scenario", "mid", "--no-baseline")),
        ("groups", GROUPS, ()),
        ("no-m1", GROUPS, ("--set", "forbid_sites=M1")),
    ):
        result = invoke("solve", instance, *HAND_ARGS, *extra, *fast, root / name)
        assert result.exit_code in (0, 1), result.output
    return root


def test_horizon_plans_side_by_side(horizons):
    r = invoke("compare", horizons / "band", horizons / "myopic")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    for line in [
        "KPIs (money in EUR, spent over the periods; expected over each plan's scenarios)",
        "Plan                                 integrated (band)      myopic (band)",
        "Check (re-run now)                              passed             passed",
        "Total cost                                         250                217     -33",
        "  sites                                             50                 17     -33",
        "Openings                                             1               0.33   -0.67",
        "Period  Scenario  Solution  Cost  Need  Placed  Emergency  Unmet  Open sites  Openings  Closings  Moves",
        "2026    low       band       100    50      50          0      0           2         1         0    100",
        "2026    low       myopic      50    50      50          0      0           1         0         0     50",
        "2026    high      myopic     200   150     150          0      0           2         1         0      0",
        "P1        Only  2026    100%    100%",
    ]:
        assert line in lines, line
    # S1 stays closed in 2026 under the myopic plan unless high happens; the band plan opened it for every scenario.
    assert (
        "Changes from band to myopic: sites whose state differs, per period (2)\n"
        "Period  Scenario  Change  Site  Name          Province  Kind     State (from -> to)\n"
        "------  --------  ------  ----  ------------  --------  -------  ------------------\n"
        "2026    low       closed  S1    Xham regular  P1        regular  open -> closed\n"
        "2026    mid       closed  S1    Xham regular  P1        regular  open -> closed\n"
    ) in r.output
    assert "2026    mid            -50      +0     +0          -1        -1        +0    -50" in lines


def test_band_plan_against_one_scenario(horizons):
    """Two site plans, each for all its scenarios: one row per period; the periods compared are those both hold."""
    c = compare_any_folders([horizons / "band", horizons / "mid"])
    (ch,) = c.changes
    assert ch.sites[["period", "scenario", "site", "from_state", "to_state"]].values.tolist() == [
        ["2026", "all", "S1", "open", "closed"]
    ]
    assert ch.periods[["period", "scenario", "total_cost", "open_sites"]].values.tolist() == [["2026", "mid", -50, -1]]
    assert c.kpis.loc["scenarios"].tolist() == ["low, mid, high", "mid"]
    assert c.kpis.loc["worst_total_cost"].tolist() == [300, 200]


def test_horizon_groups_and_formats(horizons, tmp_path):
    r = invoke("compare", horizons / "groups", horizons / "no-m1", "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "section,id,name,groups,no-m1"
    assert "group.unmet,amv/2025/mid,unaccompanied minors,0,20" in lines
    assert "site.state,M1/2025,Xham minors unit,open,closed" in lines
    assert "province.unmet,P1/2025/mid,Only,0,20" in lines
    text = invoke("compare", horizons / "groups", horizons / "no-m1").output.splitlines()
    table = text[text.index("Per demand group, period and scenario") + 3 :]
    assert [row.split()[0] for row in table[:12:4]] == ["asylum", "amv", "ua"]  # in the instance's order
    out = tmp_path / "cmp.json"
    assert invoke("compare", horizons / "groups", horizons / "no-m1", "--format", "json", "--out", out).exit_code == 0
    data = json.loads(out.read_text())
    assert [s["unmet"] for s in data["solutions"]] == [0, 20]
    assert data["changes"][0]["provinces"] == [
        {
            "province": "P1",
            "name": "Only",
            "period": "2025",
            "scenario": "mid",
            "placed": -20.0,
            "unmet": 20.0,
            "open_sites": -1.0,
            "moves": 0.0,
        },
        {
            "province": "P1",
            "name": "Only",
            "period": "2026",
            "scenario": "mid",
            "placed": 0.0,
            "unmet": 0.0,
            "open_sites": 0.0,
            "moves": -20.0,
        },
    ]


def test_a_horizon_and_a_snapshot_are_refused(horizons, folders):
    r = invoke("compare", horizons / "band", folders / "a")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert (
        f"{folders / 'a'}: is a plan of one snapshot and {horizons / 'band'} a plan over several periods, which cannot "
        "be set side by side: give solution folders of one kind (of the same instance)"
    ) in r.output


def test_horizons_of_different_instances_are_refused(horizons):
    r = invoke("compare", horizons / "band", horizons / "groups")
    assert r.exit_code == 2
    assert "made for instance tiny-horizon-groups, the first solution for tiny-horizon-band" in r.output
    assert "compare different instances only with --allow-different-instances" in r.output
