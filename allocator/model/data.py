"""The numbers the model is built from: the instance with the policy applied."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.demand import province_demand, scale_demand
from ..data.instance import Instance
from ..data.policy import Policy

Arc = tuple[str, str]  # (municipality, site)


@dataclass(frozen=True)
class ModelData:
    """Demand, sites and eligible arcs after the policy is applied (kept on the model as ``model.data``)."""

    demand: dict[str, int]
    province_of: dict[str, str]
    site_province: dict[str, str]
    site_kind: dict[str, str]
    capacity: dict[str, int]
    min_size: dict[str, int]
    fixed_cost: dict[str, float]
    cost_per_place: dict[str, float]
    arcs: list[Arc]
    travel_minutes: dict[Arc, float]
    arcs_by_municipality: dict[str, list[Arc]]
    arcs_by_site: dict[str, list[Arc]]
    large_by_province: dict[str, list[str]]
    demand_by_province: dict[str, int]
    budget: float | None


def model_data(instance: Instance, policy: Policy) -> ModelData:
    """Apply the policy to the instance: scaled demand, eligible arcs, budget."""
    muni = instance.municipalities
    sites = instance.sites
    demand = scale_demand({i: int(d) for i, d in muni["demand"].items()}, policy.demand_scale)
    rows, cols, minutes = eligible_arcs(instance, policy, demand)
    muni_ids, site_ids = list(muni.index), list(sites.index)
    arcs = list(zip(muni.index.to_numpy()[rows].tolist(), sites.index.to_numpy()[cols].tolist()))
    arcs_by_municipality: dict[str, list[Arc]] = {i: [] for i in muni_ids}
    arcs_by_site: dict[str, list[Arc]] = {s: [] for s in site_ids}
    for arc in arcs:
        arcs_by_municipality[arc[0]].append(arc)
        arcs_by_site[arc[1]].append(arc)
    large_by_province: dict[str, list[str]] = {p: [] for p in instance.provinces.index}
    for s, p in sites.loc[sites["kind"] == "large", "province"].items():
        large_by_province[p].append(s)
    province_of = muni["province"].to_dict()
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
        travel_minutes=dict(zip(arcs, minutes.tolist())),
        arcs_by_municipality=arcs_by_municipality,
        arcs_by_site=arcs_by_site,
        large_by_province=large_by_province,
        demand_by_province=province_demand(demand, province_of),
        budget=policy.effective_budget(instance.budget),
    )


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
