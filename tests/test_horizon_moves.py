"""Moves between sites in plans over several periods (instances/tiny-horizon-moves/README.md): every optimum as
derived by hand, move_count and move_limit shown to bind, the moves counted in every table and on the console,
the myopic baseline paying the moves it causes, and the checker catching a planted violation of each."""

import dataclasses

import pyomo.environ as pyo
import pytest
from helpers import HAND, INSTANCES

from allocator.analysis.horizon import comparison_table, plan_horizon, plan_myopic
from allocator.check.horizon import check_horizon_solution
from allocator.core.errors import PolicyError
from allocator.data.load import load_instance
from allocator.data.policy import check_policy, load_policy
from allocator.model.horizon import History, build_horizon_model
from allocator.reports.horizon import format_horizon_summary
from allocator.solve.options import SolveOptions

EXACT = SolveOptions(gap=0.0, workers=1, time_limit=60)
MOVES = INSTANCES / "tiny-horizon-moves"


def policy(**overrides):
    return load_policy("default", {**HAND, **overrides})


def plan(name=MOVES, myopic=False, **overrides):
    outcome = (plan_myopic if myopic else plan_horizon)(load_instance(name), policy(**overrides), EXACT)
    assert outcome.check is not None and outcome.check.passed, outcome.check and outcome.check.violations
    return outcome


def moves(outcome, site=None) -> dict:
    """Person-moves per period (of one site, or of all) in the timeline."""
    tl = outcome.solution.timeline
    if site is not None:
        tl = tl[tl["site"] == site]
    return tl.groupby("period")["moves"].sum().to_dict()


def states(outcome, site) -> list[str]:
    tl = outcome.solution.timeline
    return tl.loc[tl["site"] == site, "state"].tolist()


def test_without_a_move_cost_everyone_moves_to_the_cheaper_site():
    outcome = plan()
    assert outcome.result.objective == pytest.approx(790)
    assert moves(outcome, "A") == {"2025": 0, "2026": 100, "2027": 0}
    assert moves(outcome) == {"2025": 0, "2026": 100, "2027": 0}
    assert (states(outcome, "A"), states(outcome, "B")) == (["open", "closed", "closed"], ["closed", "open", "open"])
    # Neither key set: the family is not built, and the model is today's.
    model = outcome.parts[0]
    assert len(model.MOVE_CASES) == 0 and not hasattr(model, "move_count") and not hasattr(model, "move_limit")
    assert outcome.solution.periods["move_cost"].sum() == 0


def test_a_move_cost_is_paid_in_the_period_of_the_move():
    outcome = plan(move_cost=3)
    assert outcome.result.objective == pytest.approx(1090)
    row = outcome.solution.scenarios.iloc[0]
    assert (row.moves, row.move_cost, row.total_cost, row.objective) == (100, 300, 1090, 1090)
    periods = outcome.solution.periods.set_index("period")
    assert periods["move_cost"].to_dict() == {"2025": 0, "2026": 300, "2027": 0}
    model = outcome.parts[0]
    # move_count binds: moved[A,2026] is exactly the fall of A's load.
    assert pyo.value(model.moved["A", "2026", "mid"]) == pytest.approx(100)
    assert pyo.value(model.move_count["A", "2026", "mid"].body) == pytest.approx(0)
    assert pyo.value(model.move_cost_total["mid"]) == pytest.approx(300)


def test_a_dear_move_keeps_the_old_site_open_instead():
    outcome = plan(move_cost=5)
    assert outcome.result.objective == pytest.approx(1160)
    assert moves(outcome) == {"2025": 0, "2026": 0, "2027": 0}
    assert states(outcome, "A") == ["open", "open", "open"]
    assert [(r.period, r.site, r.event) for r in outcome.solution.events.itertuples()] == [("2026", "A", "extension")]


def test_the_move_cost_is_discounted_like_an_event():
    outcome = plan(move_cost=3, discount_rate=0.1)
    # 380 + (70 + 160 + 300) / 1.1 + 180 / 1.21
    assert outcome.result.objective == pytest.approx(380 + 530 / 1.1 + 180 / 1.21)


def test_the_move_cost_counts_against_the_budget():
    # 2026 costs 530 with the move (230 without its cost), more than 450; a partial move costs 460 + k.
    outcome = plan(move_cost=3, budget=450)
    assert outcome.result.objective == pytest.approx(1160)
    assert moves(outcome) == {"2025": 0, "2026": 0, "2027": 0}
    assert plan(budget=450).result.objective == pytest.approx(790)


def test_the_myopic_plan_pays_the_moves_it_causes():
    myopic = plan(myopic=True, move_cost=3)
    assert myopic.result.objective == pytest.approx(1160)
    assert states(myopic, "A") == ["open", "open", "open"]
    integrated = plan(move_cost=3)
    table = comparison_table({"mid": integrated.solution}, myopic.solution).set_index("plan")
    assert table["moves"].to_dict() == {"integrated": 100, "myopic": 0}
    assert table.loc["myopic", "total_cost"] - table.loc["integrated", "total_cost"] == 70
    assert plan(myopic=True).result.objective == pytest.approx(790)  # without the cost it moves everyone too


def test_the_first_period_of_a_window_starts_from_the_load_before_it():
    inst = load_instance(MOVES)
    history = History(in_service={"L0": 1, "A": 1, "B": 0}, load={"L0": 50, "A": 100})
    model = build_horizon_model(inst, policy(move_cost=3), periods=("2026",), history=history)
    assert list(model.MOVE_CASES) == [("L0", "2026", "mid"), ("A", "2026", "mid")]
    assert pyo.value(model.move_count["A", "2026", "mid"].lower) == 100
    # Without the history's load nothing is known of the people before the first period: no moves there.
    assert len(build_horizon_model(inst, policy(move_cost=3)).move_count) == 6


def test_the_move_limit_spreads_the_move_over_two_years():
    outcome = plan(max_moves_per_period=40)
    assert outcome.result.objective == pytest.approx(990)
    assert moves(outcome, "A") == {"2025": 0, "2026": 40, "2027": 40}
    tl = outcome.solution.timeline
    assert tl.loc[tl["site"] == "A", "placed"].tolist() == [100, 60, 20]
    model = outcome.parts[0]
    for t in ("2026", "2027"):  # binds in both years
        assert pyo.value(model.move_limit[t, "mid"].body) == pytest.approx(40)
    assert plan(myopic=True, max_moves_per_period=40).result.objective == pytest.approx(990)
    assert plan(max_moves_per_period=100).result.objective == pytest.approx(790)  # slack: the plan of no limit


def test_tiny_horizon_standby_counts_its_moves():
    name = INSTANCES / "tiny-horizon-standby"
    for myopic, objective in ((False, 1268), (True, 1295)):
        outcome = plan(name, myopic=myopic)
        assert outcome.result.objective == pytest.approx(objective)
        assert moves(outcome) == {"2025": 0, "2026": 100, "2027": 0}
        assert moves(outcome, "L0")["2026"] == 50
        assert outcome.solution.provinces["moves"].tolist() == [0, 100, 0]
        assert plan(name, myopic=myopic, move_cost=1).result.objective == pytest.approx(objective + 100)


def test_the_console_shows_the_moves():
    integrated, myopic = plan(move_cost=3), plan(myopic=True, move_cost=3)
    solution = dataclasses.replace(
        integrated.solution, comparison=comparison_table({"mid": integrated.solution}, myopic.solution)
    )
    text = format_horizon_summary(solution)
    assert "Moves" in text.splitlines()[text.splitlines().index("") + 1]
    assert "100 / 0" in text


def test_the_policy_keys():
    with pytest.raises(PolicyError, match="max_moves_per_period"):
        policy(max_moves_per_period="1.5")
    with pytest.raises(PolicyError, match="move_cost"):
        policy(move_cost="-1")
    assert policy(max_moves_per_period="none").max_moves_per_period is None
    with pytest.raises(PolicyError, match="does not apply"):
        check_policy(policy(move_cost=3), load_instance(INSTANCES / "tiny-two-provinces"))


# ---------------------------------------------------------------- the checker


@pytest.fixture(scope="module")
def solved():
    outcome = plan(move_cost=3)
    return load_instance(MOVES), outcome.solution


def names(inst, solution, **overrides) -> set[str]:
    found = check_horizon_solution(solution, inst, policy(move_cost=3, **overrides) if overrides else None)
    return {v.split(":")[0] for v in found.violations}


def planted(table, rows, column, value):
    table = table.copy()
    table.loc[rows(table), column] = value
    return table


def test_the_checker_recomputes_the_moves_of_the_timeline(solved):
    inst, solution = solved
    tl = planted(solution.timeline, lambda t: (t["site"] == "A") & (t["period"] == "2026"), "moves", 60)
    assert names(inst, dataclasses.replace(solution, timeline=tl)) == {"move_count[A,2026,mid]"}


def test_the_checker_recomputes_the_moves_of_periods_provinces_and_scenarios(solved):
    inst, solution = solved
    periods = planted(solution.periods, lambda t: t["period"] == "2026", "moves", 10)
    assert names(inst, dataclasses.replace(solution, periods=periods)) == {"periods.csv[2026,mid]"}
    provinces = planted(solution.provinces, lambda t: t["period"] == "2026", "moves", 10)
    assert names(inst, dataclasses.replace(solution, provinces=provinces)) == {"provinces.csv[P1,2026,mid]"}
    scenarios = planted(solution.scenarios, lambda t: t["scenario"] == "mid", "moves", 10)
    assert names(inst, dataclasses.replace(solution, scenarios=scenarios)) == {"scenarios.csv[mid]"}


def test_the_checker_catches_moves_above_the_limit(solved):
    inst, solution = solved
    assert names(inst, solution, max_moves_per_period=40) == {"move_limit[2026,mid]"}


def test_the_checker_prices_the_moves_in_the_objective(solved):
    inst, solution = solved
    # The same plan claimed without its moves' cost: the objective and the money of 2026 are 300 short.
    summary = dict(solution.summary, objective=790.0, bound=790.0)
    assert names(inst, dataclasses.replace(solution, summary=summary)) == {"total_cost"}
    free = check_horizon_solution(solution, inst, policy())
    assert {v.split(":")[0] for v in free.violations} == {"total_cost", "periods.csv[2026,mid]"}
