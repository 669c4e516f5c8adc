"""What-if: each candidate large site forced in turn, ranked (optima worked out by hand).

tiny-two-provinces, province P1 (A: 200, B: 100; A and B 20 minutes apart), hand prices:
- free optimum and LA forced: LA serves A (1000 + 200 x 10), RB serves B (300 + 100 x 15):
  P1 costs 4,800, P2 (LC + RD) 3,300, no travel: 8,100.
- LB forced (LA closed): LB (capacity 250) and RB at B hold the 300 places: fixed 900, places
  250 x 12 + 50 x 15 = 3,750, and A's 200 places travel 20 minutes: 4,000. P1 costs 4,650,
  objective 4,650 + 3,300 + 4,000 = 11,950 (+3,850, +47.53%).
"""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES, hand_policy, two_large_instance

from allocator.analysis.horizon_whatif import rank_sites_over_periods
from allocator.analysis.whatif import WhatIfError, rank_sites
from allocator.check import CheckReport
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.solve.options import SolveOptions

TWO = INSTANCES / "tiny-two-provinces"
HAND = HAND_ARGS
EXACT = SolveOptions(gap=0, workers=1)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_ranking_by_hand(monkeypatch):
    monkeypatch.setattr("allocator.solve.highs.SMALL_BLOCK_COLUMNS", 0)  # one block per province even when tiny
    result = rank_sites(load_instance(TWO), hand_policy(), "P1", options=EXACT)
    t = result.table
    assert list(t["site"]) == ["LA", "LB"]
    assert list(t["rank"]) == [1, 2]
    assert list(t["objective"]) == [8_100, 11_950]
    assert list(t["difference"]) == [0, 3_850]
    assert t["difference_pct"].tolist() == pytest.approx([0, 3_850 / 8_100])
    assert list(t["province_cost"]) == [4_800, 4_650]
    assert list(t["province_fixed_cost"]) == [1_300, 900]
    assert list(t["unmet"]) == [0, 0]
    assert t["mean_travel_minutes"].tolist() == pytest.approx([0, 200 * 20 / 300], abs=1e-4)
    assert list(t["max_travel_minutes"]) == [0, 20]
    assert t.loc[0, "serves"] == "Aburg" and t.loc[0, "serves_count"] == 1
    assert list(t["check"]) == ["passed", "passed"]
    assert result.free["objective"] == 8_100 and result.free["site"] == "LA"
    # The model is compiled once: two blocks, and each re-solve touches only P1's.
    assert result.blocks == 2 and list(t["blocks_solved"]) == [1, 1]
    assert set(result.solutions) == {"free", "LA", "LB"}
    assert result.solutions["LB"].summary["policy"]["force_sites"] == ["LB"]


def test_ties_are_broken_by_site_id(tmp_path):
    # Two municipalities 50 minutes apart, a large candidate at each: forcing either costs the same
    # (100 fixed + 200 places x 1 + 100 places x 50 minutes = 5,300).
    folder = two_large_instance(tmp_path / "twins")
    t = rank_sites(load_instance(folder), hand_policy(), "P", ["LY", "LX"], EXACT).table
    assert list(t["site"]) == ["LX", "LY"]
    assert list(t["objective"]) == [5_300, 5_300] and list(t["rank"]) == [1, 2]
    assert list(t["serves"]) == ["X;Y", "X;Y"]  # most places first, then by name: 100 each


def test_infeasible_candidate_is_listed_not_dropped(copy_instance):
    folder, edit = copy_instance("tiny-two-provinces")
    # LB must hold 350 places if open, but P1 needs only 300.
    edit(
        "sites",
        lambda df: df.assign(
            capacity=df["capacity"].where(df["site"] != "LB", "400"),
            min_size=df["min_size"].where(df["site"] != "LB", "350"),
        ),
    )
    r = invoke("whatif", folder, *HAND, "--province", "P1")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(line.startswith("   1  LA *  Aburg         optimal") for line in lines)
    assert any(
        line.startswith(
            "   -  LB    Beedorp       infeasible              -         -       -         -      -         -        -"
        )
        for line in lines
    )
    t = rank_sites(load_instance(folder), hand_policy(), "P1", options=EXACT).table
    assert list(t["status"]) == ["optimal", "infeasible"] and t["objective"].isna().tolist() == [False, True]


def test_cli_writes_a_checked_folder_per_plan(tmp_path):
    out = tmp_path / "whatif"
    r = invoke("whatif", TWO, *HAND, "--province", "P1", "--force-site", "RB", "--out", out)
    assert r.exit_code == 0, r.output
    assert "What-if for North (P1): 2 candidate large sites, policy default" in r.output
    assert "Free optimum: EUR 8,100 (optimal), large site Aburg large [LA]" in r.output
    assert (
        "   1  LA *  Aburg         optimal          8,100        +0   +0.00%     4,800      0       0.0      0.0"
        in r.output
    )
    assert (
        "   2  LB    Beedorp       optimal         11,950    +3,850  +47.53%     4,650      0      13.3     20.0"
        in r.output
    )
    assert "3 solution folders written to" in r.output and "(each re-checked: 3 passed)" in r.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".allocator.json") == ["LA", "LB", "free"]
    summary = json.loads((out / "LB" / "summary.json").read_text())
    assert summary["objective"] == 11_950 and summary["policy"]["force_sites"] == ["LB", "RB"]
    for name in ("free", "LA", "LB"):
        assert invoke("check", out / name, TWO).exit_code == 0


def test_a_failed_check_is_an_error_for_that_row(monkeypatch):
    from allocator.analysis import pipeline

    real = pipeline.check_solution

    def fail_for_lb(solution, instance, policy=None):
        report = real(solution, instance, policy)
        return CheckReport(["site_capacity[LB]: made up"], report.objective) if "LB" in policy.force_sites else report

    monkeypatch.setattr(pipeline, "check_solution", fail_for_lb)
    r = invoke("whatif", TWO, *HAND, "--province", "P1")
    assert r.exit_code == 5
    assert "   -  LB    Beedorp       error (check failed)         11,950" in r.output  # not ranked


def test_unknown_province():
    r = invoke("whatif", TWO, "--province", "P9")
    assert r.exit_code == 2
    assert (
        "1 problem in the names:\n  - --province: no province with this id or name; known: P1 (North), P2 (South) (value: 'P9')"
        in r.output
    )


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (
            "XX",
            "no site with this id or name; known: LA (Aburg large), LB (Beedorp large), RB (Beedorp regular), LC (Ceestad large), RD (Deeveen regular)",
        ),
        ("RB", "not a large site (kind 'regular')"),
        ("LC", "a large site of P2, not of P1"),
    ],
)
def test_bad_candidate(candidate, message):
    r = invoke("whatif", TWO, "--province", "P1", "--candidates", f"LA,{candidate}")
    assert r.exit_code == 2
    assert f"--candidates: {message} (value: '{candidate}')" in r.output


def test_forbidden_candidate():
    with pytest.raises(WhatIfError, match="forbidden by the policy"):
        rank_sites(load_instance(TWO), hand_policy(forbid_sites="LB"), "P1", ["LB"], EXACT)
    # Left out when the candidates are not named.
    t = rank_sites(load_instance(TWO), hand_policy(forbid_sites="LB"), "P1", options=EXACT).table
    assert list(t["site"]) == ["LA"]


# ------------------------------------------------------------------ over the periods


def test_over_the_periods_by_hand(copy_instance):
    """tiny-horizon-band with a second large site L1 (candidate, capacity 150, fixed 100 a year, 1 a place,
    0 minutes from X) and keep_existing_open = false. Free plan as in the instance's README: L0 (fixed 0) both years,
    S1 opens for 2026: 250. L1 forced: one large site a year, so L0 closes at once and L1 holds everyone: fixed 200, places
    100 + (50 + 100 + 150) / 3 = 200: 400 (+150), one opening and one closing; the low scenario's 50 leave L1 in 2026.
    """
    folder, edit = copy_instance("tiny-horizon-band")
    row = {"site": "L1", "name": "Xham second", "municipality": "X", "province": "P1", "kind": "large"}
    row |= {"status": "candidate", "min_size": "0", "capacity": "150", "fixed_cost": "100", "cost_per_place": "1"}
    row |= {"lat": "52.0", "lon": "5.0", "earliest_open": "", "opening_cost": ""}
    edit("sites", lambda df: pd.concat([df, pd.DataFrame([row])], ignore_index=True))
    edit(
        "travel_times", lambda df: pd.concat([df, pd.DataFrame([{"municipality": "X", "site": "L1", "minutes": "0"}])])
    )
    policy = hand_policy(keep_existing_open=False)
    result = rank_sites_over_periods(load_instance(folder), policy, "P1", options=EXACT)
    t = result.table
    assert list(t["site"]) == ["L0", "L1"] and list(t["rank"]) == [1, 2]
    assert t["objective"].tolist() == pytest.approx([250, 400])
    assert t["difference"].tolist() == pytest.approx([0, 150])
    assert t["difference_pct"].tolist() == pytest.approx([0, 0.6])
    assert list(t["openings"]) == [1, 1] and list(t["closings"]) == [0, 1]
    assert t.loc[1, "expected_moves"] == pytest.approx(50 / 3)
    assert list(t["province_unmet_place_periods"]) == [0, 0]
    assert list(t["check"]) == ["passed", "passed"] and t.loc[1, "serves"] == "Xham"
    assert result.free["objective"] == pytest.approx(250) and result.free["site"] == "L0"
    p = result.periods
    assert list(p["plan"]) == ["free", "free", "L0", "L0", "L1", "L1"]
    forced = p[p["plan"] == "L1"]
    assert list(forced["large_sites"]) == ["L1", "L1"] and list(forced["state"]) == ["open", "open"]
    assert forced["placed"].tolist() == pytest.approx([100, 100])
    assert list(p.loc[p["plan"] == "free", "large_sites"]) == ["L0", "L0"]


def test_cli_over_the_periods_with_a_forbidden_site(tmp_path):
    """tiny-horizon-groups without M1 (its README): 20 minors unmet in 2025, 20,988; L0 is its one large site."""
    out = tmp_path / "w"
    args = ["whatif", INSTANCES / "tiny-horizon-groups", "--province", "P1", *HAND, "--forbid-site", "M1"]
    r = invoke(*args, "--gap", 0, "--workers", 1, "--out", out)
    assert r.exit_code == 0, r.output
    assert "Free plan: EUR 20,988 (optimal" in r.output and "over the periods" in r.output
    assert "2 solution folders written" in r.output and "each re-checked: 2 passed" in r.output
    for plan in ("free", "L0"):
        summary = json.loads((out / plan / "summary.json").read_text())
        assert summary["objective"] == pytest.approx(20_988)
        assert summary["kpis"]["expected_unmet_place_periods"] == 20
        assert invoke("check", out / plan).exit_code == 0
    # Per period: L0 holds 100 asylum seekers in 2025 and 50 in 2026; the 20 minors unmet in 2025.
    assert "100 u20" in r.output
