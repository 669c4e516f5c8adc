"""Transit sites (instances/tiny-horizon-transit/README.md): a site that takes only the status holders of the
housing task, from near their home municipality; optima by hand with and without the backlog, the travel limit
binding, one period as a snapshot, and one test per validation message."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES

from allocator.commands.main import cli
from allocator.core.errors import InstanceError
from allocator.data.load import load_instance

TRANSIT = INSTANCES / "tiny-horizon-transit"


def solve(*args, out):
    result = CliRunner().invoke(cli, ["solve", str(TRANSIT), *HAND_ARGS, "--no-baseline", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    return result


def summary_objective(folder) -> float:
    return json.loads((folder / "summary.json").read_text())["objective"]


def test_a_transit_site_takes_the_status_holders_only():
    eligible = load_instance(TRANSIT).groups.eligible
    assert eligible.loc[eligible["site"] == "T1", "group"].tolist() == ["status"]


@pytest.mark.parametrize(("rate", "objective", "transit"), [("1", 680, [11, 9, 10]), ("0.5", 832, [11, 14, 15])])
def test_the_transit_site_frees_places_in_reception(tmp_path, rate, objective, transit):
    out = tmp_path / "plan"
    result = solve("--set", f"housing_rate={rate}", out=out)
    assert summary_objective(out) == pytest.approx(objective)
    timeline = pd.read_csv(out / "timeline.csv", dtype={"period": str})
    at_transit = timeline[timeline["site"] == "T1"]
    assert at_transit["placed"].tolist() == transit
    placed = pd.read_csv(out / "placements.csv", dtype={"period": str})
    assert set(placed.loc[placed["site"] == "T1", "municipality"]) == {"Y"}  # Xham is 40 minutes away
    assert "Transit    status holders at transit sites (mid): 2025 11 (1 open)" in result.output
    # S1 is not needed at r = 0.5 with the transit site (tiny-horizon-housing opens it).
    assert (timeline.loc[timeline["site"] == "S1", "state"] == "closed").all()


def test_the_transit_travel_limit_binds(tmp_path):
    """Below Yford's 1 minute to T1 no one may wait there, and the plan is tiny-horizon-housing's 736."""
    out = tmp_path / "none"
    solve("--set", "max_travel_minutes_transit=0.5", out=out)
    assert summary_objective(out) == pytest.approx(736)
    timeline = pd.read_csv(out / "timeline.csv")
    assert timeline.loc[timeline["site"] == "T1", "placed"].sum() == 0


def test_one_period_with_the_backlog(tmp_path):
    out = tmp_path / "period"
    result = solve("--period", "2027", "--set", "housing_rate=0.5", out=out)
    assert summary_objective(out) == pytest.approx(292)
    assert "open sites 2 (1 large, 0 regular, 1 transit)" in result.output


def copy(tmp_path, **tables):
    folder = tmp_path / "tiny-horizon-transit"
    shutil.copytree(TRANSIT, folder)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_a_transit_site_needs_the_housing_group(tmp_path):
    folder = copy(
        tmp_path,
        groups="group,name,target,sites\nasylum,asylum seekers,province,all\nstatus,status holders,province,all\n",
    )
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert (
        "sites.csv, column 'kind': site T1 is a transit site, which takes the status holders of the housing task, "
        "and groups.csv marks no group with housing = task (value: 'transit')"
    ) in [str(p) for p in error.value.problems]


def test_a_transit_site_takes_no_other_group(tmp_path):
    folder = copy(tmp_path, site_groups="site,group\nT1,asylum\n")
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert (
        "site_groups.csv, column 'group': site T1 is a transit site and takes only the group of the housing task "
        "(status), not asylum (value: 'asylum')"
    ) in [str(p) for p in error.value.problems]


def test_a_transit_site_needs_groups(tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(INSTANCES / "tiny-two-provinces", folder)
    sites = (folder / "sites.csv").read_text().splitlines()
    header, first = sites[0].split(","), sites[1].split(",")
    first[header.index("kind")] = "transit"
    (folder / "sites.csv").write_text("\n".join([sites[0], ",".join(first), *sites[2:]]) + "\n")
    with pytest.raises(InstanceError) as error:
        load_instance(folder)
    assert any(
        "is a transit site, which takes the status holders of the housing task: the instance needs demand "
        "groups (groups.csv) with a group housing = task" in str(p)
        for p in error.value.problems
    )


def test_the_report_shows_the_transit_sites_per_period(tmp_path):
    out, page = tmp_path / "plan", tmp_path / "report.html"
    solve("--set", "housing_rate=0.5", out=out)
    assert CliRunner().invoke(cli, ["report", str(out), "--out", str(page)]).exit_code == 0
    html = page.read_text()
    assert "<h2>Transit sites</h2>" in html
    assert "<td>Status holders there</td><td class=n>11</td><td class=n>14</td><td class=n>15</td>" in html


def test_a_transit_site_that_does_not_pay(tmp_path):
    """At a fixed cost of 100 a year T1 does not pay at r = 1 (2025: 357 with it against 304 without): the plan is
    tiny-horizon-housing's 736 and T1 stays closed."""
    sites = (
        (TRANSIT / "sites.csv")
        .read_text()
        .replace(
            "T1,Yford transit,Y,P1,transit,candidate,0,15,5,1,", "T1,Yford transit,Y,P1,transit,candidate,0,15,100,1,"
        )
    )
    folder = copy(tmp_path, sites=sites)
    out = tmp_path / "dear"
    result = CliRunner().invoke(cli, ["solve", str(folder), *HAND_ARGS, "--no-baseline", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert summary_objective(out) == pytest.approx(736)
    timeline = pd.read_csv(out / "timeline.csv")
    assert (timeline.loc[timeline["site"] == "T1", "state"] == "closed").all()
