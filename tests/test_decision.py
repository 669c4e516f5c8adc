"""Provincial plans and the allocation decision on tiny-decision (worked out by hand in its README): one province
on its own, plan checks in planners' words, merging, and the decision with its independent check."""

import dataclasses
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND, INSTANCES, hand_policy

from allocator.analysis.decide import decide
from allocator.analysis.merge import merge_plans
from allocator.analysis.pipeline import solve_province
from allocator.check import check_solution
from allocator.check.decision import check_decision
from allocator.check.plans import check_plan
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.data.plans import PlanError, read_plans
from allocator.data.workbook import fill_sheet, save_book
from allocator.results.decision import read_decision
from allocator.results.solution import read_solution, write_solution
from allocator.solve.options import SolveOptions

DECISION = INSTANCES / "tiny-decision"
PLANS = DECISION / "plans"
OPTIONS = SolveOptions(gap=0.0, workers=1, time_limit=60)
SET = [f"--set={k}={v}" for k, v in HAND.items()]


@pytest.fixture(scope="module")
def instance():
    return load_instance(DECISION)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_plan(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / name, index=False)
    return folder / name


@pytest.mark.parametrize("province, objective", [("N", 390), ("S", 420)])
def test_one_province_on_its_own(instance, province, objective):
    out = solve_province(instance, hand_policy(), province, OPTIONS)
    assert out.status.value == "optimal" and out.check.passed
    assert out.solution.objective == pytest.approx(objective)
    assert out.solution.summary["scope"]["provinces"] == [province]
    assert set(out.solution.municipalities["province"]) == {province}


def test_province_share_of_a_budget(instance):
    out = solve_province(instance, hand_policy(budget=1000), "S", OPTIONS)
    assert out.model.policy.budget == pytest.approx(1000 * 140 / 300)


def test_cli_provincial_plan_and_its_check(tmp_path):
    r = invoke("solve", DECISION, "--province", "S", *SET, "--out", tmp_path / "s")
    assert r.exit_code == 0, r.output
    assert "Plan       provincial plan for South (S)" in r.output
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["scope"]["provinces"] == ["S"]
    assert invoke("check", tmp_path / "s", DECISION).exit_code == 0
    assert "no province with this id or name" in invoke("solve", DECISION, "--province", "X", *SET).output
    by_name = invoke("solve", DECISION, "--province", "South", *SET, "--out", tmp_path / "by-name")
    assert by_name.exit_code == 0 and "Plan       provincial plan for South (S)" in by_name.output


def test_plan_check_in_planners_words(instance):
    north, south = check_plan(read_plans([PLANS], instance), instance, hand_policy())
    assert north.complete and not north.findings
    assert not south.complete and not south.blocked
    g = south.groups.set_index("group")
    assert g.loc["reg", ["task", "committed", "covered", "short", "too_few"]].tolist() == [120, 80, 80, 40, 40]
    assert g.loc["amv", ["committed", "short"]].tolist() == [0, 20]
    r = invoke("check-plan", PLANS / "south.csv", DECISION, *SET)
    assert r.exit_code == 1
    assert "South is 40 places short for asylum seekers: the plan commits 80 of the 120 asked." in r.output
    assert "South is 20 places short for unaccompanied minors: the plan commits none of the 20 asked." in r.output
    assert invoke("check-plan", PLANS / "north.csv", DECISION, *SET).exit_code == 0


def test_places_out_of_reach(instance, tmp_path):
    plan = write_plan(
        tmp_path, "n.csv", {"province": "N", "site": ["RN2", "AN"], "group": ["reg", "amv"], "places": [100, 10]}
    )
    (verdict,) = check_plan(read_plans([plan], instance), instance, hand_policy(max_travel_minutes=15))
    g = verdict.groups.set_index("group").loc["reg"]
    # RN2's 100 places serve Norby's 50; Northam (20 minutes away) is out of reach of them, and 50 too few.
    assert (g["covered"], g["short"], g["too_few"], g["out_of_reach"]) == (50, 100, 50, 50)


@pytest.mark.parametrize(
    "rows, rule, blocking",
    [
        ({"site": ["LN"], "group": ["amv"], "places": [10]}, "site_groups[LN,amv]", True),
        ({"site": ["LN", "LN"], "group": ["reg", "reg"], "places": [150, 60]}, "site_capacity[LN]", True),
        ({"site": ["RN2", "AN"], "group": ["reg", "amv"], "places": [100, 10]}, "large_site_per_province[N]", False),
    ],
)
def test_plan_check_names_the_rule_broken(instance, tmp_path, rows, rule, blocking):
    plan = write_plan(tmp_path, "n.csv", {"province": "N", **rows})
    (verdict,) = check_plan(read_plans([plan], instance), instance, hand_policy())
    (finding,) = [f for f in verdict.findings if f.rule == rule]
    assert finding.blocking is blocking and not verdict.complete


def test_bad_plan_files_report_file_row_and_column(instance, tmp_path):
    plan = write_plan(
        tmp_path,
        "bad.csv",
        {
            "province": ["S", "S", "Q"],
            "site": ["LN", "LS", "LS"],
            "group": ["reg", "xx", "reg"],
            "places": [1, "2.5", 3],
        },
    )
    with pytest.raises(PlanError) as err:
        read_plans([plan], instance)
    text = str(err.value)
    assert "bad.csv, row 2, column 'site': the site lies in province N, not in S (value: 'LN')" in text
    assert "bad.csv, row 3, column 'places': not a whole number (value: '2.5')" in text
    assert "bad.csv, row 4, column 'province': unknown province (not in the instance) (value: 'Q')" in text
    r = invoke("check-plan", plan, DECISION)
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_a_province_may_have_one_plan(instance, tmp_path):
    shutil.copy(PLANS / "south.csv", tmp_path / "south.csv")
    shutil.copy(PLANS / "south.csv", tmp_path / "south2.csv")
    with pytest.raises(PlanError, match="province S already has a plan in south.csv"):
        read_plans([tmp_path], instance)


def test_a_plan_workbook(instance, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "plan"
    fill_sheet(book.active, ["province", "site", "group", "places"], [["S", "LS", "reg", 80]])
    path = save_book(book, tmp_path / "south.xlsx")
    (verdict,) = check_plan(read_plans([path], instance), instance, hand_policy())
    assert verdict.groups.set_index("group").loc["reg", "short"] == 40


@pytest.fixture(scope="module")
def decided(instance):
    return decide(instance, hand_policy(), read_plans([PLANS], instance), OPTIONS)


def test_decision_closes_the_shortfall_at_least_cost(decided):
    d = decided.decision
    assert decided.check.passed, decided.check.violations
    assert d.summary["decision"]["cost"] == pytest.approx(240)
    assert d.summary["decision"]["committed_cost"] == pytest.approx(490)
    # The decided plan as a solution: North's plan (920 above its optimum of 390) and South's optimum (420).
    assert d.summary["objective"] == pytest.approx(390 + 920 + 420)
    provinces = d.provinces.set_index("province")
    assert provinces.loc["N", "status"] == "complete" and provinces.loc["N", "decision_cost"] == 0
    assert provinces.loc["S", ["short", "added", "unmet", "new_sites"]].tolist() == [60, 60, 0, 3]
    added = {(r.site, r.group): r.added for r in d.sites.itertuples() if r.added}
    assert added == {("RS2", "reg"): 40, ("RS1", "amv"): 10, ("AS", "amv"): 10}
    assert {(r.municipality, r.group): r.places for r in d.assigned.itertuples()} == {
        ("S2", "reg"): 40,
        ("S1", "amv"): 10,
        ("S2", "amv"): 10,
    }


def test_decision_keeps_every_committed_place_and_leaves_complete_plans_alone(decided):
    sites = decided.decision.sites.set_index(["site", "group"])
    assert sites.loc[("LS", "reg"), "committed"] == 80 and sites.loc[("LN", "reg"), "committed"] == 150
    north = decided.decision.sites[decided.decision.sites["province"] == "N"]
    assert north["added"].sum() == 0 and north["new"].sum() == 0


def test_decision_check_finds_planted_violations(decided, instance):
    d = decided.decision
    plan = read_plans([PLANS], instance)
    moved = d.sites.copy()
    moved.loc[moved["site"] == "LS", "committed"] = 70
    found = check_decision(dataclasses.replace(d, sites=moved), instance, hand_policy(), plan).violations
    assert "committed[LS,reg]: the plan commits 80 places, the decision keeps 70" in found
    assert any(v.startswith("place_supply[LS,reg]") for v in found)
    cheap = dict(d.summary, decision={**d.summary["decision"], "cost": 200})
    found = check_decision(
        dataclasses.replace(d, solution=dataclasses.replace(d.solution, summary=cheap)), instance, hand_policy(), plan
    ).violations
    assert found == ["decision_cost: the decision claims 200, recomputed 240.000000"]


def test_decide_cli_writes_the_decision_folder(tmp_path):
    r = invoke("decide", DECISION, "--plans", PLANS, *SET, "--out", tmp_path / "d")
    assert r.exit_code == 0, r.output
    assert "Check      passed" in r.output
    d = read_decision(tmp_path / "d")
    assert d.summary["decision"]["cost"] == pytest.approx(240)
    text = d.letters["S"]
    assert (
        "- Sudby (S2), 50 places:\n  - Sudby minors unit [AS], a new location: 10 unaccompanied minors\n"
        "  - Sudby regular [RS2], a new location: 40 asylum seekers" in text
    )
    assert "- Southam large [LS]: 80 asylum seekers" in text
    assert "No committed place moves." in text
    assert "this decision changes nothing in North" in d.letters["N"]


def test_without_plans_the_decision_is_the_national_optimum(tmp_path):
    (tmp_path / "none").mkdir()
    r = invoke("decide", DECISION, "--plans", tmp_path / "none", *SET, "--out", tmp_path / "d")
    assert r.exit_code == 0 and read_decision(tmp_path / "d").summary["decision"]["cost"] == pytest.approx(810)


def test_a_plan_no_decision_can_keep_is_refused(tmp_path):
    write_plan(tmp_path / "p", "n.csv", {"province": "N", "site": ["LN"], "group": ["amv"], "places": [10]})
    r = invoke("decide", DECISION, "--plans", tmp_path / "p", *SET, "--out", tmp_path / "d")
    assert r.exit_code == 1 and "Northam large [LN] does not take unaccompanied minors" in r.output
    assert not (tmp_path / "d").exists()


@pytest.fixture(scope="module")
def provincial(instance, tmp_path_factory):
    root = tmp_path_factory.mktemp("provincial")
    return {
        p: write_solution(solve_province(instance, hand_policy(), p, OPTIONS).solution, root / p) for p in ("N", "S")
    }


def test_merging_the_provincial_optima(instance, provincial, tmp_path):
    merged = merge_plans([provincial["N"], provincial["S"]], instance, hand_policy())
    assert merged.check.passed and not merged.gaps
    assert merged.solution.summary["status"] == "optimal" and merged.solution.objective == pytest.approx(810)
    written = write_solution(merged.solution, tmp_path / "m")
    assert check_solution(read_solution(written), instance).passed


def test_merge_reports_gaps_and_overlaps(instance, provincial, tmp_path):
    # A province without a plan is outside the merged plan, listed, not a violation; North's plan is its optimum.
    r = invoke("merge", DECISION, "--plans", provincial["N"], *SET, "--out", tmp_path / "m")
    assert r.exit_code == 0 and "South (S): no plan; outside the merged plan" in r.output
    assert "Status     optimal" in r.output and "Check      passed" in r.output
    r = invoke(
        "merge", DECISION, "--plans", provincial["N"], "--plans", provincial["N"], *SET, "--out", tmp_path / "m2"
    )
    assert r.exit_code == 2 and "province N also has a plan" in r.output


def test_merge_a_plan_table(instance, provincial, tmp_path):
    merged = merge_plans([PLANS / "north.csv", provincial["S"]], instance, hand_policy())
    assert merged.check.passed and merged.solution.summary["status"] == "merged"
    assert merged.solution.objective == pytest.approx(390 + 920 + 420)  # North's plan: 920 more than its optimum
