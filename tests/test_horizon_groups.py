"""Demand groups and periods in one instance: tiny-horizon-groups (hand optimum in its README),
the group rules in every period, the checker on planted violations, and the messages on group
tables with periods."""

import dataclasses

import pytest
from click.testing import CliRunner
from helpers import HAND, HAND_ARGS, INSTANCES

from allocator.analysis.horizon import plan_horizon
from allocator.check.horizon import check_horizon_solution
from allocator.commands.main import cli
from allocator.core.errors import InstanceError
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.solve.options import SolveOptions

FOLDER = INSTANCES / "tiny-horizon-groups"
EXACT = SolveOptions(gap=0.0, workers=1, time_limit=60)


def plan(**overrides):
    instance = load_instance(FOLDER)
    outcome = plan_horizon(instance, load_policy("default", {**HAND, **overrides}), EXACT)
    assert outcome.check is not None and outcome.check.passed, outcome.check and outcome.check.violations
    return instance, outcome.solution


@pytest.fixture(scope="module")
def solved():
    return plan()


def test_need_per_group_and_period():
    demand = load_instance(FOLDER).horizon.group_demand
    assert demand[("2025", "mid")] == {("X", "asylum"): 150, ("X", "amv"): 30, ("X", "ua"): 30}
    assert demand[("2026", "mid")] == {("X", "asylum"): 50, ("X", "amv"): 10, ("X", "ua"): 10}


def test_hand_optimum(solved):
    _, solution = solved
    assert solution.summary["objective"] == pytest.approx(1083)
    states = {(r.site, r.period): r.state for r in solution.timeline.itertuples()}
    assert states[("S1", "2025")] == "open" and states[("S1", "2026")] == "closed"
    assert states[("M1", "2026")] == "open"
    placed = {(r.site, r.group, r.period): r.placed for r in solution.placements.itertuples()}
    assert placed[("S1", "amv", "2025")] == 10  # the group's own capacity at S1 binds
    assert placed[("M1", "amv", "2025")] == 20
    assert placed[("U1", "ua", "2026")] == 10
    assert [g["group"] for g in solution.summary["groups"]] == ["asylum", "amv", "ua"]


def test_group_capacity_binds_without_the_minors_unit():
    _, solution = plan(forbid_sites=["M1"])
    assert solution.summary["objective"] == pytest.approx(20988)
    mu = solution.municipalities.set_index(["group", "period"])
    assert mu.at[("amv", "2025"), "unmet"] == 20
    assert mu.at[("amv", "2026"), "unmet"] == 0


def test_checker_catches_a_group_at_a_site_that_does_not_take_it(solved):
    instance, solution = solved
    pl = solution.placements.copy()
    pl.loc[(pl["site"] == "M1") & (pl["period"] == "2025"), "site"] = "L0"
    found = check_horizon_solution(dataclasses.replace(solution, placements=pl), instance).violations
    assert any("site L0 does not take group amv" in v for v in found), found


def test_checker_catches_a_group_above_its_capacity(solved):
    instance, solution = solved
    pl = solution.placements.copy()
    pl.loc[(pl["site"] == "S1") & (pl["group"] == "amv"), "placed"] = 11.0
    found = check_horizon_solution(dataclasses.replace(solution, placements=pl), instance).violations
    assert any(v.startswith("group_capacity[S1,amv,2025,mid]") for v in found), found


def test_checker_recomputes_each_groups_need(solved):
    instance, solution = solved
    mu = solution.municipalities.copy()
    mu.loc[(mu["group"] == "ua") & (mu["period"] == "2026"), "demand"] = 30.0
    found = check_horizon_solution(dataclasses.replace(solution, municipalities=mu), instance).violations
    assert any(v.startswith("demand_balance[X,ua,2026,mid]") and "the instance gives 10" in v for v in found), found


def test_cli_shows_each_group_per_period(tmp_path):
    r = CliRunner().invoke(cli, ["solve", str(FOLDER), *HAND_ARGS, "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "Objective  EUR 1,083" in r.output
    assert "unaccompanied minors                 30 of 30  10 of 10" in r.output
    assert "displaced from Ukraine (national)    30 of 30  10 of 10" in r.output
    check = CliRunner().invoke(cli, ["check", str(tmp_path / "s")])
    assert check.exit_code == 0, check.output


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            "X,asylum,100,\nX,amv,20,\nX,ua,30,2031\nX,ua,10,2026\n",
            "group_demand.csv, row 4, column 'period': unknown period (not in periods.csv) (value: '2031')",
        ),
        (
            "X,asylum,100,\nX,amv,20,\nX,ua,30,2025\nX,ua,10,\n",
            "group ua has rows with a period (row 4) and without one (row 5)",
        ),
        (
            "X,asylum,100,\nX,amv,20,\nX,ua,30,2025\nX,ua,40,2025\n",
            "group_demand.csv, row 5, column 'group': municipality and group and period repeat row 4 (value: 'ua')",
        ),
    ],
)
def test_group_period_messages(copy_instance, rows, message):
    folder, _ = copy_instance("tiny-horizon-groups")
    (folder / "group_demand.csv").write_text("municipality,group,demand,period\n" + rows)
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    assert message in str(caught.value)


def test_a_period_needs_periods(copy_instance):
    folder, _ = copy_instance("tiny-groups")
    path = folder / "group_demand.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",period"] + [line + ",2025" for line in lines[1:]]) + "\n")
    with pytest.raises(InstanceError, match="a period needs periods.csv"):
        load_instance(folder)
