"""Build the horizon model (models/README.md, "Plans over several periods") as a Pyomo ConcreteModel.

One builder per set, variable family and constraint family; each constraint builder returns
early on an empty index set and carries its math in its docstring. Names are those of
models/README.md: the static families keep their names and gain the indices (t, ω); the
families across periods are new.

A model covers a window of the instance's periods: all of them for a plan over the horizon,
one at a time for the myopic baseline, a few for a rolling plan. ``History`` carries the state
before the window, so that a window continues where the previous plan left off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyomo.environ as pyo

from ..data.demand import scale_demand
from ..data.housing import housing_need
from ..data.instance import Instance
from ..data.policy import Policy, Risk, check_policy
from . import build
from .build import linear
from .data import Unit, model_data

STATES = ("closed", "open", "standby")


@dataclass(frozen=True)
class History:
    """What happened before the first period of a window (all empty: the start of the horizon)."""

    in_service: dict[str, int] = field(default_factory=dict)  # site -> 1 if open or on standby in the period before
    last_opening: dict[str, float] = field(
        default_factory=dict
    )  # site -> offset (years) of its last opening before the window
    extended: frozenset = frozenset()  # existing sites whose contract was already extended
    load: dict[str, float] = field(default_factory=dict)  # site -> people placed there in the period before


@dataclass(frozen=True)
class HorizonData:
    """The numbers the horizon model is built from, after the policy is applied (``model.data``)."""

    periods: tuple[str, ...]  # the window, in order
    index: dict[str, int]  # period -> position among the instance's periods
    years: dict[str, float]
    offset: dict[str, float]  # years from the start of the instance's first period
    span: dict[str, float]  # years / years per planning period: what a recurring cost counts in t
    factor: dict[str, float]  # discount x span: what a recurring cost weighs in the objective
    discount: dict[str, float]
    scenarios: tuple[str, ...]
    weights: dict[str, float]  # normalised to add up to 1
    demand: dict[tuple[str, str], dict]  # (t, ω) -> demand unit (municipality, or (municipality, group)) -> places
    province_of: dict[str, str]
    site_province: dict[str, str]
    site_kind: dict[str, str]
    capacity: dict[str, int]
    min_size: dict[str, int]
    fixed_cost: dict[str, float]  # per planning period
    cost_per_place: dict[str, float]
    arcs: list[tuple[str, str]]
    travel_minutes: dict[tuple[str, str], float]
    large_by_province: dict[str, list[str]]
    budget: dict[str, float | None]  # per period; None: no budget row
    standby_cost: dict[str, float]  # only sites that can stand by
    opening_cost: dict[str, float]
    closing_cost: dict[tuple[str, str], float]  # K_st: 0 where an existing contract runs out
    extension: dict[str, tuple[str, float]]  # site -> (period after its contract end, cost), inside the window
    min_open_years: dict[str, float]  # sites with D_s > 0
    earliest: dict[str, int]  # site -> position of its earliest period
    keep_open_until: dict[str, int]  # existing site -> last position fixed open (keep_existing_open)
    initial: dict[str, int]  # in service before the window
    last_opening: dict[str, float]
    emergency_capacity: dict[tuple[str, str], int]  # (province, t) with capacity > 0
    emergency_cost: dict[tuple[str, str], float]
    risk: Risk
    groups: tuple[str, ...] = ()  # GROUPS; empty without demand groups
    group_capacity: dict[tuple[str, str], int] = field(default_factory=dict)  # C_sg where below C_s
    group_cost: dict[tuple[str, str], float] = field(default_factory=dict)  # c_sg
    previous_load: dict[str, float] = field(default_factory=dict)  # ℓ⁰_s: people at s before the window (History)
    move_cost: float = 0.0  # κ, per person-move
    max_moves: int | None = None  # V, person-moves per period and scenario
    moves_modelled: bool = False  # κ > 0 or V set: the family moved / move_count is built
    task_groups: tuple[str, ...] = ()  # the groups of the provinces' task (target = province)
    variants: dict[str, list[str]] = field(default_factory=dict)  # V_l: site l -> its sites run by each operator

    def unit(self, arc: tuple) -> Unit:
        """The demand unit an arc serves: its municipality, or (municipality, group)."""
        return arc[0] if len(arc) == 2 else (arc[0], arc[2])

    def place_cost(self, arc: tuple) -> float:
        """c_s, or c_sg for a group's arc."""
        return self.cost_per_place[arc[1]] if len(arc) == 2 else self.group_cost[(arc[1], arc[2])]

    def in_task(self, unit: Unit) -> bool:
        """Whether a demand unit counts in the provinces' task: every municipality, or a group with target province."""
        return isinstance(unit, str) or unit[1] in self.task_groups

    def room(self, arc: tuple) -> int:
        """C_s, or C_sg for a group's arc."""
        return (
            self.capacity[arc[1]] if len(arc) == 2 else self.group_capacity.get((arc[1], arc[2]), self.capacity[arc[1]])
        )


def key(unit: Unit) -> tuple:
    """A demand unit as the leading indices of its rows: (i,) or (i, g)."""
    return (unit,) if isinstance(unit, str) else unit


def horizon_data(
    instance: Instance,
    policy: Policy,
    scenarios: tuple[str, ...] | None = None,
    periods: tuple[str, ...] | None = None,
    history: History | None = None,
) -> HorizonData:
    """Apply the policy to the instance's horizon for the given scenarios and window of periods."""
    h = instance.horizon
    if h is None:
        raise ValueError(f"{instance.name} has no periods")
    all_periods = h.period_ids
    position = {t: k for k, t in enumerate(all_periods)}
    window = tuple(periods or all_periods)
    scenarios = tuple(scenarios or h.scenarios)
    history = history or History()
    sites = instance.sites
    life = h.lifecycle
    per_year = 1.0 / h.years_per_planning_period
    years = {t: float(h.periods.at[t, "years"]) for t in window}
    offset = {t: float(h.periods.at[t, "offset"]) for t in window}
    discount = {t: (1.0 + policy.discount_rate) ** (-offset[t]) for t in window}
    span = {t: years[t] * per_year for t in window}
    factor = {t: discount[t] * span[t] for t in window}
    weights = policy.weights_for(scenarios)

    need = housing_need(instance, policy, scenarios, window)  # with the backlog since the first period
    demand = {(t, w): scale_demand(need[(t, w)], policy.demand_scale) for t in window for w in scenarios}
    # The static rules decide which arcs exist, for a demand unit with demand in some case.
    any_demand = {u: int(any(demand[c][u] > 0 for c in demand)) for u in demand[(window[0], scenarios[0])]}
    static = model_data(instance, policy, any_demand)
    arcs = static.arcs
    travel_minutes = static.travel_minutes

    def value(site: str, column: str, default: float = 0.0) -> float:
        v = life.at[site, column] if site in life.index else None
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    existing = {s for s in sites.index if sites.at[s, "status"] == "existing"}
    contract_end = {
        s: position[life.at[s, "contract_end"]]
        for s in existing
        if s in life.index and life.at[s, "contract_end"] is not None
    }
    last = len(all_periods) - 1
    extension = {}
    closing_cost = {}
    for s in sites.index:
        for t in window:
            free = s in contract_end and position[t] == contract_end[s] + 1
            closing_cost[(s, t)] = 0.0 if free else value(s, "closing_cost")
        after = contract_end.get(s, last) + 1
        if s in contract_end and after <= last and all_periods[after] in window and s not in history.extended:
            extension[s] = (all_periods[after], value(s, "extension_cost"))
    budget = {}
    yearly_budget = policy.effective_budget(instance.budget)
    for t in window:
        given = h.periods.at[t, "budget"]
        budget[t] = (
            float(given) if not math.isnan(given) else (None if yearly_budget is None else yearly_budget * span[t])
        )
    emergency_capacity, emergency_cost = {}, {}
    for (p, t), row in h.emergency.iterrows():
        if t in years and int(row["capacity"]) > 0:
            emergency_capacity[(p, t)] = int(row["capacity"])
            emergency_cost[(p, t)] = float(row["cost_per_place"])
    return HorizonData(
        periods=window,
        index={t: position[t] for t in window},
        years=years,
        offset=offset,
        span=span,
        factor=factor,
        discount=discount,
        scenarios=scenarios,
        weights=weights,
        demand=demand,
        province_of=static.province_of,
        site_province=static.site_province,
        site_kind=static.site_kind,
        capacity=static.capacity,
        min_size=static.min_size,
        fixed_cost=static.fixed_cost,
        cost_per_place=static.cost_per_place,
        arcs=arcs,
        travel_minutes=travel_minutes,
        large_by_province=static.large_by_province,
        budget=budget,
        standby_cost={
            s: value(s, "standby_cost")
            for s in sites.index
            if s in life.index and not _empty(life.at[s, "standby_cost"])
        },
        opening_cost={s: value(s, "opening_cost") for s in sites.index},
        closing_cost=closing_cost,
        extension=extension,
        min_open_years={s: value(s, "min_open_years") for s in sites.index if value(s, "min_open_years") > 0},
        earliest={
            s: position[life.at[s, "earliest_open"]]
            if s in life.index and life.at[s, "earliest_open"] is not None
            else 0
            for s in sites.index
        },
        keep_open_until={s: contract_end.get(s, last) for s in existing} if policy.keep_existing_open else {},
        initial={s: int(history.in_service.get(s, s in existing)) for s in sites.index},
        last_opening=dict(history.last_opening),
        emergency_capacity=emergency_capacity,
        emergency_cost=emergency_cost,
        risk=policy.risk,
        groups=static.groups,
        group_capacity=static.group_capacity or {},
        group_cost=static.group_cost or {},
        previous_load={s: float(v) for s, v in history.load.items() if v > 0},
        move_cost=policy.move_cost,
        max_moves=policy.max_moves_per_period,
        moves_modelled=policy.move_cost > 0 or policy.max_moves_per_period is not None,
        task_groups=static.task_groups,
        variants=static.variants,
    )


def _empty(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def build_horizon_model(
    instance: Instance,
    policy: Policy,
    scenarios: tuple[str, ...] | None = None,
    periods: tuple[str, ...] | None = None,
    history: History | None = None,
) -> pyo.ConcreteModel:
    """The horizon model for ``instance`` under ``policy`` (models/README.md), for a window of periods."""
    check_policy(policy, instance)
    data = horizon_data(instance, policy, scenarios, periods, history)
    m = pyo.ConcreteModel(name=f"horizon[{instance.name}]")
    m.data = data
    m.policy = policy
    m.site_table = instance.sites
    m.elastic = None
    m.decision = None
    m.rows = HorizonRows(m)
    build.add_sets(m, instance)
    add_life_cycle_sets(m)
    build.add_variables(m, policy)
    add_life_cycle_variables(m)
    build.add_cost_expressions(m, policy)
    build.add_demand_balance(m)
    build.add_site_capacity(m)
    build.add_group_capacity(m)
    build.add_site_min_size(m)
    build.add_open_site_link(m)
    build.add_operator_choice(m)
    add_emergency_capacity(m)
    build.add_large_site_per_province(m, policy.large_site_rule)
    build.add_budget_limit(m)
    build.add_mean_travel_limit(m, policy.mean_travel_limit_minutes)
    build.add_fair_share(m, policy.fair_share_band)
    add_site_state(m)
    add_state_transition(m)
    add_opening_link(m)
    add_closing_link(m)
    add_min_open_duration(m)
    add_contract_extension(m)
    add_move_count(m)
    add_move_limit(m)
    add_worst_case(m)
    build.add_objective(m)
    build.apply_fixings(m, instance, policy)
    fix_standby(m)
    return m


def add_life_cycle_sets(m) -> None:
    """STANDBY_SITES, EXTENDABLE_SITES and MOVE_CASES: the sites that can stand by, whose contract can be extended in
    the window, and where people may have to move."""
    d = m.data
    m.STANDBY_SITES = pyo.Set(initialize=[s for s in m.SITES if s in d.standby_cost], ordered=True)
    m.EXTENDABLE_SITES = pyo.Set(initialize=[s for s in m.SITES if s in d.extension], ordered=True)
    m.MOVE_CASES = pyo.Set(initialize=move_cases(m), dimen=3, ordered=True)


def move_cases(m) -> list[tuple[str, str, str]]:
    """(s, t, ω) where people may have to move out of s at the start of t: s holds places in t−1 (or, in the first
    period of a window, held some before it: ℓ⁰_s > 0). Empty unless moves are priced or limited."""
    d = m.data
    if not d.moves_modelled:
        return []
    first = d.periods[0]
    return [
        (s, t, w)
        for (t, w) in m.CASES
        for s in m.SITES
        if (t == first and d.previous_load.get(s, 0) > 0) or (t != first and (s, m.previous[t], w) in m.arcs_by_site)
    ]


class HorizonRows:
    """The indices of each family of model/build.py over periods and scenarios: the static families hold in
    every (t, ω) with the site's open state of t (models/README.md, "Plans over several periods")."""

    def __init__(self, m):
        self.m = m
        d = m.data
        self.cases = [(t, w) for t in d.periods for w in d.scenarios]
        self.arc_cases = [(*a, t, w) for a in d.arcs for (t, w) in self.cases if d.demand[(t, w)][d.unit(a)] > 0]
        self.demand_cases = [(*key(u), t, w) for (t, w) in self.cases for u, v in d.demand[(t, w)].items() if v > 0]
        by_muni: dict[tuple, list] = {}
        by_site: dict[tuple, list] = {}
        by_case: dict[tuple, list] = {c: [] for c in self.cases}
        for a in self.arc_cases:
            t, w = a[-2:]
            by_muni.setdefault((*key(d.unit(a[:-2])), t, w), []).append(a)
            by_site.setdefault((a[1], t, w), []).append(a)
            by_case[(t, w)].append(a)
        m.arcs_by_muni = by_muni
        m.arcs_by_site = by_site
        m.arcs_by_case = by_case
        self.emergency_cases = [c for c in self.demand_cases if (d.province_of[c[0]], c[-2]) in d.emergency_capacity]
        emergency_by_case: dict[tuple, list] = {c: [] for c in self.cases}
        for c in self.emergency_cases:
            emergency_by_case[c[-2:]].append(c)
        m.emergency_by_case = emergency_by_case
        m.previous = {t: (d.periods[k - 1] if k else None) for k, t in enumerate(d.periods)}

    def sets(self):
        """(name, members, dimen): PERIODS, SCENARIOS, CASES = PERIODS x SCENARIOS, ARCS, and the cases (t, ω) of
        each arc (ARC_CASES) and demand unit (DEMAND_CASES, EMERGENCY_CASES where the province has emergency
        capacity) with demand."""
        d = self.m.data
        width = 3 if d.groups else 2
        yield "PERIODS", list(d.periods), 1
        yield "SCENARIOS", list(d.scenarios), 1
        yield "CASES", self.cases, 2
        yield "ARCS", d.arcs, width
        yield "ARC_CASES", self.arc_cases, width + 2
        yield "DEMAND_CASES", self.demand_cases, width + 1
        yield "EMERGENCY_CASES", self.emergency_cases, width + 1

    def open_index(self):
        """The index sets of open_site: SITES x PERIODS."""
        return self.m.SITES, self.m.PERIODS

    def placed_index(self):
        """(index, bounds) of placed: ARC_CASES, at most min(d_utω, C)."""
        d = self.m.data
        return self.m.ARC_CASES, {a: (0, arc_bound(d, a)) for a in self.m.ARC_CASES}

    def unmet_index(self):
        """(index, bounds) of unmet: DEMAND_CASES, at most their demand."""
        d = self.m.data
        return self.m.DEMAND_CASES, {c: (0, case_demand(d, c)) for c in self.m.DEMAND_CASES}

    def columns(self):
        """(open index, site, f_t), (placed index, arc, f_t, ω) and (unmet index, unit, f_t, ω), period by period."""
        m, f = self.m, self.m.data.factor
        unmet_by_case: dict[tuple, list] = {c: [] for c in m.CASES}
        for c in m.DEMAND_CASES:
            unmet_by_case[c[-2:]].append(c)
        return (
            [((s, t), s, f[t]) for s in m.SITES for t in m.PERIODS],
            [(a, a[:-2], f[t], w) for (t, w) in m.CASES for a in m.arcs_by_case[(t, w)]],
            [(c, case_unit(c), f[t], w) for (t, w) in m.CASES for c in unmet_by_case[(t, w)]],
        )

    def costs(self, policy: Policy) -> dict:
        """The terms of each part of the cost: those of placing people, and the life cycle's (models/README.md)."""
        m, d = self.m, self.m.data
        f, disc = d.factor, d.discount
        parts = build.placing_costs(m, policy)
        parts["standby_cost_total"] = [
            (f[t] * d.standby_cost[s], m.standby_site[s, t]) for s in m.STANDBY_SITES for t in m.PERIODS
        ]
        parts["opening_cost_total"] = [
            (disc[t] * d.opening_cost[s], m.site_opening[s, t]) for s in m.SITES for t in m.PERIODS
        ]
        parts["closing_cost_total"] = [
            (disc[t] * d.closing_cost[(s, t)], m.site_closing[s, t]) for s in m.SITES for t in m.PERIODS
        ]
        parts["extension_cost_total"] = [
            (disc[d.extension[s][0]] * d.extension[s][1], m.site_extension[s]) for s in m.EXTENDABLE_SITES
        ]
        emergency = {w: [] for w in m.SCENARIOS}
        for t, w in m.CASES:
            for c in m.emergency_by_case[(t, w)]:
                emergency[w].append((f[t] * d.emergency_cost[(d.province_of[c[0]], t)], m.emergency[c]))
        parts["emergency_cost_total"] = emergency
        moves = {w: [] for w in m.SCENARIOS}
        for s, t, w in m.MOVE_CASES:
            if disc[t] * d.move_cost:
                moves[w].append((disc[t] * d.move_cost, m.moved[s, t, w]))
        parts["move_cost_total"] = moves
        return parts

    def demand(self):
        """(index, demand, arcs) per demand case (*unit, t, ω) with demand."""
        m, d = self.m, self.m.data
        return [(c, case_demand(d, c), m.arcs_by_muni.get(c, [])) for c in m.DEMAND_CASES]

    def sites(self):
        """(index, site, group or None, open index, arcs) per site and case with arcs."""
        m = self.m
        return [
            ((s, t, w), s, None, (s, t), m.arcs_by_site[(s, t, w)])
            for s in m.SITES
            for (t, w) in m.CASES
            if (s, t, w) in m.arcs_by_site
        ]

    def groups(self):
        """(index, site, group, open index, arcs) per (site, group) with a capacity of its own and case with arcs."""
        m, d = self.m, self.m.data
        by_group: dict[tuple, list] = {}
        for (s, t, w), arcs in m.arcs_by_site.items():
            for a in arcs:
                if (s, a[2]) in d.group_capacity:
                    by_group.setdefault((s, a[2], t, w), []).append(a)
        return [(k, k[0], k[1], (k[0], k[2]), arcs) for k, arcs in by_group.items()]

    def min_sizes(self):
        """(index, site, open index, arcs) per site with a minimum size, in every case."""
        m, d = self.m, self.m.data
        return [
            ((s, t, w), s, (s, t), m.arcs_by_site.get((s, t, w), []))
            for s in m.SITES
            if d.min_size[s] > 0
            for (t, w) in m.CASES
        ]

    def links(self):
        """(arc case, bound, open index) where the demand is below the room (else site_capacity implies it)."""
        m, d = self.m, self.m.data
        return [
            (a, arc_bound(d, a), (a[1], a[-2]))
            for a in m.ARC_CASES
            if d.demand[a[-2:]][d.unit(a[:-2])] < d.room(a[:-2])
        ]

    def large(self):
        """((p, t), open indices of the large sites of p that may be open in t) where some may be, or p has demand in t and no large site."""
        m, d = self.m, self.m.data
        demand_in = {(d.province_of[c[0]], c[-2]) for c in m.DEMAND_CASES}
        rows = []
        for p in m.PROVINCES:
            for t in m.PERIODS:
                available = [s for s in d.large_by_province[p] if d.earliest[s] <= d.index[t]]
                if available or ((p, t) in demand_in and not d.large_by_province[p]):
                    rows.append(((p, t), [(s, t) for s in available]))
        return rows

    def operator_choices(self):
        """((l, t), in-service variables of V_l in t) per site with operator variants and period (standby counts)."""
        m, d = self.m, self.m.data
        rows = []
        for location, sites in d.variants.items():
            for t in m.PERIODS:
                terms = [v for s in sites for _, v in in_service(m, s, t)[0]]
                rows.append(((location, t), terms))
        return rows

    def fixings(self, instance: Instance, policy: Policy):
        """((s, t), lower, upper): no service before a_s (lead_time) and forbidden sites closed; existing sites open
        until their contract end (keep_existing_open) and forced sites open from a_s."""
        d = self.m.data
        forced, forbidden = set(policy.force_sites), set(policy.forbid_sites)
        rows = []
        for s in self.m.SITES:
            for t in self.m.PERIODS:
                k = d.index[t]
                low, high = 0, 1
                if k < d.earliest[s] or s in forbidden:
                    high = 0
                elif (s in d.keep_open_until and k <= d.keep_open_until[s]) or s in forced:
                    low = 1
                rows.append(((s, t), low, high))
        return rows

    def budgets(self):
        """((t, ω), B_t, money spent in t under ω) for the periods with a budget."""
        m, d = self.m, self.m.data
        return [((t, w), d.budget[t], period_money(m, t, w)) for (t, w) in m.CASES if d.budget[t] is not None]

    def travel(self):
        """((t, ω), [(minutes, placed)]) per case with placements."""
        m, d = self.m, self.m.data
        return [
            (c, [(d.travel_minutes[a[:-2]], m.placed[a]) for a in m.arcs_by_case[c]])
            for c in m.CASES
            if m.arcs_by_case[c]
        ]

    def fair_share(self):
        """((p, t, ω), task_ptω, task_tω, placed of p's task units, placed of the others') per province and case
        with a task."""
        m, d = self.m, self.m.data
        units: dict[tuple, list] = {c: [] for c in m.CASES}
        for c in m.DEMAND_CASES:
            if d.in_task(case_unit(c)):
                placed = [m.placed[a] for a in m.arcs_by_muni.get(c, [])]
                units[c[-2:]].append((d.province_of[c[0]], case_demand(d, c), placed))
        return [((p, *case), *row) for case in m.CASES for p, *row in build.shares(m.PROVINCES, units[case])]


def add_life_cycle_variables(m) -> None:
    """standby_site[s,t] in {0,1}; site_opening, site_closing, site_extension in [0,1]; emergency, moved >= 0;
    worst_cost (risk "worst")."""
    d = m.data
    m.standby_site = pyo.Var(m.STANDBY_SITES, m.PERIODS, domain=pyo.Binary)
    m.site_opening = pyo.Var(m.SITES, m.PERIODS, domain=pyo.NonNegativeReals, bounds=(0, 1))
    m.site_closing = pyo.Var(m.SITES, m.PERIODS, domain=pyo.NonNegativeReals, bounds=(0, 1))
    m.site_extension = pyo.Var(m.EXTENDABLE_SITES, domain=pyo.NonNegativeReals, bounds=(0, 1))
    m.emergency = pyo.Var(
        m.EMERGENCY_CASES, domain=pyo.NonNegativeReals, bounds={c: (0, case_demand(d, c)) for c in m.EMERGENCY_CASES}
    )
    m.moved = pyo.Var(m.MOVE_CASES, domain=pyo.NonNegativeReals)
    if d.risk == Risk.WORST:
        m.worst_cost = pyo.Var(domain=pyo.Reals)


def case_unit(c: tuple) -> Unit:
    """The demand unit of a demand case (*unit, t, ω)."""
    return c[0] if len(c) == 3 else c[:-2]


def case_demand(d: HorizonData, c: tuple) -> int:
    """d_utω of a demand case (*unit, t, ω)."""
    return d.demand[c[-2:]][case_unit(c)]


def arc_bound(d: HorizonData, a: tuple) -> int:
    """Most places an arc case (*arc, t, ω) can carry: min(d_utω, C_s or C_sg)."""
    arc = a[:-2]
    return min(d.demand[a[-2:]][d.unit(arc)], d.room(arc))


def in_service(m, s: str, t: str | None):
    """u_st = open_site + standby_site as (coefficient, variable) terms, or the constant before the window."""
    if t is None:
        return [], m.data.initial[s]
    terms = [(1, m.open_site[s, t])]
    if s in m.data.standby_cost:
        terms.append((1, m.standby_site[s, t]))
    return terms, 0


def add_emergency_capacity(m) -> None:
    """emergency_capacity[p,t,ω]:  sum_{i in I_p} emergency[i,t,ω] <= E_pt   where E_pt is less than p's demand."""
    d = m.data
    members: dict[tuple, list] = {}
    for c in m.EMERGENCY_CASES:
        members.setdefault((d.province_of[c[0]], *c[-2:]), []).append(c)
    index = [
        (p, t, w)
        for (p, t, w), cases in members.items()
        if d.emergency_capacity[(p, t)] < sum(case_demand(d, c) for c in cases)
    ]
    if not index:
        return

    def rule(m, p, t, w):
        return (None, linear([(1, m.emergency[c]) for c in members[(p, t, w)]]), d.emergency_capacity[(p, t)])

    m.emergency_capacity = pyo.Constraint(index, rule=rule)


def period_money(m, t: str, w: str) -> list:
    """Money spent in t under ω, undiscounted, as (coefficient, variable) terms."""
    d = m.data
    share = d.span[t]
    terms = [(share * d.fixed_cost[s], m.open_site[s, t]) for s in m.SITES]
    terms += [(share * d.standby_cost[s], m.standby_site[s, t]) for s in m.STANDBY_SITES]
    terms += [(d.opening_cost[s], m.site_opening[s, t]) for s in m.SITES]
    terms += [(d.closing_cost[(s, t)], m.site_closing[s, t]) for s in m.SITES]
    terms += [(d.extension[s][1], m.site_extension[s]) for s in m.EXTENDABLE_SITES if d.extension[s][0] == t]
    terms += [(share * d.place_cost(a[:-2]), m.placed[a]) for a in m.arcs_by_case[(t, w)]]
    terms += [(share * d.emergency_cost[(d.province_of[c[0]], t)], m.emergency[c]) for c in m.emergency_by_case[(t, w)]]
    if d.move_cost:
        terms += [(d.move_cost, m.moved[s, t, w]) for s in m.SITES if (s, t, w) in m.MOVE_CASES]
    return terms


def add_site_state(m) -> None:
    """site_state[s,t]:  open_site[s,t] + standby_site[s,t] <= 1   for s in STANDBY_SITES."""
    if not len(m.STANDBY_SITES):
        return
    m.site_state = pyo.Constraint(
        m.STANDBY_SITES,
        m.PERIODS,
        rule=lambda m, s, t: (None, linear([(1, m.open_site[s, t]), (1, m.standby_site[s, t])]), 1),
    )


def add_state_transition(m) -> None:
    """state_transition[s,t]:  u_st - u_s,t-1 - site_opening[s,t] + site_closing[s,t] = 0   (u_s0: the state before)."""
    if not len(m.SITES):
        return

    def rule(m, s, t):
        now, _ = in_service(m, s, t)
        before, constant = in_service(m, s, m.previous[t])
        terms = now + [(-c, v) for c, v in before] + [(-1, m.site_opening[s, t]), (1, m.site_closing[s, t])]
        return (constant, linear(terms), constant)

    m.state_transition = pyo.Constraint(m.SITES, m.PERIODS, rule=rule)


def add_opening_link(m) -> None:
    """opening_link[s,t]:  site_opening[s,t] <= u_st."""
    if not len(m.SITES):
        return

    def rule(m, s, t):
        now, _ = in_service(m, s, t)
        return (None, linear([(1, m.site_opening[s, t])] + [(-c, v) for c, v in now]), 0)

    m.opening_link = pyo.Constraint(m.SITES, m.PERIODS, rule=rule)


def add_closing_link(m) -> None:
    """closing_link[s,t]:  site_closing[s,t] + u_st <= 1."""
    if not len(m.SITES):
        return

    def rule(m, s, t):
        now, _ = in_service(m, s, t)
        return (None, linear([(1, m.site_closing[s, t])] + now), 1)

    m.closing_link = pyo.Constraint(m.SITES, m.PERIODS, rule=rule)


def add_min_open_duration(m) -> None:
    """min_open_duration[s,t]:  sum_{t' <= t, o_t - o_t' < D_s} site_opening[s,t'] <= u_st

    for s with D_s > 0 and t whose window holds an earlier opening (an opening before the
    modelled periods counts as a constant 1).
    """
    d = m.data
    eps = 1e-9
    index, window = [], {}
    for s in d.min_open_years:
        for k, t in enumerate(d.periods):
            within = [t2 for t2 in d.periods[: k + 1] if d.offset[t] - d.offset[t2] < d.min_open_years[s] - eps]
            carried = int(s in d.last_opening and d.offset[t] - d.last_opening[s] < d.min_open_years[s] - eps)
            if len(within) > 1 or carried:
                index.append((s, t))
                window[(s, t)] = (within, carried)
    if not index:
        return

    def rule(m, s, t):
        within, carried = window[(s, t)]
        now, _ = in_service(m, s, t)
        return (None, linear([(1, m.site_opening[s, t2]) for t2 in within] + [(-c, v) for c, v in now]), -carried)

    m.min_open_duration = pyo.Constraint(index, rule=rule)


def add_contract_extension(m) -> None:
    """contract_extension[s]:  site_extension[s] >= u_s,b+1 - site_opening[s,b+1]   for s in EXTENDABLE_SITES."""
    if not len(m.EXTENDABLE_SITES):
        return
    d = m.data

    def rule(m, s):
        t = d.extension[s][0]
        now, _ = in_service(m, s, t)
        return (None, linear(now + [(-1, m.site_opening[s, t]), (-1, m.site_extension[s])]), 0)

    m.contract_extension = pyo.Constraint(m.EXTENDABLE_SITES, rule=rule)


def add_move_count(m) -> None:
    """move_count[s,t,ω]:  moved[s,t,ω] >= sum_i placed[i,s,t-1,ω] - sum_i placed[i,s,t,ω]   for (s,t,ω) in MOVE_CASES

    (all groups together; in the first period of a window the load before it, ℓ⁰_s, stands for t-1). With a move
    cost the solve sets moved[s,t,ω] = max(0, the fall of the load at s).
    """
    if not len(m.MOVE_CASES):
        return
    first = m.data.periods[0]

    def rule(m, s, t, w):
        now = [(1, m.placed[a]) for a in m.arcs_by_site.get((s, t, w), [])]
        if t == first:
            before, load = [], m.data.previous_load[s]
        else:
            before, load = [(-1, m.placed[a]) for a in m.arcs_by_site[(s, m.previous[t], w)]], 0.0
        return (load, linear([(1, m.moved[s, t, w]), *now, *before]), None)

    m.move_count = pyo.Constraint(m.MOVE_CASES, rule=rule)


def add_move_limit(m) -> None:
    """move_limit[t,ω]:  sum_s moved[s,t,ω] <= V   (policy max_moves_per_period) for (t, ω) with MOVE_CASES."""
    limit = m.data.max_moves
    if limit is None or not len(m.MOVE_CASES):
        return
    by_case: dict[tuple, list] = {}
    for s, t, w in m.MOVE_CASES:
        by_case.setdefault((t, w), []).append((1, m.moved[s, t, w]))
    m.move_limit = pyo.Constraint(
        [c for c in m.CASES if c in by_case], rule=lambda m, t, w: (None, linear(by_case[(t, w)]), limit)
    )


def add_worst_case(m) -> None:
    """worst_case[ω]:  scenario_cost[ω] <= worst_cost   (risk = "worst")."""
    if m.data.risk != Risk.WORST or not len(m.SCENARIOS):
        return
    m.worst_case = pyo.Constraint(m.SCENARIOS, rule=lambda m, w: m.scenario_cost[w] - m.worst_cost <= 0)


def fix_states(m, states: dict[tuple[str, str], str]) -> None:
    """Fix the site plan of ``m`` to ``states`` ((site, period) -> closed, open or standby), as bounds.

    The events follow from the states; what is left to decide is where the places go.
    """
    for (s, t), state in states.items():
        m.open_site[s, t].setlb(int(state == "open"))
        m.open_site[s, t].setub(int(state == "open"))
        if s in m.data.standby_cost:
            m.standby_site[s, t].setlb(int(state == "standby"))
            m.standby_site[s, t].setub(int(state == "standby"))


def fix_standby(m) -> None:
    """standby_site[s,t] bounds: no standby where the site is fixed open or closed (fixings, lead time)."""
    for s in m.STANDBY_SITES:
        for t in m.PERIODS:
            var = m.open_site[s, t]
            m.standby_site[s, t].setlb(0)
            m.standby_site[s, t].setub(0 if var.lb == 1 or var.ub == 0 else 1)
