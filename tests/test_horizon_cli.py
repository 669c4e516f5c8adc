"""The command line on instances with periods: solve (band, one scenario, myopic), check, validate, report and backtest."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import INSTANCES, tiny_backtest

from allocator.commands.main import cli

HAND = [
    "--set",
    "travel_value=1",
    "--set",
    "unmet_penalty=1000",
    "--set",
    "max_travel_minutes=none",
    "--set",
    "max_travel_minutes_regular=none",
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_solve_a_horizon_with_its_baseline_and_check_it(tmp_path):
    out = tmp_path / "sol"
    result = run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--gap", "0", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Objective  EUR 1,268" in result.output
    assert "Only      2 +1  1 s1     2" in result.output  # the timeline: S1 opens, stands by, is open again
    assert "mid                  568         595                  +27     1 / 2     0 / 1" in result.output
    assert (out / "baseline" / "timeline.csv").is_file()
    comparison = pd.read_csv(out / "comparison.csv")
    assert comparison.set_index("plan").loc["myopic", "total_cost"] == 595
    checked = run("check", out)
    assert checked.exit_code == 0 and "passed" in checked.output


def test_report_of_a_horizon_plan(tmp_path):
    out = tmp_path / "sol"
    assert run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--out", out).exit_code == 0
    html, figures = tmp_path / "report.html", tmp_path / "figures"
    result = run("report", out, "--out", html, "--png", figures)
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert "<svg" in page and "tiny-horizon-standby (fingerprint" in page
    assert str(INSTANCES) not in page  # no machine path
    assert sorted(p.name for p in figures.glob("*.png")) == ["band.png", "comparison.png", "timeline.png"]


def test_check_finds_a_tampered_timeline(tmp_path):
    out = tmp_path / "sol"
    run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--no-baseline", "--out", out)
    timeline = pd.read_csv(out / "timeline.csv", dtype=str, keep_default_na=False)
    timeline.loc[(timeline["site"] == "S1") & (timeline["period"] == "2026"), "state"] = "closed"
    timeline.to_csv(out / "timeline.csv", index=False)
    result = run("check", out)
    assert result.exit_code == 5
    assert "state_transition[S1,2026]" in result.output


def test_solve_one_scenario_and_the_myopic_plan(tmp_path):
    result = run(
        "solve",
        INSTANCES / "tiny-horizon-band",
        *HAND,
        "--scenario",
        "high",
        "--no-baseline",
        "--out",
        tmp_path / "high",
    )
    assert result.exit_code == 0 and "Objective  EUR 300" in result.output
    result = run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--myopic", "--out", tmp_path / "myopic")
    assert result.exit_code == 0 and "Objective  EUR 1,295" in result.output
    summary = json.loads((tmp_path / "myopic" / "summary.json").read_text())
    assert summary["plan"] == "myopic" and summary["bound"] is None


def test_band_reports_price_of_robustness_and_regret(tmp_path):
    result = run("solve", INSTANCES / "tiny-horizon-band", *HAND, "--out", tmp_path / "band")
    assert result.exit_code == 0
    assert "Price of robustness  EUR 50 if mid happens; EUR -33 in expectation" in result.output
    assert "of the mid-only plan if high happens: EUR 200" in result.output
    assert pd.read_csv(tmp_path / "band" / "robustness.csv")["difference"].tolist() == [50, 50, -200]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "extreme"], "--scenario: unknown scenario (known: low, mid, high, or band) (value: 'extreme')"),
        (["--set", "scenario_weights=low:1"], "no weight for scenario mid"),
        (["--set", "risk=average"], "column 'risk': must be one of expected, worst"),
    ],
)
def test_bad_horizon_options(args, message, tmp_path):
    result = run("solve", INSTANCES / "tiny-horizon-band", *HAND, *args, "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x").exists()


def test_scenario_needs_periods(tmp_path):
    result = run("solve", INSTANCES / "tiny-budget", "--scenario", "mid", "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert "--scenario needs an instance with periods (periods.csv)" in result.output


def test_validate_describes_the_horizon():
    result = run("validate", INSTANCES / "tiny-horizon-lifecycle")
    assert result.exit_code == 0
    assert "periods: 4 (2025 … 2028, 1 year each); scenarios mid" in result.output
    assert "emergency capacity: 50 places a period" in result.output


def test_backtest(tmp_path):
    out = tmp_path / "replay.csv"
    result = run(
        "backtest",
        tiny_backtest(tmp_path),
        "--policy",
        "default",
        *HAND,
        "--gap",
        "0",
        "--horizon-periods",
        "3",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    # As tiny-horizon-standby: the rolling plan stands by through 2016, the myopic one closes and reopens.
    assert "Rolling  cost EUR 568" in result.output and "1 openings, 0 closings" in result.output
    assert "Myopic   cost EUR 595" in result.output and "2 openings, 1 closings" in result.output
    table = pd.read_csv(out)
    assert table.loc[table["plan"] == "rolling", "standby_sites"].tolist() == [0, 1, 0]
    assert "2016            50              7" in result.output


def test_backtest_with_demand_groups(tmp_path):
    """tiny-horizon-groups replayed: the need that arrives is shared by the province groups without rows per period
    (asylum 100 : amv 20), as need.csv's is; Ukraine's rows name the instance's own periods, so it needs none here."""
    out = tmp_path / "replay.csv"
    folder = tiny_backtest(tmp_path, "tiny-horizon-groups")
    result = run("backtest", folder, "--policy", "default", *HAND, "--gap", "0", "--horizon-periods", "3", "--out", out)
    assert result.exit_code == 0, result.output
    first = pd.read_csv(out).set_index(["period", "plan"]).loc[(2015, "rolling")]
    # 150 arrive: 125 asylum (L0 100 at 1, S1 25 at 2) and 25 minors (M1 20 at 3, S1 5 at 4); S1 and M1 open
    # (30 + 0), fixed L0 20 + S1 10 + M1 5. U1 takes only Ukraine, which needs nothing here: it is not replayed, so
    # neither plan pays its fixed cost of 4.
    assert (first["placed"], first["place_cost"], first["site_cost"], first["unmet"]) == (150, 230, 65, 0)
    assert first["open_sites"] == 3


def test_backtest_step_without_a_plan_is_retried_then_named(tmp_path, monkeypatch):
    from allocator.solve.highs import SolveSession
    from allocator.solve.options import SolveResult, Status

    calls = []

    def no_plan(self, *args, **kwargs):
        calls.append(kwargs.get("start") is not None)
        return SolveResult(status=Status.TIME_LIMIT_NO_PLAN, objective=None, bound=None, gap=None, message="")

    monkeypatch.setattr(SolveSession, "solve", no_plan)
    result = run("backtest", tiny_backtest(tmp_path), "--policy", "default", *HAND, "--time-limit", "5")
    assert result.exit_code == 5 and "internal error" not in result.output
    assert "the rolling plan for 2015 found no plan within twice the time limit of 5 s" in result.output
    assert calls == [True, False]  # from the greedy start, then once more from scratch


def test_backtest_needs_its_data(tmp_path):
    result = run("backtest", INSTANCES / "tiny-horizon-standby")
    assert result.exit_code == 2
    assert "no back-test data" in result.output


def test_explain_asks_for_the_period(tmp_path):
    result = run("explain", INSTANCES / "tiny-horizon-standby")
    assert result.exit_code == 2
    assert (
        "--period: the instance has periods and this plans one of them: give --period (periods: 2025, 2026, 2027)"
        in (result.output)
    )
    assert run("explain", INSTANCES / "tiny-horizon-standby", *HAND, "--period", "2026").exit_code == 0


def test_compare_names_a_site_on_standby(tmp_path):
    """tiny-horizon-standby: the plan keeps S1 on standby in 2026 for 2027; the myopic one closes it and opens it again."""
    run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--no-baseline", "--out", tmp_path / "a")
    run("solve", INSTANCES / "tiny-horizon-standby", *HAND, "--myopic", "--out", tmp_path / "b")
    result = run("compare", tmp_path / "a", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert "2026    all       closed  S1    Xham regular  P1        regular  standby -> closed" in result.output
    assert "2027    mid            +30      +0     +0          +0        +1        +0     +0" in result.output


def test_backtest_says_why_places_stay_unmet(tmp_path):
    """Leaving a person unmet costs 0.5 a year, less than any place but at the existing site (its fixed cost is paid
    in any case, 50 places there cost 150): 2015 and 2017 leave 100 of 150 unmet, and as many stay unmet when the
    period is planned alone from the same sites."""
    out = tmp_path / "replay.csv"
    cheap = [*HAND, "--set", "unmet_penalty=0.5"]
    result = run("backtest", tiny_backtest(tmp_path), "--policy", "default", *cheap, "--gap", "0", "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["unmet"].tolist() == [100, 100, 0, 0, 100, 100] and table["unmet_forced"].equals(table["unmet"])
    assert table["unmet_reason"].fillna("").tolist() == ["also alone", "also alone", "", "", "also alone", "also alone"]
    assert "Unmet    2017 rolling: 100 places, as many as the half-year planned alone" in result.output


@pytest.mark.parametrize(
    ("alone_unmet", "alone_status", "status", "forced", "reason"),
    [
        (0.0, "time_limit", "optimal", 0.0, "look-ahead"),  # a plan alone that places everyone proves it
        (10.0, "optimal", "time_limit", 10.0, "time limit"),
        (10.0, "time_limit", "optimal", None, "unknown"),  # 10 unmet alone, not proven to be the fewest
        (30.0, "optimal", "time_limit", 25.0, "also alone"),
    ],
)
def test_the_reason_for_unmet_places(monkeypatch, alone_unmet, alone_status, status, forced, reason):
    import math

    from allocator.analysis import backtest
    from allocator.solve.options import Status

    monkeypatch.setattr(backtest, "first_period", lambda model, t, w: {"unmet": alone_unmet})
    got = backtest.unmet_reason(25.0, Status(status), (None, Status(alone_status)), "2016", "mid")
    assert got["unmet_reason"] == reason
    assert math.isnan(got["unmet_forced"]) if forced is None else got["unmet_forced"] == forced
