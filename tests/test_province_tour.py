"""The province's tour (docs/guides/province.md) on nl-2024, end to end: Gelderland and Utrecht solve on their own,
their plans are checked, merged and decided on, and the decision folder is checked and reported like any solution
folder. Every total is held against a count made here from the instance's tables (not through the package)."""

import os
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import INSTANCES, ROOT

from allocator.commands.main import cli
from allocator.results.decision import read_decision
from allocator.results.solution import read_solution

NL = INSTANCES / "nl-2024"
PLANS = "--plans solutions/gelderland --plans solutions/utrecht"
TOUR = [
    "allocator solve --province Gelderland --out solutions/gelderland",
    "allocator solve --province Utrecht --out solutions/utrecht",
    f"allocator check-plan {PLANS}",
    f"allocator merge {PLANS} --out solutions/merged",
    f"allocator decide {PLANS} --out solutions/decision",
    "allocator check solutions/decision",
    "allocator report solutions/decision --out solutions/decision.html",
]
TWO = {"PV25": "gelderland", "PV26": "utrecht"}


@pytest.fixture(scope="module")
def counts():
    """The instance's figures, counted from its CSV tables."""
    munis = pd.read_csv(NL / "municipalities.csv", dtype={"municipality": str})
    groups = pd.read_csv(NL / "groups.csv").set_index("group")
    demand = pd.read_csv(NL / "group_demand.csv").merge(munis[["municipality", "province"]], on="municipality")
    sites = pd.read_csv(NL / "sites.csv").set_index("site")
    listed = pd.read_csv(NL / "site_groups.csv").groupby("site")["group"].apply(set)
    task_groups = set(groups.index[groups["target"] == "province"])

    def takes(site) -> set:  # site_groups.csv decides for the sites it lists; else the groups' `sites` rule
        if site in listed.index:
            return listed[site]
        kind = sites.at[site, "kind"]
        return {g for g, rule in groups["sites"].items() if rule == "all" or (rule == "regular" and kind == "regular")}

    outside = [s for s in sites.index if not takes(s) & task_groups]
    task = demand[demand["group"].isin(task_groups)].groupby(["province", "group"])["demand"].sum()
    national = demand[~demand["group"].isin(task_groups)].groupby("province")["demand"].sum()
    return {
        "task": task,
        "province_task": task.groupby(level=0).sum(),
        "national": national,
        "sites": sites,
        "outside": set(outside),
        "task_groups": task_groups,
    }


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """Run the tour as the guide runs it, in a folder of its own; the result of every command."""
    cwd = tmp_path_factory.mktemp("tour")
    before = os.getcwd()
    os.chdir(cwd)
    try:
        results = {command: CliRunner().invoke(cli, command.split()[1:]) for command in TOUR}
    finally:
        os.chdir(before)
    return cwd, results


def test_the_tour_is_the_manuals():
    guide = ROOT / "docs" / "guides" / "province.md"
    markers = [line for line in guide.read_text(encoding="utf-8").splitlines() if line.startswith("<!-- run")]
    for command in TOUR:
        assert any(command in m for m in markers), f"{command} is not run by the province's guide"


def test_every_step_succeeds(tour):
    _, results = tour
    for command, r in results.items():
        assert r.exit_code == 0, f"{command}\n{r.output}"
        assert "internal error" not in r.output


def test_a_provincial_plan_leaves_the_national_group_and_its_sites_out(tour, counts):
    cwd, results = tour
    sites = counts["sites"]
    for code, folder in TWO.items():
        solution = read_solution(cwd / "solutions" / folder)
        own = sites[sites["province"] == code]
        out = own[own.index.isin(counts["outside"])]
        existing = out[out["status"] == "existing"]
        outside = solution.summary["scope"]["outside"]
        assert outside["groups"]["ukraine"]["demand"] == counts["national"][code]
        assert outside["sites"] == len(out) and outside["existing_sites"] == len(existing)
        assert outside["existing_fixed_cost"] == pytest.approx(existing["fixed_cost"].sum())
        assert set(solution.sites["site"]) == set(own.index) - counts["outside"]
        assert solution.kpis["demand"] == counts["province_task"][code] and solution.kpis["unmet"] == 0
        for g in counts["task_groups"]:
            row = solution.groups[solution.groups["group"] == g]
            assert float(row["demand"].iloc[0]) == counts["task"][(code, g)]
        plan = pd.read_csv(cwd / "solutions" / folder / "plan.csv")
        assert plan["places"].sum() == counts["province_task"][code] and set(plan["province"]) == {code}
    # Before: Utrecht reported 43 open sites and EUR 453.6 M, 26 of them and EUR 215.4 M Ukrainian sites holding nobody.
    utrecht = results["allocator solve --province Utrecht --out solutions/utrecht"].output
    n = len(counts["outside"] & set(sites.index[(sites["province"] == "PV26") & (sites["status"] == "existing")]))
    assert f", {n} of them existing (fixed cost EUR " in utrecht


def test_check_plan_finds_both_plans_complete(tour, counts):
    _, results = tour
    out = results[f"allocator check-plan {PLANS}"].output
    for code, folder in TWO.items():
        assert f"({code}) ({folder}/plan.csv): complete" in out
        total = f"{counts['province_task'][code]:,}"
        assert re.search(rf"Total\s+{total}\s+{total}\s+{total}\s+0\n", out), out


def test_the_merge_answers_for_the_two_provinces(tour, counts):
    cwd, results = tour
    out = results[f"allocator merge {PLANS} --out solutions/merged"].output
    # Before: "Check FAILED: 277 violations", 267 of them "existing site closed" for sites outside both plans.
    assert "Check      passed" in out and "existing site closed" not in out
    assert out.count("no plan; outside the merged plan") == 10
    merged = read_solution(cwd / "solutions" / "merged")
    assert sorted(merged.provinces["province"]) == sorted(TWO)
    assert merged.kpis["demand"] == sum(counts["province_task"][p] for p in TWO) and merged.kpis["unmet"] == 0
    parts = [read_solution(cwd / "solutions" / f) for f in TWO.values()]
    assert merged.summary["status"] == "optimal"
    assert merged.objective == pytest.approx(sum(p.objective for p in parts), rel=1e-12)


def test_the_decision_counts(tour, counts):
    cwd, _ = tour
    d = read_decision(cwd / "solutions" / "decision")
    sites = counts["sites"]
    provinces = d.provinces.set_index("province")
    assert provinces["task"].to_dict() == pytest.approx(counts["province_task"].astype(float).to_dict())
    committed = {p: float(counts["province_task"][p]) if p in TWO else 0.0 for p in provinces.index}
    assert provinces["committed"].to_dict() == committed
    assert provinces["short"].sum() == counts["province_task"].sum() - sum(counts["province_task"][p] for p in TWO)
    assert provinces["unmet"].sum() == 0 and provinces.loc[list(TWO), "status"].tolist() == ["complete"] * 2
    # Before: 252 existing sites holding nobody were new, EUR 2.154 bn of the decision, Ter Apel among them.
    new = d.sites[d.sites["new"] == 1]
    assert not (sites.loc[new["site"], "status"] == "existing").any()
    assert not set(d.sites["site"]) & counts["outside"]
    assert (new.groupby("site")["added"].sum() > 0).all()
    assert provinces["new_sites"].sum() == new["site"].nunique()
    # What stays as it is: the two plans' costs and the fixed cost of the existing sites of the task elsewhere.
    parts = {p: read_solution(cwd / "solutions" / f) for p, f in TWO.items()}
    standing = sites[(sites["status"] == "existing") & ~sites.index.isin(counts["outside"])]
    standing = standing[~standing["province"].isin(list(TWO))]
    stays = sum(s.kpis["total_cost"] for s in parts.values()) + standing["fixed_cost"].sum()
    assert d.summary["decision"]["committed_cost"] == pytest.approx(stays)
    # The decided plan: what stays, what the decision adds, and the two plans' travel (no place is spare).
    assert d.summary["decision"]["spare_places"] == 0
    travel = sum(s.kpis["travel_value"] for s in parts.values())
    assert d.summary["objective"] == pytest.approx(stays + d.summary["decision"]["cost"] + travel)
    assert d.solution.kpis["placed"] == counts["province_task"].sum()


def test_the_letters_count_what_the_decision_opens(tour):
    cwd, _ = tour
    d = read_decision(cwd / "solutions" / "decision")
    for p, row in d.provinces.set_index("province").iterrows():
        letter = d.letters[p]
        if row["status"] == "complete":
            assert "this decision changes nothing" in letter
            continue
        opened = set(re.findall(r"\[([^\]]+)\], a new location", letter))
        assert len(opened) == row["new_sites"], p
        assert f"- locations opened by this decision: {row['new_sites']}," in letter
    # Before: Ter Apel (existing) was "a new location".
    assert "Ter Apel asielcomplex [L-TERAPEL], added to an existing location" in d.letters["PV20"]


def test_the_decision_folder_is_checked_and_reported(tour):
    cwd, results = tour
    assert "passed against instance nl-2024" in results["allocator check solutions/decision"].output
    assert (cwd / "solutions" / "decision.html").stat().st_size > 0
