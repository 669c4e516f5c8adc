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
    demand: dict[str, int]
    sites: pd.DataFrame  # the solution's sites.csv indexed by site
    placements: pd.DataFrame
    municipalities: pd.DataFrame  # the solution's municipalities.csv indexed by municipality
    placed_by_municipality: pd.Series = field(default=None)
    placed_by_site: pd.Series = field(default=None)
    minutes: list[float] = field(default_factory=list)  # recomputed travel time per placement row
    fixed_cost: float = 0.0
    place_cost: float = 0.0
    person_minutes: float = 0.0
    unmet: float = 0.0
    objective: float | None = None

    @classmethod
    def of(cls, solution, instance, policy) -> Context:
        """The context before anything is recomputed."""
        muni = instance.municipalities
        return cls(
            solution=solution,
            instance=instance,
            policy=policy,
            demand=scaled_demand({i: int(d) for i, d in muni["demand"].items()}, policy.demand_scale),
            sites=solution.sites.set_index("site"),
            placements=solution.placements,
            municipalities=solution.municipalities.set_index("municipality"),
        )

    @property
    def budget(self) -> float | None:
        """The budget the plan had to keep: the policy's, else the instance's."""
        return self.policy.effective_budget(self.instance.budget)

    def recompute(self) -> None:
        """Sums by municipality and site, travel times, and the money, all from the instance's own numbers."""
        pl, prices, sites = self.placements, self.instance.sites, self.sites
        self.placed_by_municipality = pl.groupby("municipality")["placed"].sum()
        self.placed_by_site = pl.groupby("site")["placed"].sum()
        self.minutes = placement_minutes(self.instance, pl)
        self.fixed_cost = float((sites.loc[prices.index, "open_site"].astype(float) * prices["fixed_cost"]).sum())
        self.place_cost = float(sum(q * prices.at[s, "cost_per_place"] for s, q in zip(pl["site"], pl["placed"])))
        self.person_minutes = float(sum(q * t for q, t in zip(pl["placed"], self.minutes) if math.isfinite(t)))
        self.unmet = float(
            sum(max(d - float(self.placed_by_municipality.get(i, 0.0)), 0.0) for i, d in self.demand.items())
        )
        p = self.policy
        self.objective = (
            p.unmet_penalty * self.unmet + self.fixed_cost + self.place_cost + p.travel_value * self.person_minutes
        )

    def placed_at(self, i: str) -> float:
        """Places of municipality ``i`` in the plan."""
        return float(self.placed_by_municipality.get(i, 0.0))
