"""Tiny instances whose optimum is worked out by hand in their README files."""

import pytest
from helpers import INSTANCES, open_sites, placed, run


def test_two_provinces_optimum():
    out = run(INSTANCES / "tiny-two-provinces")
    assert out.status.value == "optimal"
    assert out.solution.objective == pytest.approx(8100, abs=1e-6)
    assert placed(out) == {("A", "LA"): 200, ("B", "RB"): 100, ("C", "LC"): 150, ("D", "RD"): 50}
    assert open_sites(out) == {"LA", "RB", "LC", "RD"}
    assert out.check.passed


def test_two_provinces_cost_parts():
    k = run(INSTANCES / "tiny-two-provinces").solution.kpis
    assert (k["fixed_cost"], k["place_cost"], k["travel_value"], k["unmet"]) == (2400, 5700, 0, 0)


def test_budget_optimum_leaves_demand_unmet():
    out = run(INSTANCES / "tiny-budget")
    assert out.solution.objective == pytest.approx(55_000, abs=1e-6)
    assert placed(out) == {("X", "S1"): 100, ("Y", "S1"): 50}
    m = out.solution.municipalities.set_index("municipality")
    assert m.loc["Y", "unmet"] == 50 and m.loc["X", "unmet"] == 0
    assert out.solution.kpis["total_cost"] == pytest.approx(2500)  # the whole budget


def test_budget_instance_without_budget():
    out = run(INSTANCES / "tiny-budget", budget="none")
    assert out.solution.objective == pytest.approx(6500, abs=1e-6)
    assert placed(out) == {("X", "S1"): 100, ("Y", "S2"): 100}
