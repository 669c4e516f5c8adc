"""Build the allocation model (models/README.md) as a Pyomo ConcreteModel.

One builder per set, variable family and constraint family; each constraint builder returns
early on an empty index set and carries its math in its docstring. Component names are the
names used in models/README.md, LP files, error messages and output columns.

The families of placing people (demand_balance, site_capacity, group_capacity, site_min_size,
open_site_link, large_site_per_province, budget_limit, mean_travel_limit, fair_share) are written once, here,
for every shape of model: a snapshot, a plan over periods and scenarios (model/horizon.py) and the
allocation decision (model/decision.py). A model's ``rows`` (:class:`SnapshotRows`, or the
horizon's) says over which indices each family holds and which variables a row reads; the math
is the builder's.

With ``elastic=True`` the builders of the hard rules add a penalised slack to their rows
(:mod:`allocator.model.elastic`) and fixings become rows; explanations of infeasibility use it.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from ..data.instance import Instance
from ..data.policy import LargeSiteRule, Policy, check_policy, site_fixings
from .data import model_data
from .elastic import Elastic


def build_model(instance: Instance, policy: Policy, elastic: bool = False) -> pyo.ConcreteModel:
    """The allocation model for ``instance`` under ``policy`` (see models/README.md)."""
    check_policy(policy, instance)
    m = pyo.ConcreteModel(name=f"allocation[{instance.name}]")
    m.data = model_data(instance, policy)
    m.policy = policy
    m.elastic = Elastic(m) if elastic else None
    m.decision = None
    add_sets(m, instance)
    m.rows = SnapshotRows(m)
    add_variables(m, policy)
    add_cost_expressions(m, policy)
    add_demand_balance(m)
    add_site_capacity(m)
    add_group_capacity(m)
    add_site_min_size(m)
    add_open_site_link(m)
    add_large_site_per_province(m, policy.large_site_rule)
    add_budget_limit(m)
    add_mean_travel_limit(m, policy.mean_travel_limit_minutes)
    add_fair_share(m, policy.fair_share_band)
    add_objective(m)
    apply_fixings(m, instance, policy)
    return m


def linear(terms) -> LinearExpression:
    """sum of coef * var over ``terms`` (pairs), built directly: operator overloading is the slow part of a large build."""
    return LinearExpression([var if coef == 1 else MonomialTermExpression((coef, var)) for coef, var in terms])


def add_sets(m, instance: Instance) -> None:
    """PROVINCES, MUNICIPALITIES, SITES, LARGE_SITES and the eligible ARCS; with demand groups also
    GROUPS, MUNICIPALITY_GROUPS (the demand units) and SITE_GROUPS, and ARCS of (i, s, g)."""
    d = m.data
    m.PROVINCES = pyo.Set(initialize=list(instance.provinces.index), ordered=True)
    m.MUNICIPALITIES = pyo.Set(initialize=list(instance.municipalities.index), ordered=True)
    m.SITES = pyo.Set(initialize=list(instance.sites.index), ordered=True)
    m.LARGE_SITES = pyo.Set(initialize=[s for s in m.SITES if d.site_kind[s] == "large"], ordered=True)
    if d.groups:
        m.GROUPS = pyo.Set(initialize=list(d.groups), ordered=True)
        m.MUNICIPALITY_GROUPS = pyo.Set(initialize=list(d.demand), dimen=2, ordered=True)
        m.SITE_GROUPS = pyo.Set(initialize=list(d.site_groups), dimen=2, ordered=True)
    m.ARCS = pyo.Set(initialize=d.arcs, dimen=3 if d.groups else 2, ordered=True)


def units(m):
    """The demand units: MUNICIPALITIES, or MUNICIPALITY_GROUPS with demand groups."""
    return m.MUNICIPALITY_GROUPS if m.data.groups else m.MUNICIPALITIES


def group_of(unit) -> str | None:
    """The group of a demand unit: None for a municipality, g for (i, g)."""
    return None if isinstance(unit, str) else unit[1]


def shares(provinces, units: list[tuple[str, float, list]]) -> list[tuple[str, float, float, list, list]]:
    """(p, task_p, task, placed of p's task units, placed of the other provinces' task units) per province of
    ``provinces`` with a task and others beside it (alone, a province keeps its whole share), from (province, demand,
    placed variables) per task unit of one case."""
    task_of: dict[str, float] = {}
    placed_of: dict[str, list] = {}
    for p, demand, placed in units:
        task_of[p] = task_of.get(p, 0) + demand
        placed_of.setdefault(p, []).extend(placed)
    task = sum(task_of.values())
    rows = []
    for p in provinces:
        if task_of.get(p, 0) > 0 and task_of[p] < task:
            others = [v for q, placed in placed_of.items() if q != p for v in placed]
            rows.append((p, task_of[p], task, placed_of[p], others))
    return rows


class SnapshotRows:
    """The indices of each family in a snapshot (one period, one scenario): a row per demand unit, site,
    (site, group), arc and province, and one budget and travel row."""

    def __init__(self, m):
        self.m = m

    def demand(self):
        """(index, demand, arcs) per demand unit."""
        d = self.m.data
        return [(u, d.demand[u], d.arcs_by_municipality[u]) for u in units(self.m)]

    def sites(self):
        """(index, site, group or None, open index, arcs) per site."""
        d = self.m.data
        return [(s, s, None, s, d.arcs_by_site[s]) for s in self.m.SITES]

    def groups(self):
        """(index, site, group, open index, arcs) per (site, group) with a capacity of its own."""
        d = self.m.data
        return [((s, g), s, g, s, [a for a in d.arcs_by_site[s] if a[2] == g]) for (s, g) in (d.group_capacity or {})]

    def min_sizes(self):
        """(index, site, open index, arcs) per site with a minimum size."""
        d = self.m.data
        return [(s, s, s, d.arcs_by_site[s]) for s in self.m.SITES if d.min_size[s] > 0]

    def links(self):
        """(arc, bound, open index) per arc."""
        d = self.m.data
        return [(a, d.arc_bound(a), a[1]) for a in self.m.ARCS]

    def large(self):
        """(index, open indices of its large sites) per province with demand or large sites."""
        d = self.m.data
        return [
            (p, d.large_by_province[p])
            for p in self.m.PROVINCES
            if d.demand_by_province.get(p, 0) > 0 or d.large_by_province[p]
        ]

    def fixings(self, instance: Instance, policy: Policy):
        """(open index, lower, upper) per site: existing sites open (keep_existing_open), forced open, forbidden closed."""
        fixed = site_fixings(instance, policy)
        return [(s, fixed[s].value, fixed[s].value) if s in fixed else (s, 0, 1) for s in self.m.SITES]

    def budgets(self):
        """(index or None, budget, money terms): the money spent, fixed and per place, when a budget is set."""
        m, d = self.m, self.m.data
        if d.budget is None:
            return []
        terms = [(d.fixed_cost[s], m.open_site[s]) for s in m.SITES] + [(d.place_cost(a), m.placed[a]) for a in m.ARCS]
        return [(None, d.budget, terms)]

    def travel(self):
        """(index or None, [(minutes, placed)]): the trips of the plan."""
        m, d = self.m, self.m.data
        return [(None, [(d.travel_minutes[a], m.placed[a]) for a in m.ARCS])] if len(m.ARCS) else []

    def fair_share(self):
        """(p, task_p, task, placed of p's task units, placed of the others') per province with a task."""
        m, d = self.m, self.m.data
        task_units = [
            (d.province_of[d.municipality(u)], d.demand[u], [m.placed[a] for a in d.arcs_by_municipality[u]])
            for u in units(m)
            if d.in_task(u)
        ]
        return shares(m.PROVINCES, task_units)


def add_variables(m, policy: Policy) -> None:
    """open_site[s] in {0,1}; placed[a] >= 0 on each arc, at most min(d, C) (whole places unless
    whole_places = false); unmet[u] >= 0 for each demand unit u, at most its demand."""
    d = m.data
    m.open_site = pyo.Var(m.SITES, domain=pyo.Binary)
    placed_domain = pyo.NonNegativeIntegers if policy.whole_places else pyo.NonNegativeReals
    m.placed = pyo.Var(m.ARCS, domain=placed_domain, bounds={a: (0, d.arc_bound(a)) for a in d.arcs})
    m.unmet = pyo.Var(units(m), domain=pyo.NonNegativeReals, bounds={u: (0, v) for u, v in d.demand.items()})


def add_cost_expressions(m, policy: Policy) -> None:
    """The named parts of the objective, each in the currency of the instance.

    fixed_cost_total     = sum_s F_s open_site[s]
    place_cost_total     = sum_{(i,s)} c_s placed[i,s]      (groups: sum_{(i,s,g)} c_sg placed[i,s,g])
    travel_value_total   = sum_{(i,s)} w t_is placed[i,s]
    unmet_penalty_total  = M sum_i unmet[i]                 (groups: sum_{(i,g)} M_g unmet[i,g])
    """
    d = m.data
    w = policy.travel_value
    m.fixed_cost_total = pyo.Expression(expr=linear([(d.fixed_cost[s], m.open_site[s]) for s in m.SITES]))
    m.place_cost_total = pyo.Expression(expr=linear([(d.place_cost(a), m.placed[a]) for a in m.ARCS]))
    m.travel_value_total = pyo.Expression(expr=linear([(w * d.travel_minutes[a], m.placed[a]) for a in m.ARCS]))
    m.unmet_penalty_total = pyo.Expression(
        expr=linear([(policy.penalty_of(group_of(u)), var) for u, var in m.unmet.items()])
    )


def add_demand_balance(m) -> None:
    """demand_balance[i]:  sum_{s:(i,s) in ARCS} placed[i,s] + unmet[i] = d_i   for i in MUNICIPALITIES.

    With demand groups, demand_balance[i,g] over (i,s,g) in ARCS, for (i,g) in MUNICIPALITY_GROUPS.
    Over periods, demand_balance[i(,g),t,ω] + emergency[i(,g),t,ω] where the province has emergency capacity.
    """
    rows = {index: (value, arcs) for index, value, arcs in m.rows.demand()}
    if not rows:
        return
    emergency = getattr(m, "emergency", {})

    def rule(m, *index):
        k = index[0] if len(index) == 1 else index
        value, arcs = rows[k]
        terms = [(1, m.placed[a]) for a in arcs] + [(1, m.unmet[k])]
        if k in emergency:
            terms.append((1, emergency[k]))
        return (value, linear(terms), value)

    m.demand_balance = pyo.Constraint(list(rows), rule=rule)


def site_load(m, s: str, group: str | None, arcs: list) -> tuple[list, float]:
    """The places at site s (of one group, if given) as (terms, constant): the places on ``arcs``, or in an
    allocation decision the places committed (constant) plus those added (models/README.md, "The allocation decision")."""
    if m.decision is not None:
        return m.decision.load(m, s, group)
    return [(1, m.placed[a]) for a in arcs], 0.0


def rest(constant: float):
    """The right-hand side left once a row's constant load moves across: 0 when there is none."""
    return -constant if constant else 0


def add_site_capacity(m) -> None:
    """site_capacity[s]:  sum_{i:(i,s) in ARCS} placed[i,s] <= C_s * open_site[s]   for s in SITES.

    In an allocation decision the load is committed + added places; over periods,
    site_capacity[s,t,ω] with open_site[s,t], for the sites with arcs in (t, ω).
    """
    rows = {index: row for index, *row in m.rows.sites()}
    if not rows:
        return
    d = m.data

    def rule(m, *index):
        s, group, opened, arcs = rows[index[0] if len(index) == 1 else index]
        terms, constant = site_load(m, s, group, arcs)
        return (None, linear([*terms, (-d.capacity[s], m.open_site[opened])]), rest(constant))

    m.site_capacity = pyo.Constraint(list(rows), rule=rule)


def add_group_capacity(m) -> None:
    """group_capacity[s,g]:  sum_{i:(i,s,g) in ARCS} placed[i,s,g] <= C_sg * open_site[s]   for (s,g) in SITE_GROUPS with C_sg < C_s.

    Over periods, group_capacity[s,g,t,ω] with open_site[s,t], for the (t, ω) with arcs of g at s.
    """
    rows = {index: row for index, *row in m.rows.groups()}
    if not rows:
        return
    d = m.data

    def rule(m, *index):
        s, g, opened, arcs = rows[index]
        terms, constant = site_load(m, s, g, arcs)
        return (None, linear([*terms, (-d.group_capacity[(s, g)], m.open_site[opened])]), rest(constant))

    m.group_capacity = pyo.Constraint(list(rows), rule=rule)


def add_site_min_size(m) -> None:
    """site_min_size[s]:  sum_{i:(i,s) in ARCS} placed[i,s] >= m_s * open_site[s]   for s with m_s > 0.

    Over periods, site_min_size[s,t,ω] with open_site[s,t] in every (t, ω).
    Elastic: + elastic_slack, at most m_s.
    """
    rows = {index: row for index, *row in m.rows.min_sizes()}
    if not rows:
        return
    d = m.data

    def rule(m, *index):
        k = index[0] if len(index) == 1 else index
        s, opened, arcs = rows[k]
        load, constant = site_load(m, s, None, arcs)
        terms = [*load, (-d.min_size[s], m.open_site[opened])]
        if m.elastic is not None:
            terms.append((1, m.elastic.slack("site_min_size", k, d.min_size[s])))
        return (rest(constant), linear(terms), None)

    m.site_min_size = pyo.Constraint(list(rows), rule=rule)


def add_open_site_link(m) -> None:
    """open_site_link[i,s]:  placed[i,s] <= min(d_i, C_s) * open_site[s]   for (i,s) in ARCS.

    Implied by site_capacity for whole plans, but it makes the LP relaxation much tighter
    (the strong formulation of capacitated facility location). With demand groups,
    open_site_link[i,s,g]:  placed[i,s,g] <= min(d_ig, C_sg) * open_site[s]. Over periods,
    open_site_link[i,s(,g),t,ω] with open_site[s,t], where d_itω < C_s (else implied by site_capacity).
    """
    rows = {arc: row for arc, *row in m.rows.links()}
    if not rows:
        return

    def rule(m, *arc):
        bound, opened = rows[arc]
        return (None, linear([(1, m.placed[arc]), (-bound, m.open_site[opened])]), 0)

    m.open_site_link = pyo.Constraint(list(rows), rule=rule)


def add_large_site_per_province(m, rule: LargeSiteRule) -> None:
    """large_site_per_province[p]:  sum_{s in L_p} open_site[s]  (= | <= | >=)  1   for p in PROVINCES.

    L_p are the large sites of province p. Rule "exactly", "at_most" or "at_least"; "off" adds nothing.
    Provinces without demand and without large sites are left out; a province with demand and no
    large site makes the rules "exactly" and "at_least" infeasible, which the solve reports.
    Over periods, large_site_per_province[p,t] over the large sites of p that may be open in t.
    Elastic: + elastic_slack (a missing large site, at most 1) - elastic_slack (extra large sites).
    """
    if rule is LargeSiteRule.OFF:
        return
    rows = {index: sites for index, sites in m.rows.large()}
    if not rows:
        return

    def row(m, *index):
        k = index[0] if len(index) == 1 else index
        large = rows[k]
        terms = [(1, m.open_site[s]) for s in large]
        if m.elastic is not None:
            if rule is LargeSiteRule.AT_MOST and len(large) <= 1:
                return pyo.Constraint.Skip  # holds whatever the plan: nothing to relax
            if rule.needs_one:
                terms.append((1, m.elastic.slack("large_below", k, 1.0)))
            if rule.caps_at_one and len(large) > 1:
                terms.append((-1, m.elastic.slack("large_above", k, float(len(large) - 1))))
        elif not large:
            return pyo.Constraint.Skip if rule is LargeSiteRule.AT_MOST else pyo.Constraint.Infeasible
        total = linear(terms)
        if rule is LargeSiteRule.EXACTLY:
            return (1, total, 1)
        return (None, total, 1) if rule is LargeSiteRule.AT_MOST else (1, total, None)

    m.large_site_per_province = pyo.Constraint(list(rows), rule=row)


def add_budget_limit(m) -> None:
    """budget_limit:  sum_s F_s open_site[s] + sum_{(i,s)} c_s placed[i,s] <= B   (only when a budget is set).

    Over periods, budget_limit[t,ω]: the money spent in t under ω (models/README.md) <= B_t.
    Elastic: - elastic_slack, at most the cost of everything open and full minus B.
    """
    rows = m.rows.budgets()
    if not rows:
        return
    d = m.data

    def spend(index, budget, terms):
        if m.elastic is not None:
            most = sum(d.fixed_cost.values()) + sum(d.place_cost(a) * d.arc_bound(a) for a in d.arcs)
            if most > budget:
                terms = [*terms, (-1, m.elastic.slack("budget_limit", "", most - budget))]
        return (None, linear(terms), budget)

    if rows[0][0] is None:
        m.budget_limit = pyo.Constraint(expr=spend(*rows[0]))
        return
    by_index = {row[0]: row for row in rows}
    m.budget_limit = pyo.Constraint(list(by_index), rule=lambda m, *index: spend(*by_index[index]))


def add_mean_travel_limit(m, limit: float | None) -> None:
    """mean_travel_limit:  sum_{(i,s)} (t_is - T_mean) placed[i,s] <= 0.

    i.e. total travel <= T_mean * total placed: the mean travel per placed person is at most T_mean.
    Over periods, mean_travel_limit[t,ω] over the placements of (t, ω).
    Elastic: - elastic_slack, at most the place-minutes above T_mean of everything placed.
    """
    rows = m.rows.travel() if limit is not None else []
    if not rows:
        return
    d = m.data

    def mean(trips):
        terms = [(minutes - limit, var) for minutes, var in trips]
        if m.elastic is not None:
            most = sum(max(d.travel_minutes[a] - limit, 0.0) * d.arc_bound(a) for a in d.arcs)
            if most > 0:
                terms.append((-1, m.elastic.slack("mean_travel_limit", "", most)))
        return (None, linear(terms), 0)

    if rows[0][0] is None:
        m.mean_travel_limit = pyo.Constraint(expr=mean(rows[0][1]))
        return
    by_index = dict(rows)
    m.mean_travel_limit = pyo.Constraint(list(by_index), rule=lambda m, *index: mean(by_index[index]))


def add_fair_share(m, band: float | None) -> None:
    """fair_share[p]:  task · sum_{(i,s): i in I_p} placed[i,s] - (1 - b) · task_p · sum_{(i,s)} placed[i,s] >= 0.

    i.e. sum_{i in I_p} placed >= (1 - b) (task_p / task) sum_i placed: each province keeps at least its share
    of the places placed nationally, less the band b (policy fair_share_band), so that scarcity falls on every
    province alike. task_p is the demand of p's municipalities (with demand groups, of the groups with target
    province, and only their places count) and task = sum_p task_p; for p with 0 < task_p < task.
    Over periods, fair_share[p,t,ω] with the demand and places of (t, ω).
    Elastic: + elastic_slack, at most (1 - b) task_p task.
    """
    rows = {index: row for index, *row in m.rows.fair_share()} if band is not None else {}
    if not rows:
        return
    keep = 1.0 - band

    def rule(m, *index):
        k = index[0] if len(index) == 1 else index
        task_p, task, own, others = rows[k]
        terms = [(task - keep * task_p, v) for v in own] + [(-keep * task_p, v) for v in others]
        if m.elastic is not None:
            terms.append((1, m.elastic.slack("fair_share", k, keep * task_p * task)))
        return (0, linear(terms), None)

    m.fair_share = pyo.Constraint(list(rows), rule=rule)


def add_objective(m) -> None:
    """total_cost = unmet_penalty_total + fixed_cost_total + place_cost_total + travel_value_total."""
    m.total_cost = pyo.Objective(
        expr=m.unmet_penalty_total + m.fixed_cost_total + m.place_cost_total + m.travel_value_total,
        sense=pyo.minimize,
    )


def apply_fixings(m, instance: Instance, policy: Policy) -> None:
    """Existing sites stay open (keep_existing_open), forced sites open, forbidden sites closed; over periods,
    existing sites until their contract end, forced ones from their earliest period, none before it (lead time).

    Fixings are variable bounds, not fixed variables, so that a solve session keeps the columns
    and can re-solve after the fixings change (see :func:`refix`). Elastic: rows instead,
    site_fixing[s]:  open_site[s] + elastic_slack >= 1 (open) or open_site[s] - elastic_slack <= 0 (closed).
    """
    if m.elastic is not None:
        add_site_fixing(m, site_fixings(instance, policy))
        return
    for index, low, high in m.rows.fixings(instance, policy):
        m.open_site[index].setlb(low)
        m.open_site[index].setub(high)


def add_site_fixing(m, fixed: dict) -> None:
    """site_fixing[s] (elastic models only): the fixing of site s as a row with a slack of at most 1."""
    if not fixed:
        return

    def rule(m, s):
        slack = m.elastic.slack("fixing", s, 1.0, fixed[s].key)
        if fixed[s].value == 1:
            return (1, linear([(1, m.open_site[s]), (1, slack)]), None)
        return (None, linear([(1, m.open_site[s]), (-1, slack)]), 0)

    m.site_fixing = pyo.Constraint(list(fixed), rule=rule)


def refix(m, instance: Instance, policy: Policy) -> None:
    """Switch a built model to ``policy``'s fixings (forced, forbidden, existing sites) without rebuilding.

    Only the fixing keys may differ from the policy the model was built with.
    """
    check_policy(policy, instance)
    built = m.policy.to_dict()
    fixing_keys = {"force_sites", "forbid_sites", "keep_existing_open", "name", "description"}
    differing = [k for k, v in policy.to_dict().items() if k not in fixing_keys and v != built[k]]
    if differing:
        raise ValueError(f"refix can only change fixings; rebuild the model to change {', '.join(differing)}")
    apply_fixings(m, instance, policy)
    m.policy = policy
