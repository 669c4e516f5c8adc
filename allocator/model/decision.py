"""The allocation decision as a Pyomo model (models/README.md, "The allocation decision").

The provinces whose plans fall short keep every committed place; the model adds places at
committed sites with room or at sites it opens, and counts places for municipalities, so that
every shortfall closes at the least cost. It reuses the builders of the plan model: their rows
read a site's load through :func:`allocator.model.build.site_load`, which here is the committed
places (a constant) plus the places added.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from ..data.instance import Instance
from ..data.policy import Policy, check_policy
from . import build
from .build import linear
from .data import model_data

Supply = str | tuple[str, str]  # a site, or (site, group) with demand groups


@dataclass(frozen=True)
class Commitments:
    """What the plans of the decided provinces commit: places per supply key, and the committed sites (open)."""

    places: dict[Supply, int]
    sites: frozenset[str]


class _Decision:
    """Attached to a decision model as ``m.decision``: the committed places and the load of a site."""

    def __init__(self, commitments: Commitments):
        self.commitments = commitments
        self.keys: dict[str, list] | None = None  # site -> its supply keys, filled on first use

    def load(self, m, site: str, group: str | None = None) -> tuple[list, float]:
        """The places at ``site`` (of ``group``): the added variables, and the committed places as a constant."""
        if self.keys is None:
            self.keys = {s: [] for s in m.SITES}
            for k in supply(m):
                self.keys[supply_site(k)].append(k)
        keys = self.keys[site]
        if group is not None:
            keys = [k for k in keys if k[1] == group]
        constant = float(sum(self.commitments.places.get(k, 0) for k in keys))
        return [(1, m.added[k]) for k in keys], constant


def build_decision_model(instance: Instance, policy: Policy, commitments: Commitments) -> pyo.ConcreteModel:
    """The decision for the provinces of ``instance`` (cut down to the provinces to decide) under ``policy``.

    A budget in ``policy`` is what is left for these provinces once every plan's committed cost outside
    them is paid; the committed cost inside them counts against it here.
    """
    check_policy(policy, instance)
    m = pyo.ConcreteModel(name=f"decision[{instance.name}]")
    m.data = model_data(instance, policy)
    m.policy = policy
    m.elastic = None
    m.decision = _Decision(commitments)
    m.rows = DecisionRows(m)
    build.add_sets(m, instance)
    build.add_variables(m, policy)
    add_added(m, policy)
    build.add_cost_expressions(m, policy)
    build.add_demand_balance(m)
    add_place_supply(m)
    build.add_site_capacity(m)
    build.add_group_capacity(m)
    build.add_site_min_size(m)
    build.add_open_site_link(m)
    build.add_operator_choice(m)
    build.add_large_site_per_province(m, policy.large_site_rule)
    build.add_budget_limit(m)
    build.add_mean_travel_limit(m, policy.mean_travel_limit_minutes)
    build.add_fair_share(m, policy.fair_share_band)
    build.add_objective(m, "decision_cost")
    build.apply_fixings(m, instance, policy)
    for s in commitments.sites:
        m.open_site[s].setlb(1)
        m.open_site[s].setub(1)
    return m


def supply(m):
    """Where places can be added: SITE_GROUPS, or SITES without groups."""
    return m.SITE_GROUPS if m.data.groups else m.SITES


def supply_site(key: Supply) -> str:
    """The site of a supply key."""
    return key if isinstance(key, str) else key[0]


def add_added(m, policy: Policy) -> None:
    """added[s,g] >= 0 (added[s] without groups): places the decision adds, at most C_sg - q_sg; whole places unless whole_places = false."""
    d, q = m.data, m.decision.commitments.places

    def room(key) -> int:
        s = supply_site(key)
        cap = d.capacity[s] if isinstance(key, str) else (d.group_capacity or {}).get(key, d.capacity[s])
        return max(cap - q.get(key, 0), 0)

    domain = pyo.NonNegativeIntegers if policy.whole_places else pyo.NonNegativeReals
    m.added = pyo.Var(supply(m), domain=domain, bounds={k: (0, room(k)) for k in supply(m)})


def add_place_supply(m) -> None:
    """place_supply[s,g]:  sum_{i:(i,s,g) in ARCS} placed[i,s,g] - added[s,g] <= q_sg   for (s,g) in SITE_GROUPS (place_supply[s] without groups)."""
    if not len(supply(m)):
        return
    d, q = m.data, m.decision.commitments.places
    arcs: dict = {k: [] for k in supply(m)}
    for a in d.arcs:
        key = a[1] if len(a) == 2 else (a[1], a[2])
        if key in arcs:
            arcs[key].append(a)

    def rule(m, *key):
        k = key[0] if len(key) == 1 else key
        return (None, linear([(1, m.placed[a]) for a in arcs[k]] + [(-1, m.added[k])]), q.get(k, 0))

    m.place_supply = pyo.Constraint(supply(m), rule=rule)


class DecisionRows(build.SnapshotRows):
    """The rows of a decision: those of the plan model, with the money the budget leaves these provinces."""

    def costs(self, policy: Policy) -> dict:
        """The parts of the decision's cost: committed sites and places are paid by the plans, so fixed_cost_total
        counts the sites not committed, sum_s F_s open_site[s], and place_cost_total the places added,
        sum_(s,g) c_sg added[s,g]; travel_value_total and unmet_penalty_total are the plan model's."""
        m, d = self.m, self.m.data
        committed = m.decision.commitments.sites
        parts = build.placing_costs(m, policy)
        parts["fixed_cost_total"] = [(d.fixed_cost[s], m.open_site[s]) for s in m.SITES if s not in committed]
        parts["place_cost_total"] = [(_price(d, k), m.added[k]) for k in supply(m)]
        return parts

    def budgets(self):
        """(None, B less the committed cost of these provinces, fixed cost of the sites opened + added places' cost)."""
        m, d = self.m, self.m.data
        if d.budget is None:
            return []
        commitments = m.decision.commitments
        committed = sum(d.fixed_cost[s] for s in commitments.sites)
        for key, places in commitments.places.items():
            committed += places * _price(d, key)
        terms = [(d.fixed_cost[s], m.open_site[s]) for s in m.SITES if s not in commitments.sites]
        terms += [(_price(d, k), m.added[k]) for k in supply(m)]
        return [(None, d.budget - committed, terms)]

    def fair_share(self):
        """No rows: a decision adds places only where the provinces' plans fall short, every committed place kept, so
        the places placed nationally are mostly fixed before it starts; it closes shortfalls at the least cost and
        the unmet rates are those of the plans it keeps. fair_share holds in national plans (snapshot, periods)."""
        return []


def _price(d, key) -> float:
    """c_s, or c_sg: the cost of one place at a supply key."""
    return d.cost_per_place[key] if isinstance(key, str) else d.group_cost[key]
