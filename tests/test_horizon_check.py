"""The independent checker of plans over several periods catches a planted violation of each rule."""

import dataclasses
import shutil

import pytest
from helpers import HAND, INSTANCES

from allocator.analysis.horizon import plan_horizon
from allocator.check.horizon import check_horizon_solution
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.results.solution import read_horizon_solution, write_solution
from allocator.solve.options import SolveOptions


def solved(name, **overrides):
    inst = load_instance(INSTANCES / name if isinstance(name, str) else name)
    outcome = plan_horizon(inst, load_policy("default", {**HAND, **overrides}), SolveOptions(gap=0.0, workers=1))
    assert outcome.check.passed
    return inst, outcome.solution


@pytest.fixture(scope="module")
def standby():
    return solved("tiny-horizon-standby")


@pytest.fixture(scope="module")
def lifecycle():
    return solved("tiny-horizon-lifecycle")


@pytest.fixture(scope="module")
def band():
    return solved("tiny-horizon-band")


def violations(inst, solution) -> list[str]:
    return check_horizon_solution(solution, inst).violations


def with_timeline(solution, fn):
    return dataclasses.replace(solution, timeline=fn(solution.timeline.copy()))


def set_state(timeline, site, period, state, scenario=None):
    rows = (timeline["site"] == site) & (timeline["period"] == period)
    if scenario is not None:
        rows &= timeline["scenario"] == scenario
    timeline.loc[rows, "state"] = state
    return timeline


def names(found: list[str]) -> set[str]:
    return {v.split(":")[0] for v in found}


def test_a_solution_passes_after_a_round_trip(standby, tmp_path):
    inst, solution = standby
    write_solution(solution, tmp_path / "sol")
    assert violations(inst, read_horizon_solution(tmp_path / "sol")) == []


def test_standby_without_a_standby_cost(lifecycle):
    inst, solution = lifecycle
    planted = with_timeline(solution, lambda tl: set_state(tl, "N", "2027", "standby"))
    assert "site_state[N,2027]" in names(violations(inst, planted))


def test_an_event_that_the_states_do_not_give(standby):
    inst, solution = standby
    planted = dataclasses.replace(solution, events=solution.events.iloc[0:0])
    assert "state_transition[S1,2025]" in names(violations(inst, planted))


def test_closing_and_reopening_without_the_events(standby):
    inst, solution = standby
    planted = with_timeline(solution, lambda tl: set_state(tl, "S1", "2026", "closed"))
    found = names(violations(inst, planted))
    assert {"state_transition[S1,2026]", "state_transition[S1,2027]", "total_cost"} <= found


def test_lead_time(lifecycle):
    inst, solution = lifecycle
    planted = with_timeline(solution, lambda tl: set_state(tl, "N", "2025", "open"))
    assert "lead_time[N,2025]" in names(violations(inst, planted))


def test_min_open_duration(lifecycle):
    inst, solution = lifecycle

    def close_early(tl):
        tl = set_state(tl, "N", "2027", "closed")
        tl.loc[(tl["site"] == "N") & (tl["period"] == "2027"), "event"] = "closing"
        tl.loc[(tl["site"] == "N") & (tl["period"] == "2028"), "event"] = ""
        return tl

    planted = with_timeline(solution, close_early)
    assert "min_open_duration[N,2027]" in names(violations(inst, planted))


def test_existing_site_closed_before_its_contract_end(lifecycle):
    inst, solution = lifecycle
    planted = with_timeline(solution, lambda tl: set_state(tl, "E", "2026", "closed"))
    assert "open_site[E,2026]" in names(violations(inst, planted))


def test_an_extension_left_out_of_the_money(lifecycle):
    inst, solution = lifecycle
    summary = dict(solution.summary, objective=solution.summary["objective"] - 25, bound=None)
    found = violations(inst, dataclasses.replace(solution, summary=summary))
    assert names(found) == {"total_cost"}


def test_one_site_plan_for_the_band(band):
    inst, solution = band
    planted = with_timeline(solution, lambda tl: set_state(tl, "S1", "2026", "closed", scenario="low"))
    assert "open_site[S1,2026]" in names(violations(inst, planted))


def test_demand_balance_per_scenario(band):
    inst, solution = band
    pl = solution.placements.copy()
    row = pl.index[(pl["scenario"] == "high") & (pl["period"] == "2026") & (pl["site"] == "S1")][0]
    pl.loc[row, "placed"] -= 10
    found = names(violations(inst, dataclasses.replace(solution, placements=pl)))
    assert "demand_balance[X,2026,high]" in found


def test_emergency_capacity(lifecycle):
    inst, solution = lifecycle
    mu = solution.municipalities.copy()
    rows = mu["period"] == "2025"
    mu.loc[rows, "emergency"] = 60
    mu.loc[rows, "unmet"] = -10
    assert "emergency_capacity[P1,2025,mid]" in names(
        violations(inst, dataclasses.replace(solution, municipalities=mu))
    )


def test_large_site_per_province_per_period(lifecycle):
    inst, solution = lifecycle
    planted = with_timeline(solution, lambda tl: set_state(tl, "E", "2028", "closed"))
    assert "large_site_per_province[P1,2028]" in names(violations(inst, planted))


def test_capacity_of_a_site_on_standby(standby):
    inst, solution = standby
    pl = solution.placements.copy()
    moved = pl.index[(pl["period"] == "2026") & (pl["site"] == "L0")][0]
    pl.loc[moved, "site"] = "S1"
    found = names(violations(inst, dataclasses.replace(solution, placements=pl)))
    assert "site_capacity[S1,2026,mid]" in found


def test_budget_limit_per_period(standby):
    inst, solution = standby
    policy = load_policy("default", {**HAND, "budget": 240})
    found = names(check_horizon_solution(solution, inst, policy).violations)
    assert {"budget_limit[2025,mid]"} <= found


def test_mean_travel_limit_per_period(standby):
    inst, solution = standby
    policy = load_policy("default", {**HAND, "mean_travel_limit_minutes": 1})
    assert "mean_travel_limit[2025,mid]" in names(check_horizon_solution(solution, inst, policy).violations)


def test_a_claimed_objective_and_bound(band):
    inst, solution = band
    summary = dict(
        solution.summary, objective=solution.summary["objective"] + 1, bound=solution.summary["objective"] + 5
    )
    assert names(violations(inst, dataclasses.replace(solution, summary=summary))) == {"total_cost", "bound"}


def test_registration_kpi_and_its_check(tmp_path):
    folder = tmp_path / "reg"
    shutil.copytree(INSTANCES / "tiny-horizon-lifecycle", folder)
    with open(folder / "instance.toml", "a") as f:
        f.write('\n[registration]\nsite = "E"\nlimit = 90\npenalty_per_night = 1\npenalty_cap = 500\n')
    inst, solution = solved(folder)
    periods = solution.periods.set_index("period")
    # E holds 100 in 2025-2027 and 60 in 2028, nobody is unmet: 10 above the limit for 365 nights a year.
    assert periods["person_nights_above_limit"].to_dict() == {"2025": 3650, "2026": 3650, "2027": 3650, "2028": 0}
    assert solution.scenarios.iloc[0][["nights_above_limit", "registration_penalty"]].tolist() == [1095, 500]
    planted = solution.periods.copy()
    planted.loc[0, "person_nights_above_limit"] = 5
    assert "periods.csv[2025,mid]" in names(violations(inst, dataclasses.replace(solution, periods=planted)))


@pytest.mark.parametrize("column", ["need", "open_sites", "fixed_cost", "standby_cost", "place_cost", "travel_value"])
def test_every_figure_of_a_period_is_recomputed(standby, column):
    inst, solution = standby
    planted = solution.periods.copy()
    planted[column] = planted[column].astype(float)
    planted.loc[0, column] += 7
    found = violations(inst, dataclasses.replace(solution, periods=planted))
    row = planted.iloc[0]
    assert len(found) == 1 and found[0].startswith(f"periods.csv[{row['period']},{row['scenario']}]: {column} says")
