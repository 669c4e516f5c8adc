"""Demand groups: the hand-solved optimum of tiny-groups, each group rule binding, the checker on planted
violations, validation of the group tables, and workbooks with groups."""

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND, INSTANCES, run

from allocator.check import check_solution
from allocator.commands.main import cli
from allocator.core.errors import InstanceError
from allocator.data.load import load_instance
from allocator.data.workbook import export_instance
from allocator.results.solution import read_solution, write_solution

GROUPS = INSTANCES / "tiny-groups"


def placed(outcome) -> dict:
    return {(r.municipality, r.site, r.group): r.placed for r in outcome.solution.placements.itertuples()}


def test_tiny_groups_optimum():
    out = run(GROUPS)
    assert out.status.value == "optimal" and out.check.passed
    assert out.solution.objective == pytest.approx(420, abs=1e-6)
    assert placed(out) == {
        ("A", "L", "reg"): 60,
        ("A", "RA", "amv"): 10,
        ("A", "U", "ua"): 20,
        ("B", "AU", "amv"): 10,
        ("B", "RB", "reg"): 40,
    }
    k = out.solution.kpis
    assert (k["fixed_cost"], k["place_cost"], k["travel_value"]) == (190, 230, 0)


def test_groups_table_by_province_and_group():
    g = run(GROUPS).solution.groups.set_index("group")
    assert g.loc["reg", ["demand", "placed", "unmet"]].tolist() == [100, 100, 0]
    assert g.loc["amv", ["demand", "placed", "unmet"]].tolist() == [20, 20, 0]
    assert g.loc["ua", "target"] == "national" and g.loc["ua", "placed"] == 20


def test_group_capacity_binds(copy_instance):
    folder, edit = copy_instance("tiny-groups")
    # Room for 5 minors at RA: A's other 5 travel to AU (5 x (4 + 10) = 70 more than at RA).
    edit(
        "site_groups", lambda t: t.assign(capacity=t["capacity"].mask((t["site"] == "RA") & (t["group"] == "amv"), "5"))
    )
    out = run(folder)
    assert placed(out)[("A", "RA", "amv")] == 5 and placed(out)[("A", "AU", "amv")] == 5
    assert out.solution.objective == pytest.approx(420 - 15 + 5 * (4 + 10), abs=1e-6)


def test_a_listed_group_is_never_placed_at_a_site_that_does_not_list_it(copy_instance):
    folder, edit = copy_instance("tiny-groups")
    # Without its own unit and without RA, the minors cannot go to the large site L (it does not list them).
    edit("site_groups", lambda t: t[t["group"] != "amv"])
    out = run(folder)
    assert out.solution.groups.set_index("group").loc["amv", "unmet"] == 20
    assert not any(g == "amv" for (_, _, g) in placed(out))


def test_group_travel_limit(copy_instance):
    folder, edit = copy_instance("tiny-groups")
    edit("groups", lambda t: t.assign(max_travel_minutes=["", "5", ""]))
    edit("site_groups", lambda t: t[~((t["site"] == "AU") & (t["group"] == "amv"))])
    out = run(folder)  # B's minors can reach only RA (10 minutes away), beyond their 5-minute limit
    assert out.solution.groups.set_index("group").loc["amv", "unmet"] == 10


def test_per_group_cost(copy_instance):
    folder, edit = copy_instance("tiny-groups")
    edit(
        "site_groups",
        lambda t: t.assign(cost_per_place=t["cost_per_place"].mask((t["site"] == "RA") & (t["group"] == "amv"), "30")),
    )
    out = run(folder)  # at 30 a place RA no longer pays for A's minors: AU takes both (200 instead of 130)
    assert placed(out)[("A", "AU", "amv")] == 10 and out.solution.objective == pytest.approx(420 - 130 + 200, abs=1e-6)


@pytest.fixture
def groups_solution(tmp_path):
    return write_solution(run(GROUPS).solution, tmp_path / "s")


def plant(folder, table: str, fn):
    path = folder / f"{table}.csv"
    fn(pd.read_csv(path, dtype={"group": str})).to_csv(path, index=False)
    return check_solution(read_solution(folder), load_instance(GROUPS)).violations


def test_checker_passes_the_plan_as_written(groups_solution):
    assert check_solution(read_solution(groups_solution), load_instance(GROUPS)).passed


def test_checker_finds_a_group_at_a_site_that_does_not_take_it(groups_solution):
    found = plant(groups_solution, "placements", lambda t: t.assign(site=t["site"].mask(t["group"] == "amv", "L")))
    assert any(v.startswith("placed[A,L,amv]: site L does not take group amv") for v in found)


def test_checker_finds_group_capacity_exceeded(groups_solution):
    def more(t):
        t.loc[(t["site"] == "RA") & (t["group"] == "amv"), "placed"] = 11
        return t

    found = plant(groups_solution, "placements", more)
    assert "group_capacity[RA,amv]: holds 11 places of group amv, allowed 10" in found
    assert "demand_balance[A,amv]: placed 11 exceeds demand 10" in found


def test_checker_finds_a_false_groups_table(groups_solution):
    found = plant(groups_solution, "groups", lambda t: t.assign(placed=t["placed"].mask(t["group"] == "ua", 19)))
    assert "groups.csv[P,ua]: placed says 19, the plan gives 20" in found


def test_checker_prices_places_at_the_groups_own_cost(groups_solution):
    # RA's minors cost 3 a place (site_groups.csv), not RA's own 2: 420, not 410.
    assert check_solution(read_solution(groups_solution), load_instance(GROUPS)).objective == pytest.approx(420)


@pytest.mark.parametrize(
    "table, fn, message",
    [
        (
            "groups",
            lambda t: t.assign(target=["province", "region", "national"]),
            "groups.csv, row 3, column 'target': must be one of province, national (value: 'region')",
        ),
        (
            "group_demand",
            lambda t: t.assign(demand=t["demand"].mask(t["group"] == "amv", "11")),
            "the demand of the province groups (reg, amv) of municipality A adds up to 71, its demand is 70",
        ),
        (
            "group_demand",
            lambda t: pd.concat([t, t.iloc[[0]]]),
            "group_demand.csv, row 7, column 'group': municipality and group repeat row 2 (value: 'reg')",
        ),
        (
            "site_groups",
            lambda t: t.assign(capacity=t["capacity"].mask(t["site"] == "RA", "61")),
            "site_groups.csv, row 4, column 'capacity': exceeds the site's capacity (60) (value: 61)",
        ),
        (
            "site_groups",
            lambda t: t.assign(group=t["group"].mask(t["site"] == "U", "uk")),
            "site_groups.csv, row 5, column 'group': unknown group (not in groups.csv) (value: 'uk')",
        ),
    ],
)
def test_bad_group_tables_are_reported_with_file_row_and_column(copy_instance, table, fn, message):
    folder, edit = copy_instance("tiny-groups")
    edit(table, fn)
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    assert message in str(err.value)


def test_a_site_that_takes_no_group_is_reported(copy_instance):
    folder, edit = copy_instance("tiny-groups")
    edit("groups", lambda t: t.assign(sites="listed"))
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    assert "site L takes no group" in str(err.value) and "site RB takes no group" in str(err.value)


def test_group_tables_without_groups_csv_are_refused(copy_instance):
    folder, _ = copy_instance("tiny-groups")
    (folder / "groups.csv").unlink()
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    assert "group_demand.csv: this table needs groups.csv, which is missing" in str(err.value)


def test_instances_without_groups_have_none():
    assert load_instance(INSTANCES / "tiny-two-provinces").groups is None


def test_a_workbook_carries_the_groups(tmp_path):
    path = export_instance(GROUPS, tmp_path / "g.xlsx")
    folder, book = load_instance(GROUPS), load_instance(path)
    assert book.groups.demand.equals(folder.groups.demand)
    assert book.groups.eligible.equals(folder.groups.eligible)
    assert run(book).solution.objective == pytest.approx(420)


def test_console_shows_task_placed_and_unmet_by_province_and_group(tmp_path):
    args = [f"--set={k}={v}" for k, v in HAND.items()]
    r = CliRunner().invoke(cli, ["solve", str(GROUPS), *args, "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "Pland     unaccompanied minors                          20      20      0      100%" in r.output
    assert "Total     displaced from Ukraine (national target)      20      20      0      100%" in r.output
    # The task, the national groups and both, labelled, in the summary and the table by province.
    assert (
        "Places     140 placed of 140 (task 120 + national groups 20), unmet 0 (task 0, national groups 0)" in r.output
    )
    assert "Province  Task  National  Demand  Placed  Unmet  Realised" in r.output
    assert "Pland      120        20     140     140      0      100%" in r.output
    assert "Task: the province's own groups (asylum seekers, unaccompanied minors); National:" in r.output


def test_explain_names_the_rule_with_groups():
    args = [f"--set={k}={v}" for k, v in HAND.items()]
    r = CliRunner().invoke(cli, ["explain", str(GROUPS), *args, "--forbid-site", "AU", "--forbid-site", "RA"])
    assert r.exit_code == 1
    assert "relax open_site[AU] (forbid_sites): open the forbidden site Bury minors unit (AU) in Pland" in r.output
