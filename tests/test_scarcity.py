"""Scarcity rules (models/README.md, "Who stays unplaced"): a penalty per demand group and the fair-share band,
on tiny instances with hand-derived optima.

**Priority per group: instances/tiny-groups with a budget of 250** (hand prices: travel 1 a place-minute,
unmet penalty 1,000 a place). The large site L must open (fixed 100, at least 50 places, 1 a place) and
takes asylum seekers only; Ukraine's 20 cost 1 a place at U (no fixed cost); minors cost 4 a place at AU
(fixed 20) or 3 at RA (fixed 40, at most 10). Placing everyone costs at least 100 + 100 + 20 + (20 + 80) = 320.

- One penalty for all: every place is worth 1,000, so the plan makes as many places as 250 buys. 100 + 120
  places at 1 leave 30: AU opens for 2 minors (20 + 8 = 28); a minor costs 4 places of others, so no trade
  helps. B's 40 asylum seekers go to L (10 minutes) as RB's fixed 30 would cost places. 18 minors unmet:
  18,000 + fixed 120 + places 128 + travel 400 = **18,648**. Minors: 90% unmet; the others 0%.
- ``unmet_penalty_by_group = {amv = 10000}`` (above 4 x 1,000: a minor's place is worth more than the four
  places its money buys): all 20 minors at AU, the cheaper unit (20 + 80 = 100; RA and AU would cost 130),
  A's 10 with 10 minutes each. L's fixed cost and minimum take 150: 50 asylum seekers from A (0 minutes), and
  nothing is left for the other 50 or for Ukraine's 20. 70 unmet x 1,000 + fixed 120 + places 130 + travel
  100 = **70,350**. Minors: 0% unmet; asylum seekers 50%, Ukraine 100%.

**Fair share: instances/tiny-two-provinces with a budget of 5,900** (its README: P1 North, task 300 = A 200 +
B 100; P2 South, task 200 = C 150 + D 50). Each province opens its large site (LA 1,000, LC 900, 10 a place);
the cheapest place is 10 at a large site, so 5,900 buys 1,900 + 400 places: 100 of the 500 stay unmet.

- No band: the 100 left out are those with the longest trips, B's (20 minutes to LA): P1 places 200 (66.7%),
  P2 200 (100%), D's 50 at LC (15 minutes). 100,000 + 1,900 + 4,000 + 750 = **106,650**.
- ``fair_share_band = 0.1``: P1 must place at least 0.9 x 300/500 x 400 = 216 and P2 0.9 x 200/500 x 400 = 144
  of the 400. The fewest minutes: P1 exactly 216 (A 200 + B 16, 320 minutes), P2 184 (C 150 + D 34, 510).
  100,000 + 1,900 + 4,000 + 830 = **106,730**: `fair_share[P1]` binds (216 = 54% of 400).
- ``fair_share_band = 0``: P1 240 (B 40, 800 minutes), P2 160 (D 10, 150): every province 80%;
  **106,850**.

Over periods, the same instance over one year (tests/helpers.py two_province_horizon) has the same optima,
with `fair_share[P1,2025,mid]` binding.
"""

import dataclasses
import json

import pytest
from click.testing import CliRunner
from helpers import HAND, HAND_ARGS, INSTANCES, run, two_province_horizon

from allocator.analysis.horizon import plan_horizon
from allocator.check import check_solution
from allocator.check.horizon import check_horizon_solution
from allocator.commands.main import cli
from allocator.core.errors import PolicyError
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.model.build import build_model
from allocator.reports.console import format_summary
from allocator.reports.horizon import format_group_periods as format_horizon_groups
from allocator.solve.options import SolveOptions

GROUPS = INSTANCES / "tiny-groups"
TWO = INSTANCES / "tiny-two-provinces"
MINORS_FIRST = {"budget": 250, "unmet_penalty_by_group": "amv:10000"}


def unmet_by_group(outcome) -> dict:
    return {r.group: r.unmet for r in outcome.solution.groups.itertuples()}


def placed_by_province(outcome) -> dict:
    return {r.province: r.placed for r in outcome.solution.provinces.itertuples()}


def test_one_penalty_leaves_the_dearest_group_out():
    outcome = run(GROUPS, budget=250)
    assert outcome.solution.summary["objective"] == pytest.approx(18_648)
    assert unmet_by_group(outcome) == {"reg": 0, "amv": 18, "ua": 0}
    assert outcome.check.passed
    text = format_summary(outcome.solution)
    assert (
        "Unmet      rate by group: unaccompanied minors 90.00% (18), asylum seekers 0.00% (0), displaced from "
        "Ukraine 0.00% (0)"
    ) in text
    assert "Unmet      rate by province: Pland 12.86% (18)" in text
    assert "(18 places x EUR 1,000)" in text


def test_a_penalty_per_group_places_the_minors_first():
    outcome = run(GROUPS, **MINORS_FIRST)
    s = outcome.solution
    assert s.summary["objective"] == pytest.approx(70_350)
    assert unmet_by_group(outcome) == {"reg": 50, "amv": 0, "ua": 20}
    assert s.kpis["unmet_penalty"] == pytest.approx(70_000)
    assert outcome.check.passed
    text = format_summary(s)
    assert "(70 places at the penalties of their groups (unmet_penalty_by_group))" in text
    assert "Unmet      rate by group: displaced from Ukraine 100% (20), asylum seekers 50.00% (50)" in text


def test_the_penalty_per_group_is_in_the_objective_as_documented():
    policy = load_policy("default", {**HAND, **MINORS_FIRST})
    m = build_model(load_instance(GROUPS), policy)
    coefficients = {u: c for u, c in zip(m.unmet, m.unmet_penalty_total.expr.linear_coefs)}
    assert coefficients[("A", "amv")] == 10_000 and coefficients[("A", "reg")] == 1_000


def test_nothing_unmet_leaves_the_console_as_it_was():
    text = format_summary(run(GROUPS).solution)
    assert "Unmet      rate" not in text and "places x" not in text


def test_without_a_band_the_longest_trips_stay_unplaced():
    outcome = run(TWO, budget=5900)
    assert outcome.solution.summary["objective"] == pytest.approx(106_650)
    assert placed_by_province(outcome) == {"P1": 200, "P2": 200}


@pytest.mark.parametrize(("band", "objective", "split"), [(0.1, 106_730, (216, 184)), (0, 106_850, (240, 160))])
def test_the_fair_share_band_spreads_the_shortfall(band, objective, split):
    outcome = run(TWO, budget=5900, fair_share_band=band)
    assert outcome.solution.summary["objective"] == pytest.approx(objective)
    assert placed_by_province(outcome) == dict(zip(("P1", "P2"), split))
    assert outcome.check.passed


def test_the_fair_share_band_over_periods(tmp_path):
    inst = load_instance(two_province_horizon(tmp_path / "two"))
    options = SolveOptions(gap=0.0, workers=1, time_limit=60)
    for band, objective, p1 in ((None, 106_650, 200), (0.1, 106_730, 216)):
        extra = {} if band is None else {"fair_share_band": band}
        outcome = plan_horizon(inst, load_policy("default", {**HAND, "budget": 5900, **extra}), options)
        assert outcome.check.passed, outcome.check.violations
        assert outcome.solution.summary["objective"] == pytest.approx(objective)
        provinces = outcome.solution.provinces.set_index("province")
        assert provinces.at["P1", "placed"] == p1


def test_the_checker_finds_a_broken_fair_share():
    outcome = run(TWO, budget=5900)
    policy = load_policy("default", {**HAND, "budget": 5900, "fair_share_band": 0.1})
    found = check_solution(outcome.solution, load_instance(TWO), policy).violations
    assert found == [
        "fair_share[P1]: places 200 of its task 300, below 216.0000 = (1 - 0.1) x 300/500 of the 400 placed nationally"
    ]


def test_the_horizon_checker_finds_a_broken_fair_share(tmp_path):
    inst = load_instance(two_province_horizon(tmp_path / "two"))
    options = SolveOptions(gap=0.0, workers=1, time_limit=60)
    outcome = plan_horizon(inst, load_policy("default", {**HAND, "budget": 5900}), options)
    policy = load_policy("default", {**HAND, "budget": 5900, "fair_share_band": 0.1})
    assert check_horizon_solution(outcome.solution, inst, policy).violations == [
        "fair_share[P1,2025,mid]: places 200 of its task 300, below 216.0000 = (1 - 0.1) x 300/500 of the 400 "
        "placed nationally"
    ]


def test_the_checker_recomputes_the_penalty_per_group():
    outcome = run(GROUPS, **MINORS_FIRST)
    inst = load_instance(GROUPS)
    # The same plan priced with one penalty for every group: the minors' places would weigh 1,000 each.
    one_penalty = load_policy("default", {**HAND, "budget": 250})
    assert check_solution(outcome.solution, inst, one_penalty).passed  # nothing of the minors is unmet
    # A summary that states the penalty as if every group had M is caught.
    summary = json.loads(json.dumps(outcome.solution.summary))
    summary["kpis"]["unmet_penalty"] = 70 * 1000 + 1
    found = check_solution(dataclasses.replace(outcome.solution, summary=summary), inst).violations
    assert found == ["kpis.unmet_penalty: summary says 70001, tables give 70000.0"]
    equal = run(GROUPS, budget=250)
    priced = load_policy("default", {**HAND, **MINORS_FIRST})
    found = check_solution(equal.solution, inst, priced).violations
    assert "kpis.unmet_penalty: summary says 18000.0, tables give 180000.0" in found
    assert any(v.startswith("total_cost: solution claims 18648") for v in found)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_an_unknown_group_is_refused_naming_the_key_and_the_group(tmp_path):
    r = invoke(
        "solve", GROUPS, *HAND_ARGS, "--set", "unmet_penalty_by_group=amv:5e6,minors:1e7", "--out", tmp_path / "s"
    )
    assert r.exit_code == 2
    assert (
        "policy 'default', column 'unmet_penalty_by_group': unknown group id (the groups of instance tiny-groups: "
        "reg, amv, ua) (value: 'minors')"
    ) in r.output


def test_a_penalty_per_group_is_refused_without_groups(tmp_path):
    r = invoke("solve", TWO, "--set", "unmet_penalty_by_group=amv:5e6", "--out", tmp_path / "s")
    assert r.exit_code == 2 and not (tmp_path / "s").exists()
    assert (
        "policy 'default', column 'unmet_penalty_by_group': does not apply to instance tiny-two-provinces: it sets "
        "a penalty per demand group, and the instance has no demand groups (groups.csv)"
    ) in r.output


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unmet_penalty_by_group": "amv"}, "must be group:penalty pairs, e.g. amv:5000000"),
        ({"unmet_penalty_by_group": "amv:-1"}, "the penalty of amv must be >= 0"),
        ({"unmet_penalty_by_group": "amv:2e12"}, "the penalty of amv must be <= 1e+12"),
        ({"fair_share_band": "1.5"}, "must be between 0 and 1 (a fraction: 0.05 lets a province fall 5 % below"),
        ({"fair_share_band": "-0.1"}, 'must be >= 0 (or "none")'),
    ],
)
def test_bad_scarcity_values_are_refused(overrides, message):
    with pytest.raises(PolicyError) as err:
        load_policy("default", overrides)
    assert message in str(err.value)


def test_a_penalty_table_in_a_policy_file(tmp_path):
    path = tmp_path / "minors.toml"
    path.write_text("unmet_penalty_by_group = { amv = 5e6 }\nfair_share_band = 0.05\n")
    policy = load_policy(path)
    assert policy.penalty_of("amv") == 5e6 and policy.penalty_of("reg") == 1e6 and policy.fair_share_band == 0.05
    assert policy.to_dict()["unmet_penalty_by_group"] == {"amv": 5e6}
    path.write_text('unmet_penalty_by_group = "amv"\n')
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert "must be a table of group = penalty, e.g. { amv = 5000000 }" in str(err.value)


def test_a_penalty_per_group_over_periods():
    """tiny-horizon-groups with M1 forbidden (its README: 20,988, 20 minors unmet in 2025, which no site can take):
    at 5,000 a minor the plan is the same and the penalty 20 x 5,000: 20,988 + 20 x 4,000 = **100,988**."""
    inst = load_instance(INSTANCES / "tiny-horizon-groups")
    policy = load_policy("default", {**HAND, "forbid_sites": "M1", "unmet_penalty_by_group": "amv:5000"})
    outcome = plan_horizon(inst, policy, SolveOptions(gap=0.0, workers=1, time_limit=60))
    assert outcome.check.passed, outcome.check.violations
    s = outcome.solution
    assert s.summary["objective"] == pytest.approx(100_988)
    assert s.periods.set_index("period").at["2025", "unmet_penalty"] == pytest.approx(100_000)
    assert "10 of 30 (20 unmet, 66.67%)" in format_horizon_groups(s, "mid")
