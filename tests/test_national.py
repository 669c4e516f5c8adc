"""Regression on the bundled national instance with the default policy (the cabinet plan)."""

import pytest
from click.testing import CliRunner
from helpers import INSTANCES

from allocator.analysis.pipeline import solve
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.solve.options import SolveOptions

# Optimal objective of nl-2024 under models/default.toml, proven with gap 0.
REFERENCE_OBJECTIVE = 5_738_851_211.60


@pytest.fixture(scope="module")
def national():
    inst = load_instance(INSTANCES / "nl-2024")
    return inst, solve(inst, load_policy("default"), SolveOptions(gap=1e-4, time_limit=600))


def test_instance_shape(national):
    inst, _ = national
    assert len(inst.provinces) == 12 and len(inst.municipalities) == 342
    assert inst.total_demand == 96_002
    assert inst.provinces["task"].sum() == 96_002
    assert inst.municipalities.groupby("province")["demand"].sum().to_dict() == inst.provinces["task"].to_dict()


def test_group_demand(national):
    inst, _ = national
    demand = inst.groups.demand
    assert demand.sum().to_dict() == {"asylum": 72_862, "amv": 8_140, "status_holders": 15_000, "ukraine": 97_000}
    assert inst.groups.province_groups == ["asylum", "amv", "status_holders"]
    gelderland = inst.municipalities["province"] == "PV25"
    assert demand.loc[gelderland, "amv"].sum() == 992  # as reported for Gelderland
    assert (demand[["asylum", "amv", "status_holders"]].sum(axis=1) == inst.municipalities["demand"]).all()


def test_solves_to_optimality_and_passes_the_check(national):
    _, out = national
    assert out.status.value == "optimal"
    assert out.result.gap <= 1e-4
    assert out.check.passed, out.check.violations
    # Any plan within the gap may be returned; its objective is within the gap of the reference.
    assert out.solution.objective == pytest.approx(REFERENCE_OBJECTIVE, rel=1e-4)
    assert out.result.bound <= REFERENCE_OBJECTIVE * (1 + 1e-9)


def test_one_large_site_per_province_and_all_tasks_placed(national):
    _, out = national
    provinces = out.solution.provinces
    assert provinces["demand"].sum() == 96_002 + 97_000  # the task and Ukraine's national target
    groups = out.solution.groups
    assert groups.loc[groups["target"] == "province", "demand"].sum() == 96_002
    assert (provinces["large_sites"].str.split(";").map(len) == 1).all()
    assert out.solution.kpis["open_large_sites"] == 12
    assert out.solution.kpis["unmet"] == 0
    sites = out.solution.sites.set_index("site")
    assert sites.loc["L-TERAPEL", "open_site"] == 1 and sites.loc["L-BUDEL", "open_site"] == 1


def test_cli_default_instance(tmp_path):
    r = CliRunner().invoke(cli, ["solve", "--out", str(tmp_path / "nl")])
    assert r.exit_code == 0, r.output
    assert "Status     optimal" in r.output
    # The task, the national groups and both, apart (README, "Solve the national plan").
    assert "Total          96,002    97,000  193,002  193,002      0      100%" in r.output
    assert "Total          unaccompanied minors                              8,140   8,140      0      100%" in r.output
    assert CliRunner().invoke(cli, ["check", str(tmp_path / "nl")]).exit_code == 0


def test_time_limit_is_reported_as_such(national):
    inst, _ = national
    out = solve(inst, load_policy("default"), SolveOptions(time_limit=2, decompose=False, workers=1))
    assert out.status.value in ("time_limit", "time_limit_no_plan")
    if out.solution is not None:
        assert out.result.gap > 1e-4 and out.check.passed
        assert out.solution.summary["status"] == "time_limit"
