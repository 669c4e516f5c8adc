"""The command line, driven through Click's CliRunner."""

import json

import pandas as pd
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES

from allocator.commands.main import cli

TWO = str(INSTANCES / "tiny-two-provinces")
HAND = HAND_ARGS


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_validate_ok():
    r = invoke("validate", TWO)
    assert r.exit_code == 0, r.output
    assert "tiny-two-provinces: valid" in r.output
    assert "2 provinces, 4 municipalities, total demand 500 places" in r.output
    assert "travel network: 3 links (3 road), connected" in r.output


def test_validate_bad_input_lists_every_problem_without_traceback(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(capacity=df["capacity"].where(df["site"] != "LB", "many")))
    edit("municipalities", lambda df: df.assign(population=df["population"].where(df["municipality"] != "D", "-3")))
    r = invoke("validate", folder)
    assert r.exit_code == 2
    assert "2 problems in the instance:" in r.output
    assert "sites.csv, row 3, column 'capacity': not a whole number (value: 'many')" in r.output
    assert "municipalities.csv, row 5, column 'population': must be >= 0 (value: '-3')" in r.output
    assert "Traceback" not in r.output


def test_debug_shows_the_traceback(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(capacity="many"))
    r = CliRunner().invoke(cli, ["--debug", "validate", str(folder)])
    assert r.exit_code == 2
    assert r.exc_info is not None


def test_solve_writes_a_checked_solution(tmp_path):
    out = tmp_path / "sol"
    r = invoke("solve", TWO, *HAND, "--out", out)
    assert r.exit_code == 0, r.output
    assert "Status     optimal" in r.output
    assert "Check      passed" in r.output
    assert "Total      500     500      0      100%" in r.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".allocator.json",
        "municipalities.csv",
        "placements.csv",
        "provinces.csv",
        "sites.csv",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == 8100 and summary["status"] == "optimal" and summary["check"]["passed"]
    assert summary["policy"]["travel_value"] == 1
    r = invoke("check", out, TWO)
    assert r.exit_code == 0 and "passed" in r.output


def test_check_finds_the_instance_from_the_summary(tmp_path):
    out = tmp_path / "sol"
    assert invoke("solve", TWO, *HAND, "--out", out).exit_code == 0
    assert invoke("check", out).exit_code == 0


def test_check_reports_violations(tmp_path):
    out = tmp_path / "sol"
    invoke("solve", TWO, *HAND, "--out", out)
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    sites.loc[sites["site"] == "LA", "capacity"] = 10  # the checker reads capacities from the instance, not from here
    sites.loc[sites["site"] == "LB", "open_site"] = 1
    sites.to_csv(out / "sites.csv", index=False)
    r = invoke("check", out, TWO)
    assert r.exit_code == 5
    assert "large_site_per_province[P1]: 2 large sites open" in r.output


def test_forced_and_forbidden_sites(tmp_path):
    r = invoke("solve", TWO, *HAND, "--forbid-site", "LA", "--out", tmp_path / "s")
    assert r.exit_code == 0 and "EUR 11,950" in r.output
    r = invoke("solve", TWO, *HAND, "--force-site", "LA", "--forbid-site", "LA")
    assert r.exit_code == 2 and "a site cannot be both forced and forbidden" in r.output


def test_unknown_site_id(tmp_path):
    r = invoke("solve", TWO, "--force-site", "NOPE", "--out", tmp_path / "s")
    assert r.exit_code == 2
    assert "--force-site: no site with this id or name; known: LA (Aburg large), LB (Beedorp large)" in r.output
    r = invoke("solve", TWO, "--set", "force_sites=NOPE", "--out", tmp_path / "s")  # policy keys take ids only
    assert r.exit_code == 2
    assert "column 'force_sites': unknown site id (value: 'NOPE')" in r.output


def test_sites_and_provinces_by_name(tmp_path):
    r = invoke("solve", TWO, *HAND, "--force-site", "bEEdorp regular", "--out", tmp_path / "s")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["policy"]["force_sites"] == ["RB"]
    r = invoke("solve", TWO, *HAND, "--force-site", "Aburg", "--out", tmp_path / "s")  # the only site named Aburg ...
    assert r.exit_code == 0 and json.loads((tmp_path / "s" / "summary.json").read_text())["policy"]["force_sites"] == [
        "LA"
    ]
    r = invoke("solve", TWO, "--force-site", "Beedorp", "--out", tmp_path / "s")  # ... but Beedorp has two
    assert r.exit_code == 2 and "names 2 sites (LB Beedorp large; RB Beedorp regular): give the id" in r.output
    r = invoke("solve", TWO, "--force-site", "Beedrop regular", "--out", tmp_path / "s")
    assert r.exit_code == 2 and "nearest: RB (Beedorp regular)" in r.output
    r = invoke("list", "sites", TWO, "--province", "north")
    assert (
        r.exit_code == 0
        and "RB    Beedorp regular" in r.output
        and "P2" not in r.output.split("Province")[1].split("\n", 2)[2]
    )


def test_infeasible_writes_nothing(tmp_path):
    out = tmp_path / "sol"
    r = invoke("solve", TWO, *HAND, "--forbid-site", "LC", "--out", out)
    assert r.exit_code == 1
    assert "tiny-two-provinces: infeasible" in r.output
    assert not out.exists()


def test_unmet_demand_exits_1(tmp_path):
    r = invoke("solve", str(INSTANCES / "tiny-budget"), *HAND, "--out", tmp_path / "s")
    assert r.exit_code == 1
    assert "unmet 50" in r.output


def test_unknown_policy_key():
    r = invoke("solve", TWO, "--set", "colour=red")
    assert r.exit_code == 2
    assert "--set, column 'colour': unknown policy key" in r.output


def test_bad_policy_value():
    r = invoke("solve", TWO, "--set", "large_site_rule=sometimes", "--set", "travel_value=cheap")
    assert r.exit_code == 2
    assert "2 problems in the policy" in r.output


def test_malformed_assignment():
    r = invoke("solve", TWO, "--set", "budget")
    assert r.exit_code == 2 and "expected key=value" in r.output


def test_unknown_preset():
    r = invoke("solve", TWO, "--policy", "nonsense")
    assert r.exit_code == 2 and "no such policy file or preset" in r.output


def test_policy_file_rejects_unknown_keys(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('large_site_rule = "off"\nbudgit = 5\n')
    r = invoke("solve", TWO, "--policy", path)
    assert r.exit_code == 2 and "column 'budgit': unknown policy key" in r.output


def test_same_inputs_same_tables(tmp_path):
    for name in ("a", "b"):
        assert invoke("solve", TWO, *HAND, "--out", tmp_path / name).exit_code == 0
    for table in ("sites", "placements", "municipalities", "provinces"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == (tmp_path / "b" / f"{table}.csv").read_bytes()
