"""The numbers the model is built from: the instance with the policy applied.

Demand comes in units: a municipality, or with demand groups a (municipality, group) pair. An
arc joins a unit to a site: (municipality, site), or (municipality, site, group).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.demand import province_demand, scale_demand
from ..data.instance import Instance
from ..data.operators import operator_variants
from ..data.policy import Policy

Unit = str | tuple[str, str]  # municipality, or (municipality, group)
Arc = tuple[str, str] | tuple[str, str, str]  # (municipality, site), or (municipality, site, group)


@dataclass(frozen=True)
class ModelData:
    """Demand, sites and eligible arcs after the policy is applied (kept on the model as ``model.data``)."""

    demand: dict[Unit, int]
    province_of: dict[str, str]  # municipality -> province
    site_province: dict[str, str]
    site_kind: dict[str, str]
    capacity: dict[str, int]
    min_size: dict[str, int]
    fixed_cost: dict[str, float]
    cost_per_place: dict[str, float]
    arcs: list[Arc]
    travel_minutes: dict[Arc, float]
    arcs_by_municipality: dict[Unit, list[Arc]]  # keyed by demand unit
    arcs_by_site: dict[str, list[Arc]]
    large_by_province: dict[str, list[str]]
    demand_by_province: dict[str, int]
    budget: float | None
    groups: tuple[str, ...] = ()  # GROUPS; empty without demand groups
    site_groups: tuple[tuple[str, str], ...] = ()  # SITE_GROUPS: (site, group) the site takes
    group_capacity: dict[tuple[str, str], int] | None = None  # C_sg where below C_s
    group_cost: dict[tuple[str, str], float] | None = None  # c_sg
    task_groups: tuple[str, ...] = ()  # the groups of the provinces' task (target = province)
    variants: dict[str, list[str]] = field(
        default_factory=dict
    )  # V_l: site l of sites.csv -> the sites run by each operator

    def unit(self, arc: Arc) -> Unit:
        """The demand unit an arc serves."""
        return arc[0] if len(arc) == 2 else (arc[0], arc[2])

    def municipality(self, unit: Unit) -> str:
        """The municipality of a demand unit."""
        return unit if isinstance(unit, str) else unit[0]

    def in_task(self, unit: Unit) -> bool:
        """Whether a demand unit counts in the provinces' task: every municipality, or a group with target province."""
        return isinstance(unit, str) or unit[1] in self.task_groups

    def place_cost(self, arc: Arc) -> float:
        """c_s, or c_sg for a group's arc."""
        return self.cost_per_place[arc[1]] if len(arc) == 2 else self.group_cost[(arc[1], arc[2])]

    def arc_bound(self, arc: Arc) -> int:
        """Most places an arc can carry: min(d_i, C_s), or min(d_ig, C_sg)."""
        room = (
            self.capacity[arc[1]] if len(arc) == 2 else self.group_capacity.get((arc[1], arc[2]), self.capacity[arc[1]])
        )
        return min(self.demand[self.unit(arc)], room)


def model_data(instance: Instance, policy: Policy, reach: dict | None = None) -> ModelData:
    """Apply the policy to the instance: scaled demand, eligible arcs, budget (per group with demand groups).

    ``reach`` (demand unit -> places, or 1) replaces the demand in choosing the arcs: a plan over
    several periods joins a unit with demand in any period and scenario.
    """
    muni = instance.municipalities
    sites = instance.sites
    site_ids = list(sites.index)
    province_of = muni["province"].to_dict()
    if instance.groups is None:
        demand = scale_demand({i: int(d) for i, d in muni["demand"].items()}, policy.demand_scale)
        rows, cols, found = eligible_arcs(instance, policy, demand if reach is None else reach)
        arcs = list(zip(muni.index.to_numpy()[rows].tolist(), sites.index.to_numpy()[cols].tolist()))
        minutes = found.tolist()
        grouped = {}
    else:
        demand, arcs, minutes, grouped = _group_arcs(instance, policy, reach)
    arcs_by_municipality: dict[Unit, list[Arc]] = {u: [] for u in demand}
    arcs_by_site: dict[str, list[Arc]] = {s: [] for s in site_ids}
    units = [arc[0] if len(arc) == 2 else (arc[0], arc[2]) for arc in arcs]
    for arc, unit in zip(arcs, units):
        arcs_by_municipality[unit].append(arc)
        arcs_by_site[arc[1]].append(arc)
    large_by_province: dict[str, list[str]] = {p: [] for p in instance.provinces.index}
    for s, p in sites.loc[sites["kind"] == "large", "province"].items():
        large_by_province[p].append(s)
    by_municipality: dict[str, int] = {}
    for unit, d in demand.items():
        i = unit if isinstance(unit, str) else unit[0]
        by_municipality[i] = by_municipality.get(i, 0) + d
    return ModelData(
        demand=demand,
        province_of=province_of,
        site_province=sites["province"].to_dict(),
        site_kind=sites["kind"].to_dict(),
        capacity={s: int(v) for s, v in sites["capacity"].items()},
        min_size={s: int(v) for s, v in sites["min_size"].items()},
        fixed_cost={s: float(v) for s, v in sites["fixed_cost"].items()},
        cost_per_place={s: float(v) for s, v in sites["cost_per_place"].items()},
        arcs=arcs,
        travel_minutes=dict(zip(arcs, minutes)),
        arcs_by_municipality=arcs_by_municipality,
        arcs_by_site=arcs_by_site,
        large_by_province=large_by_province,
        demand_by_province=province_demand(by_municipality, province_of),
        budget=policy.effective_budget(instance.budget),
        variants=operator_variants(instance),
        **grouped,
    )


def _group_arcs(instance: Instance, policy: Policy, reach: dict | None):
    """Demand per (municipality, group), the arcs (i, s, g) and their minutes, and the group fields of ModelData.

    An arc of group g passes every rule of the ungrouped arcs, joins a site that takes g, and
    keeps to the group's own travel limit.
    """
    groups = instance.groups
    muni_ids, site_ids = list(instance.municipalities.index), list(instance.sites.index)
    column = {s: k for k, s in enumerate(site_ids)}
    row = {i: k for k, i in enumerate(muni_ids)}
    scaled: dict[str, dict[str, int]] = {}
    arcs: list[Arc] = []
    minutes: list[float] = []
    eligible = groups.eligible
    for g in groups.ids:
        own = scaled[g] = scale_demand({i: int(d) for i, d in groups.demand[g].items()}, policy.demand_scale)
        if reach is not None:
            own = {i: reach[(i, g)] for i in muni_ids}
        takes = np.zeros(len(site_ids), dtype=bool)
        takes[[column[s] for s in eligible.loc[eligible["group"] == g, "site"]]] = True
        rows, cols, found = eligible_arcs(instance, policy, own)
        ok = takes[cols]
        limit = groups.table.at[g, "max_travel_minutes"]
        if not np.isnan(limit):
            ok &= found <= limit
        rows, cols, found = rows[ok], cols[ok], found[ok]
        arcs += [(muni_ids[r], site_ids[c], g) for r, c in zip(rows.tolist(), cols.tolist())]
        minutes += found.tolist()
    demand: dict[Unit, int] = {(i, g): scaled[g][i] for i in muni_ids for g in groups.ids}
    order = sorted(range(len(arcs)), key=lambda k: (row[arcs[k][0]], column[arcs[k][1]], groups.ids.index(arcs[k][2])))
    arcs = [arcs[k] for k in order]
    minutes = [minutes[k] for k in order]
    capacity = dict(zip(instance.sites.index, instance.sites["capacity"]))
    pairs = list(zip(eligible["site"], eligible["group"]))
    grouped = {
        "groups": tuple(groups.ids),
        "site_groups": tuple(pairs),
        "group_capacity": {
            (s, g): int(c) for (s, g), c in zip(pairs, eligible["capacity"]) if int(c) < int(capacity[s])
        },
        "group_cost": {(s, g): float(c) for (s, g), c in zip(pairs, eligible["cost_per_place"])},
        "task_groups": tuple(groups.province_groups),
    }
    return demand, arcs, minutes, grouped


def eligible_arcs(
    instance: Instance, policy: Policy, demand: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, minutes) of the municipality × site pairs that may be joined, row-major:
    reachable, within the travel limits, in the province, with demand, among the nearest regular sites."""
    muni = instance.municipalities
    sites = instance.sites
    regular = (sites["kind"] == "regular").to_numpy()
    limit = np.full(len(sites), np.inf)
    if policy.max_travel_minutes is not None:
        limit[:] = policy.max_travel_minutes
    if policy.max_travel_minutes_regular is not None:
        limit[regular] = np.minimum(limit[regular], policy.max_travel_minutes_regular)
    transit = (sites["kind"] == "transit").to_numpy()
    if policy.max_travel_minutes_transit is not None:
        limit[transit] = np.minimum(limit[transit], policy.max_travel_minutes_transit)
    rows, cols, minutes = instance.travel_times.within(limit)
    keep = np.array([demand[i] > 0 for i in muni.index], dtype=bool)[rows]
    if not policy.allow_cross_province:
        keep &= muni["province"].to_numpy()[rows] == sites["province"].to_numpy()[cols]
    rows, cols, minutes = rows[keep], cols[keep], minutes[keep]
    if policy.nearest_regular_sites is not None:
        keep = ~regular[cols]
        keep[_nearest(rows, cols, minutes, regular[cols], policy.nearest_regular_sites)] = True
        rows, cols, minutes = rows[keep], cols[keep], minutes[keep]
    return rows, cols, minutes


def _nearest(rows: np.ndarray, cols: np.ndarray, minutes: np.ndarray, among: np.ndarray, k: int) -> np.ndarray:
    """Positions of the pairs, of those ``among``, that are the k nearest of their row (ties by column)."""
    candidates = np.flatnonzero(among)
    order = candidates[np.lexsort((cols[candidates], minutes[candidates], rows[candidates]))]
    grouped = rows[order]
    first = np.searchsorted(grouped, grouped, side="left")
    return order[np.arange(len(order)) - first < k]
