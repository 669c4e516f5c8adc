"""Plans over several periods on the tiny horizon instances: every optimum as derived by hand in
their README files, every new constraint family shown to bind, the myopic baseline, the demand
band with its price of robustness and regret."""

import shutil

import pandas as pd
import pytest
from helpers import HAND, INSTANCES

from allocator.analysis.horizon import comparison_table, plan_horizon, plan_myopic, robustness_table
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.solve.options import SolveOptions

EXACT = SolveOptions(gap=0.0, workers=1, time_limit=60)


def policy(**overrides):
    return load_policy("default", {**HAND, **overrides})


def plan(name_or_folder, scenario=None, myopic=False, **overrides):
    folder = name_or_folder if not isinstance(name_or_folder, str) else INSTANCES / name_or_folder
    run = plan_myopic if myopic else plan_horizon
    outcome = run(load_instance(folder), policy(**overrides), EXACT, scenario)
    assert outcome.check is not None and outcome.check.passed, outcome.check and outcome.check.violations
    return outcome


def states(outcome, scenario="mid") -> dict:
    tl = outcome.solution.timeline
    tl = tl[tl["scenario"] == scenario]
    return {(r.site, r.period): r.state for r in tl.itertuples()}


def events(outcome, scenario="mid") -> list:
    ev = outcome.solution.events
    return [(r.period, r.site, r.event) for r in ev[ev["scenario"] == scenario].itertuples()]


def edited(tmp_path, name: str, table: str, fn):
    folder = tmp_path / name
    shutil.copytree(INSTANCES / name, folder)
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(frame).to_csv(path, index=False)
    return folder


# ---------------------------------------------------------------- tiny-horizon-standby


def test_integrated_plan_keeps_a_site_on_standby():
    outcome = plan("tiny-horizon-standby")
    assert outcome.result.objective == pytest.approx(1268)
    assert [states(outcome)[("S1", t)] for t in ("2025", "2026", "2027")] == ["open", "standby", "open"]
    assert events(outcome) == [("2025", "S1", "opening")]
    kpis = outcome.solution.scenarios.iloc[0]
    assert (kpis.total_cost, kpis.travel_value) == (568, 700)


def test_myopic_plan_closes_and_reopens_it():
    outcome = plan("tiny-horizon-standby", myopic=True)
    assert outcome.result.objective == pytest.approx(1295)
    assert [states(outcome)[("S1", t)] for t in ("2025", "2026", "2027")] == ["open", "closed", "open"]
    assert events(outcome) == [("2025", "S1", "opening"), ("2026", "S1", "closing"), ("2027", "S1", "opening")]
    comparison = comparison_table({"mid": plan("tiny-horizon-standby").solution}, outcome.solution).set_index("plan")
    assert comparison.loc["myopic", "total_cost"] - comparison.loc["integrated", "total_cost"] == 27
    assert (comparison.loc["integrated", "openings"], comparison.loc["myopic", "openings"]) == (1, 2)


def test_site_state_binds_without_a_standby_cost(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-standby", "sites", lambda df: df.assign(standby_cost=""))
    outcome = plan(folder)
    assert outcome.result.objective == pytest.approx(1270)  # S1 stays open through 2026 (10) instead of standing by (8)
    assert states(outcome)[("S1", "2026")] == "open"


def test_budget_limit_per_period():
    assert plan("tiny-horizon-standby", budget=240).result.objective == pytest.approx(11228)


def test_discounting():
    assert plan("tiny-horizon-standby", discount_rate=0.1).result.objective == pytest.approx(
        560 + 178 / 1.1 + 530 / 1.21
    )


def test_mean_travel_limit_per_period(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-standby", "travel_times", lambda df: df.assign(minutes=["2", "10"]))
    assert plan(folder).result.objective == pytest.approx(2068)
    # Mean travel 4: S1 (10 minutes) takes 33 besides L0's 100 (2 minutes); 17 unmet in 2025 and 2027.
    assert plan(folder, mean_travel_limit_minutes=4).result.objective == pytest.approx(35660)


# ---------------------------------------------------------------- tiny-horizon-lifecycle


def test_lifecycle_optimum():
    outcome = plan("tiny-horizon-lifecycle")
    assert outcome.result.objective == pytest.approx(970)
    assert events(outcome) == [("2026", "N", "opening"), ("2027", "E", "extension"), ("2028", "N", "closing")]
    periods = outcome.solution.periods.set_index("period")
    assert periods.loc["2025", "emergency"] == 50


def test_lead_time_binds(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-lifecycle", "sites", lambda df: df.assign(earliest_open=""))
    outcome = plan(folder)
    assert outcome.result.objective == pytest.approx(720)
    assert states(outcome)[("N", "2025")] == "open"


def test_min_open_duration_binds(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-lifecycle", "sites", lambda df: df.assign(min_open_years=""))
    outcome = plan(folder)
    assert outcome.result.objective == pytest.approx(960)
    assert states(outcome)[("N", "2027")] == "closed"


def test_emergency_capacity_binds(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-lifecycle", "emergency", lambda df: df.assign(capacity=["40"]))
    outcome = plan(folder)
    assert outcome.result.objective == pytest.approx(10900)
    assert outcome.solution.periods.set_index("period").loc["2025", "unmet"] == 10


def test_contract_extension_and_a_free_closing_at_the_contract_end(tmp_path):
    folder = edited(tmp_path, "tiny-horizon-lifecycle", "sites", lambda df: df.assign(extension_cost=["200", ""]))
    # Under the large-site rule E must stay: the extension is paid.
    assert plan(folder).result.objective == pytest.approx(1145)
    # Without it, E's contract runs out and it closes at no cost (its closing cost of 60 is not charged).
    outcome = plan(folder, large_site_rule="off")
    assert outcome.result.objective == pytest.approx(1070)
    assert ("2027", "E", "closing") in events(outcome)
    assert outcome.solution.events.set_index(["period", "site"]).loc[("2027", "E"), "cost"] == 0


# ---------------------------------------------------------------- tiny-horizon-band


def test_band_expected_and_worst():
    band = plan("tiny-horizon-band")
    assert band.result.objective == pytest.approx(250)
    assert states(band, "low")[("S1", "2026")] == states(band, "high")[("S1", "2026")] == "open"
    assert plan("tiny-horizon-band", risk="worst").result.objective == pytest.approx(300)


def test_scenario_weights_change_the_plan():
    weights = "low:0.45,mid:0.45,high:0.1"
    expected = plan("tiny-horizon-band", scenario_weights=weights)
    assert expected.result.objective == pytest.approx(207.5)
    assert states(expected)[("S1", "2026")] == "closed"
    worst = plan("tiny-horizon-band", scenario_weights=weights, risk="worst")
    assert worst.result.objective == pytest.approx(300)
    assert states(worst)[("S1", "2026")] == "open"


@pytest.mark.parametrize(("scenario", "objective"), [("low", 150), ("mid", 200), ("high", 300)])
def test_one_scenario(scenario, objective):
    assert plan("tiny-horizon-band", scenario).result.objective == pytest.approx(objective)


def test_price_of_robustness_and_regret():
    inst = load_instance(INSTANCES / "tiny-horizon-band")
    band = plan_horizon(inst, policy(), EXACT)
    alone = {w: plan_horizon(inst, policy(), EXACT, w).solution for w in ("low", "mid", "high")}
    table, summary = robustness_table(inst, policy(), band.solution, alone, EXACT)
    assert table.set_index("scenario")["mid_plan"].to_dict() == pytest.approx({"low": 150, "mid": 200, "high": 500})
    assert table.set_index("scenario")["band_plan"].to_dict() == pytest.approx({"low": 200, "mid": 250, "high": 300})
    assert summary["price_of_robustness"] == pytest.approx(50)
    assert summary["expected_difference"] == pytest.approx(-100 / 3)
    assert summary["regret"] == pytest.approx(200)


def test_myopic_band_is_one_plan_per_scenario():
    outcome = plan("tiny-horizon-band", myopic=True)
    assert states(outcome, "low")[("S1", "2026")] == "closed"
    assert states(outcome, "high")[("S1", "2026")] == "open"
    assert outcome.result.objective == pytest.approx((150 + 200 + 300) / 3)


def test_myopic_with_worst_risk_reports_the_worst_scenario():
    assert plan("tiny-horizon-band", myopic=True, risk="worst").result.objective == pytest.approx(300)


@pytest.mark.parametrize("name", ["tiny-horizon-standby", "tiny-horizon-lifecycle", "tiny-horizon-band"])
def test_the_greedy_start_is_a_plan(name):
    """The start handed to HiGHS satisfies every row and bound (HiGHS would ignore it otherwise)."""
    import pyomo.environ as pyo

    from allocator.model.horizon import build_horizon_model
    from allocator.model.start import greedy_start

    model = build_horizon_model(load_instance(INSTANCES / name), policy())
    start = greedy_start(model)
    for var in model.component_data_objects(pyo.Var):
        var.set_value(start[id(var)], skip_validation=True)
        assert (var.lb is None or var.value >= var.lb - 1e-9) and (var.ub is None or var.value <= var.ub + 1e-9), (
            var.name
        )
    for row in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(row.body)
        assert row.lower is None or body >= pyo.value(row.lower) - 1e-6, row.name
        assert row.upper is None or body <= pyo.value(row.upper) + 1e-6, row.name
