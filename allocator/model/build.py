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
    m.rows = SnapshotRows(m)
    add_sets(m, instance)
    add_variables(m, policy)
    add_cost_expressions(m, policy)
    add_demand_balance(m)
    add_site_capacity(m)
    add_group_capacity(m)
    add_site_min_size(m)
    add_open_site_link(m)
    add_operator_choice(m)
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
    """PROVINCES, MUNICIPALITIES, SITES, LARGE_SITES; GROUPS with demand groups; then the sets of the model's shape
    (``m.rows.sets()``): the eligible ARCS of (i, s) or (i, s, g), and in one case MUNICIPALITY_GROUPS (the demand
    units) and SITE_GROUPS, over periods PERIODS, SCENARIOS, CASES and the cases of arcs, demand and sites."""
    d = m.data
    m.PROVINCES = pyo.Set(initialize=list(instance.provinces.index), ordered=True)
    m.MUNICIPALITIES = pyo.Set(initialize=list(instance.municipalities.index), ordered=True)
    m.SITES = pyo.Set(initialize=list(instance.sites.index), ordered=True)
    m.LARGE_SITES = pyo.Set(initialize=[s for s in m.SITES if d.site_kind[s] == "large"], ordered=True)
    if d.groups:
        m.GROUPS = pyo.Set(initialize=list(d.groups), ordered=True)
    for name, members, dimen in m.rows.sets():
        m.add_component(name, pyo.Set(initialize=members, dimen=dimen, ordered=True))


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
        self.cases = [()]  # the one case: no period, no scenario

    def sets(self):
        """(name, members, dimen) of the sets of one case: the demand units and site groups, and ARCS."""
        d = self.m.data
        if d.groups:
            yield "MUNICIPALITY_GROUPS", list(d.demand), 2
            yield "SITE_GROUPS", list(d.site_groups), 2
        yield "ARCS", d.arcs, 3 if d.groups else 2

    def open_index(self):
        """The index sets of open_site: SITES."""
        return (self.m.SITES,)

    def placed_index(self):
        """(index, bounds) of placed: ARCS, at most min(d, C)."""
        d = self.m.data
        return self.m.ARCS, {a: (0, d.arc_bound(a)) for a in d.arcs}

    def unmet_index(self):
        """(index, bounds) of unmet: the demand units, at most their demand."""
        return units(self.m), {u: (0, v) for u, v in self.m.data.demand.items()}

    def columns(self):
        """The variables the parts of the cost add up, with the weight of their period (1 in one case) and their
        scenario (None in one case): (open index, site, weight), (placed index, arc, weight, scenario) and
        (unmet index, unit, weight, scenario)."""
        m = self.m
        return (
            [(s, s, 1.0) for s in m.SITES],
            [(a, a, 1.0, None) for a in m.ARCS],
            [(u, u, 1.0, None) for u in m.unmet],
        )

    def costs(self, policy: Policy) -> dict:
        """The terms of each part of the cost (see :func:`add_cost_expressions`)."""
        return placing_costs(self.m, policy)

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

    def operator_choices(self):
        """(l, open_site of its variants) per site l with operator variants."""
        m = self.m
        return [(location, [m.open_site[s] for s in sites]) for location, sites in m.data.variants.items()]

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
    """open_site[s] in {0,1} (open_site[s,t] over periods); placed[a] >= 0 on each arc (each arc case over periods),
    at most min(d, C), whole places unless whole_places = false; unmet[u] >= 0 for each demand unit (case), at most
    its demand."""
    rows = m.rows
    m.open_site = pyo.Var(*rows.open_index(), domain=pyo.Binary)
    placed_domain = pyo.NonNegativeIntegers if policy.whole_places else pyo.NonNegativeReals
    index, bounds = rows.placed_index()
    m.placed = pyo.Var(index, domain=placed_domain, bounds=bounds)
    index, bounds = rows.unmet_index()
    m.unmet = pyo.Var(index, domain=pyo.NonNegativeReals, bounds=bounds)


# The parts of the cost, in the order the objective adds them: the parts of placing people are per scenario
# over scenarios, the others (the sites') are not.
COST_PARTS = (
    "unmet_penalty_total",
    "fixed_cost_total",
    "standby_cost_total",
    "opening_cost_total",
    "closing_cost_total",
    "extension_cost_total",
    "place_cost_total",
    "emergency_cost_total",
    "travel_value_total",
    "move_cost_total",
)


def placing_costs(m, policy: Policy) -> dict:
    """The terms of unmet_penalty_total, fixed_cost_total, place_cost_total and travel_value_total from the rows'
    columns; a part of placing people is a dict scenario -> terms over scenarios, its terms in one case."""
    d = m.data
    w = policy.travel_value
    opened, placed, unmet = m.rows.columns()
    scenarios = list(m.SCENARIOS) if hasattr(m, "SCENARIOS") else [None]
    parts = {
        name: {s: [] for s in scenarios} for name in ("unmet_penalty_total", "place_cost_total", "travel_value_total")
    }
    for k, unit, weight, scenario in unmet:
        parts["unmet_penalty_total"][scenario].append((weight * policy.penalty_of(group_of(unit)), m.unmet[k]))
    for k, arc, weight, scenario in placed:
        parts["place_cost_total"][scenario].append((weight * d.place_cost(arc), m.placed[k]))
        parts["travel_value_total"][scenario].append((weight * w * d.travel_minutes[arc], m.placed[k]))
    if scenarios == [None]:
        parts = {name: terms[None] for name, terms in parts.items()}
    parts["fixed_cost_total"] = [(weight * d.fixed_cost[s], m.open_site[k]) for k, s, weight in opened]
    return parts


def add_cost_expressions(m, policy: Policy) -> None:
    """The named parts of the objective (models/README.md, "Objective"), each in the currency of the instance; over
    periods a term counts with the weight f_t = δ_t y_t / (years per planning period) of its period (1 in one case),
    and the parts of placing people are per scenario ω:

    unmet_penalty_total[ω]  = sum_t f_t sum_u M_g unmet[u,t,ω]          (M for every unit without demand groups)
    fixed_cost_total        = sum_t f_t sum_s F_s open_site[s,t]
    standby_cost_total      = sum_t f_t sum_s Q_s standby_site[s,t]       (over periods, as the three that follow)
    opening_cost_total      = sum_t δ_t sum_s O_s site_opening[s,t]
    closing_cost_total      = sum_t δ_t sum_s K_st site_closing[s,t]
    extension_cost_total    = sum_s δ_(b_s+1) X_s site_extension[s]
    place_cost_total[ω]     = sum_t f_t sum_a c_a placed[a,t,ω]           (c_s, or c_sg for a group's arc)
    emergency_cost_total[ω] = sum_t f_t sum_u e_p(u)t emergency[u,t,ω]    (over periods)
    travel_value_total[ω]   = sum_t f_t sum_a w t_a placed[a,t,ω]
    move_cost_total[ω]      = sum_t δ_t κ sum_s moved[s,t,ω]              (when moves are modelled)

    Over scenarios also site_cost_total (the parts without ω) and scenario_cost[ω] (those with ω).
    """
    parts = m.rows.costs(policy)
    for name in COST_PARTS:
        terms = parts.get(name)
        if terms is None:
            continue
        if isinstance(terms, dict):
            m.add_component(name, pyo.Expression(m.SCENARIOS, rule=lambda m, w, terms=terms: linear(terms[w])))
        else:
            m.add_component(name, pyo.Expression(expr=linear(terms)))
    if hasattr(m, "SCENARIOS"):
        named = [(name, m.component(name)) for name in COST_PARTS if m.component(name) is not None]
        m.site_cost_total = pyo.Expression(expr=sum(e for _, e in named if not e.is_indexed()))
        m.scenario_cost = pyo.Expression(m.SCENARIOS, rule=lambda m, w: sum(e[w] for _, e in named if e.is_indexed()))


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


def add_operator_choice(m) -> None:
    """operator_choice[l]:  sum_{s in V_l} open_site[s] <= 1   for each site l with operator variants (site_operators.csv).

    V_l is the site l as sites.csv gives it and its variants run by other operators (the municipality, or COA and
    the municipality jointly), each a site of its own at l: one operator runs an open site. Over periods,
    operator_choice[l,t] over open_site[s,t] + standby_site[s,t].
    """
    rows = dict(m.rows.operator_choices())
    if not rows:
        return

    def rule(m, *index):
        return (None, linear([(1, v) for v in rows[index[0] if len(index) == 1 else index]]), 1)

    m.operator_choice = pyo.Constraint(list(rows), rule=rule)


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


def add_objective(m, name: str = "total_cost") -> None:
    """total_cost = sum of the parts of the cost in the order of COST_PARTS, a part per scenario ω weighed by π_ω
    (risk "expected"; one case: the part itself); with risk "worst", site_cost_total + worst_cost."""
    if hasattr(m, "worst_cost"):
        expr = m.site_cost_total + m.worst_cost
    else:
        weights = m.data.weights if hasattr(m, "SCENARIOS") else {}
        expr = 0
        for part in (m.component(p) for p in COST_PARTS):
            if part is None:
                continue
            expr = expr + (pyo.quicksum(weights[w] * part[w] for w in m.SCENARIOS) if part.is_indexed() else part)
    m.add_component(name, pyo.Objective(expr=expr, sense=pyo.minimize))


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
