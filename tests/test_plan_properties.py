"""Properties of provincial plans and the allocation decision on small random instances with demand groups
(hypothesis, fixed seed): a complete plan gets an empty decision, committing one more site never raises the
decision's cost, and the merged provincial optima of a decoupled instance are the national optimum."""

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from allocator.analysis.decide import decide
from allocator.analysis.merge import merge_plans
from allocator.analysis.pipeline import solve, solve_province
from allocator.check.plans import check_plan
from allocator.data.load import load_instance
from allocator.data.plans import read_plans
from allocator.data.policy import Policy
from allocator.results.solution import write_solution
from allocator.solve.options import SolveOptions

OPTIONS = SolveOptions(gap=0.0, workers=1, time_limit=60)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOML = 'name = "random"\ndescription = "generated"\nunits = "places"\ncurrency = "EUR"\nplanning_period = "1 year"\n[travel]\nmode = "matrix"\n'


@st.composite
def instances(draw):
    """1-3 provinces, 2-6 municipalities, two groups ("a" taken everywhere, "b" only where listed); per province a
    large site for group a and a regular site for group b, then 0-4 more sites; each site takes exactly one group.
    Travel times 0-40 minutes between every municipality and site."""
    n_prov = draw(st.integers(1, 3))
    n_muni = draw(st.integers(max(2, n_prov), 6))
    prov = list(range(n_prov)) + [draw(st.integers(0, n_prov - 1)) for _ in range(n_muni - n_prov)]
    demand = {(i, g): draw(st.integers(0, 40)) for i in range(n_muni) for g in "ab"}
    homes = [(p, "large", "a") for p in range(n_prov)] + [(p, "regular", "b") for p in range(n_prov)]
    homes += [
        (None, draw(st.sampled_from(["large", "regular", "regular"])), draw(st.sampled_from("ab")))
        for _ in range(draw(st.integers(0, 4)))
    ]
    sites, site_groups = [], []
    for k, (p, kind, group) in enumerate(homes):
        home = p if p is not None else draw(st.integers(0, n_muni - 1))  # municipality p lies in province p
        low = draw(st.integers(0, 20))
        sites.append(
            {
                "site": f"S{k}",
                "name": f"site {k}",
                "municipality": f"M{home}",
                "province": f"P{prov[home]}",
                "kind": kind,
                "status": "candidate",
                "min_size": low,
                "capacity": low + draw(st.integers(1, 120)),
                "fixed_cost": draw(st.integers(0, 300)),
                "cost_per_place": draw(st.integers(1, 20)),
                "lat": 52.0,
                "lon": 5.0,
            }
        )
        site_groups.append({"site": f"S{k}", "group": group})
    travel = [
        {"municipality": f"M{i}", "site": s["site"], "minutes": draw(st.integers(0, 40))}
        for i in range(n_muni)
        for s in sites
    ]
    return {
        "provinces": pd.DataFrame(
            {"province": [f"P{p}" for p in range(n_prov)], "name": [f"province {p}" for p in range(n_prov)]}
        ),
        "municipalities": pd.DataFrame(
            {
                "municipality": [f"M{i}" for i in range(n_muni)],
                "name": [f"municipality {i}" for i in range(n_muni)],
                "province": [f"P{p}" for p in prov],
                "population": 1,
                "lat": 52.0,
                "lon": 5.0,
                "demand": [demand[(i, "a")] + demand[(i, "b")] for i in range(n_muni)],
            }
        ),
        "sites": pd.DataFrame(sites),
        "travel_times": pd.DataFrame(travel, columns=["municipality", "site", "minutes"]),
        "groups": pd.DataFrame(
            {"group": ["a", "b"], "name": ["group a", "group b"], "target": "province", "sites": ["all", "listed"]}
        ),
        "group_demand": pd.DataFrame(
            [{"municipality": f"M{i}", "group": g, "demand": d} for (i, g), d in demand.items()]
        ),
        "site_groups": pd.DataFrame(site_groups),
    }


@st.composite
def policies(draw):
    """Decoupled policies (no budget, mean-travel limit or cross-province arcs), random rules and limits."""
    return Policy(
        large_site_rule=draw(st.sampled_from(["exactly", "at_most", "at_least", "off"])),
        max_travel_minutes=draw(st.one_of(st.none(), st.integers(20, 60))),
        max_travel_minutes_regular=draw(st.one_of(st.none(), st.integers(20, 40))),
        unmet_penalty=1000.0,
        travel_value=float(draw(st.integers(0, 2))),
    )


def load(tables, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text(TOML)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return load_instance(folder)


def write_plan(folder: Path, rows: list[dict]) -> Path:
    """A folder with the plan as one table (no table when nothing is committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    if rows:
        pd.DataFrame(rows, columns=["province", "site", "group", "places"]).to_csv(folder / "plan.csv", index=False)
    return folder


def plan_of(solution, instance) -> list[dict]:
    """A provincial optimum as a plan: every site it opens, with its places per group (an open site without places
    is committed with none, for the first group it takes)."""
    load = solution.placements.groupby(["site", "group"])["placed"].sum()
    sites = solution.sites.set_index("site")
    rows = [
        {"province": sites.at[s, "province"], "site": s, "group": g, "places": int(q)} for (s, g), q in load.items()
    ]
    first = instance.groups.eligible.drop_duplicates("site").set_index("site")["group"]
    for s in sites.index[sites["open_site"] == 1]:
        if s not in load.index.get_level_values(0):
            rows.append({"province": sites.at[s, "province"], "site": s, "group": first[s], "places": 0})
    return rows


@SETTINGS
@given(instances(), policies())
def test_a_complete_plan_gets_an_empty_decision(tables, policy):
    with tempfile.TemporaryDirectory() as tmp:
        inst = load(tables, Path(tmp) / "i")
        rows = []
        for p in inst.provinces.index:
            out = solve_province(inst, policy, p, OPTIONS)
            if out.solution is None or out.solution.kpis["unmet"] > 0:
                return  # a province that cannot place everyone has no complete plan
            rows += plan_of(out.solution, inst)
        plans = write_plan(Path(tmp) / "plans", rows)
        plan = read_plans([plans], inst, allow_none=True)
        assert all(v.complete for v in check_plan(plan, inst, policy, list(inst.provinces.index)))
        decision = decide(inst, policy, plan, OPTIONS)
        assert decision.result is None  # nothing to decide
        d = decision.decision
        assert decision.check.passed, decision.check.violations
        assert d.sites["added"].sum() == 0 and d.sites["new"].sum() == 0 and d.summary["decision"]["cost"] == 0
        assert d.groups["unmet"].sum() == 0
        event("complete plan decided")


@st.composite
def plans(draw, tables):
    """A valid plan for some provinces (at most one large site each) and one more valid regular site to commit."""
    sites = tables["sites"].merge(tables["site_groups"], on="site")
    regular = list(sites.index[sites["kind"] == "regular"])
    extra_at = draw(st.sampled_from(regular))
    rows, large = [], set()
    for k in draw(st.lists(st.sampled_from([k for k in sites.index if k != extra_at]), unique=True)):
        s = sites.loc[k]
        if s["kind"] == "large" and s["province"] in large:
            continue
        large |= {s["province"]} if s["kind"] == "large" else set()
        rows.append(
            {
                "province": s["province"],
                "site": s["site"],
                "group": s["group"],
                "places": draw(st.integers(int(s["min_size"]), int(s["capacity"]))),
            }
        )
    s = sites.loc[extra_at]
    extra = {
        "province": s["province"],
        "site": s["site"],
        "group": s["group"],
        "places": draw(st.integers(int(s["min_size"]), int(s["capacity"]))),
    }
    return rows, extra


@SETTINGS
@given(st.data(), instances(), policies())
def test_committing_one_more_site_never_raises_the_decision_cost(data, tables, policy):
    rows, extra = data.draw(plans(tables))
    with tempfile.TemporaryDirectory() as tmp:
        inst = load(tables, Path(tmp) / "i")
        before = decide(inst, policy, read_plans([write_plan(Path(tmp) / "a", rows)], inst, allow_none=True), OPTIONS)
        if before.decision is None:
            return  # the plan cannot be kept (a rule no decision can mend), or no decision meets every rule
        after = decide(inst, policy, read_plans([write_plan(Path(tmp) / "b", [*rows, extra])], inst), OPTIONS)
        assert after.decision is not None and after.check.passed, (
            after.check.violations if after.check else after.result
        )
        cost_before, cost_after = (
            before.decision.summary["decision"]["cost"],
            after.decision.summary["decision"]["cost"],
        )
        assert cost_after <= cost_before + 1e-6 * max(1.0, cost_before), (cost_before, cost_after, extra)
        event("decision costs compared")


@SETTINGS
@given(instances(), policies())
def test_merged_provincial_optima_are_the_national_optimum(tables, policy):
    with tempfile.TemporaryDirectory() as tmp:
        inst = load(tables, Path(tmp) / "i")
        national = solve(inst, policy, OPTIONS)
        folders = []
        for p in inst.provinces.index:
            out = solve_province(inst, policy, p, OPTIONS)
            if out.solution is None:
                assert national.solution is None  # a province without a plan: the nation has none either
                return
            folders.append(write_solution(out.solution, Path(tmp) / p))
        merged = merge_plans(folders, inst, policy)
        assert merged.check.passed, merged.check.violations
        assert national.solution is not None and national.check.passed
        assert abs(merged.solution.objective - national.solution.objective) <= 1e-6 * max(
            1.0, national.solution.objective
        )
        assert merged.solution.summary["status"] == "optimal"
        event("merged optima compared")
