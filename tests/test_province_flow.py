"""A province's plan from solve to decision: solve --province writes the plan table that check-plan, merge and decide
read; national-target groups and the sites that take only them are outside every provincial plan, merge and
decision; a decision folder is a solution folder. Hand counts on tiny-decision and tiny-groups (their README files)."""

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND, INSTANCES, hand_policy

from allocator.check import check_solution
from allocator.check.decision import check_decision
from allocator.commands.main import cli
from allocator.core.errors import SolutionError
from allocator.data.load import load_instance
from allocator.data.plans import read_plans
from allocator.results.decision import read_decision
from allocator.results.solution import read_solution

DECISION = INSTANCES / "tiny-decision"
PLANS = DECISION / "plans"
SET = [f"--set={k}={v}" for k, v in HAND.items()]
PLAN_COLUMNS = ["province", "site", "group", "places", "municipality"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def provincial(tmp_path_factory):
    """North and South of tiny-decision solved on their own (390 and 420, the README's optima)."""
    root = tmp_path_factory.mktemp("provincial")
    for p in ("N", "S"):
        r = invoke("solve", DECISION, "--province", p, *SET, "--out", root / p)
        assert r.exit_code == 0, r.output
    return root


def test_solve_province_writes_the_plan_table_check_plan_reads(provincial):
    plan = pd.read_csv(provincial / "N" / "plan.csv", keep_default_na=False)
    assert list(plan.columns) == PLAN_COLUMNS
    assert sorted(map(tuple, plan.to_numpy().tolist())) == [
        ("N", "AN", "amv", 10, "N1"),
        ("N", "LN", "reg", 100, "N1"),
        ("N", "RN2", "reg", 50, "N2"),
    ]
    # The folder itself, its plan.csv, and several folders at once.
    for plans in (["--plans", provincial / "N"], ["--plans", provincial / "N" / "plan.csv"]):
        r = invoke("check-plan", DECISION, *plans, *SET)
        assert r.exit_code == 0 and "Plan for North (N)" in r.output and ": complete" in r.output, r.output
    r = invoke("check-plan", DECISION, "--plans", provincial / "N", "--plans", provincial / "S", *SET)
    assert r.exit_code == 0 and r.output.count(": complete") == 2, r.output


def test_check_plan_of_a_solution_folder_was_an_internal_error(provincial):
    # Before: "internal error: KeyError: 'site'" (the folder's CSV tables read as plan files).
    r = invoke("check-plan", provincial / "S", DECISION, *SET)
    assert r.exit_code == 0 and "Plan for South (S) (S/plan.csv): complete" in r.output
    assert (
        "deprecated: allocator check-plan PLAN [INSTANCE] (still accepted for one release); use allocator check-plan [INSTANCE] --plans PLAN"
        in (r.stderr)
    )
    # Before: "internal error: KeyError: 'province'" (placements.csv read as a plan table).
    r = invoke("check-plan", DECISION, "--plans", provincial / "S" / "placements.csv", *SET)
    assert r.exit_code == 2 and "internal error" not in r.output
    assert "S/placements.csv: a table of a solution folder, not a plan table: give the folder itself" in r.output


def test_a_folder_written_before_is_read_as_its_placements(provincial, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(provincial / "S", old)
    (old / "plan.csv").unlink()
    summary = json.loads((old / "summary.json").read_text())
    scope = summary.pop("scope")
    summary.pop("format")
    summary["province"] = {"province": "S", "name": "South", "share": scope["share"]}
    (old / "summary.json").write_text(json.dumps(summary))
    r = invoke("check-plan", DECISION, "--plans", old, *SET)
    assert r.exit_code == 0 and "(old/placements.csv): complete" in r.output, r.output
    assert invoke("check", old, DECISION).exit_code == 0
    r = invoke("merge", DECISION, "--plans", old, "--plans", provincial / "N", *SET, "--out", tmp_path / "m")
    assert r.exit_code == 0 and "Check      passed" in r.output, r.output
    # A folder written by a newer version is refused, not misread.
    (old / "summary.json").write_text(json.dumps({**summary, "format": 99}))
    with pytest.raises(SolutionError, match="'format': a format this version does not read"):
        read_solution(old)


def test_merge_lists_provinces_without_a_plan_and_says_assembled_once(provincial, tmp_path):
    r = invoke(
        "merge", DECISION, "--plans", PLANS / "north.csv", "--plans", provincial / "S", *SET, "--out", tmp_path / "m"
    )
    assert r.exit_code == 0, r.output
    assert r.output.count("assembled from provincial plans") == 1
    assert "Status     assembled from provincial plans (optimality of the whole not claimed: a plan table carries" in (
        r.output
    )
    r = invoke("merge", DECISION, "--plans", provincial / "S", *SET, "--out", tmp_path / "s")
    assert r.exit_code == 0 and "North (N): no plan; outside the merged plan" in r.output
    merged = read_solution(tmp_path / "s")
    assert list(merged.provinces["province"]) == ["S"] and merged.summary["scope"]["provinces"] == ["S"]
    assert merged.summary["status"] == "optimal" and merged.objective == pytest.approx(420)


def test_old_spellings_of_merge_still_work(provincial, tmp_path):
    r = invoke("merge", provincial / "N", provincial / "S", "--instance", DECISION, *SET, "--out", tmp_path / "m")
    assert r.exit_code == 0 and "deprecated: allocator merge PLAN ... [--instance PATH]" in r.stderr
    assert read_solution(tmp_path / "m").objective == pytest.approx(810)
    r = invoke("merge", "--plans", provincial / "N", "--instance", DECISION, *SET, "--out", tmp_path / "m2")
    assert (
        r.exit_code == 0
        and "deprecated: --instance PATH (still accepted for one release); use the instance as the first argument"
        in r.stderr
    )
    r = invoke("merge", DECISION, "--plans", provincial / "N", "--instance", DECISION, "--out", tmp_path / "m3")
    assert r.exit_code == 2 and "give the instance once" in r.output


def test_decide_reads_provincial_folders(provincial, tmp_path):
    r = invoke(
        "decide", DECISION, "--plans", provincial / "N", "--plans", PLANS / "south.csv", *SET, "--out", tmp_path / "d"
    )
    assert r.exit_code == 0, r.output
    d = read_decision(tmp_path / "d")
    assert d.summary["decision"]["plans"] == {"N": "N/plan.csv", "S": "south.csv"}
    # North's own optimum is complete; South's shortfall is closed as in tiny-decision's README (240).
    assert d.summary["decision"]["cost"] == pytest.approx(240)
    assert d.summary["objective"] == pytest.approx(390 + 180 + 240)


@pytest.fixture(scope="module")
def decision_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("decision")
    r = invoke("decide", DECISION, "--plans", PLANS, *SET, "--out", root / "d")
    assert r.exit_code == 0, r.output
    return root / "d"


def test_a_decision_folder_is_a_solution_folder(decision_folder, tmp_path):
    names = {p.name for p in decision_folder.iterdir()}
    assert {"sites.csv", "placements.csv", "municipalities.csv", "provinces.csv", "groups.csv", "summary.json"} <= names
    assert {"decision_provinces.csv", "decision_groups.csv", "decision_sites.csv", "assigned.csv"} <= names
    assert {"submitted_plans.csv", "decision-N.md", "decision-S.md"} <= names
    solution = read_solution(decision_folder)
    assert solution.summary["format"] == 2
    assert solution.summary["scope"]["provinces"] == ["N", "S"] and solution.summary["scope"]["groups"] == [
        "reg",
        "amv",
    ]
    # The decided plan: North's plan as it is (390 + 920 of travel), South's committed 180 and the decision's 240.
    assert solution.objective == pytest.approx(390 + 920 + 180 + 240)
    assert solution.kpis["placed"] == 300 and solution.kpis["unmet"] == 0
    assert set(solution.placements["source"]) == {"plan", "decision"}
    assert check_solution(solution, load_instance(DECISION)).passed
    # Before: check, report and compare refused it ("'kpis': must be a JSON object").
    r = invoke("check", decision_folder)
    assert r.exit_code == 0 and "passed" in r.output and "keeps every committed place" in r.output, r.output
    r = invoke("report", decision_folder, "--out", tmp_path / "d.html")
    assert r.exit_code == 0 and (tmp_path / "d.html").is_file(), r.output
    r = invoke("compare", decision_folder, decision_folder)
    assert r.exit_code == 0 and "Objective" in r.output, r.output


def test_check_of_a_decision_folder_finds_an_edited_table(decision_folder, tmp_path):
    edited = tmp_path / "d"
    shutil.copytree(decision_folder, edited)
    sites = pd.read_csv(edited / "decision_sites.csv", keep_default_na=False)
    sites.loc[sites["site"] == "LS", "committed"] = 70
    sites.to_csv(edited / "decision_sites.csv", index=False)
    r = invoke("check", edited)
    assert r.exit_code == 5 and "committed[LS,reg]: the plan commits 80 places, the decision keeps 70" in r.output


def test_the_decision_check_names_sites_wrongly_marked_new(decision_folder):
    instance = load_instance(DECISION)
    d = read_decision(decision_folder)
    plan = read_plans([PLANS], instance)
    sites = d.sites.copy()
    sites.loc[sites["site"] == "LS", "new"] = 1  # committed by South's plan
    empty = pd.DataFrame([{**sites.iloc[0].to_dict(), "site": "RS1", "group": "reg", "committed": 0, "added": 0}])
    sites = pd.concat([sites[sites["site"] != "RS1"], empty], ignore_index=True)
    sites.loc[sites["site"] == "RS1", "new"] = 1
    found = check_decision(
        type(d)(d.solution, d.provinces, d.groups, sites, d.assigned, d.submitted), instance, hand_policy(), plan
    ).violations
    assert "decision_sites.csv[LS]: marked new, but the site is open in any case or committed by a plan" in found
    assert "decision_sites.csv[RS1]: marked new, but the decision places nobody there" in found


@pytest.fixture
def with_existing(copy_instance):
    """tiny-decision with Sudby's regular site RS2 an existing site (fixed cost 30): it stays open, plan or not."""
    folder, edit = copy_instance("tiny-decision")
    edit("sites", lambda t: t.assign(status=["existing" if s == "RS2" else v for s, v in zip(t["site"], t["status"])]))
    return folder


def test_an_existing_site_is_never_new(with_existing, tmp_path):
    r = invoke("decide", with_existing, "--plans", PLANS, *SET, "--out", tmp_path / "d")
    assert r.exit_code == 0, r.output
    d = read_decision(tmp_path / "d")
    rs2 = d.sites[d.sites["site"] == "RS2"]
    assert rs2["new"].sum() == 0 and rs2["fixed_cost"].sum() == 0 and rs2["added"].sum() == 40
    south = d.provinces.set_index("province").loc["S"]
    # RS2's fixed cost (30) stays with what exists: the decision opens RS1 and AS only (240 - 30).
    assert (south["new_sites"], south["decision_cost"]) == (2, pytest.approx(210))
    assert d.summary["decision"]["committed_cost"] == pytest.approx(490 + 30)
    assert "Sudby regular [RS2], added to an existing location: 40 asylum seekers" in d.letters["S"]
    assert "- locations opened by this decision: 2, fixed cost EUR 60" in d.letters["S"]
    assert invoke("check", tmp_path / "d").exit_code == 0


@pytest.fixture
def groups_existing(copy_instance):
    """tiny-groups with its Ukrainian reception site U existing, fixed cost 50: it takes only the national group."""
    folder, edit = copy_instance("tiny-groups")
    edit("sites", lambda t: t.assign(status=["existing" if s == "U" else v for s, v in zip(t["site"], t["status"])]))
    edit("sites", lambda t: t.assign(fixed_cost=["50" if s == "U" else v for s, v in zip(t["site"], t["fixed_cost"])]))
    return folder


def test_a_provincial_plan_leaves_national_groups_and_their_sites_out(groups_existing, tmp_path):
    r = invoke("solve", groups_existing, "--province", "P", *SET, "--out", tmp_path / "p")
    assert r.exit_code == 0, r.output
    solution = read_solution(tmp_path / "p")
    # tiny-groups' optimum (420) without Ukraine's part (U: 20 places at 1): 400; U (fixed 50) is not in the plan.
    assert solution.objective == pytest.approx(400) and "U" not in set(solution.sites["site"])
    assert set(solution.groups["group"]) == {"reg", "amv"}
    outside = solution.summary["scope"]["outside"]
    assert outside["groups"]["ua"]["demand"] == 20 and outside["sites"] == 1 and outside["existing_sites"] == 1
    assert outside["existing_fixed_cost"] == 50
    assert "Outside    displaced from Ukraine (national target): 20 places in these provinces, planned nationally" in (
        r.output
    )
    assert "1 sites that take only this group, 1 of them existing (fixed cost EUR 50)" in r.output
    # The national solve keeps them: U open with its 20 places.
    national = invoke("solve", groups_existing, *SET, "--out", tmp_path / "n")
    assert national.exit_code == 0 and read_solution(tmp_path / "n").objective == pytest.approx(420 + 50)


def test_a_decision_leaves_national_groups_and_their_sites_out(groups_existing, tmp_path):
    (tmp_path / "none").mkdir()
    r = invoke("decide", groups_existing, "--plans", tmp_path / "none", *SET, "--out", tmp_path / "d")
    assert r.exit_code == 0, r.output
    d = read_decision(tmp_path / "d")
    assert "U" not in set(d.sites["site"]) and "U" not in set(d.solution.sites["site"])
    assert d.summary["decision"]["cost"] == pytest.approx(400)  # the provincial optimum: nothing committed
    assert set(d.groups["group"]) == {"reg", "amv"}


def test_a_plan_may_not_commit_a_site_that_takes_only_national_groups(groups_existing, tmp_path):
    plan = tmp_path / "p.csv"
    pd.DataFrame([{"province": "P", "site": "U", "group": "reg", "places": 10}]).to_csv(plan, index=False)
    r = invoke("check-plan", groups_existing, "--plans", plan, *SET)
    assert r.exit_code == 2
    assert "the site takes only groups with a national target (displaced from Ukraine)" in r.output


def test_allocator_plan_writes_a_solutions_plan_table(tmp_path):
    r = invoke("solve", DECISION, *SET, "--out", tmp_path / "national")
    assert r.exit_code == 0
    r = invoke("plan", tmp_path / "national", "--province", "South", "--out", tmp_path / "south.csv")
    assert r.exit_code == 0 and "South (S): 4 sites, 140 places" in r.output, r.output
    plan = pd.read_csv(tmp_path / "south.csv", keep_default_na=False)
    assert list(plan.columns) == PLAN_COLUMNS and set(plan["province"]) == {"S"} and plan["places"].sum() == 140
    r = invoke("check-plan", DECISION, "--plans", tmp_path / "south.csv", *SET)
    assert r.exit_code == 0 and "Plan for South (S) (south.csv): complete" in r.output
    # Both provinces in one table; an existing file is never replaced.
    assert invoke("plan", tmp_path / "national", "--out", tmp_path / "both.csv").exit_code == 0
    assert set(pd.read_csv(tmp_path / "both.csv")["province"]) == {"N", "S"}
    r = invoke("plan", tmp_path / "national", "--out", tmp_path / "south.csv")
    assert r.exit_code == 2 and "a plan table is never replaced" in r.output
