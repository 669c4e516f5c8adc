"""What every check needs: the instance, the policy, the solution's tables, and the figures recomputed from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .demand import scaled_demand
from .travel import placement_minutes


@dataclass
class Context:
    """The solution under check and the quantities recomputed from it (filled by :meth:`recompute`)."""

    solution: object
    instance: object
    policy: object
    demand: dict  # per demand unit: municipality, or (municipality, group) with demand groups
    sites: pd.DataFrame  # the solution's sites.csv indexed by site
    placements: pd.DataFrame
    municipalities: pd.DataFrame  # the solution's municipalities.csv indexed by municipality
    placed_by_municipality: pd.Series = field(default=None)  # by demand unit
    placed_by_site: pd.Series = field(default=None)
    spare: dict = field(default_factory=dict)  # site -> places there beyond those placed (a decision's)
    site_groups: dict = field(default_factory=dict)  # (site, group) -> (C_sg, c_sg) for each group a site takes
    prices: list[float] = field(default_factory=list)  # the instance's cost of one place on each placement row
    minutes: list[float] = field(default_factory=list)  # recomputed travel time per placement row
    fixed_cost: float = 0.0
    place_cost: float = 0.0
    person_minutes: float = 0.0
    unmet: float = 0.0
    unmet_penalty: float = 0.0  # sum over units of M_g (or M) times the places left unmet
    objective: float | None = None

    @classmethod
    def of(cls, solution, instance, policy) -> Context:
        """The context before anything is recomputed."""
        return cls(
            solution=solution,
            instance=instance,
            policy=policy,
            demand=unit_demand(instance, policy.demand_scale),
            site_groups=site_groups(instance),
            sites=solution.sites.set_index("site"),
            placements=solution.placements,
            municipalities=solution.municipalities.set_index("municipality"),
        )

    @property
    def budget(self) -> float | None:
        """The budget the plan had to keep: the policy's, else the instance's."""
        return self.policy.effective_budget(self.instance.budget)

    @property
    def grouped(self) -> bool:
        """The instance has demand groups."""
        return self.instance.groups is not None

    def recompute(self) -> None:
        """Sums by demand unit and site, travel times, and the money, all from the instance's own numbers."""
        pl, prices, sites = self.placements, self.instance.sites, self.sites
        self.placed_by_municipality = pl.groupby(["municipality", "group"] if self.grouped else "municipality")[
            "placed"
        ].sum()
        self.placed_by_site = pl.groupby("site")["placed"].sum()
        self.minutes = placement_minutes(self.instance, pl)
        self.fixed_cost = float((sites.loc[prices.index, "open_site"].astype(float) * prices["fixed_cost"]).sum())
        self.prices = [self.price(row) for row in pl.itertuples()]
        self.place_cost = float(sum(q * c for q, c in zip(pl["placed"], self.prices)))
        self.person_minutes = float(sum(q * t for q, t in zip(pl["placed"], self.minutes) if math.isfinite(t)))
        unmet = {u: max(d - float(self.placed_by_municipality.get(u, 0.0)), 0.0) for u, d in self.demand.items()}
        self.unmet = float(sum(unmet.values()))
        p = self.policy
        self.unmet_penalty = float(
            sum(p.penalty_of(None if isinstance(u, str) else u[1]) * v for u, v in unmet.items())
        )
        self.objective = self.unmet_penalty + self.fixed_cost + self.place_cost + p.travel_value * self.person_minutes

    def placed_in(self, municipality: str) -> float:
        """Places of a municipality in the plan, over all its groups."""
        return float(self.placements.loc[self.placements["municipality"] == municipality, "placed"].sum())

    def municipality_demand(self) -> dict[str, int]:
        """Demand per municipality: its own, or the sum over its groups."""
        out: dict[str, int] = {}
        for unit, d in self.demand.items():
            i = unit if isinstance(unit, str) else unit[0]
            out[i] = out.get(i, 0) + d
        return out

    def placed_at(self, unit) -> float:
        """Places of a demand unit (municipality, or (municipality, group)) in the plan."""
        return float(self.placed_by_municipality.get(unit, 0.0))

    def price(self, row) -> float:
        """The instance's cost of one place on a placement row: c_s, or the group's c_sg at the site."""
        if not self.grouped:
            return float(self.instance.sites.at[row.site, "cost_per_place"])
        own = self.site_groups.get((row.site, row.group))
        return float(self.instance.sites.at[row.site, "cost_per_place"] if own is None else own[1])


def site_groups(instance) -> dict[tuple[str, str], tuple[int, float]]:
    """(site, group) -> (C_sg, c_sg) for every group a site takes, as the instance's group tables say."""
    if instance.groups is None:
        return {}
    eligible = instance.groups.eligible
    return {
        (s, g): (int(c), float(p))
        for s, g, c, p in zip(eligible["site"], eligible["group"], eligible["capacity"], eligible["cost_per_place"])
    }


def unit_demand(instance, scale: float) -> dict:
    """Demand per unit as the policy scales it: per municipality, or per municipality and group (each group on its own)."""
    muni = instance.municipalities
    if instance.groups is None:
        return scaled_demand({i: int(d) for i, d in muni["demand"].items()}, scale)
    out = {}
    for g in instance.groups.ids:
        own = scaled_demand({i: int(d) for i, d in instance.groups.demand[g].items()}, scale)
        out.update({(i, g): d for i, d in own.items()})
    return out
