"""A Lagrangian bound for a large facility block, and the sites it points at.

Relaxing demand_balance with multipliers λ splits the block by site:

    L(λ) = Σ_i d_i (λ_i + min(0, M_i − λ_i)) + min over the site plans y allowed of Σ_s y_s (F_s + V_s(λ))
    V_s(λ) = min Σ_a (c_a − λ_i(a)) x_a  s.t.  m_s ≤ Σ_a x_a ≤ C_s,  0 ≤ x_a ≤ u_a   (a continuous knapsack)

where the site plans allowed keep the fixings and the large-site rule (at most / at least / exactly
one of a province's large sites). Every L(λ) is a lower bound of the block, however far λ is from
the best; the best λ gives at least the LP bound. Each evaluation is a sort of the arcs: on a block
of 45,000 arcs, a few milliseconds, where the LP relaxation (a row per arc) takes minutes. The
multipliers follow subgradient steps towards a target just above the best bound; the sites the
recent subproblems open, and those open at the best multipliers, are where a good plan is looked for.
"""

from __future__ import annotations

import time

import numpy as np

from .structure import Facility

RECENT = 0.01  # weight of the latest subproblem in how often each site is opened
PATIENCE = 50  # evaluations without a better bound before the step is halved
SETTLED = 200  # the bound has settled when this many evaluations raised it by less than SETTLED_BY
SETTLED_BY = 1e-6
TARGET_ABOVE = 0.005  # the step aims at this much (relatively) above the best bound so far


class Lagrangian:
    """The relaxation of one facility block."""

    def __init__(self, view: Facility, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, groups):
        self.view = view
        self.arc_cost = cost[view.arc_column]
        self.arc_upper = upper[view.arc_column]
        self.fixed = cost[view.site_column]
        self.unmet_price = np.where(view.unmet_column >= 0, cost[np.maximum(view.unmet_column, 0)], np.inf)
        self.forced = lower[view.site_column] > 0.5
        reach = np.bincount(view.arc_site, weights=self.arc_upper, minlength=len(view.site_column))
        self.can_open = (upper[view.site_column] > 0.5) & (reach >= view.min_size - 1e-9)
        self.groups = groups  # (site positions, at least one, at most one)
        self.free = np.ones(len(view.site_column), dtype=bool)
        for sites, _, _ in groups:
            self.free[sites] = False
        self.order_key = view.arc_site.astype(float)
        self.y_mean = np.zeros(len(view.site_column))  # how often the latest subproblems open each site
        self.y_best = np.zeros(len(view.site_column))  # the sites open at the best multipliers

    @classmethod
    def of(cls, block, view: Facility) -> Lagrangian | None:
        """The block's Lagrangian, when its rows over the sites alone are large-site rules (Σ y ≤, =, ≥ 1)."""
        from .benders import _site_rows

        groups = []
        for sites, values, low, high in _site_rows(block, view):
            if not np.all(values == 1) or low not in (1.0, -np.inf) or high not in (1.0, np.inf):
                return None
            groups.append((sites, low == 1.0, high == 1.0))
        return cls(view, block.cost, block.lower, block.upper, groups)

    def evaluate(self, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """L(λ), a subgradient, and the sites the subproblem opens."""
        view = self.view
        reduced = self.arc_cost - lam[view.arc_unit]
        order = np.lexsort((reduced, view.arc_site))
        sites = view.arc_site[order]
        room = self.arc_upper[order]
        total = np.cumsum(room)
        first = np.searchsorted(sites, sites, side="left")
        before = total - room - np.where(first > 0, total[np.maximum(first - 1, 0)], 0.0)
        goal = np.where(reduced[order] < 0, view.capacity[sites], view.min_size[sites])
        take = np.empty_like(room)
        take[order] = np.clip(goal - before, 0.0, room)
        value_of_site = np.bincount(view.arc_site, weights=reduced * take, minlength=len(view.site_column))
        worth = np.where(self.can_open, self.fixed + value_of_site, np.inf)
        y = self._choose(worth)
        if y is None:
            return -np.inf, np.zeros(len(lam)), np.zeros(len(worth))
        unmet = lam > self.unmet_price
        value = float(
            view.demand @ np.where(np.isfinite(self.unmet_price), np.minimum(lam, self.unmet_price), lam)
            + np.where(y > 0.5, worth, 0.0).sum()
        )
        placed = np.bincount(view.arc_unit, weights=take * y[view.arc_site], minlength=len(lam))
        return value, view.demand - placed - np.where(unmet, view.demand, 0.0), y

    def _choose(self, worth: np.ndarray) -> np.ndarray | None:
        """The best site plan for the site values ``worth`` under the fixings and large-site rules."""
        y = (self.free & self.can_open & ((worth < 0) | self.forced)).astype(float)
        if (self.forced & ~self.can_open).any():
            return None
        for sites, at_least, at_most in self.groups:
            w = worth[sites]
            pick = (np.isfinite(w) & ((w < 0) | self.forced[sites])).astype(float)
            if at_most and pick.sum() > 1:
                if self.forced[sites].sum() > 1:
                    return None
                pick[:] = 0
                pick[np.flatnonzero(self.forced[sites])[0] if self.forced[sites].any() else int(np.argmin(w))] = 1
            if at_least and pick.sum() < 1:
                if not np.isfinite(w).any():
                    return None
                pick[int(np.argmin(w))] = 1
            y[sites] = pick
        return y

    def pointed(self, share: float) -> np.ndarray:
        """The sites open at the best multipliers or in at least ``share`` of the latest subproblems."""
        return (self.y_mean >= share) | (self.y_best > 0.5)

    def start(self) -> np.ndarray:
        """λ_i: the cheapest cost of a place of unit i with the site's fixed cost spread over its capacity."""
        view = self.view
        per_place = self.arc_cost + self.fixed[view.arc_site] / np.maximum(view.capacity[view.arc_site], 1.0)
        lam = np.where(np.isfinite(self.unmet_price), self.unmet_price, np.inf)
        np.minimum.at(lam, view.arc_unit, per_place)
        return np.where(np.isfinite(lam), lam, 0.0)

    def run(self, until: float, upper_bound: float | None = None) -> tuple[float, np.ndarray]:
        """Subgradient steps until ``until`` (monotonic seconds): the best bound and its multipliers."""
        lam = self.start()
        best, best_lam = -np.inf, lam.copy()
        step, since = 2.0, 0
        history: list[float] = []
        while time.monotonic() < until and step > 1e-6:
            value, g, y = self.evaluate(lam)
            if not np.isfinite(value):
                break
            self.y_mean = (1 - RECENT) * self.y_mean + RECENT * y
            if value > best:
                best, best_lam, since = value, lam.copy(), 0
                self.y_best = y
            else:
                since += 1
                if since >= PATIENCE:
                    step, since = step / 2, 0
            history.append(best)
            if len(history) > SETTLED and history[-1] - history[-SETTLED] <= SETTLED_BY * abs(history[-1]):
                break
            norm = float(g @ g)
            if norm < 1e-12:
                break  # λ is optimal: its subproblem's plan places every unit's demand exactly
            goal = best + TARGET_ABOVE * abs(best)
            if upper_bound is not None:
                goal = min(goal, upper_bound)
            lam = lam + step * max(goal - value, 1e-9 * abs(goal)) / norm * g
        return best, best_lam
