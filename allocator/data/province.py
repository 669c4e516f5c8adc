"""Part of an instance: one province or several on their own, with their share of a budget (models/README.md,
"Provincial plans").

A provincial plan, merged plans and an allocation decision answer for a **scope**: some provinces,
the groups of the provinces' task (``target = province``) and the sites of those provinces that
take one of those groups. Groups with a national target, and the sites that take only such groups,
are outside the scope, costs included; :func:`outside` says what was left out.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..core.errors import PolicyError, Problem
from .groups import Groups
from .instance import Instance
from .policy import Policy


@dataclass(frozen=True)
class Scope:
    """The provinces and groups a plan answers for. ``groups`` None: the groups of the provinces' task.

    ``every_site``: every site of the provinces, whatever groups it takes (how folders written before the
    scope existed, summary.json format 1, cut their instance); otherwise the sites that take a group of the scope.
    """

    provinces: tuple[str, ...]  # () is every province
    groups: tuple[str, ...] | None = None
    every_site: bool = False

    def to_dict(self) -> dict:
        """The scope as summary.json records it."""
        return {"provinces": list(self.provinces), "groups": None if self.groups is None else list(self.groups)}


def task_scope(instance: Instance, province: str | list[str] | None = None) -> Scope:
    """The scope of a provincial plan of ``province`` (or of several; None: every province): the groups of the task."""
    provinces = list(instance.provinces.index) if province is None else _listed(province)
    groups = None if instance.groups is None else tuple(instance.groups.province_groups)
    return Scope(tuple(provinces), groups)


def scope_of(summary: dict) -> Scope | None:
    """The scope a solution's summary.json records; None for a plan of the whole instance.

    Folders written before the scope existed mark a provincial plan with ``province`` and merged plans with
    ``merged``; their instance was every site of the provinces (of every province, for merged plans).
    """
    scope = summary.get("scope")
    if isinstance(scope, dict) and isinstance(scope.get("provinces"), list):
        groups = scope.get("groups")
        return Scope(tuple(scope["provinces"]), None if groups is None else tuple(groups))
    province = summary.get("province")
    if isinstance(province, dict) and isinstance(province.get("province"), str):
        return Scope((province["province"],), None, every_site=True)
    if "merged" in summary:
        return Scope((), None, every_site=True)  # () is every province
    return None


def province_share(instance: Instance, province: str | list[str]) -> float:
    """The share of the instance's task of a province (or several): their municipalities' demand over all demand."""
    demand = instance.municipalities["demand"]
    total = float(demand.sum())
    own = float(demand[instance.municipalities["province"].isin(_listed(province))].sum())
    return own / total if total else 0.0


def _listed(province: str | list[str] | tuple[str, ...]) -> list[str]:
    return [province] if isinstance(province, str) else list(province)


def province_instance(instance: Instance, province: str | list[str]) -> Instance:
    """The instance of a provincial plan of ``province`` (or of several): see :func:`scoped_instance`."""
    return scoped_instance(instance, task_scope(instance, province))


def scoped_instance(instance: Instance, scope: Scope) -> Instance:
    """The municipalities and sites of the scope's provinces with their travel times, the scope's groups only, and
    the provinces' share of the instance's budget. Links and the travel matrix stay whole: travel times between a
    province's own places may run through other provinces."""
    provinces = list(scope.provinces) or list(instance.provinces.index)
    unknown = [p for p in provinces if p not in instance.provinces.index]
    if unknown:
        known = ", ".join(f"{p} ({n})" for p, n in instance.provinces["name"].items())
        raise PolicyError([Problem("scope", f"unknown province (provinces: {known})", value=p) for p in unknown])
    groups = _groups(instance.groups, scope)
    muni_rows = instance.municipalities["province"].isin(provinces).to_numpy()
    site_cols = instance.sites["province"].isin(provinces).to_numpy()
    if groups is not None and not scope.every_site:
        e = groups.eligible
        site_cols = site_cols & instance.sites.index.isin(set(e.loc[e["group"].isin(groups_of(groups)), "site"]))
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
        groups=None if groups is None else _restricted(groups, municipalities.index, sites.index),
    )


def groups_of(groups: Groups) -> list[str]:
    """The ids of ``groups``."""
    return list(groups.table.index)


def _groups(groups: Groups | None, scope: Scope) -> Groups | None:
    """The instance's groups cut to the scope's (all sites and municipalities still)."""
    if groups is None:
        return None
    keep = groups.province_groups if scope.groups is None else list(scope.groups)
    unknown = [g for g in keep if g not in groups.table.index]
    if unknown:
        raise PolicyError(
            [Problem("scope", f"unknown group (groups: {', '.join(groups.ids)})", value=g) for g in unknown]
        )
    return Groups(table=groups.table.loc[keep], demand=groups.demand[keep], eligible=groups.eligible)


def _restricted(groups: Groups, municipalities, sites) -> Groups:
    keep = groups_of(groups)
    eligible = groups.eligible
    return Groups(
        table=groups.table,
        demand=groups.demand.loc[municipalities, keep],
        eligible=eligible[eligible["site"].isin(sites) & eligible["group"].isin(keep)].reset_index(drop=True),
    )


def outside(instance: Instance, scope: Scope) -> dict:
    """What a plan of ``scope`` leaves out: the groups outside it with their demand in its provinces, and the sites
    of its provinces that take only such groups (how many, how many existing, the existing ones' fixed cost)."""
    if instance.groups is None or scope.every_site:
        return {}
    inside = set(scoped_instance(instance, scope).groups.ids)
    provinces = list(scope.provinces) or list(instance.provinces.index)
    munis = instance.municipalities.index[instance.municipalities["province"].isin(provinces)]
    left = [g for g in instance.groups.ids if g not in inside]
    if not left:
        return {}
    own = instance.sites[instance.sites["province"].isin(provinces)]
    e = instance.groups.eligible
    takes_inside = set(e.loc[e["group"].isin(inside), "site"])
    out_sites = own[~own.index.isin(takes_inside)]
    existing = out_sites[out_sites["status"] == "existing"]
    return {
        "groups": {
            g: {
                "name": instance.groups.name(g),
                "target": str(instance.groups.table.at[g, "target"]),
                "demand": int(instance.groups.demand.loc[munis, g].sum()),
            }
            for g in left
        },
        "sites": int(len(out_sites)),
        "existing_sites": int(len(existing)),
        "existing_fixed_cost": float(existing["fixed_cost"].sum()),
    }


def scope_record(instance: Instance, scope: Scope) -> dict:
    """The scope as summary.json records it, with the province names, the share of the task and what is outside."""
    provinces = list(scope.provinces) or list(instance.provinces.index)
    return {
        **scope.to_dict(),
        "names": {p: str(instance.provinces.at[p, "name"]) for p in provinces},
        "share": province_share(instance, provinces),
        "outside": outside(instance, scope),
    }


def province_policy(instance: Instance, policy: Policy, province: str | list[str]) -> Policy:
    """The policy with its own budget (if it sets one) scaled to the province's share."""
    if policy.budget is None or math.isinf(policy.budget):
        return policy
    return policy.with_(budget=policy.budget * province_share(instance, province))
