"""Synthetic instances, the nearest-sites arc option, the greedy start and the benchmark harness."""

import json
import subprocess
import sys

import pyomo.environ as pyo
import pytest
from helpers import INSTANCES, ROOT, run

from allocator.data.generate import generate
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.model.build import build_model
from allocator.model.start import greedy_start

TWO = INSTANCES / "tiny-two-provinces"


def test_generate_is_deterministic_and_valid(tmp_path):
    a = generate(2, 7, tmp_path / "a")
    b = generate(2, 7, tmp_path / "b")
    for name in ("municipalities.csv", "sites.csv", "links.csv", "provinces.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    inst = load_instance(a)  # validation includes a connected network
    assert len(inst.municipalities) == 2 * 342
    assert inst.total_demand == 96_002
    assert (inst.sites["kind"] == "large").sum() == 4 * 12
    assert generate(2, 8, tmp_path / "c").joinpath("sites.csv").read_bytes() != (a / "sites.csv").read_bytes()


def test_nearest_regular_sites_keeps_the_k_nearest():
    # From A the regular sites are RB (20 min) only; from B, RB (0). With k=1 nothing changes ...
    inst = load_instance(TWO)
    free = build_model(
        inst, load_policy("default", {"max_travel_minutes": "none", "max_travel_minutes_regular": "none"})
    )
    k1 = build_model(
        inst,
        load_policy(
            "default", {"max_travel_minutes": "none", "max_travel_minutes_regular": "none", "nearest_regular_sites": 1}
        ),
    )
    assert set(free.ARCS) == set(k1.ARCS)


def test_nearest_regular_sites_drops_farther_arcs(copy_instance):
    # ... with a second regular site in A, A keeps only its own (0 min) and drops RB (20 min).
    folder, edit = copy_instance("tiny-two-provinces")

    def add(df):
        row = df[df["site"] == "RB"].copy()
        row[["site", "name", "municipality", "lat", "lon"]] = ["RA", "Aburg regular", "A", "52.00", "5.00"]
        return __import__("pandas").concat([df, row], ignore_index=True)

    edit("sites", add)
    inst = load_instance(folder)
    policy = load_policy(
        "default", {"max_travel_minutes": "none", "max_travel_minutes_regular": "none", "nearest_regular_sites": 1}
    )
    arcs = set(build_model(inst, policy).ARCS)
    assert ("A", "RA") in arcs and ("A", "RB") not in arcs
    assert ("B", "RB") in arcs and ("B", "RA") not in arcs
    assert ("A", "LB") in arcs  # large sites are not limited
    out = run(folder, nearest_regular_sites=1)
    assert out.check.passed


def test_checker_enforces_nearest_regular_sites(copy_instance, tmp_path):
    import pandas as pd

    from allocator.check import check_solution
    from allocator.results.solution import read_solution, write_solution

    folder, edit = copy_instance("tiny-two-provinces")
    edit(
        "sites",
        lambda df: pd.concat(
            [
                df,
                df[df["site"] == "RB"].assign(
                    site="RA", name="Aburg regular", municipality="A", lat="52.00", lon="5.00"
                ),
            ],
            ignore_index=True,
        ),
    )
    out = run(folder, nearest_regular_sites=1)
    assert out.check.passed
    sol = write_solution(out.solution, tmp_path / "s")
    table = pd.read_csv(sol / "placements.csv", dtype=str)
    table.loc[table["municipality"] == "A", ["site", "travel_minutes"]] = ["RB", "20"]  # RA is nearer
    table.to_csv(sol / "placements.csv", index=False)
    found = check_solution(read_solution(sol), load_instance(folder)).violations
    assert "placed[A,RB]: 1 eligible regular sites are nearer, nearest_regular_sites = 1" in found


def test_greedy_start_is_feasible():
    inst = load_instance(INSTANCES / "nl-2024")
    model = build_model(inst, load_policy())
    start = greedy_start(model)
    for var in model.component_data_objects(pyo.Var):
        var.set_value(start[id(var)], skip_validation=True)
    for con in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        assert con.lower is None or body >= pyo.value(con.lower) - 1e-6, con.name
        assert con.upper is None or body <= pyo.value(con.upper) + 1e-6, con.name


def test_benchmark_harness_runs(tmp_path):
    code = (
        "import sys, json; sys.path.insert(0, 'benchmarks'); import run;"
        "run.CASES['tiny'] = ('instances/tiny-two-provinces', None, {'travel_value': 1}, 0.0, 30);"
        "r = run.one('tiny', True, 10);"
        "print(json.dumps({k: r[k] for k in ('status', 'objective', 'arcs')} | {'direct': r['highspy_direct']['nonzeros'], 'cbc': r['pulp_cbc']['objective']}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "optimal"
    assert result["cbc"] == pytest.approx(result["objective"])
