"""Scenario sweeps on tiny-budget (worked out by hand with the hand prices).

One province: X and Y need 100 places each. S1 (large, so always open: fixed 1,000, 10 a
place) is 10 minutes from X and 30 from Y; S2 (regular: 500, 20 a place) is 30 from X, 10
from Y. A place is always worth its cost against the 1,000 penalty, so the budget B buys
(B - 1,000) / 10 places at S1, X's first:

  budget 1,000: nothing placed, 200 unmet, objective 200,000 + 1,000              = 201,000
  budget 2,000: X's 100 at S1, 100 unmet: 100,000 + 2,000 + 1,000 travel          = 103,000
  budget 2,500: X's 100 and 50 of Y's at S1, 50 unmet: 50,000 + 2,500 + 2,500     =  55,000
  budget 3,000: all 200 at S1: 3,000 + 1,000 + 3,000 travel                       =   7,000
  no budget:    S2 opens for Y: cost 4,500, travel 2,000                          =   6,500
"""

import shlex

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND, INSTANCES

from allocator.analysis import sweep as sweep_module
from allocator.analysis.sweep import ScenarioError, grid, read_scenarios, run_sweep, scenarios_from
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.solve.options import SolveOptions

BUDGET = INSTANCES / "tiny-budget"
SET = [x for k, v in HAND.items() for x in ("--set", f"{k}={v}")]
TABLES = ("sites", "placements", "municipalities", "provinces")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def sweep(out, *args, values="1000,2000,2500,3000,none"):
    return invoke("sweep", BUDGET, *SET, "--vary", f"budget={values}", "--out", out, "--gap", 0, *args)


def test_unmet_places_fall_as_the_budget_rises(tmp_path):
    r = sweep(tmp_path / "s", "--workers", 1)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "s" / "sweep.csv")
    assert list(table["scenario"]) == ["budget-1000", "budget-2000", "budget-2500", "budget-3000", "budget-none"]
    assert list(table["unmet"]) == [200, 100, 50, 0, 0]
    assert list(table["objective"]) == [201_000, 103_000, 55_000, 7_000, 6_500]
    assert list(table["total_cost"]) == [1_000, 2_000, 2_500, 3_000, 4_500]
    assert list(table["status"]) == ["optimal"] * 5
    # Cost vs unmet: each budget buys fewer unmet places; no budget costs more for the same 0 unmet.
    assert list(table["pareto_cost_unmet"]) == [True, True, True, True, False]
    # Cost vs mean travel: 2,000 gives 10 minutes, the cheapest; nothing placed has no mean travel.
    assert table["mean_travel_minutes"].fillna(-1).tolist() == [-1, 10, 16.6667, 20, 10]
    assert list(table["pareto_cost_travel"]) == [False, True, False, False, False]
    assert ",true,false,budget-1000," in (tmp_path / "s" / "sweep.csv").read_text().splitlines()[1]
    assert len(set(table["input_hash"])) == 5
    for sid in table["scenario"]:
        assert invoke("check", tmp_path / "s" / sid, BUDGET).exit_code == 0
    assert "budget-2500    2500  optimal         55,000     2,500     50      16.7  *" in r.output


def test_grid_is_the_cartesian_product():
    scenarios = grid(["budget=1e9,2e9", "demand_scale=0.8,1,1.2"])
    assert [s.id for s in scenarios] == [
        "budget-1e9_demand_scale-0.8",
        "budget-1e9_demand_scale-1",
        "budget-1e9_demand_scale-1.2",
        "budget-2e9_demand_scale-0.8",
        "budget-2e9_demand_scale-1",
        "budget-2e9_demand_scale-1.2",
    ]
    assert scenarios[4].overrides == {"budget": "2e9", "demand_scale": "1"}
    assert [s.id for s in grid([])] == ["base"]
    assert grid(["force_sites=A_1"])[0].id.startswith("scenario-")  # "_" is kept out of readable ids


def test_scenario_file(tmp_path):
    path = tmp_path / "scenarios.csv"
    path.write_text("budget,max_travel_minutes\n2000,\n,60\n")
    scenarios = read_scenarios(path)
    assert [s.id for s in scenarios] == ["budget-2000", "max_travel_minutes-60"]
    combined = scenarios_from(["demand_scale=1,2"], path)
    assert [s.id for s in combined] == [
        "budget-2000_demand_scale-1",
        "budget-2000_demand_scale-2",
        "max_travel_minutes-60_demand_scale-1",
        "max_travel_minutes-60_demand_scale-2",
    ]


def test_scenario_file_problems(tmp_path):
    path = tmp_path / "scenarios.csv"
    path.write_text("budget,colour\n2000,red\n")
    with pytest.raises(ScenarioError, match=r"scenarios.csv, row 1, column 'colour': unknown policy key"):
        read_scenarios(path)
    path.write_text("budget,travel_value\ncheap,1\n2000,1\n2000,1\n")
    with pytest.raises(ScenarioError) as info:
        read_scenarios(path)
    text = str(info.value)
    assert "2 problems in the scenarios:" in text
    assert "row 2, column 'budget': must be a number (value: 'cheap')" in text
    assert "row 4: the same scenario as row 3 (value: 'budget-2000_travel_value-1')" in text


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("budget", "--vary: expected key=value1,value2,... (value: 'budget')"),
        ("colour=red", "--vary, column 'colour': unknown policy key"),
        ("budget=1,lots", "--vary, column 'budget': must be a number (value: 'lots')"),
    ],
)
def test_bad_vary(tmp_path, vary, message):
    r = invoke("sweep", BUDGET, "--vary", vary, "--out", tmp_path / "s")
    assert r.exit_code == 2 and message in r.output
    assert not (tmp_path / "s").exists()


def test_key_varied_twice(tmp_path):
    r = invoke("sweep", BUDGET, "--vary", "budget=1", "--vary", "budget=2", "--out", tmp_path / "s")
    assert r.exit_code == 2 and "--vary, column 'budget': key varied twice" in r.output


def test_scenario_without_plan_is_only_a_row(tmp_path):
    # Forbidding LC leaves P2 without a large site: infeasible. Forbidding RD moves D to LC: 8,450.
    r = invoke(
        "sweep",
        INSTANCES / "tiny-two-provinces",
        *SET,
        "--vary",
        "forbid_sites=LC,RD",
        "--out",
        tmp_path / "s",
        "--workers",
        1,
    )
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "s" / "sweep.csv", dtype=str, keep_default_na=False)
    assert list(table["status"]) == ["infeasible", "optimal"]
    assert list(table["folder"]) == ["", "forbid_sites-RD"]
    assert table["objective"].tolist() == ["", "8450.0"]
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.name != ".allocator.json") == [
        "forbid_sites-RD",
        "sweep.csv",
    ]


def test_resume_skips_finished_scenarios(tmp_path, monkeypatch):
    out = tmp_path / "s"
    assert sweep(out, "--workers", 1, values="1000,2500").exit_code == 0
    first = (out / "sweep.csv").read_bytes()
    calls = []
    real = sweep_module.solve_scenario

    def counting(instance, policy, options):
        calls.append(policy.budget)
        return real(instance, policy, options)

    monkeypatch.setattr(sweep_module, "solve_scenario", counting)
    r = sweep(out, "--workers", 1, "--resume", values="1000,2500")
    assert r.exit_code == 0 and calls == []
    assert "0 solved in this process, 2 kept from before" in r.output
    assert (out / "sweep.csv").read_bytes() == first
    # A new value is solved; the finished ones are kept.
    r = sweep(out, "--workers", 1, "--resume", values="1000,2500,3000")
    assert calls == [3000.0] and "1 solved in this process, 2 kept from before" in r.output
    # Other inputs (a solver option here) make every scenario new.
    calls.clear()
    r = invoke(
        "sweep",
        BUDGET,
        *SET,
        "--vary",
        "budget=1000,2500,3000",
        "--out",
        out,
        "--gap",
        1e-3,
        "--workers",
        1,
        "--resume",
    )
    assert calls == [1000.0, 2500.0, 3000.0]


def test_interrupt_keeps_finished_scenarios(tmp_path, monkeypatch):
    out = tmp_path / "s"
    real = sweep_module.solve_scenario
    calls = []

    def interrupted_after_the_first(instance, policy, options):
        calls.append(policy.budget)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(instance, policy, options)

    monkeypatch.setattr(sweep_module, "solve_scenario", interrupted_after_the_first)
    r = sweep(out, "--workers", 1, values="1000,2000,2500,3000")
    assert r.exit_code == 130
    assert "1 of 4 scenarios finished and kept in" in r.output
    command = f"allocator sweep {BUDGET} {' '.join(shlex.quote(x) for x in SET)} --vary budget=1000,2000,2500,3000 --out {out} --workers 1 --time-limit 300 --gap 0 --resume"
    assert "Resume with:\n  " + command in r.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".allocator.json") == ["budget-1000", "sweep.csv"]
    assert list(pd.read_csv(out / "sweep.csv")["scenario"]) == ["budget-1000"]

    monkeypatch.setattr(sweep_module, "solve_scenario", real)
    r = invoke(*shlex.split(command)[1:])
    assert r.exit_code == 0, r.output
    assert "3 solved in this process, 1 kept from before" in r.output
    assert list(pd.read_csv(out / "sweep.csv")["unmet"]) == [200, 100, 50, 0]


def test_the_same_results_locally_and_on_dask(tmp_path):
    from distributed import LocalCluster

    inst = load_instance(BUDGET)
    scenarios = grid(["budget=1000,2500,none", "travel_value=1,20"])
    options = SolveOptions(gap=0)
    overrides = {k: str(v) for k, v in HAND.items() if k != "travel_value"}
    serial = run_sweep(inst, scenarios, tmp_path / "serial", overrides=overrides, options=options, workers=1)
    local = run_sweep(inst, scenarios, tmp_path / "local", overrides=overrides, options=options, workers=2)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        dask = run_sweep(
            inst,
            scenarios,
            tmp_path / "dask",
            overrides=overrides,
            options=options,
            scheduler=cluster.scheduler_address,
        )
    assert (serial.where, local.where) == ("this process", "2 local processes")
    assert dask.where.startswith("Dask scheduler")
    reference = (tmp_path / "serial" / "sweep.csv").read_bytes()
    assert list(serial.table["unmet"]) == [200, 200, 50, 50, 0, 0]
    for name in ("local", "dask"):
        assert (tmp_path / name / "sweep.csv").read_bytes() == reference
        for sid in serial.table["scenario"]:
            for t in TABLES:
                assert (tmp_path / name / sid / f"{t}.csv").read_bytes() == (
                    tmp_path / "serial" / sid / f"{t}.csv"
                ).read_bytes()


def test_a_scenario_that_loses_its_plan_loses_its_folder(tmp_path):
    out = tmp_path / "s"
    args = ["sweep", INSTANCES / "tiny-two-provinces", *SET, "--vary", "forbid_sites=RD", "--out", out, "--workers", 1]
    assert invoke(*args).exit_code == 0
    assert (out / "forbid_sites-RD" / "summary.json").is_file()
    # Half the demand: P2 needs 100 places, below LC's minimum of 150, and LC is its only large site.
    r = invoke(*args, "--set", "demand_scale=0.5")
    assert r.exit_code == 0 and "infeasible" in r.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".allocator.json") == ["sweep.csv"]


# ------------------------------------------------------------------ instances with periods (hand optima in their READMEs)

BAND = INSTANCES / "tiny-horizon-band"
GROUPS = INSTANCES / "tiny-horizon-groups"


def test_a_sweep_over_the_periods_plans_each_scenario_over_the_band(tmp_path):
    """tiny-horizon-band: S1 opens for the band under either risk: expected 250, worst case 300 (the high scenario)."""
    out = tmp_path / "s"
    args = ["sweep", BAND, *SET, "--vary", "risk=expected,worst", "--out", out, "--gap", 0, "--workers", 1]
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["scenario"]) == ["risk-expected", "risk-worst"]
    assert list(table["status"]) == ["optimal", "optimal"]
    assert table["objective"].tolist() == pytest.approx([250, 300])
    # One site plan (S1 open in 2026), so the same money whichever risk chose it: 200 / 250 / 300 per scenario.
    assert table["expected_total_cost"].tolist() == pytest.approx([250, 250])
    assert table["worst_total_cost"].tolist() == pytest.approx([300, 300])
    assert list(table["openings"]) == [1, 1] and list(table["closings"]) == [0, 0]
    assert list(table["expected_unmet_place_periods"]) == [0, 0]
    assert list(table["max_open_sites"]) == [2, 2]
    assert "mean_travel_minutes" not in table and "pareto_cost_moves" in table
    for sid in table["scenario"]:
        assert (out / sid / "timeline.csv").is_file()
        assert invoke("check", out / sid).exit_code == 0
    assert "Unmet place-periods" in r.output and "cost/moves" in r.output
    # Resumed: both kept, the table unchanged.
    first = (out / "sweep.csv").read_bytes()
    r = invoke(*args, "--resume")
    assert r.exit_code == 0 and "0 solved in this process, 2 kept from before" in r.output
    assert (out / "sweep.csv").read_bytes() == first


def test_a_scenario_file_over_the_periods_with_groups(tmp_path):
    """tiny-horizon-groups: 1,083 with M1 (S1 and M1 open in 2025, S1 closes in 2026); without M1 20 minors are
    unmet in 2025 and S1 stays open: 20,988."""
    scenarios = tmp_path / "scenarios.csv"
    scenarios.write_text("forbid_sites,unmet_penalty\n,1000\nM1,1000\n")
    out = tmp_path / "s"
    r = invoke("sweep", GROUPS, *SET, "--scenarios", scenarios, "--out", out, "--gap", 0, "--workers", 1)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    assert list(table["scenario"]) == ["unmet_penalty-1000", "forbid_sites-M1_unmet_penalty-1000"]
    assert table["objective"].astype(float).tolist() == pytest.approx([1_083, 20_988])
    assert table["expected_unmet_place_periods"].astype(float).tolist() == [0, 20]
    assert table["expected_unmet_penalty"].astype(float).tolist() == [0, 20_000]
    assert list(table["openings"]) == [2, 1] and list(table["closings"]) == [1, 0]
    for sid in table["scenario"]:
        assert invoke("check", out / sid).exit_code == 0


def test_the_same_plans_over_the_periods_in_one_or_two_processes(tmp_path):
    inst = load_instance(BAND)
    scenarios = grid(["risk=expected,worst"])
    overrides = {k: str(v) for k, v in HAND.items()}
    serial = run_sweep(
        inst, scenarios, tmp_path / "serial", overrides=overrides, options=SolveOptions(gap=0), workers=1
    )
    local = run_sweep(inst, scenarios, tmp_path / "local", overrides=overrides, options=SolveOptions(gap=0), workers=2)
    assert local.where == "2 local processes"
    assert (tmp_path / "local" / "sweep.csv").read_bytes() == (tmp_path / "serial" / "sweep.csv").read_bytes()
    for sid in serial.table["scenario"]:
        for t in ("timeline", "events", "placements", "periods", "scenarios"):
            assert (tmp_path / "local" / sid / f"{t}.csv").read_bytes() == (
                tmp_path / "serial" / sid / f"{t}.csv"
            ).read_bytes()


def test_what_faster_housing_saves_in_one_table_and_one_figure(tmp_path):
    """tiny-horizon-housing at rates 0.5 and 1 (its README: 936 and 736); the backlog the lower rate leaves in
    reception is 20 + 34 place-periods, and sweep.svg draws both against the rate."""
    out = tmp_path / "housing"
    args = ["sweep", INSTANCES / "tiny-horizon-housing", *SET, "--vary", "housing_rate=0.5,1", "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in [*args, "--workers", 1]])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert table["objective"].tolist() == [936, 736]
    assert table["expected_extra_place_periods"].tolist() == [54, 0]
    assert "Backlog place-periods" in result.output
    svg = (out / "sweep.svg").read_text()
    assert svg.startswith("<?xml") and "housing_rate" in svg and "backlog" in svg
    assert f"Figure written to {out / 'sweep.svg'}" in result.output


def test_no_figure_for_a_sweep_of_two_keys(tmp_path):
    out = tmp_path / "two"
    args = ["sweep", INSTANCES / "tiny-two-provinces", *SET, "--vary", "unmet_penalty=500,1000", "--vary"]
    args += ["travel_value=1,2", "--out", out, "--workers", 1]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert not (out / "sweep.svg").exists() and "Figure written" not in result.output
