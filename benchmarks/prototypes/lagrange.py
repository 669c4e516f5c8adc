"""Prototype: Lagrangian bound for a facility-location block (demand_balance relaxed), vectorised.

L(λ) = Σ_i d_i (λ_i + min(0, M − λ_i)) + min_{y ∈ Y} Σ_s y_s (F_s + V_s(λ)),
V_s(λ) = min Σ_a (c_a − λ_i(a)) x_a  s.t. m_s ≤ Σ_a x_a ≤ C_s, 0 ≤ x_a ≤ u_a   (a continuous knapsack).
Every L(λ) is a valid lower bound. Y keeps the fixings and the large-site rows.
"""

from __future__ import annotations

import time

import numpy as np


class Lagrangian:
    def __init__(self, p):
        self.p = p
        NI, S, A = p.sizes
        self.u = p.arc_upper
        self.site_start = np.searchsorted(np.sort(p.arc_site), np.arange(S))
        reach = np.bincount(p.arc_site, weights=self.u, minlength=S)
        self.can_open = (p.y_hi > 0.5) & (reach >= p.min_size - 1e-9)
        in_group = np.zeros(S, dtype=bool)
        for idx, _, _ in p.large:
            in_group[idx] = True
        self.free = ~in_group

    def site_values(self, lam):
        """V_s(λ) and the knapsack solution x (per arc)."""
        p = self.p
        r = p.arc_cost - lam[p.arc_unit]
        order = np.lexsort((r, p.arc_site))
        s_sorted = p.arc_site[order]
        u_sorted = self.u[order]
        cum = np.cumsum(u_sorted)
        start = np.searchsorted(s_sorted, s_sorted, side="left")
        base = np.where(start > 0, cum[start - 1], 0.0)
        prev = cum - u_sorted - base
        target = np.where(r[order] < 0, p.capacity[s_sorted], p.min_size[s_sorted])
        take = np.clip(target - prev, 0.0, u_sorted)
        x = np.empty_like(take)
        x[order] = take
        V = np.bincount(p.arc_site, weights=r * x, minlength=len(p.capacity))
        return V, x

    def evaluate(self, lam):
        p = self.p
        V, x = self.site_values(lam)
        w = np.where(self.can_open, p.fixed + V, np.inf)
        y = np.zeros(len(w))
        forced = p.y_lo > 0.5
        y[self.free & ((w < 0) | forced) & self.can_open] = 1
        y[self.free & forced & ~self.can_open] = np.nan  # infeasible fixing
        for idx, lo, hi in p.large:
            ww = w[idx]
            f = forced[idx]
            chosen = np.zeros(len(idx))
            chosen[f] = 1
            chosen[(ww < 0) & np.isfinite(ww)] = 1
            if hi <= 1 and chosen.sum() > 1:
                chosen[:] = 0
                k = np.flatnonzero(f)[0] if f.any() else int(np.argmin(ww))
                chosen[k] = 1
            if lo >= 1 and chosen.sum() < 1 and np.isfinite(ww).any():
                chosen[int(np.argmin(ww))] = 1
            y[idx] = chosen
        w_used = np.where(y > 0.5, w, 0.0)
        unmet = lam > p.penalty
        value = float(p.demand @ lam + (p.demand * np.minimum(0.0, p.penalty - lam)).sum() + w_used.sum())
        xy = x * y[p.arc_site]
        g = p.demand - np.bincount(p.arc_unit, weights=xy, minlength=len(p.demand)) - np.where(unmet, p.demand, 0.0)
        return value, g, y, w

    def initial(self):
        p = self.p
        per_place = p.arc_cost + p.fixed[p.arc_site] / np.maximum(p.capacity[p.arc_site], 1)
        lam = np.full(len(p.demand), p.penalty)
        np.minimum.at(lam, p.arc_unit, per_place)
        return lam

    def run(self, target, iterations=500, time_limit=60.0, log=None, lam=None, patience=20, deflect=0.0):
        t0 = time.perf_counter()
        lam = self.initial() if lam is None else lam.copy()
        best, best_lam, best_y = -np.inf, lam.copy(), None
        step, since = 2.0, 0
        history = []
        prev_g = None
        self.y_sum = np.zeros(len(self.p.capacity))
        self.y_seen = np.zeros(len(self.p.capacity))
        for _ in range(iterations):
            value, g, y, w = self.evaluate(lam)
            self.y_sum = 0.99 * self.y_sum + 0.01 * y
            self.y_seen = np.maximum(0.98 * self.y_seen, y)
            if value > best:
                best, best_lam, best_y, since = value, lam.copy(), y.copy(), 0
            else:
                since += 1
                if since >= patience:
                    step, since = step / 2, 0
            history.append((time.perf_counter() - t0, value))
            if deflect and prev_g is not None:
                g = g + deflect * prev_g
            prev_g = g
            norm = float(g @ g)
            if norm < 1e-12 or time.perf_counter() - t0 > time_limit or step < 1e-6:
                break
            goal = target if target < 1e17 else best + 0.005 * abs(best)
            lam = lam + step * max(goal - value, 1e-9 * abs(goal)) / norm * g
        return best, best_lam, best_y, history
