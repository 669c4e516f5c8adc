"""The housing rate (models/README.md, "Housing rate"): the need of the status holders with the backlog a rate
below 1 leaves, solved by hand on tiny-horizon-housing (its README), re-derived by the checker, reported per
period, and the messages of the new column and keys."""

import dataclasses
import json

import pytest
from click.testing import CliRunner
from helpers import HAND, HAND_ARGS, INSTANCES

from allocator.analysis.horizon import plan_horizon
from allocator.check.horizon import check_horizon_solution
from allocator.commands.main import cli
from allocator.core.errors import InstanceError, PolicyError
from allocator.data.housing import housing_flows, housing_need
from allocator.data.load import load_instance
from allocator.data.policy import check_policy, load_policy, load_policy_dict
from allocator.solve.options import SolveOptions

FOLDER = INSTANCES / "tiny-horizon-housing"
EXACT = SolveOptions(gap=0.0, workers=1, time_limit=60)
PERIODS = ("2025", "2026", "2027")


def plan(**overrides):
    instance = load_instance(FOLDER)
    outcome = plan_horizon(instance, load_policy("default", {**HAND, **overrides}), EXACT)
    assert outcome.check is not None and outcome.check.passed, outcome.check and outcome.check.violations
    return instance, outcome.solution


@pytest.fixture(scope="module")
def half():
    return plan(housing_rate=0.5)


def status_need(need):
    return {t: (units[("X", "status")], units[("Y", "status")]) for (t, _), units in need.items()}


def test_the_group_of_the_housing_task_comes_from_groups_csv():
    assert load_instance(FOLDER).groups.housing == "status"
    assert load_instance(INSTANCES / "nl-2024-horizon").groups.housing == "status_holders"
    assert load_instance(INSTANCES / "tiny-horizon-groups").groups.housing is None


def test_need_with_the_backlog_by_hand():
    instance = load_instance(FOLDER)
    need = housing_need(instance, load_policy("default", {"housing_rate": 0.5}), ("mid",), PERIODS)
    assert status_need(need) == {"2025": (30, 11), "2026": (35, 14), "2027": (35, 19)}
    assert all(units[(i, "asylum")] == 20 for units in need.values() for i in "XY")
    # A window of the last period alone (the myopic baseline) still carries the backlog of the periods before.
    last = housing_need(instance, load_policy("default", {"housing_rate": 0.5}), ("mid",), ("2027",))
    assert status_need(last) == {"2027": (35, 19)}
    flows = housing_flows(instance, load_policy("default", {"housing_rate": 0.5}), ("mid",))
    housed = {t: (f["X"].housed, f["Y"].housed) for (t, _), f in flows.items()}
    assert housed == {"2025": (15, 6), "2026": (10, 5), "2027": (5, 5)}  # 20.5 -> 21 and 14.5 -> 15, Y's remainder
    assert {t: (f["X"].backlog_after, f["Y"].backlog_after) for (t, _), f in flows.items()}["2027"] == (30, 14)


def test_rate_one_leaves_the_need_as_it_was():
    instance = load_instance(FOLDER)
    need = housing_need(instance, load_policy("default", {"housing_rate": 1}), ("mid",), PERIODS)
    assert need == {(t, "mid"): instance.horizon.units(t, "mid") for t in PERIODS}


def test_a_provinces_own_rate_replaces_the_national_one(tmp_path):
    instance = load_instance(FOLDER)
    (tmp_path / "slow.toml").write_text("housing_rate_by_province = { P1 = 0.5 }\n")
    from_file = load_policy(tmp_path / "slow.toml")
    assert from_file.housing_rate_by_province == (("P1", 0.5),) and from_file.housing_rate_of("P1") == 0.5
    own = load_policy("default", {"housing_rate_by_province": "P1:0.5"})
    assert status_need(housing_need(instance, own, ("mid",), PERIODS))["2027"] == (35, 19)
    other = load_policy("default", {"housing_rate": 0.5, "housing_rate_by_province": "P1:1"})
    assert status_need(housing_need(instance, other, ("mid",), PERIODS))["2027"] == (10, 10)


def test_hand_optimum_at_rate_one():
    _, solution = plan()
    assert solution.summary["objective"] == pytest.approx(736)
    states = {(r.site, r.period): r.state for r in solution.timeline.itertuples()}
    assert [states[("S1", t)] for t in ("2025", "2026", "2027")] == ["open", "closed", "closed"]
    assert all(r["extra_places"] == 0 for r in solution.summary["housing"]["periods"])


def test_hand_optimum_at_rate_one_half(half):
    _, solution = half
    assert solution.summary["objective"] == pytest.approx(936)
    states = {(r.site, r.period): r.state for r in solution.timeline.itertuples()}
    assert [states[("S1", t)] for t in ("2025", "2026", "2027")] == ["open", "open", "open"]
    load = solution.placements.groupby(["site", "period"])["placed"].sum()
    assert load[("S1", "2026")] == 9 and load[("S1", "2027")] == 14
    rows = {r["period"]: r for r in solution.summary["housing"]["periods"]}
    assert [rows[t]["in_reception"] for t in ("2025", "2026", "2027")] == [41, 49, 54]
    assert [rows[t]["extra_places"] for t in ("2025", "2026", "2027")] == [0, 20, 34]
    assert [rows[t]["housed"] for t in ("2025", "2026", "2027")] == [21, 15, 10]
    assert [rows[t]["backlog"] for t in ("2025", "2026", "2027")] == [20, 34, 44]


def test_the_checker_catches_a_plan_that_ignores_the_backlog():
    instance, solution = plan()
    summary = {**solution.summary, "policy": {**solution.summary["policy"], "housing_rate": 0.5}}
    found = check_horizon_solution(dataclasses.replace(solution, summary=summary), instance).violations
    assert any(v.startswith("demand_balance[X,status,2026,mid]") and "the instance gives 35" in v for v in found), found
    assert any(v.startswith("demand_balance[Y,status,2027,mid]") and "the instance gives 19" in v for v in found), found


def test_the_checker_rederives_the_backlog_from_the_policy_in_the_folder(half):
    instance, solution = half
    assert check_horizon_solution(solution, instance).passed
    policy = load_policy_dict(solution.summary["policy"])
    assert policy.housing_rate == 0.5 and policy.housing_rate_by_province == ()


def test_console_summary_and_report_show_the_backlog(tmp_path):
    out = tmp_path / "s"
    r = CliRunner().invoke(cli, ["solve", str(FOLDER), *HAND_ARGS, "--set", "housing_rate=0.5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Status holders waiting for a home (mid, housing_rate 0.5)" in r.output
    assert "in reception (the need)" in r.output and "41    49    54" in r.output
    assert "waiting at its end" in r.output and "20    34    44" in r.output
    assert json.loads((out / "summary.json").read_text())["housing"]["rate"] == 0.5
    page = tmp_path / "report.html"
    assert CliRunner().invoke(cli, ["report", str(out), "--out", str(page)]).exit_code == 0
    assert 'id="housing-table"' in page.read_text()
    plain = CliRunner().invoke(cli, ["solve", str(FOLDER), *HAND_ARGS, "--out", str(tmp_path / "one")])
    assert "Status holders waiting" not in plain.output  # every status holder housed: nothing to show


def test_nl_2024_horizon_extra_places_as_its_readme_states():
    instance = load_instance(INSTANCES / "nl-2024-horizon")
    for rate, extra in ((0.8, [0, 3001, 5599, 23785]), (0.6, [0, 6000, 11199, 47592])):
        flows = housing_flows(instance, load_policy("default", {"housing_rate": rate}), ("mid",))
        before = {t: sum(f.backlog_before for f in by_i.values()) for (t, _), by_i in flows.items()}
        assert [before[t] for t in ("2025-H1", "2025-H2", "2026-H1", "2029-H2")] == extra


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"housing_rate": "1.5"}, "column 'housing_rate': must be between 0 and 1"),
        ({"housing_rate_by_province": "P1:2"}, "the rate of P1 must be <= 1"),
        ({"housing_rate_by_province": "P1"}, "must be province:rate pairs, e.g. PV20:0.6,PV21:0.8"),
    ],
)
def test_bad_values_are_refused(overrides, message):
    with pytest.raises(PolicyError) as caught:
        load_policy("default", overrides)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "name, overrides, message",
    [
        (
            "tiny-groups",
            {"housing_rate": "0.5"},
            "column 'housing_rate': does not apply to instance tiny-groups: it applies to plans over several "
            "periods only",
        ),
        (
            "tiny-horizon-groups",
            {"housing_rate_by_province": "P1:0.5"},
            "column 'housing_rate_by_province': does not apply to instance tiny-horizon-groups: it sets the share of "
            "each period's housing task that is housed, and no demand group of the instance is that task",
        ),
        (
            "tiny-horizon-housing",
            {"housing_rate_by_province": "P9:0.5"},
            "column 'housing_rate_by_province': unknown province id (the provinces of instance tiny-horizon-housing: "
            "P1) (value: 'P9')",
        ),
    ],
)
def test_keys_refused_where_they_do_not_apply(name, overrides, message):
    with pytest.raises(PolicyError) as caught:
        check_policy(load_policy("default", overrides), load_instance(INSTANCES / name))
    assert message in str(caught.value)


def test_the_cli_refuses_the_key_in_one_line(tmp_path):
    r = CliRunner().invoke(
        cli,
        ["solve", str(INSTANCES / "tiny-horizon-groups"), "--set", "housing_rate=0.5", "--out", str(tmp_path / "s")],
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "1 problem in the policy:" in r.output and "mark the status holders' group with housing = task" in r.output


@pytest.mark.parametrize(
    "groups, message",
    [
        (
            "group,name,target,sites,housing\nasylum,a,province,all,task\nstatus,s,province,all,task\n",
            "groups.csv, row 3, column 'housing': only one group can be the housing task; group asylum (row 2) "
            "already is (value: 'task')",
        ),
        (
            "group,name,target,sites,housing\nasylum,a,province,all,task\nstatus,s,province,all,\n",
            "groups.csv, row 2, column 'housing': group asylum is the housing task and needs a need per period",
        ),
        (
            "group,name,target,sites,housing\nasylum,a,province,all,\nstatus,s,province,all,yes\n",
            "groups.csv, row 3, column 'housing': must be one of task (value: 'yes')",
        ),
    ],
)
def test_housing_column_messages(copy_instance, groups, message):
    folder, _ = copy_instance("tiny-horizon-housing")
    (folder / "groups.csv").write_text(groups)
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    assert message in str(caught.value)


def test_validate_names_the_housing_task():
    r = CliRunner().invoke(cli, ["validate", str(FOLDER)])
    assert r.exit_code == 0, r.output
    assert "housing task: status holders waiting for a home (policy housing_rate" in r.output
    plain = CliRunner().invoke(cli, ["validate", str(INSTANCES / "tiny-horizon-groups")])
    assert "housing task" not in plain.output
