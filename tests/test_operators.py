"""Operators of a site (site_operators.csv, instances/tiny-operators/README.md): each variant is a site of its own
at the same place and operator_choice lets one of them be open; optimum by hand, the row binding, over periods,
re-checked, and one test per validation message."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, run

from allocator.check import check_solution
from allocator.commands.main import cli
from allocator.core.errors import InstanceError
from allocator.data.load import load_instance

OPERATORS = INSTANCES / "tiny-operators"


def copy(tmp_path, **tables) -> str:
    """tiny-operators with some of its tables replaced (name -> CSV text)."""
    folder = tmp_path / "tiny-operators"
    shutil.copytree(OPERATORS, folder)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def open_sites(outcome) -> list[str]:
    sites = outcome.solution.sites
    return sorted(sites.loc[sites["open_site"] == 1, "site"])


def test_the_variants_are_sites_at_the_same_place():
    inst = load_instance(OPERATORS)
    assert list(inst.sites.index) == ["L0", "A", "B", "A@municipality", "A@joint"]
    assert inst.operators.loc["A@joint"].to_dict() == {"location": "A", "operator": "joint"}
    assert inst.sites.loc["A@municipality", ["capacity", "fixed_cost", "cost_per_place", "kind"]].tolist() == [
        100,
        10.0,
        2.5,
        "regular",
    ]


@pytest.mark.parametrize(
    ("overrides", "objective", "opened"),
    [
        ({}, 100 + 10 + 50 * 2.5, ["A@municipality", "L0"]),  # the municipality runs A: 135 against COA's 200
        ({"forbid_sites": "A@municipality"}, 100 + 50 + 50 * 2.2, ["A@joint", "L0"]),  # jointly: 160 (B 300)
        ({"force_sites": "A"}, 100 + 100 + 50 * 2, ["A", "L0"]),  # COA's own, forced: 200
    ],
)
def test_the_cheapest_operator_runs_the_site(overrides, objective, opened):
    outcome = run(OPERATORS, **overrides)
    assert outcome.status.value == "optimal" and outcome.check.passed
    assert outcome.solution.summary["objective"] == pytest.approx(objective)
    assert open_sites(outcome) == opened


def test_operator_choice_binds(tmp_path):
    """With 250 to place, two operators at A (municipality 100 at 260, joint 50 at 160) would cost 420; one operator
    per site leaves the municipality's 50 (135) and B's 100 (400): 535, with L0's 100 (100)."""
    folder = copy(
        tmp_path, municipalities="municipality,name,province,population,lat,lon,demand\nX,Xham,P1,1000,52.0,5.0,250\n"
    )
    outcome = run(folder)
    assert outcome.solution.summary["objective"] == pytest.approx(100 + 135 + 400)
    assert open_sites(outcome) == ["A@municipality", "B", "L0"]


def test_a_plan_with_two_operators_at_a_site_fails_the_check():
    outcome = run(OPERATORS)
    sites = outcome.solution.sites.copy()
    sites.loc[sites["site"] == "A@joint", "open_site"] = 1
    sites.loc[sites["site"] == "A@joint", "fixed_cost"] = 50.0
    tampered = outcome.solution.__class__(**{**outcome.solution.__dict__, "sites": sites})
    violations = check_solution(tampered, load_instance(OPERATORS)).violations
    assert any(v.startswith("operator_choice[A]: 2 operators run it: A@municipality, A@joint") for v in violations)


def test_operators_over_periods(tmp_path):
    """Two years of 150; the municipality can run A from 2026 only: COA runs it in 2025 (200), the municipality in
    2026 (135), a change of operator being a closing and an opening (no costs given)."""
    folder = copy(
        tmp_path,
        periods="period,start,years\n2025,2025-01-01,1\n2026,2026-01-01,1\n",
        need="period,scenario,need\n2025,mid,150\n2026,mid,150\n",
        site_operators="site,operator,fixed_cost,cost_per_place,earliest_open\nA,municipality,10,2.5,2026\n",
    )
    out = tmp_path / "plan"
    result = CliRunner().invoke(cli, ["solve", str(folder), *HAND_ARGS, "--no-baseline", "--out", str(out)])
    assert result.exit_code == 0, result.output
    timeline = pd.read_csv(out / "timeline.csv", dtype=str)
    running = timeline[timeline["state"] == "open"].groupby("period")["site"].apply(sorted).to_dict()
    assert running == {"2025": ["A", "L0"], "2026": ["A@municipality", "L0"]}
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "Q,municipality,10,2",
            "site_operators.csv, row 2, column 'site': unknown site (not in sites.csv) (value: 'Q')",
        ),
        (
            "L0,municipality,10,2",
            "site_operators.csv, row 2, column 'site': an existing site is run by the operator of its contract; only a "
            "candidate site has variants (value: 'L0')",
        ),
        (
            "A,coa,10,2",
            "site_operators.csv, row 2, column 'operator': is the site's own operator, whose costs sites.csv gives "
            "(value: 'coa')",
        ),
        (
            "A,joint,10,2\nA,joint,20,2",
            "site_operators.csv, row 3, column 'operator': this site and operator appear twice (value: 'joint')",
        ),
        ("A,municipality,-1,2", "site_operators.csv, row 2, column 'fixed_cost': must be >= 0 (value: '-1')"),
    ],
)
def test_site_operators_errors(tmp_path, rows, message):
    folder = copy(tmp_path, site_operators=f"site,operator,fixed_cost,cost_per_place\n{rows}\n")
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert message in [str(p) for p in error.value.problems]


def test_a_variant_id_that_is_a_site(tmp_path):
    sites = (OPERATORS / "sites.csv").read_text() + "A@joint,Xham clash,X,P1,regular,candidate,0,10,1,1,52.0,5.0\n"
    folder = copy(tmp_path, sites=sites)
    (folder / "travel_times.csv").write_text((OPERATORS / "travel_times.csv").read_text() + "X,A@joint,0\n")
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert "site_operators.csv, row 3, column 'site': the variant's id A@joint is a site of sites.csv" in [
        str(p) for p in error.value.problems
    ]


def test_a_lead_time_needs_periods(tmp_path):
    folder = copy(tmp_path, site_operators="site,operator,fixed_cost,cost_per_place,earliest_open\nA,joint,1,1,2026\n")
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert [str(p) for p in error.value.problems] == [
        "site_operators.csv, row 2, column 'earliest_open': earliest_open needs periods (periods.csv) (value: '2026')"
    ]


def test_a_workbook_carries_the_operators(tmp_path):
    book = tmp_path / "operators.xlsx"
    assert CliRunner().invoke(cli, ["export-instance", str(OPERATORS), "--out", str(book)]).exit_code == 0
    outcome = run(load_instance(book))
    assert outcome.solution.summary["objective"] == pytest.approx(235)
    assert open_sites(outcome) == ["A@municipality", "L0"]


def test_the_report_counts_the_open_sites_of_each_operator(tmp_path):
    out, page = tmp_path / "plan", tmp_path / "report.html"
    assert (
        CliRunner().invoke(cli, ["solve", str(OPERATORS), *HAND_ARGS, "--no-explain", "--out", str(out)]).exit_code == 0
    )
    assert CliRunner().invoke(cli, ["report", str(out), "--out", str(page)]).exit_code == 0
    html = page.read_text()
    for operator, count in (("coa", 1), ("joint", 0), ("municipality", 1)):
        assert f'run by {operator}</td><td class="n">{count}</td>' in html
