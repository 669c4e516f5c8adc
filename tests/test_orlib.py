"""External benchmark: OR-Library capacitated warehouse location (Beasley) against published optima.

Each bundled file in instances/orlib/ is written as an instance folder (tests/orlib.py), solved
through the full pipeline and compared with optima.csv. The published values have 3 decimals
and are rounded inconsistently (793439.5625 appears as .562 and .563), hence the 1e-3 tolerance.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from orlib import (
    customer_id,
    expected_tokens,
    orlib_policy,
    parse_cap,
    parse_cap_text,
    read_optima,
    warehouse_id,
    write_instance,
)

from allocator.analysis.pipeline import solve
from allocator.data.load import load_instance
from allocator.solve.options import SolveOptions, Status

DATA = Path(__file__).resolve().parents[1] / "instances" / "orlib"
TOLERANCE = 1e-3  # absolute; the published optima are rounded to 3 decimals

# Capacity binds in these (README: 5000 or 10000 per warehouse for a total demand of 58268) ...
BINDING = ["cap41", "cap44", "cap51", "cap81", "cap84", "cap111", "cap114"]
# ... and never in these (capacity 58268 = total demand): the uncapacitated case.
UNCAPACITATED = ["cap71", "cap131"]
TOTAL_DEMAND = 58268


@pytest.fixture(scope="module")
def optima() -> dict[str, float]:
    return read_optima(DATA / "optima.csv")


@pytest.mark.parametrize("whole_places", [True, False], ids=["whole", "split"])
@pytest.mark.parametrize("name", BINDING + UNCAPACITATED)
def test_published_optimum(name, whole_places, optima, tmp_path):
    problem = write_instance(DATA / f"{name}.txt", tmp_path / name)
    outcome = solve(
        load_instance(tmp_path / name), orlib_policy(whole_places), SolveOptions(gap=1e-9, time_limit=60, workers=1)
    )

    assert outcome.status is Status.OPTIMAL, outcome.result.message
    assert outcome.check.passed, outcome.check.violations
    assert outcome.result.objective == pytest.approx(optima[name], abs=TOLERANCE)

    # Beasley's objective recomputed from the plan and the raw file, not from travel_times.csv.
    sol = outcome.solution
    assert sol.kpis["unmet"] == pytest.approx(0, abs=1e-6)  # split plans carry float noise (~1e-11)
    index = {warehouse_id(i, problem.m): i for i in range(problem.m)}
    cust = {customer_id(j, problem.n): j for j in range(problem.n)}
    open_sites = [index[s] for s in sol.sites.loc[sol.sites["open_site"] == 1, "site"]]
    fraction = {
        (cust[r.municipality], index[r.site]): r.placed / problem.demand[cust[r.municipality]]
        for r in sol.placements.itertuples()
    }
    assert problem.objective(open_sites, fraction) == pytest.approx(optima[name], abs=TOLERANCE)

    load = sol.sites.set_index("site")["placed"]
    full = [s for s in load.index if load[s] >= problem.capacity[index[s]] - 1e-6]
    if name in BINDING:
        assert full, "capacity should bind at some open site"
    else:
        assert max(problem.capacity) == TOTAL_DEMAND and not full


def test_parser_one_line_per_customer_layout():
    """cap42 puts each customer on one line; cap41 wraps costs at 7 per line. Same token stream shape."""
    one_line = parse_cap(DATA / "cap42.txt")
    wrapped = parse_cap(DATA / "cap41.txt")
    for p in (one_line, wrapped):
        assert (p.m, p.n) == (16, 50)
        assert p.n_tokens == expected_tokens(16, 50) == 2 + 2 * 16 + 50 * 17 == 884
        assert sum(p.demand) == TOTAL_DEMAND
        assert set(p.capacity) == {5000.0}
    lines42 = (DATA / "cap42.txt").read_text().splitlines()
    lines41 = (DATA / "cap41.txt").read_text().splitlines()
    assert len(lines42) == 1 + 16 + 50 and all(len(line.split()) == 17 for line in lines42[17:])
    assert len(lines41) > 1 + 16 + 50  # demand on its own line, costs wrapped
    # Set IV: same customers, only the fixed costs differ (12500 in cap42, 7500 in cap41, warehouse 11 free).
    assert one_line.demand == wrapped.demand and one_line.cost == wrapped.cost
    assert one_line.fixed_cost == tuple(0.0 if i == 10 else 12500.0 for i in range(16))
    assert wrapped.fixed_cost == tuple(0.0 if i == 10 else 7500.0 for i in range(16))
    assert one_line.demand[10] == 5495 and one_line.demand[33] == 12912


def test_parser_accepts_bare_decimal_point():
    text = (DATA / "cap41.txt").read_text()
    assert " .00000 " in text
    assert parse_cap(DATA / "cap41.txt").cost[22][10] == 0.0  # customer 23, warehouse 11


def test_parser_token_stream_and_errors():
    # Line breaks anywhere: customer 1's costs wrap, customers 2 and 3 share a line.
    text = "2 3\n 10 7500.\n capacity .5\n 4 1.\n 2\n 5 6 3 1 .25 0.75"
    p = parse_cap_text(text, capacity=99)
    assert p.n_tokens == expected_tokens(2, 3) == 15
    assert p.capacity == (10.0, 99.0) and p.fixed_cost == (7500.0, 0.5)
    assert p.demand == (4.0, 5.0, 1.0)
    assert p.cost == ((1.0, 2.0), (6.0, 3.0), (0.25, 0.75))
    with pytest.raises(ValueError, match="capacity"):
        parse_cap_text(text)
    with pytest.raises(ValueError, match="15 tokens, expected 12"):
        parse_cap_text("2 2" + text[3:], capacity=99)
    with pytest.raises(ValueError, match="16 tokens, expected 15"):
        parse_cap_text(text + " 7", capacity=99)
    with pytest.raises(ValueError, match="not a number"):
        parse_cap_text(text.replace("7500.", "7,500"), capacity=99)


def test_zero_demand_is_refused(tmp_path):
    path = tmp_path / "zero.txt"
    path.write_text("1 2\n 10 5.\n 0 3.\n 4 8.\n")
    with pytest.raises(ValueError, match="zero demand"):
        write_instance(path, tmp_path / "zero")


def test_bundled_files_match_readme_checksums():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"`([\w.]+)`\s*\|\s*`?([0-9a-f]{64})`?", readme))
    on_disk = {p.name for p in DATA.iterdir() if p.name != "README.md"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


def test_optima_csv_agrees_with_capopt(optima):
    raw = dict(re.findall(r"^(cap\d+)\s+([\d.]+)\s*$", (DATA / "capopt.txt").read_text(), flags=re.M))
    for name in BINDING + UNCAPACITATED + ["cap42"]:
        assert optima[name] == float(raw[name])
