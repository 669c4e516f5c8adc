"""The same model built without Pyomo, for comparison in benchmarks/run.py.

- ``highspy_arrays``: the constraint matrix built straight from the model data with NumPy and
  handed to highspy: the floor for modelling overhead.
- ``pulp_model``: the same model in PuLP, solved by CBC (what many planning scripts use).
Both read ``allocator.model.model_data``, so the numbers are those of the Pyomo model.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import highspy
import numpy as np
from scipy.sparse import coo_array


def highspy_arrays(data, policy, fixings: dict | None = None, keep: bool = False) -> dict:
    """Build the model's matrix with NumPy and pass it to a Highs object; return sizes and seconds."""
    t0 = time.perf_counter()
    munis = list(data.demand)
    sites = list(data.capacity)
    mi = {m: k for k, m in enumerate(munis)}
    si = {s: k for k, s in enumerate(sites)}
    arcs = data.arcs
    n_s, n_m, n_a = len(sites), len(munis), len(arcs)
    a_m = np.fromiter((mi[i] for i, _ in arcs), dtype=np.int64, count=n_a)
    a_s = np.fromiter((si[s] for _, s in arcs), dtype=np.int64, count=n_a)
    demand = np.array([data.demand[m] for m in munis], dtype=float)
    cap = np.array([data.capacity[s] for s in sites], dtype=float)
    low = np.array([data.min_size[s] for s in sites], dtype=float)
    fixed = np.array([data.fixed_cost[s] for s in sites], dtype=float)
    cpp = np.array([data.cost_per_place[s] for s in sites], dtype=float)
    minutes = np.fromiter((data.travel_minutes[a] for a in arcs), dtype=float, count=n_a)
    # columns: open_site (n_s), placed (n_a), unmet (n_m)
    col_open, col_placed, col_unmet = 0, n_s, n_s + n_a
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    # demand_balance
    rows += [r + a_m, r + np.arange(n_m)]
    cols += [col_placed + np.arange(n_a), col_unmet + np.arange(n_m)]
    vals += [np.ones(n_a), np.ones(n_m)]
    lo.append(demand), hi.append(demand)
    r += n_m
    # site_capacity and site_min_size
    for coef, lower, upper in (
        (-cap, np.full(n_s, -np.inf), np.zeros(n_s)),
        (-low, np.zeros(n_s), np.full(n_s, np.inf)),
    ):
        rows += [r + a_s, r + np.arange(n_s)]
        cols += [col_placed + np.arange(n_a), col_open + np.arange(n_s)]
        vals += [np.ones(n_a), coef]
        lo.append(lower), hi.append(upper)
        r += n_s
    # open_site_link
    rows += [r + np.arange(n_a), r + np.arange(n_a)]
    cols += [col_placed + np.arange(n_a), col_open + a_s]
    vals += [np.ones(n_a), -np.minimum(demand[a_m], cap[a_s])]
    lo.append(np.full(n_a, -np.inf)), hi.append(np.zeros(n_a))
    r += n_a
    # large_site_per_province
    if policy.large_site_rule != "off":
        for members in data.large_by_province.values():
            if not members:
                continue
            rows.append(np.full(len(members), r))
            cols.append(col_open + np.array([si[s] for s in members]))
            vals.append(np.ones(len(members)))
            lo.append(np.array([1.0 if policy.large_site_rule in ("exactly", "at_least") else -np.inf]))
            hi.append(np.array([1.0 if policy.large_site_rule in ("exactly", "at_most") else np.inf]))
            r += 1
    if data.budget is not None:  # budget_limit
        rows += [np.full(n_s, r), np.full(n_a, r)]
        cols += [col_open + np.arange(n_s), col_placed + np.arange(n_a)]
        vals += [fixed, cpp[a_s]]
        lo.append(np.array([-np.inf])), hi.append(np.array([data.budget]))
        r += 1
    if policy.mean_travel_limit_minutes is not None:  # mean_travel_limit
        rows.append(np.full(n_a, r))
        cols.append(col_placed + np.arange(n_a))
        vals.append(minutes - policy.mean_travel_limit_minutes)
        lo.append(np.array([-np.inf])), hi.append(np.array([0.0]))
        r += 1
    n_cols = n_s + n_a + n_m
    matrix = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols)).tocsc()
    cost = np.concatenate([fixed, cpp[a_s] + policy.travel_value * minutes, np.full(n_m, policy.unmet_penalty)])
    lower = np.zeros(n_cols)
    upper = np.concatenate([np.ones(n_s), np.minimum(demand[a_m], cap[a_s]), demand])
    for s, fixing in (fixings or {}).items():
        lower[si[s]] = upper[si[s]] = fixing.value
    built = time.perf_counter() - t0

    t1 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, r
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, r
    integrality = np.zeros(n_cols, dtype=np.int32)
    integrality[:n_s] = 1
    if policy.whole_places:
        integrality[n_s : n_s + n_a] = 1
    lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in integrality]
    h.passModel(lp)
    passed = time.perf_counter() - t1
    out = {"build": built, "handoff": passed, "rows": r, "columns": n_cols, "nonzeros": int(matrix.nnz)}
    if keep:
        out["highs"] = h
    return out


def highspy_plain(data, policy, fixings: dict, gap: float, time_limit: float) -> dict:
    """The plain model (as ``highspy_arrays`` builds it) solved whole by HiGHS: one thread, the same gap and limit."""
    built = highspy_arrays(data, policy, fixings, keep=True)
    h = built.pop("highs")
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    t = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t
    info = h.getInfo()
    has_plan = info.primal_solution_status == 2
    objective = info.objective_function_value if has_plan else None
    bound = info.mip_dual_bound if abs(info.mip_dual_bound) < 1e300 else None
    gap_reached = (objective - bound) / abs(objective) if objective is not None and bound is not None else None
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "seconds": seconds,
        "objective": objective,
        "bound": bound,
        "gap": gap_reached,
    }


def pulp_model(data, policy, gap: float, time_limit: float, log_path: Path, fixings: dict | None = None) -> dict:
    """Build the model in PuLP, solve it with CBC; return seconds, status, objective and CBC's bound."""
    import pulp

    t0 = time.perf_counter()
    prob = pulp.LpProblem("allocation", pulp.LpMinimize)
    open_site = {s: pulp.LpVariable(f"open_site_{k}", cat="Binary") for k, s in enumerate(data.capacity)}
    cat = "Integer" if policy.whole_places else "Continuous"
    placed = {
        a: pulp.LpVariable(f"placed_{k}", 0, min(data.demand[a[0]], data.capacity[a[1]]), cat=cat)
        for k, a in enumerate(data.arcs)
    }
    unmet = {i: pulp.LpVariable(f"unmet_{k}", 0, d) for k, (i, d) in enumerate(data.demand.items())}
    by_muni: dict = {i: [] for i in data.demand}
    by_site: dict = {s: [] for s in data.capacity}
    for a in data.arcs:
        by_muni[a[0]].append(placed[a])
        by_site[a[1]].append(placed[a])
    prob += (
        pulp.lpSum(policy.unmet_penalty * u for u in unmet.values())
        + pulp.lpSum(data.fixed_cost[s] * y for s, y in open_site.items())
        + pulp.lpSum(
            (data.cost_per_place[a[1]] + policy.travel_value * data.travel_minutes[a]) * x for a, x in placed.items()
        )
    )
    for i, d in data.demand.items():
        prob += pulp.lpSum(by_muni[i]) + unmet[i] == d
    for s, y in open_site.items():
        prob += pulp.lpSum(by_site[s]) <= data.capacity[s] * y
        if data.min_size[s] > 0:
            prob += pulp.lpSum(by_site[s]) >= data.min_size[s] * y
    for (i, s), x in placed.items():
        prob += x <= min(data.demand[i], data.capacity[s]) * open_site[s]
    for s, fixing in (fixings or {}).items():
        open_site[s].lowBound = open_site[s].upBound = fixing.value
    if data.budget is not None:
        prob += (
            pulp.lpSum(data.fixed_cost[s] * y for s, y in open_site.items())
            + pulp.lpSum(data.cost_per_place[a[1]] * x for a, x in placed.items())
            <= data.budget
        )
    if policy.mean_travel_limit_minutes is not None:
        prob += (
            pulp.lpSum((data.travel_minutes[a] - policy.mean_travel_limit_minutes) * x for a, x in placed.items()) <= 0
        )
    if policy.large_site_rule != "off":
        for members in data.large_by_province.values():
            if members:
                total = pulp.lpSum(open_site[s] for s in members)
                prob += {"exactly": total == 1, "at_most": total <= 1, "at_least": total >= 1}[policy.large_site_rule]
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=gap, timeLimit=time_limit, threads=1, logPath=str(log_path)))
    solved = time.perf_counter() - t1
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    bound = _last_float(text, r"best possible ([-+0-9.eE]+)") or _last_float(text, r"Lower bound:\s+([-+0-9.eE]+)")
    objective = pulp.value(prob.objective)
    return {
        "build": built,
        "solve": solved,
        "status": pulp.LpStatus[prob.status],
        "objective": objective,
        "bound": bound,
        "gap": (objective - bound) / abs(objective) if objective and bound else None,
        "stopped_on_time": "Stopped on time" in text or solved >= time_limit * 0.98,
    }


def _last_float(text: str, pattern: str) -> float | None:
    found = re.findall(pattern, text)
    return float(found[-1]) if found else None
