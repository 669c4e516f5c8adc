"""Prototype: the allocation model as plain arrays (facility location with side rows), built without Pyomo.

Columns: open_site (S), placed (A), unmet (NI). Rows: demand_balance (NI), site_capacity (S),
site_min_size (S with m > 0), large_site_per_province, budget_limit, mean_travel_limit, and a
chosen subset of open_site_link (A). Used to measure solve strategies on the arrays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
from scipy.sparse import coo_array, csc_array


@dataclass
class Problem:
    name: str
    demand: np.ndarray  # (NI,)
    unit_group: np.ndarray  # (NI,) province index
    capacity: np.ndarray  # (S,)
    min_size: np.ndarray
    fixed: np.ndarray
    y_lo: np.ndarray
    y_hi: np.ndarray
    site_group: np.ndarray
    arc_unit: np.ndarray  # (A,)
    arc_site: np.ndarray
    arc_cost: np.ndarray  # objective per place
    arc_place_cost: np.ndarray  # budget coefficient per place
    arc_minutes: np.ndarray
    penalty: float
    large: list  # (site index array, lower, upper)
    budget: float | None = None
    mean_limit: float | None = None
    whole: bool = False

    @property
    def arc_upper(self) -> np.ndarray:
        return np.minimum(self.demand[self.arc_unit], self.capacity[self.arc_site])

    @property
    def sizes(self):
        return len(self.demand), len(self.capacity), len(self.arc_unit)


def from_model_data(data, policy, instance=None) -> Problem:
    units = list(data.demand)
    sites = list(data.capacity)
    ui = {u: k for k, u in enumerate(units)}
    si = {s: k for k, s in enumerate(sites)}
    provinces = sorted(set(data.province_of.values()) | set(data.site_province.values()))
    pi = {p: k for k, p in enumerate(provinces)}
    arcs = data.arcs
    au = np.fromiter((ui[i] for i, _ in arcs), dtype=np.int64, count=len(arcs))
    as_ = np.fromiter((si[s] for _, s in arcs), dtype=np.int64, count=len(arcs))
    minutes = np.fromiter((data.travel_minutes[a] for a in arcs), dtype=float, count=len(arcs))
    cpp = np.array([data.cost_per_place[s] for s in sites], dtype=float)
    y_lo = np.zeros(len(sites))
    y_hi = np.ones(len(sites))
    if instance is not None:
        st = instance.sites["status"].to_numpy()
        if policy.keep_existing_open:
            y_lo[st == "existing"] = 1
    for s in policy.force_sites:
        y_lo[si[s]] = 1
    for s in policy.forbid_sites:
        y_hi[si[s]] = 0
    large = []
    rule = policy.large_site_rule
    if rule != "off":
        demand_by = {}
        for i, d in data.demand.items():
            demand_by[data.province_of[i]] = demand_by.get(data.province_of[i], 0) + d
        for p, members in data.large_by_province.items():
            if members and (demand_by.get(p, 0) > 0 or members):
                lo = 1.0 if rule in ("exactly", "at_least") else -np.inf
                hi = 1.0 if rule in ("exactly", "at_most") else np.inf
                large.append((np.array([si[s] for s in members]), lo, hi))
    return Problem(
        name="model",
        demand=np.array([data.demand[u] for u in units], dtype=float),
        unit_group=np.array([pi[data.province_of[u]] for u in units]),
        capacity=np.array([data.capacity[s] for s in sites], dtype=float),
        min_size=np.array([data.min_size[s] for s in sites], dtype=float),
        fixed=np.array([data.fixed_cost[s] for s in sites], dtype=float),
        y_lo=y_lo,
        y_hi=y_hi,
        site_group=np.array([pi[data.site_province[s]] for s in sites]),
        arc_unit=au,
        arc_site=as_,
        arc_cost=cpp[as_] + policy.travel_value * minutes,
        arc_place_cost=cpp[as_],
        arc_minutes=minutes,
        penalty=policy.unmet_penalty,
        large=large,
        budget=data.budget,
        mean_limit=policy.mean_travel_limit_minutes,
        whole=policy.whole_places,
    )


def from_orlib(path, capacity=None) -> Problem:
    tokens = open(path).read().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    cap, fixed = [], []
    for _ in range(m):
        cap.append(float(capacity) if tokens[pos].lower() == "capacity" else float(tokens[pos]))
        fixed.append(float(tokens[pos + 1]))
        pos += 2
    demand, cost = [], []
    for _ in range(n):
        demand.append(float(tokens[pos]))
        cost.append([float(t) for t in tokens[pos + 1 : pos + 1 + m]])
        pos += 1 + m
    demand = np.array(demand)
    cost = np.array(cost)  # (n, m) cost of all of j's demand at i
    au = np.repeat(np.arange(n), m)
    as_ = np.tile(np.arange(m), n)
    per_unit = (cost / demand[:, None]).ravel()
    return Problem(
        name=str(path),
        demand=demand,
        unit_group=np.zeros(n, dtype=int),
        capacity=np.array(cap),
        min_size=np.zeros(m),
        fixed=np.array(fixed),
        y_lo=np.zeros(m),
        y_hi=np.ones(m),
        site_group=np.zeros(m, dtype=int),
        arc_unit=au,
        arc_site=as_,
        arc_cost=per_unit,
        arc_place_cost=np.zeros(n * m),
        arc_minutes=per_unit,
        penalty=1e9,
        large=[],
        whole=False,
    )


def restrict(p: Problem, groups) -> Problem:
    """The sub-problem of some provinces (valid when nothing couples them)."""
    keep_u = np.isin(p.unit_group, groups)
    keep_s = np.isin(p.site_group, groups)
    umap = -np.ones(len(keep_u), dtype=np.int64)
    umap[keep_u] = np.arange(keep_u.sum())
    smap = -np.ones(len(keep_s), dtype=np.int64)
    smap[keep_s] = np.arange(keep_s.sum())
    keep_a = keep_u[p.arc_unit] & keep_s[p.arc_site]
    large = [(smap[idx], lo, hi) for idx, lo, hi in p.large if keep_s[idx].all()]
    return replace(
        p,
        name=f"{p.name}[{','.join(map(str, groups))}]",
        demand=p.demand[keep_u],
        unit_group=p.unit_group[keep_u],
        capacity=p.capacity[keep_s],
        min_size=p.min_size[keep_s],
        fixed=p.fixed[keep_s],
        y_lo=p.y_lo[keep_s],
        y_hi=p.y_hi[keep_s],
        site_group=p.site_group[keep_s],
        arc_unit=umap[p.arc_unit[keep_a]],
        arc_site=smap[p.arc_site[keep_a]],
        arc_cost=p.arc_cost[keep_a],
        arc_place_cost=p.arc_place_cost[keep_a],
        arc_minutes=p.arc_minutes[keep_a],
        large=large,
    )


@dataclass
class Arrays:
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: csc_array
    n_base_rows: int  # rows before the link rows
    link_arcs: np.ndarray  # arcs whose link rows are in the matrix (rows n_base_rows ...)


def arrays(p: Problem, links=None, integer_y=True, integer_x=False, budget=True, mean=True, aggregate=False) -> Arrays:
    """Standard form. ``links``: arc indices with an open_site_link row (None = all)."""
    NI, S, A = p.sizes
    oy, ox, ou = 0, S, S + A
    n = S + A + NI
    ar = np.arange(A)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    rows += [r + p.arc_unit, r + np.arange(NI)]
    cols += [ox + ar, ou + np.arange(NI)]
    vals += [np.ones(A), np.ones(NI)]
    lo.append(p.demand)
    hi.append(p.demand)
    r += NI
    rows += [r + p.arc_site, r + np.arange(S)]
    cols += [ox + ar, oy + np.arange(S)]
    vals += [np.ones(A), -p.capacity]
    lo.append(np.full(S, -np.inf))
    hi.append(np.zeros(S))
    r += S
    ms = np.flatnonzero(p.min_size > 0)
    if len(ms):
        rmap = -np.ones(S, dtype=np.int64)
        rmap[ms] = np.arange(len(ms))
        keep = rmap[p.arc_site] >= 0
        rows += [r + rmap[p.arc_site[keep]], r + np.arange(len(ms))]
        cols += [ox + ar[keep], oy + ms]
        vals += [np.ones(keep.sum()), -p.min_size[ms]]
        lo.append(np.zeros(len(ms)))
        hi.append(np.full(len(ms), np.inf))
        r += len(ms)
    for idx, low, h in p.large:
        rows.append(np.full(len(idx), r))
        cols.append(oy + idx)
        vals.append(np.ones(len(idx)))
        lo.append(np.array([low]))
        hi.append(np.array([h]))
        r += 1
    if aggregate:
        # per group, the sum of demand_balance and site_capacity rows: open capacity plus unmet covers the demand
        for g in np.unique(p.unit_group):
            su = np.flatnonzero(p.unit_group == g)
            ss = np.flatnonzero(p.site_group == g)
            rows += [np.full(len(ss), r), np.full(len(su), r)]
            cols += [oy + ss, ou + su]
            vals += [p.capacity[ss], np.ones(len(su))]
            lo.append(np.array([p.demand[su].sum()]))
            hi.append(np.array([np.inf]))
            r += 1
            if aggregate == "both":
                rows += [np.full(len(ss), r), np.full(len(su), r)]
                cols += [oy + ss, ou + su]
                vals += [p.min_size[ss], np.ones(len(su))]
                lo.append(np.array([-np.inf]))
                hi.append(np.array([p.demand[su].sum()]))
                r += 1
    if budget and p.budget is not None:
        rows += [np.full(S, r), np.full(A, r)]
        cols += [oy + np.arange(S), ox + ar]
        vals += [p.fixed, p.arc_place_cost]
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.budget]))
        r += 1
    if mean and p.mean_limit is not None:
        rows.append(np.full(A, r))
        cols.append(ox + ar)
        vals.append(p.arc_minutes - p.mean_limit)
        lo.append(np.array([-np.inf]))
        hi.append(np.array([0.0]))
        r += 1
    base = r
    la = ar if links is None else np.asarray(links, dtype=np.int64)
    k = len(la)
    if k:
        rows += [r + np.arange(k), r + np.arange(k)]
        cols += [ox + la, oy + p.arc_site[la]]
        vals += [np.ones(k), -p.arc_upper[la]]
        lo.append(np.full(k, -np.inf))
        hi.append(np.zeros(k))
        r += k
    M = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n)).tocsc()
    cost = np.concatenate([p.fixed, p.arc_cost, np.full(NI, p.penalty)])
    lower = np.concatenate([p.y_lo, np.zeros(A), np.zeros(NI)])
    upper = np.concatenate([p.y_hi, p.arc_upper, p.demand])
    integer = np.zeros(n, dtype=np.int32)
    if integer_y:
        integer[:S] = 1
    if integer_x:
        integer[S : S + A] = 1
    return Arrays(cost, lower, upper, integer, np.concatenate(lo), np.concatenate(hi), M, base, la)


def highs(
    a: Arrays, gap=1e-4, time_limit=600.0, threads=1, log=False, presolve=True, integer=True, **options
) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", log)
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("time_limit", float(time_limit))
    if not presolve:
        h.setOptionValue("presolve", "off")
    for k, v in options.items():
        h.setOptionValue(k, v)
    lp = highspy.HighsLp()
    lp.num_col_ = len(a.cost)
    lp.num_row_ = len(a.row_lower)
    lp.col_cost_ = a.cost
    lp.col_lower_ = a.lower
    lp.col_upper_ = a.upper
    lp.row_lower_ = a.row_lower
    lp.row_upper_ = a.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.matrix.indptr
    lp.a_matrix_.index_ = a.matrix.indices
    lp.a_matrix_.value_ = a.matrix.data
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if integer and a.integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in a.integer]
    h.passModel(lp)
    return h


def run(h: highspy.Highs) -> dict:
    t = time.perf_counter()
    h.run()
    info = h.getInfo()
    out = {
        "seconds": time.perf_counter() - t,
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": info.objective_function_value if info.primal_solution_status == 2 else None,
        "bound": info.mip_dual_bound,
        "gap": info.mip_gap,
        "nodes": info.mip_node_count,
        "iterations": info.simplex_iteration_count,
    }
    return out
