"""Build the allocation model (models/README.md) as a Pyomo ConcreteModel.

One builder per set, variable family and constraint family; each constraint builder returns
early on an empty index set and carries its math in its docstring. Component names are the
names used in models/README.md, LP files, error messages and output columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from .demand import scale_demand
from .instance import Instance
from .policy import Policy, check_policy


@dataclass(frozen=True)
class ModelData:
    """The numbers the model is built from, after the policy is applied (kept on the model as ``model.data``)."""

    demand: dict[str, int]
    province_of: dict[str, str]
    site_province: dict[str, str]
    site_kind: dict[str, str]
    capacity: dict[str, int]
    min_size: dict[str, int]
    fixed_cost: dict[str, float]
    cost_per_place: dict[str, float]
    arcs: list[tuple[str, str]]
    travel_minutes: dict[tuple[str, str], float]
    large_by_province: dict[str, list[str]]
    budget: float | None


def model_data(instance: Instance, policy: Policy) -> ModelData:
    """Apply the policy to the instance: scaled demand, eligible arcs, budget."""
    muni = instance.municipalities
    sites = instance.sites
    demand = scale_demand({m: int(d) for m, d in muni["demand"].items()}, policy.demand_scale)
    minutes = instance.travel
    eligible = np.isfinite(minutes)
    if policy.max_travel_minutes is not None:
        eligible &= minutes <= policy.max_travel_minutes
    regular = (sites["kind"] == "regular").to_numpy()
    if policy.max_travel_minutes_regular is not None:
        eligible &= ~regular[None, :] | (minutes <= policy.max_travel_minutes_regular)
    if not policy.allow_cross_province:
        eligible &= muni["province"].to_numpy()[:, None] == sites["province"].to_numpy()[None, :]
    has_demand = np.array([demand[m] > 0 for m in muni.index])
    eligible &= has_demand[:, None]
    if policy.nearest_regular_sites is not None:
        eligible &= ~regular[None, :] | _nearest(np.where(eligible & regular[None, :], minutes, np.inf), policy.nearest_regular_sites)
    rows, cols = np.nonzero(eligible)
    muni_ids, site_ids = list(muni.index), list(sites.index)
    arcs = [(muni_ids[r], site_ids[c]) for r, c in zip(rows.tolist(), cols.tolist())]
    large = sites[sites["kind"] == "large"]
    large_by_province = {p: [] for p in instance.provinces.index}
    for s, p in large["province"].items():
        large_by_province[p].append(s)
    return ModelData(
        demand=demand,
        province_of=muni["province"].to_dict(),
        site_province=sites["province"].to_dict(),
        site_kind=sites["kind"].to_dict(),
        capacity={s: int(v) for s, v in sites["capacity"].items()},
        min_size={s: int(v) for s, v in sites["min_size"].items()},
        fixed_cost={s: float(v) for s, v in sites["fixed_cost"].items()},
        cost_per_place={s: float(v) for s, v in sites["cost_per_place"].items()},
        arcs=arcs,
        travel_minutes=dict(zip(arcs, minutes[rows, cols].tolist())),
        large_by_province=large_by_province,
        budget=policy.effective_budget(instance.budget),
    )


def _nearest(minutes: np.ndarray, k: int) -> np.ndarray:
    """Per row, the k finite entries with the least minutes (ties by column order)."""
    keep = np.zeros(minutes.shape, dtype=bool)
    if minutes.shape[1] == 0:
        return keep
    k = min(k, minutes.shape[1])
    order = np.argsort(minutes, axis=1, kind="stable")[:, :k]
    rows = np.arange(minutes.shape[0])[:, None]
    keep[rows, order] = True
    return keep & np.isfinite(minutes)


def build_model(instance: Instance, policy: Policy) -> pyo.ConcreteModel:
    """The allocation model for ``instance`` under ``policy`` (see models/README.md)."""
    check_policy(policy, instance)
    data = model_data(instance, policy)
    m = pyo.ConcreteModel(name=f"allocation[{instance.name}]")
    m.data = data
    m.policy = policy
    add_sets(m, instance, data)
    add_variables(m, data, policy)
    add_cost_expressions(m, policy)
    add_demand_balance(m)
    add_site_capacity(m)
    add_site_min_size(m)
    add_open_site_link(m)
    add_large_site_per_province(m, policy.large_site_rule)
    add_budget_limit(m)
    add_mean_travel_limit(m, policy.mean_travel_limit_minutes)
    add_objective(m)
    apply_fixings(m, instance, policy)
    return m


def add_sets(m, instance: Instance, data: ModelData) -> None:
    """PROVINCES, MUNICIPALITIES (demand units), SITES, LARGE_SITES and the eligible ARCS."""
    m.PROVINCES = pyo.Set(initialize=list(instance.provinces.index), ordered=True)
    m.MUNICIPALITIES = pyo.Set(initialize=list(instance.municipalities.index), ordered=True)
    m.SITES = pyo.Set(initialize=list(instance.sites.index), ordered=True)
    m.LARGE_SITES = pyo.Set(initialize=[s for s in m.SITES if data.site_kind[s] == "large"], ordered=True)
    m.ARCS = pyo.Set(initialize=data.arcs, dimen=2, ordered=True)
    arcs_by_muni: dict[str, list] = {i: [] for i in m.MUNICIPALITIES}
    arcs_by_site: dict[str, list] = {s: [] for s in m.SITES}
    for i, s in data.arcs:
        arcs_by_muni[i].append((i, s))
        arcs_by_site[s].append((i, s))
    m.arcs_by_muni = arcs_by_muni
    m.arcs_by_site = arcs_by_site


def add_variables(m, data: ModelData, policy: Policy) -> None:
    """open_site[s] in {0,1}; placed[i,s] >= 0 (whole places unless whole_places = false); unmet[i] >= 0."""
    m.open_site = pyo.Var(m.SITES, domain=pyo.Binary)
    placed_domain = pyo.NonNegativeIntegers if policy.whole_places else pyo.NonNegativeReals
    m.placed = pyo.Var(m.ARCS, domain=placed_domain, bounds={(i, s): (0, min(data.demand[i], data.capacity[s])) for i, s in data.arcs})
    m.unmet = pyo.Var(m.MUNICIPALITIES, domain=pyo.NonNegativeReals, bounds={i: (0, d) for i, d in data.demand.items()})


def linear(terms) -> LinearExpression:
    """sum of coef * var over ``terms`` (pairs), built directly: operator overloading is the slow part of a large build."""
    return LinearExpression([var if coef == 1 else MonomialTermExpression((coef, var)) for coef, var in terms])


def add_demand_balance(m) -> None:
    """demand_balance[i]:  sum_{s:(i,s) in ARCS} placed[i,s] + unmet[i] = d_i   for i in MUNICIPALITIES."""
    if not len(m.MUNICIPALITIES):
        return
    d = m.data.demand

    def rule(m, i):
        return (d[i], linear([(1, m.placed[a]) for a in m.arcs_by_muni[i]] + [(1, m.unmet[i])]), d[i])

    m.demand_balance = pyo.Constraint(m.MUNICIPALITIES, rule=rule)


def add_site_capacity(m) -> None:
    """site_capacity[s]:  sum_{i:(i,s) in ARCS} placed[i,s] <= C_s * open_site[s]   for s in SITES."""
    if not len(m.SITES):
        return
    cap = m.data.capacity

    def rule(m, s):
        return (None, linear([(1, m.placed[a]) for a in m.arcs_by_site[s]] + [(-cap[s], m.open_site[s])]), 0)

    m.site_capacity = pyo.Constraint(m.SITES, rule=rule)


def add_site_min_size(m) -> None:
    """site_min_size[s]:  sum_{i:(i,s) in ARCS} placed[i,s] >= m_s * open_site[s]   for s with m_s > 0."""
    low = m.data.min_size
    index = [s for s in m.SITES if low[s] > 0]
    if not index:
        return

    def rule(m, s):
        return (0, linear([(1, m.placed[a]) for a in m.arcs_by_site[s]] + [(-low[s], m.open_site[s])]), None)

    m.site_min_size = pyo.Constraint(index, rule=rule)


def add_open_site_link(m) -> None:
    """open_site_link[i,s]:  placed[i,s] <= min(d_i, C_s) * open_site[s]   for (i,s) in ARCS.

    Implied by site_capacity for whole plans, but it makes the LP relaxation much tighter
    (the strong formulation of capacitated facility location).
    """
    if not len(m.ARCS):
        return
    d, cap = m.data.demand, m.data.capacity

    def rule(m, i, s):
        return (None, linear([(1, m.placed[i, s]), (-min(d[i], cap[s]), m.open_site[s])]), 0)

    m.open_site_link = pyo.Constraint(m.ARCS, rule=rule)


def add_large_site_per_province(m, rule_name: str) -> None:
    """large_site_per_province[p]:  sum_{s in L_p} open_site[s]  (= | <= | >=)  1   for p in PROVINCES.

    L_p are the large sites of province p. Rule "exactly", "at_most" or "at_least"; "off" adds nothing.
    Provinces without demand are left out; a province with demand and no large site makes the
    rules "exactly" and "at_least" infeasible, which the solve reports.
    """
    if rule_name == "off":
        return
    demand_by_province: dict[str, int] = {}
    for i, d in m.data.demand.items():
        demand_by_province[m.data.province_of[i]] = demand_by_province.get(m.data.province_of[i], 0) + d
    index = [p for p in m.PROVINCES if demand_by_province.get(p, 0) > 0 or m.data.large_by_province[p]]
    if not index:
        return
    large = m.data.large_by_province

    def rule(m, p):
        if not large[p]:
            return pyo.Constraint.Skip if rule_name == "at_most" else pyo.Constraint.Infeasible
        total = pyo.quicksum(m.open_site[s] for s in large[p])
        if rule_name == "exactly":
            return total == 1
        return total <= 1 if rule_name == "at_most" else total >= 1

    m.large_site_per_province = pyo.Constraint(index, rule=rule)


def add_budget_limit(m) -> None:
    """budget_limit:  sum_s F_s open_site[s] + sum_{(i,s)} c_s placed[i,s] <= B   (only when a budget is set)."""
    if m.data.budget is None:
        return
    m.budget_limit = pyo.Constraint(expr=m.fixed_cost_total + m.place_cost_total <= m.data.budget)


def add_mean_travel_limit(m, limit: float | None) -> None:
    """mean_travel_limit:  sum_{(i,s)} (t_is - T_mean) placed[i,s] <= 0

    i.e. total travel <= T_mean * total placed, the mean travel per placed person is at most T_mean.
    """
    if limit is None or not len(m.ARCS):
        return
    t = m.data.travel_minutes
    m.mean_travel_limit = pyo.Constraint(expr=(None, linear([(t[a] - limit, m.placed[a]) for a in m.ARCS]), 0))


def add_cost_expressions(m, policy: Policy) -> None:
    """The named parts of the objective, each in the currency of the instance:

    fixed_cost_total     = sum_s F_s open_site[s]
    place_cost_total     = sum_{(i,s)} c_s placed[i,s]
    travel_value_total   = sum_{(i,s)} w t_is placed[i,s]
    unmet_penalty_total  = M sum_i unmet[i]
    """
    d = m.data
    w, penalty = policy.travel_value, policy.unmet_penalty
    m.fixed_cost_total = pyo.Expression(expr=linear([(d.fixed_cost[s], m.open_site[s]) for s in m.SITES]))
    m.place_cost_total = pyo.Expression(expr=linear([(d.cost_per_place[a[1]], m.placed[a]) for a in m.ARCS]))
    m.travel_value_total = pyo.Expression(expr=linear([(w * d.travel_minutes[a], m.placed[a]) for a in m.ARCS]))
    m.unmet_penalty_total = pyo.Expression(expr=linear([(penalty, m.unmet[i]) for i in m.MUNICIPALITIES]))


def add_objective(m) -> None:
    """total_cost = unmet_penalty_total + fixed_cost_total + place_cost_total + travel_value_total."""
    m.total_cost = pyo.Objective(
        expr=m.unmet_penalty_total + m.fixed_cost_total + m.place_cost_total + m.travel_value_total,
        sense=pyo.minimize,
    )


def apply_fixings(m, instance: Instance, policy: Policy) -> None:
    """Existing sites stay open (keep_existing_open), forced sites open, forbidden sites closed.

    Fixings are variable bounds, not fixed variables, so that a solve session keeps the columns
    and can re-solve after the fixings change (see :func:`refix`).
    """
    fixed = {}
    if policy.keep_existing_open:
        fixed.update({s: 1 for s in instance.sites.index[instance.sites["status"] == "existing"]})
    fixed.update({s: 1 for s in policy.force_sites})
    fixed.update({s: 0 for s in policy.forbid_sites})
    for s, var in m.open_site.items():
        value = fixed.get(s)
        var.setlb(0 if value is None else value)
        var.setub(1 if value is None else value)


def refix(m, instance: Instance, policy: Policy) -> None:
    """Switch a built model to ``policy``'s fixings (forced, forbidden, existing sites) without rebuilding.

    Only the fixing keys may differ from the policy the model was built with.
    """
    check_policy(policy, instance)
    built = m.policy
    fixing_keys = {"force_sites", "forbid_sites", "keep_existing_open", "name", "description"}
    differing = [k for k, v in policy.to_dict().items() if k not in fixing_keys and v != built.to_dict()[k]]
    if differing:
        raise ValueError(f"refix can only change fixings; rebuild the model to change {', '.join(differing)}")
    apply_fixings(m, instance, policy)
    m.policy = policy
