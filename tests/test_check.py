"""The independent checker catches planted violations in a solution folder."""

import json

import pandas as pd
import pytest
from helpers import INSTANCES, run

from allocator.check import check_solution
from allocator.data.load import load_instance
from allocator.results.solution import read_solution, write_solution

TWO = INSTANCES / "tiny-two-provinces"


@pytest.fixture
def folder(tmp_path):
    out = run(TWO, max_travel_minutes=25)
    assert out.check.passed
    return write_solution(out.solution, tmp_path / "sol")


def violations(folder) -> list[str]:
    return check_solution(read_solution(folder), load_instance(TWO)).violations


def edit(folder, table, fn):
    path = folder / f"{table}.csv"
    df = pd.read_csv(path, dtype={"site": str, "municipality": str, "province": str}, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def edit_summary(folder, fn):
    path = folder / "summary.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_clean_solution_passes(folder):
    assert violations(folder) == []


def test_capacity_exceeded(folder):
    def more(df):
        df.loc[(df.municipality == "A") & (df.site == "LA"), "placed"] = 450
        return df

    edit(folder, "placements", more)
    found = violations(folder)
    assert any(v.startswith("site_capacity[LA]: holds 450 places, allowed 400") for v in found)
    assert any(v.startswith("demand_balance[A]: placed 450 exceeds demand 200") for v in found)


def test_placement_at_closed_site(folder):
    edit(folder, "sites", lambda df: df.assign(open_site=df["open_site"].where(df["site"] != "RB", 0)))
    found = violations(folder)
    assert any(v.startswith("site_capacity[RB]: holds 100 places, allowed 0 (closed)") for v in found)


def test_two_large_sites_open(folder):
    edit(folder, "sites", lambda df: df.assign(open_site=df["open_site"].where(df["site"] != "LB", 1)))
    found = violations(folder)
    assert "large_site_per_province[P1]: 2 large sites open, rule is 'exactly' one" in found


def test_min_size(folder):
    def shrink(df):
        df.loc[df.site == "LC", "placed"] = 100
        return df

    edit(folder, "placements", shrink)
    edit(folder, "sites", shrink)
    assert any(v.startswith("site_min_size[LC]: holds 100 places, minimum 150") for v in violations(folder))


def test_travel_limit(folder):
    def move(df):
        df.loc[(df.municipality == "B") & (df.site == "RB"), "site"] = "LA"
        df.loc[df.municipality == "B", "travel_minutes"] = 20
        return df

    edit(folder, "placements", move)
    assert not any("exceeds max_travel_minutes" in v for v in violations(folder))
    edit_summary(folder, lambda d: d["policy"].update(max_travel_minutes=15))
    assert any(v.startswith("placed[B,LA]: travel 20.0 min exceeds max_travel_minutes 15") for v in violations(folder))


def test_wrong_travel_time_claimed(folder):
    edit(folder, "placements", lambda df: df.assign(travel_minutes=df["travel_minutes"] + 3))
    assert any("travel_minutes says 3, recomputed 0.0000" in v for v in violations(folder))


def test_forbidden_site_open(folder):
    edit_summary(folder, lambda d: d["policy"].update(forbid_sites=["RD"]))
    assert "open_site[RD]: forbidden site is open" in violations(folder)


def test_budget(folder):
    edit_summary(folder, lambda d: d["policy"].update(budget=5000))
    assert "budget_limit: cost 8,100 exceeds budget 5,000" in violations(folder)


def test_objective_claim(folder):
    edit_summary(folder, lambda d: d.update(objective=8000))
    assert "total_cost: solution claims 8000, recomputed 8100.000000" in violations(folder)


def test_whole_places(folder):
    def frac(df):
        df["placed"] = df["placed"].astype(float)
        df.loc[df.site == "RD", "placed"] = 49.5
        return df

    edit(folder, "placements", frac)
    assert "placed[D,RD]: not a whole number of places (49.5)" in violations(folder)


def test_other_instance(folder):
    edit_summary(folder, lambda d: d["instance"].update(fingerprint="0" * 64))
    assert any(v.startswith("instance: the solution was made for another version") for v in violations(folder))


def test_kpi_claim(folder):
    edit_summary(folder, lambda d: d["kpis"].update(unmet=7))
    assert "kpis.unmet: summary says 7, tables give 0.0" in violations(folder)


def test_municipalities_table_claims(folder):
    def claim(df):
        df.loc[df.municipality == "A", "placed"] += 5
        return df

    edit(folder, "municipalities", claim)
    found = violations(folder)
    assert found == ["demand_balance[A]: municipalities.csv says placed 205, the placements give 200"]
