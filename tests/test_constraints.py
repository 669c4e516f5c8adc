"""Each constraint family binds when it should (optimal values worked out by hand)."""

import pytest
from helpers import INSTANCES, open_sites, placed, run, two_large_instance

from allocator.data.load import load_instance

TWO = INSTANCES / "tiny-two-provinces"


def test_forbidden_site_is_never_used():
    # Without LA, province P1 must use LB (capacity 250, binding) and RB: 8650 + 3300.
    out = run(TWO, forbid_sites="LA")
    assert out.solution.objective == pytest.approx(11_950)
    assert "LA" not in open_sites(out)
    assert not any(site == "LA" for _, site in placed(out))
    sites = out.solution.sites.set_index("site")
    assert sites.loc["LB", "placed"] == sites.loc["LB", "capacity"] == 250  # site_capacity binds


def test_forced_large_site_excludes_the_other():
    out = run(TWO, force_sites="LB")
    assert out.solution.objective == pytest.approx(11_950)
    assert {"LB", "LC"} <= open_sites(out) and "LA" not in open_sites(out)


def test_travel_limit_arc_never_used():
    # RB closed and arcs over 15 minutes not created: B (20 min from LA) cannot be served.
    out = run(TWO, forbid_sites="RB", max_travel_minutes=15)
    assert out.solution.objective == pytest.approx(106_300)
    assert out.solution.placements["travel_minutes"].max() <= 15
    m = out.solution.municipalities.set_index("municipality")
    assert m.loc["B", "unmet"] == 100
    # The same without the limit: LA serves B at 20 minutes.
    free = run(TWO, forbid_sites="RB")
    assert free.solution.objective == pytest.approx(9_300)
    assert placed(free)[("B", "LA")] == 100


def test_regular_travel_limit_only_applies_to_regular_sites():
    out = run(TWO, forbid_sites="RB", max_travel_minutes_regular=5)
    assert out.solution.objective == pytest.approx(9_300)  # LA is large: B still reaches it


def test_mean_travel_limit_whole_places():
    # Mean travel <= 2 min: 56 of B's places stay unmet (18 u >= 1000 with u whole).
    out = run(TWO, forbid_sites="RB", mean_travel_limit_minutes=2)
    assert out.status.value == "optimal"
    assert out.solution.objective == pytest.approx(63_620)
    assert out.solution.municipalities.set_index("municipality").loc["B", "unmet"] == 56
    assert out.check.passed


def test_mean_travel_limit_fractional_places():
    out = run(TWO, forbid_sites="RB", mean_travel_limit_minutes=2, whole_places=False)
    assert out.solution.objective == pytest.approx(9_300 + 970 * 1000 / 18)


def test_existing_site_is_kept_open(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(status=df["site"].map(lambda s: "existing" if s == "LB" else "candidate")))
    assert run(folder).solution.objective == pytest.approx(11_950)
    assert run(folder, keep_existing_open=False).solution.objective == pytest.approx(8_100)


def one_province_two_large(tmp_path, min_size=0):
    return two_large_instance(tmp_path / "two-large", min_size)


@pytest.mark.parametrize(
    "rule, objective, n_large", [("off", 400, 2), ("at_least", 400, 2), ("exactly", 5_300, 1), ("at_most", 5_300, 1)]
)
def test_large_site_rule(tmp_path, rule, objective, n_large):
    out = run(one_province_two_large(tmp_path), large_site_rule=rule)
    assert out.solution.objective == pytest.approx(objective)
    assert out.solution.kpis["open_large_sites"] == n_large


def test_min_size_makes_the_large_site_rule_infeasible(tmp_path):
    out = run(one_province_two_large(tmp_path, min_size=250))
    assert out.status.value == "infeasible"
    assert out.solution is None and out.result.values is None


def test_min_size_binds_when_the_site_is_optional(tmp_path):
    # Opening LX needs 250 places but only 200 exist in all: with the rule off nothing opens.
    out = run(one_province_two_large(tmp_path, min_size=250), large_site_rule="off")
    assert out.solution.kpis["unmet"] == 200 and out.solution.kpis["open_sites"] == 0


def test_province_without_large_candidate_is_infeasible(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df[df["site"] != "LC"])
    out = run(folder)
    assert out.status.value == "infeasible"
    assert "large_site_per_province[P2]" in out.result.message


def test_cross_province_arcs_only_when_allowed():
    inst = load_instance(TWO)
    own = run(inst)
    assert all(
        r.municipality in "AB" and r.site in ("LA", "LB", "RB") or r.municipality in "CD"
        for r in own.solution.placements.itertuples()
    )
    assert ("B", "LC") not in own.model.ARCS
    crossing = run(inst, allow_cross_province=True)
    assert ("B", "LC") in crossing.model.ARCS
    assert crossing.solution.objective <= own.solution.objective


def test_demand_scale():
    # Half the demand: C needs 75, below LC's minimum size 150, so P2 cannot keep its large site.
    assert run(TWO, demand_scale=0.5).status.value == "infeasible"
    out = run(TWO, demand_scale=0.5, large_site_rule="off")
    assert out.solution.kpis["demand"] == 250
    assert out.solution.municipalities.set_index("municipality")["demand"].to_dict() == {
        "A": 100,
        "B": 50,
        "C": 75,
        "D": 25,
    }
