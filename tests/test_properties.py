"""Property-based tests on small random instances (hypothesis, fixed seed, no example database).

Each generated instance is written as a matrix-mode folder and loaded through the validator, so
every example is a valid instance. Every solve uses gap 0, so objectives compare exactly (up to
float rounding).
"""

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from allocator.analysis.pipeline import solve
from allocator.check import check_solution
from allocator.data.load import load_instance
from allocator.data.policy import Policy
from allocator.solve.options import SolveOptions

OPTIONS = SolveOptions(gap=0.0, workers=1, time_limit=60)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOML = 'name = "random"\ndescription = "generated"\nunits = "places"\ncurrency = "EUR"\nplanning_period = "1 year"\n[travel]\nmode = "matrix"\n'


@st.composite
def instances(draw, min_size=True):
    """Tables of a random valid instance: 1-3 provinces, 2-6 municipalities, 2-6 sites."""
    n_prov = draw(st.integers(1, 3))
    n_muni = draw(st.integers(max(2, n_prov), 6))
    muni_prov = list(range(n_prov)) + [draw(st.integers(0, n_prov - 1)) for _ in range(n_muni - n_prov)]
    demand = [draw(st.integers(0, 60)) for _ in range(n_muni)]
    n_sites = draw(st.integers(2, 6))
    sites = []
    for k in range(n_sites):
        home = draw(st.integers(0, n_muni - 1))
        low = draw(st.integers(0, 40)) if min_size else 0
        sites.append(
            {
                "site": f"S{k}",
                "name": f"site {k}",
                "municipality": f"M{home}",
                "province": f"P{muni_prov[home]}",
                "kind": draw(st.sampled_from(["large", "regular"])),
                "status": draw(st.sampled_from(["candidate"] * 5 + ["existing"])),
                "min_size": low,
                "capacity": low + draw(st.integers(1, 100)),
                "fixed_cost": draw(st.integers(0, 500)),
                "cost_per_place": draw(st.integers(1, 20)),
                "lat": 52.0,
                "lon": 5.0,
            }
        )
    travel = [
        {"municipality": f"M{i}", "site": s["site"], "minutes": draw(st.integers(0, 60))}
        for i in range(n_muni)
        for s in sites
        if draw(st.integers(0, 9)) < 9
    ]
    return {
        "provinces": pd.DataFrame(
            {"province": [f"P{p}" for p in range(n_prov)], "name": [f"province {p}" for p in range(n_prov)]}
        ),
        "municipalities": pd.DataFrame(
            {
                "municipality": [f"M{i}" for i in range(n_muni)],
                "name": [f"municipality {i}" for i in range(n_muni)],
                "province": [f"P{p}" for p in muni_prov],
                "population": 1,
                "lat": 52.0,
                "lon": 5.0,
                "demand": demand,
            }
        ),
        "sites": pd.DataFrame(sites),
        "travel_times": pd.DataFrame(travel, columns=["municipality", "site", "minutes"]),
    }


@st.composite
def policies(draw, side_rows=True):
    """A random policy. A budget or mean-travel limit comes with fractional places, where the
    LP over the open sites is exact (with whole places it would be a relaxation)."""
    budget = draw(st.one_of(st.none(), st.integers(0, 3000))) if side_rows else None
    mean = draw(st.one_of(st.none(), st.integers(5, 40))) if side_rows else None
    return Policy(
        large_site_rule=draw(st.sampled_from(["exactly", "at_most", "at_least", "off"])),
        max_travel_minutes=draw(st.one_of(st.none(), st.integers(20, 60))),
        max_travel_minutes_regular=draw(st.one_of(st.none(), st.integers(10, 40))),
        mean_travel_limit_minutes=mean,
        allow_cross_province=draw(st.booleans()),
        keep_existing_open=draw(st.booleans()),
        unmet_penalty=1000.0,
        travel_value=float(draw(st.integers(0, 2))),
        budget=math.inf if budget is None else float(budget),
        whole_places=budget is None and mean is None,
    )


def load(tables):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "instance.toml").write_text(TOML)
        for name, df in tables.items():
            df.to_csv(folder / f"{name}.csv", index=False)
        return load_instance(folder)


def same(a, b) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def objective(instance, policy):
    out = solve(instance, policy, OPTIONS)
    assert out.status.value in ("optimal", "infeasible"), out.result.message
    if out.solution is None:
        return None, out
    assert out.check.passed, out.check.violations
    return out.solution.objective, out


@SETTINGS
@given(instances(), policies())
def test_optimum_passes_the_checker_and_matches_brute_force(tables, policy):
    inst = load(tables)
    value, out = objective(inst, policy)
    if out.solution is not None:
        assert check_solution(out.solution, inst, policy).passed
    best = brute_force(inst, policy)
    assert (value is None) == (best is None), (value, best)
    if value is not None:
        assert same(value, best), (value, best)


@SETTINGS
@given(instances(), policies(), st.integers(1, 2000))
def test_more_budget_is_never_worse(tables, policy, extra):
    inst = load(tables)
    budget = policy.budget if math.isfinite(policy.budget) else 500.0
    tight = policy.with_(budget=budget, whole_places=False)
    values = [objective(inst, tight.with_(budget=b))[0] for b in (budget, budget + extra, math.inf)]
    for smaller, larger in zip(values, values[1:]):
        if smaller is not None:
            assert larger is not None and larger <= smaller + 1e-6 * max(1.0, abs(smaller))


@SETTINGS
@given(instances(), policies())
def test_unused_sites_forbidden_and_chosen_large_sites_forced_change_nothing(tables, policy):
    inst = load(tables)
    value, out = objective(inst, policy)
    if value is None:
        return
    sites = out.solution.sites.set_index("site")
    fixed = set(policy.force_sites) | (
        set(inst.sites.index[inst.sites["status"] == "existing"]) if policy.keep_existing_open else set()
    )
    unused = tuple(s for s in sites.index if sites.at[s, "open_site"] == 0 and s not in fixed)
    if unused:
        assert same(objective(inst, policy.with_(forbid_sites=unused))[0], value)
    large = tuple(s for s in sites.index if sites.at[s, "open_site"] == 1 and sites.at[s, "kind"] == "large")
    if large:
        assert same(objective(inst, policy.with_(force_sites=large))[0], value)


@SETTINGS
@given(instances(min_size=False), policies(side_rows=False), st.lists(st.integers(0, 40), min_size=6, max_size=6))
def test_raising_demand_never_reduces_unmet_demand(tables, policy, raise_by):
    # Not true in general: a minimum size can keep a site closed until enough demand reaches
    # it, and a fixed cost above the penalty of the few places it would serve leaves them
    # unmet until there are more. So here every minimum size is 0 and the penalty exceeds the
    # cost of any whole plan: the optimum then places as much as possible, and from any plan
    # for the raised demand, trimming the extra places gives a plan for the old demand that
    # places at most that many fewer.
    muni = tables["municipalities"]
    worst = float(
        (tables["sites"]["cost_per_place"].max() + 2 * 60) * (muni["demand"].sum() + sum(raise_by))
        + tables["sites"]["fixed_cost"].sum()
    )
    policy = policy.with_(unmet_penalty=worst + 1)
    base = load(tables)
    raised = load({**tables, "municipalities": muni.assign(demand=muni["demand"] + raise_by[: len(muni)])})
    value, out = objective(base, policy)
    value_raised, out_raised = objective(raised, policy)
    assert (value is None) == (value_raised is None)
    if value is not None:
        assert out_raised.solution.kpis["unmet"] >= out.solution.kpis["unmet"] - 1e-9


def brute_force(inst, policy: Policy) -> float | None:
    """Best objective over every set of open sites that meets the site rules, each placement solved as an LP by scipy."""
    sites, muni = inst.sites, inst.municipalities
    site_ids, muni_ids = list(sites.index), list(muni.index)
    demand = muni["demand"].to_numpy(dtype=float)
    t = inst.travel
    eligible = np.isfinite(t) & (demand[:, None] > 0)
    if policy.max_travel_minutes is not None:
        eligible &= t <= policy.max_travel_minutes
    regular = (sites["kind"] == "regular").to_numpy()
    if policy.max_travel_minutes_regular is not None:
        eligible &= ~regular[None, :] | (t <= policy.max_travel_minutes_regular)
    if not policy.allow_cross_province:
        eligible &= muni["province"].to_numpy()[:, None] == sites["province"].to_numpy()[None, :]
    must = {s for s in site_ids if policy.keep_existing_open and sites.at[s, "status"] == "existing"} | set(
        policy.force_sites
    )
    best = None
    for opened in itertools.product((0, 1), repeat=len(site_ids)):
        chosen = {s for s, o in zip(site_ids, opened) if o}
        if (
            not must <= chosen
            or chosen & set(policy.forbid_sites)
            or not large_rule_holds(inst, policy, chosen, demand)
        ):
            continue
        value = transport(inst, policy, chosen, eligible, demand, site_ids, muni_ids)
        if value is not None and (best is None or value < best):
            best = value
    return best


def large_rule_holds(inst, policy, chosen, demand) -> bool:
    rule = policy.large_site_rule
    if rule == "off":
        return True
    sites, muni = inst.sites, inst.municipalities
    for p in inst.provinces.index:
        large = set(sites.index[(sites["province"] == p) & (sites["kind"] == "large")])
        if not large and demand[(muni["province"] == p).to_numpy()].sum() == 0:
            continue
        n = len(large & chosen)
        if not (n == 1 if rule == "exactly" else n <= 1 if rule == "at_most" else n >= 1):
            return False
    return True


def transport(inst, policy, chosen, eligible, demand, site_ids, muni_ids) -> float | None:
    sites = inst.sites
    arcs = [(r, c) for r, c in zip(*np.nonzero(eligible)) if site_ids[c] in chosen]
    n_x, n_u = len(arcs), len(muni_ids)
    unit = [sites.iloc[c]["cost_per_place"] + policy.travel_value * inst.travel[r, c] for r, c in arcs]
    cost = np.array(unit + [policy.unmet_penalty] * n_u, dtype=float)
    fixed = float(sum(sites.at[s, "fixed_cost"] for s in chosen))
    a_eq = np.zeros((n_u, n_x + n_u))
    for k, (r, _) in enumerate(arcs):
        a_eq[r, k] = 1
    a_eq[:, n_x:] = np.eye(n_u)
    rows, rhs = [], []
    for c, s in enumerate(site_ids):
        if s not in chosen:
            continue
        load = np.array([1.0 if cc == c else 0.0 for _, cc in arcs] + [0.0] * n_u)
        rows += [load, -load]
        rhs += [float(sites.at[s, "capacity"]), -float(sites.at[s, "min_size"])]
    budget = policy.effective_budget(inst.budget)
    if budget is not None:
        rows.append(np.array([sites.iloc[c]["cost_per_place"] for _, c in arcs] + [0.0] * n_u))
        rhs.append(budget - fixed)
    if policy.mean_travel_limit_minutes is not None:
        rows.append(np.array([inst.travel[r, c] - policy.mean_travel_limit_minutes for r, c in arcs] + [0.0] * n_u))
        rhs.append(0.0)
    bounds = [(0, None)] * (n_x + n_u)
    res = linprog(
        cost,
        A_ub=np.array(rows) if rows else None,
        b_ub=np.array(rhs) if rhs else None,
        A_eq=a_eq,
        b_eq=demand,
        bounds=bounds,
        method="highs",
    )
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return fixed + float(res.fun)
