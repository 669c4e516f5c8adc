"""One period of an instance with periods as one snapshot: its need, the sites in service then, its budget; the
commands of one snapshot (a provincial plan, check-plan, merge, decide, explain) on it, and their refusals."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, run

from allocator.commands.main import cli
from allocator.core.errors import InputError
from allocator.data.load import load_instance
from allocator.data.period import Period, chosen_period, period_instance


def cli_run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_need_of_the_period_and_the_sites_in_service_then():
    inst = load_instance(INSTANCES / "tiny-horizon-band")
    first = period_instance(inst, Period("2025", "high"))
    assert (first.total_demand, list(first.sites.index), first.horizon) == (100, ["L0"], None)  # S1 opens in 2026
    second = period_instance(inst, Period("2026", "high"))
    assert (second.total_demand, list(second.sites.index)) == (150, ["L0", "S1"])
    assert second.period == ("2026", "high")


def test_an_existing_site_after_its_contract_is_a_candidate():
    inst = load_instance(INSTANCES / "tiny-horizon-lifecycle")
    status = {t: period_instance(inst, Period(t, "mid")).sites["status"].to_dict() for t in ("2026", "2027")}
    assert status == {"2026": {"E": "existing", "N": "candidate"}, "2027": {"E": "candidate", "N": "candidate"}}


def test_the_groups_need_of_the_period():
    inst = load_instance(INSTANCES / "tiny-horizon-groups")
    need = {t: period_instance(inst, Period(t, "mid")).groups.demand.loc["X"].to_dict() for t in ("2025", "2026")}
    # need.csv (180, 60) over asylum and amv by their rows (100 : 20); Ukraine's rows per period.
    assert need == {"2025": {"asylum": 150, "amv": 30, "ua": 30}, "2026": {"asylum": 50, "amv": 10, "ua": 10}}


@pytest.mark.parametrize(
    ("period", "objective"),
    [
        ("2025", 100 * 1),  # L0 alone: 100 places at 1
        ("2026", 150 * 1 + 20),  # L0 full, S1 opened (20) for 50 more at 1
    ],
)
def test_a_period_solves_to_its_optimum(period, objective):
    outcome = run(period_instance(load_instance(INSTANCES / "tiny-horizon-band"), Period(period, "high")))
    assert outcome.status.value == "optimal"
    assert outcome.solution.summary["objective"] == pytest.approx(objective)


def test_the_period_is_checked_with_its_choices():
    inst = load_instance(INSTANCES / "tiny-horizon-band")
    with pytest.raises(InputError) as missing:
        chosen_period(inst, None, None)
    assert str(missing.value.problems[0]) == (
        "--period: the instance has periods and this plans one of them: give --period (periods: 2025, 2026) and "
        "--scenario (scenarios: low, mid, high)"
    )
    with pytest.raises(InputError) as wrong:
        chosen_period(inst, "2030", "extreme")
    assert [str(p) for p in wrong.value.problems] == [
        "--period: unknown period (periods: 2025, 2026) (value: '2030')",
        "--scenario: unknown scenario (scenarios: low, mid, high) (value: 'extreme')",
    ]
    one = load_instance(INSTANCES / "tiny-horizon-groups")
    assert chosen_period(one, "2026", None) == Period("2026", "mid")  # the only scenario
    with pytest.raises(InputError, match="needs an instance with periods"):
        chosen_period(load_instance(INSTANCES / "tiny-two-provinces"), "2026", None)


def test_the_province_flow_of_one_period(tmp_path):
    """solve --province --period, its plan table, check-plan, merge and decide of that period; every folder is
    re-checked against the period it records."""
    instance, at = INSTANCES / "tiny-horizon-groups", ("--period", "2026")
    folder = tmp_path / "province"
    result = cli_run("solve", instance, *HAND_ARGS, "--province", "P1", *at, "--out", folder)
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["instance"]["period"] == {"period": "2026", "scenario": "mid"}
    assert cli_run("check", folder).exit_code == 0
    plan = tmp_path / "plan.csv"
    result = cli_run("plan", folder, "--out", plan)
    assert "--period 2026 --scenario mid" in result.output
    assert cli_run("check-plan", instance, "--plans", plan, *HAND_ARGS, *at).exit_code == 0
    # The same plan falls short in 2025, when more people need a place.
    short = cli_run("check-plan", instance, "--plans", plan, *HAND_ARGS, "--period", "2025")
    assert short.exit_code == 1 and "short" in short.output
    for command, out in (("merge", tmp_path / "merged"), ("decide", tmp_path / "decision")):
        result = cli_run(command, instance, "--plans", plan, *HAND_ARGS, "--period", "2025", "--out", out)
        assert result.exit_code in (0, 1), result.output
        assert cli_run("check", out).exit_code == 0


@pytest.mark.parametrize("command", ["explain", "check-plan", "merge", "decide"])
def test_a_command_of_one_snapshot_asks_for_the_period(command, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("province,site,group,places\nP1,L0,asylum,10\n")
    args = {"explain": (), "check-plan": ("--plans", plan), "merge": ("--plans", plan, "--out", tmp_path / "m")}
    result = cli_run(command, INSTANCES / "tiny-horizon-band", *args.get(command, ("--plans", plan)))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "give --period (periods: 2025, 2026) and --scenario (scenarios: low, mid, high)" in result.output


def test_period_on_an_instance_without_periods_is_refused():
    result = cli_run("solve", INSTANCES / "tiny-two-provinces", "--period", "2025")
    assert result.exit_code == 2
    assert "--period: needs an instance with periods (periods.csv) and tiny-two-provinces has none: drop --period" in (
        result.output
    )


def test_period_and_myopic_exclude_each_other():
    result = cli_run("solve", INSTANCES / "tiny-horizon-band", "--period", "2025", "--myopic")
    assert result.exit_code == 2 and "drop one of them" in result.output


def test_the_plan_table_of_one_period_of_a_plan_over_periods(tmp_path):
    instance = INSTANCES / "tiny-horizon-groups"
    folder, plan = tmp_path / "horizon", tmp_path / "plan.csv"
    assert cli_run("solve", instance, *HAND_ARGS, "--no-baseline", "--out", folder).exit_code == 0
    asked = cli_run("plan", folder, "--out", plan)
    assert asked.exit_code == 2 and "give --period (periods: 2025, 2026)" in asked.output and not plan.exists()
    result = cli_run("plan", folder, "--out", plan, "--period", "2026")
    assert result.exit_code == 0, result.output
    # The task groups' places of 2026 (Ukraine's group is national, outside a provincial plan).
    assert plan.read_text() == "province,site,group,places,municipality\nP1,L0,asylum,50,X\nP1,M1,amv,10,X\n"
    assert cli_run("check-plan", instance, "--plans", plan, *HAND_ARGS, "--period", "2026").exit_code == 0
