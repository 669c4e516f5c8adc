"""Explanations of infeasibility and unmet demand: one planted cause per rule, each named."""

import dataclasses

import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, hand_policy, run, write_matrix_instance

from allocator.analysis.explain import explain
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.solve.options import SolveOptions

TWO = INSTANCES / "tiny-two-provinces"
OPTIONS = SolveOptions(workers=1, time_limit=60)
HAND = HAND_ARGS


def why(instance, **policy):
    inst = instance if not isinstance(instance, (str, type(TWO))) else load_instance(instance)
    return explain(inst, hand_policy(**policy), OPTIONS)


def sentences(explanation, source=None) -> list[str]:
    return [f.sentence for f in explanation.findings if source is None or f.source == source]


def one_province(tmp_path, min_size=150, minutes=(10, 30)):
    """Province P: X and Y (100 places each); one large site L in X (capacity 300)."""
    return write_matrix_instance(
        tmp_path / "one-province",
        {"province": ["P"], "name": ["Pland"]},
        {
            "municipality": ["X", "Y"],
            "name": ["Xham", "Yford"],
            "province": "P",
            "population": 1,
            "lat": 52,
            "lon": 5,
            "demand": 100,
        },
        {
            "site": ["L"],
            "name": ["Xham large"],
            "municipality": ["X"],
            "province": "P",
            "kind": "large",
            "status": "candidate",
            "min_size": min_size,
            "capacity": 300,
            "fixed_cost": 100,
            "cost_per_place": 1,
            "lat": 52,
            "lon": 5,
        },
        {"municipality": ["X", "Y"], "site": ["L", "L"], "minutes": list(minutes)},
    )


def test_feasible_instance_has_nothing_to_explain():
    e = why(TWO)
    assert e.verdict == "feasible" and e.findings == ()
    assert "every hard rule can be met and all demand placed" in e.render()


def test_province_without_large_candidate(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df[df["site"] != "LC"])
    e = why(folder)
    assert e.verdict == "infeasible"
    (check,) = [f for f in e.about("large_site_per_province") if f.source == "check"]
    assert check.constraint == "large_site_per_province[P2]" and check.objects == ("P2",)
    assert (
        check.sentence
        == "South: the rule requires exactly one large site, but the province has no large site in sites.csv"
    )
    (relaxed,) = sentences(e, "elastic")
    assert (
        relaxed
        == "relax large_site_per_province[P2]: South gets no large site although the rule (exactly) requires exactly one"
    )
    assert "no IIS needed" in e.notes[0] and "large_site_per_province[P2]" in e.notes[0]


def test_min_size_above_reachable_demand():
    # Half the demand: C and D need 75 + 25 places, below LC's minimum size of 150.
    e = why(TWO, demand_scale=0.5)
    assert e.verdict == "infeasible"
    (check,) = e.about("large_site_per_province")[:1]
    assert check.objects == ("P2", "LC")
    assert check.sentence == (
        "South: no candidate large site can open: the only candidate, Ceestad large (LC), has a minimum size (150) "
        "that exceeds the demand in the province (100), and the rule requires exactly one large site"
    )
    relaxed = [f for f in e.findings if f.source == "elastic"]
    assert [(f.constraint, f.amount) for f in relaxed] == [("site_min_size[LC]", 50)]
    assert (
        relaxed[0].sentence
        == "relax site_min_size[LC]: Ceestad large (LC) in South must accept 100 places instead of its minimum size 150 (by 50)"
    )


def test_min_size_above_demand_within_the_travel_limit():
    # Under the default limits (large sites within 120 min) the phrase names the limit.
    inst = load_instance(TWO)
    from allocator.data.policy import load_policy

    e = explain(inst, load_policy("default", {"demand_scale": 0.5}), OPTIONS)
    assert (
        "exceeds the demand within 120 minutes in the province (100)" in e.about("large_site_per_province")[0].sentence
    )


def test_existing_site_that_cannot_fill_its_minimum(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(status=df["site"].map(lambda s: "existing" if s == "LC" else "candidate")))
    e = why(folder, demand_scale=0.5)
    (check,) = e.about("site_min_size")[:1]
    assert check.constraint == "site_min_size[LC]" and check.amount == 50
    assert (
        check.sentence
        == "Ceestad large (LC) must open (existing, kept open), but its minimum size (150) exceeds the demand in the province (100)"
    )


def test_budget_below_the_cheapest_plan():
    # The rule requires S1 open (fixed cost 1,000, minimum size 0): a budget of 400 cannot pay it.
    e = why(INSTANCES / "tiny-budget", budget=400)
    assert e.verdict == "infeasible"
    (check,) = [f for f in e.about("budget_limit") if f.source == "check"]
    assert check.objects == ("S1",) and check.amount == 600
    assert check.sentence == (
        "budget EUR 400 is below the cheapest plan that meets the one-large-site rule (exactly): at least EUR 1,000 "
        "(each of its 1 required sites open at its minimum size)"
    )
    (relaxed,) = [f for f in e.findings if f.source == "elastic"]
    assert relaxed.constraint == "budget_limit" and relaxed.amount == pytest.approx(600)
    assert relaxed.sentence == (
        "relax budget_limit: budget EUR 400 is below the least spend of a plan that meets the other hard rules: "
        "EUR 1,000 (proven optimal within a gap of 1e-06), EUR 600 more"
    )
    (iis,) = [f for f in e.findings if f.source == "iis"]
    assert "budget_limit" in iis.objects and "large_site_per_province[P1]" in iis.objects


def test_budget_that_leaves_demand_unmet():
    # Budget 2,500 places 150 of 200; placing all costs 1,000 + 200 x 10 at S1.
    e = why(INSTANCES / "tiny-budget")
    assert e.verdict == "unmet"
    relaxed = [f for f in e.findings if f.source == "elastic" and f.effect == "unmet"]
    assert [(f.constraint, f.amount) for f in relaxed] == [("budget_limit", pytest.approx(500))]
    assert (
        "budget EUR 2,500 is below the least spend of a plan that places all demand that can be placed: EUR 3,000 (proven optimal"
        in relaxed[0].sentence
    )


def test_two_forced_large_sites_in_one_province():
    e = why(TWO, force_sites="LA,LB")
    assert e.verdict == "infeasible"
    (check,) = e.about("large_site_per_province")[:1]
    assert check.objects == ("P1", "LA", "LB")
    assert (
        check.sentence
        == "North: 2 large sites must open (Aburg large (LA) (forced); Beedorp large (LB) (forced)), but the rule allows exactly one large site per province"
    )
    (relaxed,) = [f for f in e.findings if f.source == "elastic"]
    assert relaxed.rule in ("force_sites", "large_site_per_province")
    assert set(relaxed.objects) & {"LA", "LB"}


def test_forced_site_beside_an_existing_one(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df.assign(status=df["site"].map(lambda s: "existing" if s == "LA" else "candidate")))
    e = why(folder, force_sites="LB")
    assert (
        "North: 2 large sites must open (Aburg large (LA) (existing, kept open); Beedorp large (LB) (forced))"
        in e.about("large_site_per_province")[0].sentence
    )


def test_all_large_candidates_forbidden():
    e = why(TWO, forbid_sites="LA,LB")
    assert e.verdict == "infeasible"
    (check,) = e.about("large_site_per_province")[:1]
    assert check.objects == ("P1", "LA", "LB")
    assert (
        check.sentence
        == "North: every large site is forbidden (Aburg large (LA), Beedorp large (LB)), but the rule requires exactly one large site"
    )
    (relaxed,) = [f for f in e.findings if f.source == "elastic"]
    assert relaxed.constraint in ("large_site_per_province[P1]", "open_site[LA]", "open_site[LB]")
    (iis,) = [f for f in e.findings if f.source == "iis"]
    assert iis.objects == ("large_site_per_province[P1]", "open_site[LA]", "open_site[LB]")
    assert iis.sentence.startswith(
        "an irreducible infeasible subset: 1 constraint (large_site_per_province[P1]) with the bounds of open_site[LA], open_site[LB]"
    )


def test_mean_travel_limit_impossible(tmp_path):
    # L must hold 150 places: at best X's 100 at 10 min and 50 of Y's at 30 min, a mean of 16.7 min.
    e = why(one_province(tmp_path), mean_travel_limit_minutes=5)
    assert e.verdict == "infeasible"
    (relaxed,) = [f for f in e.findings if f.source == "elastic"]
    assert relaxed.constraint == "mean_travel_limit" and relaxed.objects == ("L",)
    assert relaxed.amount == pytest.approx(100 * 5 + 50 * 25)
    assert relaxed.sentence.startswith(
        "relax mean_travel_limit: the plan needs a mean travel of 16.7 min per placed person, above the limit of 5 min (1,750 place-minutes over it"
    )
    (iis,) = [f for f in e.findings if f.source == "iis"]
    assert {"large_site_per_province[P]", "site_min_size[L]", "mean_travel_limit"} <= set(iis.objects)


def test_municipality_cut_off_by_a_travel_limit(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df[df["site"] != "RD"])  # D's nearest site is now LC, 15 minutes away
    e = why(folder, max_travel_minutes=10)
    assert e.verdict == "unmet"
    (check,) = e.about("max_travel_minutes")
    assert check.constraint == "demand_balance[D]" and check.objects == ("D", "P2", "LC") and check.amount == 50
    assert (
        check.sentence
        == "Deeveen (D) (South): no site may take its 50 places: the nearest large site, Ceestad large (LC), is 15.0 min away, beyond max_travel_minutes = 10; they stay unmet"
    )
    assert "even with every rule relaxed, 50 places stay unmet" in sentences(e, "elastic")[0]


def test_municipality_cut_off_by_the_regular_limit(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df[df["site"] != "LC"])  # D keeps only RD; C reaches RD in 15 minutes
    e = why(folder, max_travel_minutes_regular=10, large_site_rule="off")
    (check,) = e.about("max_travel_minutes_regular")
    assert check.objects == ("C", "P2", "RD")
    assert check.sentence.startswith(
        "Ceestad (C) (South): no site may take its 150 places: the nearest regular site, Deeveen regular (RD), is 15.0 min away, beyond max_travel_minutes_regular = 10"
    )


def test_municipality_whose_province_has_no_site(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    edit("sites", lambda df: df[~df["site"].isin(["LC", "RD"])])
    e = why(folder, large_site_rule="off")
    (c, d) = e.about("allow_cross_province")
    assert c.sentence == (
        "Ceestad (C) (South): no site may take its 150 places: its province has no site and allow_cross_province = false "
        "(the nearest site, Beedorp large (LB) in North, is 30.0 min away); they stay unmet"
    )
    assert d.objects == ("D", "P2", "LB")


def test_forbidden_site_leaves_demand_unmet():
    e = why(TWO, forbid_sites="LC", large_site_rule="off", max_travel_minutes_regular=10)
    (c,) = [f for f in e.about("forbid_sites") if f.source == "check"]
    assert (
        c.sentence
        == "Ceestad (C) (South): every site within reach is forbidden (Ceestad large (LC)); its 150 places stay unmet"
    )
    relaxed = [f for f in e.findings if f.source == "elastic" and f.effect == "unmet"]
    assert [f.constraint for f in relaxed] == ["open_site[LC]"]
    assert (
        relaxed[0].sentence == "relax open_site[LC] (forbid_sites): open the forbidden site Ceestad large (LC) in South"
    )


def test_capacity_within_reach():
    e = why(TWO, forbid_sites="LA,RB", large_site_rule="off")
    (cap,) = e.about("site_capacity")
    assert cap.objects == ("P1", "LB") and cap.amount == 50
    assert (
        cap.sentence
        == "North: the sites that may open within reach hold at most 250 places, below the demand they could serve (300); at least 50 places stay unmet"
    )


def test_penalty_below_the_cheapest_place():
    e = why(TWO, unmet_penalty=5)
    (f,) = e.about("unmet_penalty")
    assert (
        f.sentence
        == "unmet_penalty (EUR 5 per place) is below the cheapest place (EUR 10 with its travel value): leaving demand unmet costs less than placing it"
    )


def test_cli_explain_exit_codes():
    r = CliRunner().invoke(cli, ["explain", str(TWO), *HAND, "--forbid-site", "LA", "--forbid-site", "LB"])
    assert r.exit_code == 1, r.output
    assert "North: every large site is forbidden" in r.output and "Traceback" not in r.output
    assert CliRunner().invoke(cli, ["explain", str(TWO), *HAND]).exit_code == 0
    r = CliRunner().invoke(cli, ["explain", str(TWO), "--forbid-site", "NOPE"])
    assert r.exit_code == 2 and "no site with this id or name" in r.output


def test_cli_solve_explains_infeasibility_and_unmet_demand(tmp_path):
    r = CliRunner().invoke(cli, ["solve", str(TWO), *HAND, "--forbid-site", "LC", "--out", str(tmp_path / "a")])
    assert r.exit_code == 1
    assert "tiny-two-provinces: infeasible" in r.output
    assert "South: every large site is forbidden (Ceestad large (LC))" in r.output
    r = CliRunner().invoke(cli, ["solve", str(INSTANCES / "tiny-budget"), *HAND, "--out", str(tmp_path / "b")])
    assert r.exit_code == 1 and "unmet 50" in r.output
    assert r.output.index("Solution written to") < r.output.index("relax budget_limit: budget EUR 2,500")
    r = CliRunner().invoke(
        cli, ["solve", str(INSTANCES / "tiny-budget"), *HAND, "--no-explain", "--out", str(tmp_path / "c")]
    )
    assert r.exit_code == 1 and "Why:" not in r.output


def test_national_instance_with_every_large_candidate_of_zeeland_forbidden():
    inst = load_instance(INSTANCES / "nl-2024")
    zeeland = list(inst.sites.index[(inst.sites["province"] == "PV29") & (inst.sites["kind"] == "large")])
    from allocator.data.policy import load_policy

    e = explain(inst, load_policy("default", {"forbid_sites": ",".join(zeeland)}), SolveOptions(time_limit=120))
    assert e.verdict == "infeasible"
    (check,) = [f for f in e.findings if f.source == "check"]
    assert check.objects == ("PV29", *zeeland) and check.sentence.startswith(
        "Zeeland: every large site is forbidden (Middelburg (Z.) (large candidate) (L-GM0687)"
    )
    (relaxed,) = [f for f in e.findings if f.source == "elastic"]
    assert relaxed.constraint in ["large_site_per_province[PV29]"] + [f"open_site[{s}]" for s in zeeland]
    (iis,) = [f for f in e.findings if f.source == "iis"]
    assert iis.objects[0] == "large_site_per_province[PV29]"


FAR = {("A", "RA"): "50", ("B", "RA"): "50", ("A", "AU"): "50", ("B", "AU"): "50"}


@pytest.mark.parametrize(
    ("forbid", "far", "takers", "expected"),
    [
        (
            "AU,RA",
            (),
            None,
            "every site that takes the group is forbidden (Bury minors unit (AU), Aby regular (RA))",
        ),
        (
            "AU",
            (("A", "RA"), ("B", "RA")),
            None,
            "the sites that take the group are forbidden (Bury minors unit (AU)) or beyond the travel limits or outside the province of its municipalities",
        ),
        (
            "",
            tuple(FAR),
            None,
            "the 2 sites that take the group are all beyond the travel limits or outside the province of its municipalities",
        ),
        ("", (), [], "no site takes the group (site_groups.csv, and the group's sites rule)"),
    ],
)
def test_a_demand_group_that_no_site_takes_is_named(copy_instance, forbid, far, takers, expected):
    folder, edit = copy_instance("tiny-groups")
    edit(
        "travel_times",
        lambda df: df.assign(
            minutes=[FAR[(i, s)] if (i, s) in far else m for i, s, m in zip(df.municipality, df.site, df.minutes)]
        ),
    )
    if takers is not None:
        edit("site_groups", lambda df: df[df.group != "amv"])
    fixings = {"forbid_sites": forbid} if forbid else {}
    e = why(load_instance(folder), max_travel_minutes_regular=30, **fixings)
    (finding,) = [f for f in e.findings if f.source == "check"]
    assert e.verdict == "unmet" and finding.effect == "unmet" and finding.amount == 20
    assert finding.sentence == f"unaccompanied minors (amv): no site takes its 20 places: {expected}; they stay unmet"


# ------------------------------------------------------------------ unmet places under a budget


def test_solve_says_how_many_unmet_places_the_budget_forces_proven(tmp_path):
    # tiny-budget (README): S1 must open (fixed 1,000), so the budget of 2,500 pays 150 places at 10; no plan
    # within it places more (the LP relaxation shows as much), and the optimal plan leaves exactly 50.
    r = CliRunner().invoke(cli, ["solve", str(INSTANCES / "tiny-budget"), *HAND, "--out", str(tmp_path / "s")])
    assert r.exit_code == 1, r.output
    assert (
        "  - 50 places unmet, proven: no plan within the budget places more than 150 of 200 (proven by the LP "
        "relaxation of the fewest unmet places under every rule and the budget), and this plan leaves that many\n"
        "  - unmet in this plan by province: Only 50 of 200 (25.00%)\n"
    ) in r.output
    assert r.output.index("Under the budget") < r.output.index("Elastic model")


def test_a_plan_that_leaves_more_than_the_budget_forces(tmp_path):
    # With a penalty of 15 a place, below the cheapest place (10 + 10 minutes of travel at S1), the optimal plan
    # leaves all 200 unmet; the budget forces only 50, and branch and bound finds a plan within it leaving 50.
    args = [*HAND, "--set", "unmet_penalty=15", "--out", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, ["solve", str(INSTANCES / "tiny-budget"), *args])
    assert r.exit_code == 1, r.output
    assert (
        "  - 50 places unmet, proven: no plan within the budget places more than 150 of 200 (proven by the LP "
        "relaxation of the fewest unmet places under every rule and the budget), and a plan within the budget that "
        "leaves that many exists; this plan leaves 200, 150 more: the plan is proven optimal, so placing them within "
        "the budget would cost more than their unmet penalty\n"
    ) in r.output


def test_at_least_and_at_most_when_the_plan_is_not_proven():
    # The same plan of 200 unmet, as if a time limit had stopped its solve; no time left for branch and bound.
    inst = load_instance(INSTANCES / "tiny-budget")
    policy = hand_policy(unmet_penalty=15)
    plan = run(INSTANCES / "tiny-budget", unmet_penalty=15).solution
    plan = dataclasses.replace(plan, summary={**plan.summary, "status": "time_limit"})
    e = explain(inst, policy, SolveOptions(workers=1, time_limit=5), feasible=True, plan=plan)
    (head, province) = [f.sentence for f in e.findings if f.source == "budget"]
    assert head == (
        "at least 50 and at most 200 places unmet: no plan within the budget places more than 150 of 200 (proven by "
        "the LP relaxation of the fewest unmet places under every rule and the budget; the time left was too short "
        "for branch and bound); this plan leaves 200, up to 150 of them may be the plan's, not the budget's: the plan "
        "is not proven optimal"
    )
    assert province == "unmet in this plan by province: Only 200 of 200 (100%)"


def test_the_groups_a_budget_cuts_with_their_rates(tmp_path):
    # tiny-groups (README): placing everyone costs at least 320 (L with all 100 asylum seekers 200, the 20 minors
    # at AU 100, Ukraine at U 20). A budget of 300 saves 20 most cheaply by leaving 5 minors unmet at AU (4 a
    # place); the LP relaxation allows fewer, branch and bound proves 5.
    args = [*HAND, "--set", "budget=300", "--out", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, ["solve", str(INSTANCES / "tiny-groups"), *args])
    assert r.exit_code == 1, r.output
    assert (
        "  - 5 places unmet, proven: no plan within the budget places more than 135 of 140 (proven by branch and "
        "bound of the fewest unmet places under every rule and the budget), and this plan leaves that many\n"
        "  - unmet in this plan by group: unaccompanied minors 5 of 20 (25.00%); asylum seekers 0 of 100 (0.00%); "
        "displaced from Ukraine (national target) 0 of 20 (0.00%)\n"
        "  - by province: Pland 5 of 140 (3.57%)\n"
    ) in r.output
    assert "EUR 320 (proven optimal within a gap of 1e-06), EUR 20 more" in r.output


def test_explain_without_a_plan_states_the_bound(tmp_path):
    r = CliRunner().invoke(cli, ["explain", str(INSTANCES / "tiny-budget"), *HAND])
    assert r.exit_code == 1, r.output
    assert "  - 50 places unmet, proven: no plan within the budget places more than 150 of 200" in r.output
    assert "a plan within the budget that leaves that many exists" in r.output


def test_the_time_limit_covers_the_explanation(monkeypatch, tmp_path):
    # Every solve of the explanation gets what is left of --time-limit, counted from the start of the command
    # (SolveSession.solve is shared by the solve and the explanation).
    from allocator.analysis import explain as module

    seen = []
    real = module.SolveSession.solve

    def record(session, options=None, *args, **kwargs):
        seen.append((options or session.options).time_limit)
        return real(session, options, *args, **kwargs)

    monkeypatch.setattr(module.SolveSession, "solve", record)
    args = [*HAND, "--time-limit", "40", "--out", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, ["solve", str(INSTANCES / "tiny-budget"), *args])
    assert r.exit_code == 1, r.output
    # The solve has two thirds (a budget is to be explained), each solve of the explanation the time left.
    solve, *explaining = seen
    assert solve == pytest.approx(80 / 3) and explaining and all(0 <= t <= 40 for t in explaining)
    assert explaining == sorted(explaining, reverse=True)  # the time left only shrinks
