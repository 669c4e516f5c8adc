"""One province on its own: the instance cut down to a province and its share of a budget (models/README.md, "Provincial plans")."""

from __future__ import annotations

import dataclasses
import math

from ..core.errors import PolicyError, Problem
from .groups import Groups
from .instance import Instance
from .policy import Policy


def province_share(instance: Instance, province: str | list[str]) -> float:
    """The share of the instance's task of a province (or several): their municipalities' demand over all demand."""
    demand = instance.municipalities["demand"]
    total = float(demand.sum())
    own = float(demand[instance.municipalities["province"].isin(_listed(province))].sum())
    return own / total if total else 0.0


def _listed(province: str | list[str]) -> list[str]:
    return [province] if isinstance(province, str) else list(province)


def province_instance(instance: Instance, province: str | list[str]) -> Instance:
    """The municipalities and sites of ``province`` (or of several) with their travel times, the groups of the
    provinces' task only, and the provinces' share of the instance's budget. Links and the travel matrix stay
    whole: travel times between a province's own places may run through other provinces."""
    provinces = _listed(province)
    unknown = [p for p in provinces if p not in instance.provinces.index]
    if unknown:
        known = ", ".join(f"{p} ({n})" for p, n in instance.provinces["name"].items())
        raise PolicyError([Problem("--province", f"unknown province (provinces: {known})", value=p) for p in unknown])
    muni_rows = instance.municipalities["province"].isin(provinces).to_numpy()
    site_cols = instance.sites["province"].isin(provinces).to_numpy()
    share = province_share(instance, provinces)
    municipalities = instance.municipalities[muni_rows]
    sites = instance.sites[site_cols]
    return dataclasses.replace(
        instance,
        provinces=instance.provinces.loc[[p for p in instance.provinces.index if p in provinces]],
        municipalities=municipalities,
        sites=sites,
        travel_times=instance.travel_times.subset(muni_rows, site_cols),
        budget=None if instance.budget is None else instance.budget * share,
        groups=_task_groups(instance.groups, municipalities.index, sites.index),
    )


def province_policy(instance: Instance, policy: Policy, province: str | list[str]) -> Policy:
    """The policy with its own budget (if it sets one) scaled to the province's share."""
    if policy.budget is None or math.isinf(policy.budget):
        return policy
    return policy.with_(budget=policy.budget * province_share(instance, province))


def _task_groups(groups: Groups | None, municipalities, sites) -> Groups | None:
    if groups is None:
        return None
    keep = groups.province_groups
    eligible = groups.eligible
    return Groups(
        table=groups.table.loc[keep],
        demand=groups.demand.loc[municipalities, keep],
        eligible=eligible[eligible["site"].isin(sites) & eligible["group"].isin(keep)].reset_index(drop=True),
    )
