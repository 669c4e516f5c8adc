"""Prototype: Benders decomposition with the site decisions in the master (Fischetti, Ljubić, Sinnl 2017).

Master: min F·y + θ over y in {0,1}^S with the large-site rows and the cuts θ ≥ α + β·y.
Subproblem SP(y): the placements with the sites fixed, an LP whose link rows become column bounds
(x_a ≤ u_a y_s). Every cut comes from a dual solution made exactly dual feasible, so it is valid
for every y by weak duality. Min-size and budget rows get a slack priced far above any plan
(elastic SP ≤ true SP, so cuts stay valid; a plan with slack is not feasible).
"""

from __future__ import annotations

import time

import highspy
import numpy as np
from scipy.sparse import coo_array

ELASTIC = 1e6  # times the unmet penalty
CAP_FACTOR = 10.0


class Subproblem:
    def __init__(self, p, threads=1, penalty=None, slack_price=None, feasibility=False):
        self.p = p
        self.penalty = p.penalty if penalty is None else penalty
        NI, S, A = p.sizes
        ar = np.arange(A)
        # columns: x (A), u (I), slack_min (Sm), slack_budget (0/1)
        self.ms = np.flatnonzero(p.min_size > 0)
        Sm = len(self.ms)
        has_budget = p.budget is not None
        nb = 1 if has_budget else 0
        n = A + NI + Sm + nb
        rows, cols, vals = [], [], []
        r = 0
        rows += [p.arc_unit, NI and np.arange(NI)]
        cols += [ar, A + np.arange(NI)]
        vals += [np.ones(A), np.ones(NI)]
        self.r_demand = np.arange(NI)
        r += NI
        rows.append(r + p.arc_site)
        cols.append(ar)
        vals.append(np.ones(A))
        self.r_cap = r + np.arange(S)
        r += S
        if Sm:
            rmap = -np.ones(S, dtype=np.int64)
            rmap[self.ms] = np.arange(Sm)
            keep = rmap[p.arc_site] >= 0
            rows += [r + rmap[p.arc_site[keep]], r + np.arange(Sm)]
            cols += [ar[keep], A + NI + np.arange(Sm)]
            vals += [np.ones(keep.sum()), np.ones(Sm)]
        self.r_min = r + np.arange(Sm)
        r += Sm
        if has_budget:
            rows += [np.full(A, r), np.array([r])]
            cols += [ar, np.array([A + NI + Sm])]
            vals += [p.arc_place_cost, np.array([-1.0])]
            self.r_budget = r
            r += 1
        if p.mean_limit is not None:
            rows.append(np.full(A, r))
            cols.append(ar)
            vals.append(p.arc_minutes - p.mean_limit)
            self.r_mean = r
            r += 1
        self.A = coo_array(
            (np.concatenate(vals), (np.concatenate([np.asarray(x) for x in rows]), np.concatenate(cols))), shape=(r, n)
        ).tocsc()
        big = self.penalty * ELASTIC if slack_price is None else slack_price
        self.cost = np.concatenate(
            [
                p.arc_cost,
                np.full(NI, self.penalty),
                np.full(Sm, big),
                np.full(nb, big / max(1.0, np.max(p.arc_place_cost, initial=1.0))),
            ]
        )
        if feasibility:  # phase one: only the slacks cost
            self.cost = np.concatenate(
                [np.zeros(A + NI), np.ones(Sm), np.full(nb, 1.0 / max(1.0, np.max(p.arc_place_cost, initial=1.0)))]
            )
        self.n, self.m = n, r
        self.lo = np.zeros(r)
        self.hi = np.zeros(r)
        self.lo[self.r_demand] = self.hi[self.r_demand] = p.demand
        self.lo[self.r_cap] = -np.inf
        self.hi[self.r_min] = np.inf
        if has_budget:
            self.lo[self.r_budget] = -np.inf
        if p.mean_limit is not None:
            self.lo[self.r_mean] = -np.inf
        self.ub = np.concatenate([p.arc_upper, p.demand, np.full(Sm + nb, np.inf)])
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", threads)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, r
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, np.zeros(n), self.ub
        lp.row_lower_, lp.row_upper_ = self.lo, self.hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.A.indptr, self.A.indices, self.A.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, r
        h.passModel(lp)
        self.h = h
        self.AT = self.A.T.tocsr()
        self.seconds = 0.0
        self.calls = 0

    def bounds_for(self, y):
        p = self.p
        A = len(p.arc_unit)
        ub = self.ub.copy()
        ub[:A] = p.arc_upper * y[p.arc_site]
        lo, hi = self.lo.copy(), self.hi.copy()
        hi[self.r_cap] = p.capacity * y
        lo[self.r_min] = p.min_size[self.ms] * y[self.ms]
        if p.budget is not None:
            hi[self.r_budget] = p.budget - p.fixed @ y
        return lo, hi, ub

    def solve(self, y):
        """Value of SP(y) and a cut (alpha, beta): SP(y') >= alpha + beta·y' for every y'."""
        t = time.perf_counter()
        y = np.clip(y, 0.0, 1.0)
        lo, hi, ub = self.bounds_for(y)
        h = self.h
        h.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), np.zeros(self.n), ub)
        h.changeRowsBounds(self.m, np.arange(self.m, dtype=np.int32), lo, hi)
        h.run()
        st = h.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()
            h.run()
            st = h.getModelStatus()
            assert st == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(st)
        sol = h.getSolution()
        x = np.array(sol.col_value)
        pi = np.array(sol.row_dual)
        # Make the dual exactly feasible: a row may only carry a dual on a finite side.
        pi = np.where(pi > 0, np.where(np.isfinite(self.lo), pi, 0.0), np.where(np.isfinite(self.hi), pi, 0.0))
        z = self.cost - self.AT.T @ pi if False else self.cost - self.A.T @ pi
        zneg = np.minimum(z, 0.0)
        # infinite upper bounds (slacks) must have z >= 0; they have cost >= 0 and the clamp keeps that only approximately
        inf_ub = ~np.isfinite(self.ub)
        if (zneg[inf_ub] < -1e-9).any():
            zneg[inf_ub] = 0.0  # the cut is then slightly weaker-than-valid only if violated; checked below
        p = self.p
        A = len(p.arc_unit)
        S = len(p.capacity)
        # constant part: rows whose bound does not depend on y, and columns with fixed upper bounds
        side = np.where(pi > 0, self.lo, self.hi)
        contrib = np.where(pi != 0, pi * np.where(np.isfinite(side), side, 0.0), 0.0)
        alpha = float(contrib[self.r_demand].sum())
        if p.mean_limit is not None:
            alpha += float(contrib[self.r_mean])
        fin = np.isfinite(self.ub)
        alpha += float((zneg[A:][fin[A:]] * self.ub[A:][fin[A:]]).sum())
        beta = np.zeros(S)
        beta += np.minimum(pi[self.r_cap], 0.0) * p.capacity
        if len(self.ms):
            np.add.at(beta, self.ms, np.maximum(pi[self.r_min], 0.0) * p.min_size[self.ms])
        np.add.at(beta, p.arc_site, zneg[:A] * p.arc_upper)
        if p.budget is not None:
            b = min(pi[self.r_budget], 0.0)
            alpha += b * p.budget
            beta -= b * p.fixed
        value = float(self.cost @ x)
        self.seconds += time.perf_counter() - t
        self.calls += 1
        slack = x[A + len(p.demand) :]
        return value, alpha, beta, x, bool((slack > 1e-6).any())


class Master:
    def __init__(self, p, theta_lo, threads=1):
        S = len(p.capacity)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", threads)
        lp = highspy.HighsLp()
        lp.num_col_ = S + 1
        lp.col_cost_ = np.concatenate([p.fixed, [1.0]])
        lp.col_lower_ = np.concatenate([p.y_lo, [theta_lo]])
        lp.col_upper_ = np.concatenate([p.y_hi, [np.inf]])
        rows, cols, vals, lo, hi = [], [], [], [], []
        for k, (idx, low, u) in enumerate(p.large):
            rows.append(np.full(len(idx), k))
            cols.append(idx)
            vals.append(np.ones(len(idx)))
            lo.append(low)
            hi.append(u)
        nr = len(p.large)
        if nr:
            M = coo_array(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nr, S + 1)
            ).tocsc()
            lp.num_row_ = nr
            lp.row_lower_, lp.row_upper_ = np.array(lo, dtype=float), np.array(hi, dtype=float)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = M.indptr, M.indices, M.data
            lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = S + 1, nr
        else:
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = np.zeros(S + 2, dtype=np.int32)
            lp.a_matrix_.num_col_ = S + 1
        h.passModel(lp)
        self.h, self.S, self.cuts = h, S, 0

    def add_cut(self, alpha, beta, feasibility=False):
        # theta - beta·y >= alpha; a feasibility cut: 0 >= alpha + beta·y
        nz = np.flatnonzero(np.abs(beta) > 1e-12)
        if feasibility:
            idx = nz.astype(np.int32)
            val = beta[nz]
            self.h.addRows(
                1, np.array([-np.inf]), np.array([-alpha]), len(idx), np.array([0], dtype=np.int32), idx, val
            )
            self.cuts += 1
            return
        idx = np.concatenate([nz, [self.S]]).astype(np.int32)
        val = np.concatenate([-beta[nz], [1.0]])
        self.h.addRows(1, np.array([alpha]), np.array([np.inf]), len(idx), np.array([0], dtype=np.int32), idx, val)
        self.cuts += 1

    def solve_lp(self):
        h = self.h
        h.changeColsIntegrality(
            self.S, np.arange(self.S, dtype=np.int32), np.array([highspy.HighsVarType.kContinuous] * self.S)
        )
        h.run()
        sol = np.array(h.getSolution().col_value)
        return h.getInfo().objective_function_value, sol[: self.S], sol[self.S]

    def solve_mip(self, gap, time_limit, start=None, collect=None):
        h = self.h
        h.changeColsIntegrality(
            self.S, np.arange(self.S, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * self.S)
        )
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("time_limit", max(time_limit, 0.01))
        if start is not None:
            s = highspy.HighsSolution()
            s.col_value = list(start)
            s.value_valid = True
            h.setSolution(s)
        found = []
        if collect is not None:
            h.cbMipImprovingSolution.subscribe(lambda e: found.append(np.array(e.data_out.mip_solution)[: self.S + 1]))
        h.run()
        if collect is not None:
            h.cbMipImprovingSolution.unsubscribe_all() if hasattr(h.cbMipImprovingSolution, "unsubscribe_all") else None
        info = h.getInfo()
        sol = np.array(h.getSolution().col_value)
        return (
            info.objective_function_value,
            info.mip_dual_bound,
            sol[: self.S],
            sol[self.S],
            h.modelStatusToString(h.getModelStatus()),
            found,
        )


def solve(p, gap=1e-4, time_limit=120.0, log=print, stabilise=True, lp_rounds=400, threads=1):
    t0 = time.perf_counter()
    NI, S, A = p.sizes
    sp = Subproblem(p, threads)
    # A softer unmet price keeps the cuts well scaled; cuts of SP_soft <= SP are valid, and an integer
    # plan with unmet demand is evaluated (and cut) at the true price.
    soft = min(p.penalty, CAP_FACTOR * float(np.max(p.arc_cost, initial=1.0)))
    sp_soft = Subproblem(p, threads, soft, slack_price=10 * soft) if soft < p.penalty else sp
    has_slack = len(sp.ms) > 0 or p.budget is not None
    sp_feas = Subproblem(p, threads, feasibility=True) if has_slack else None
    cheapest = np.full(NI, p.penalty)
    np.minimum.at(cheapest, p.arc_unit, p.arc_cost)
    master = Master(p, float(cheapest @ p.demand), threads)
    best, best_y, best_x = np.inf, None, None
    stats = {"feasibility_cuts": 0, "exact_cuts": 0}
    lb = -np.inf

    def evaluate(y, exact=False):
        nonlocal best, best_y, best_x
        value, alpha, beta, x, elastic = sp_soft.solve(y)
        integral = np.all(np.abs(y - np.round(y)) < 1e-9)
        if exact and integral and elastic and sp_feas is not None:
            phi, g, d, _, _ = sp_feas.solve(y)
            if phi > 1e-7:
                master.add_cut(g, d, feasibility=True)
                stats["feasibility_cuts"] += 1
                master.add_cut(alpha, beta)
                return value, alpha, beta
        if exact and sp_soft is not sp and integral and x[A : A + NI].sum() > 1e-9:
            stats["exact_cuts"] += 1
            value, alpha, beta, x, elastic = sp.solve(y)
        master.add_cut(alpha, beta)
        if integral and not elastic:
            total = value + float(p.fixed @ y)
            if total < best:
                best, best_y, best_x = total, y.copy(), x
        return value, alpha, beta

    # Phase 1: the LP master by cutting planes, separated at points between the LP optimum and an interior core point.
    core = np.clip(np.where(p.y_hi > 0, 1.0, 0.0), p.y_lo, p.y_hi)
    evaluate(core)
    history = []
    alpha_mix = 0.5 if stabilise else 1.0
    for rnd in range(lp_rounds):
        obj, y, theta = master.solve_lp()
        lb = max(lb, obj)
        history.append(obj)
        ysep = alpha_mix * y + (1 - alpha_mix) * core
        value, a, b = evaluate(ysep)
        cut_at_y = a + b @ y
        if cut_at_y <= theta + 1e-9 * max(1, abs(theta)):
            # the cut at the mixed point does not cut y: separate y itself
            value, a, b = evaluate(y)
            if a + b @ y <= theta + 1e-7 * max(1, abs(theta)):
                break  # LP master optimal
        core = 0.5 * (core + y)
        if len(history) > 10 and history[-1] - history[-11] < 1e-6 * abs(history[-1]):
            break
        # an upper bound from rounding up the LP point
        if rnd % 10 == 0:
            evaluate(np.clip(np.ceil(y - 1e-6), p.y_lo, p.y_hi))
    lp_time = time.perf_counter() - t0
    log(
        f"  LP phase: {len(history)} rounds, {master.cuts} cuts, bound {lb:.2f}, best {best:.2f}, {lp_time:.1f}s (SP {sp_soft.seconds:.1f}s in {sp_soft.calls})"
    )
    # Phase 2: master MIP, cuts at its solutions, until it proves the plan.
    rounds = 0
    start = None
    while time.perf_counter() - t0 < time_limit:
        rounds += 1
        obj, dual, y, theta, status, found = master.solve_mip(
            gap / 4, time_limit - (time.perf_counter() - t0), start, collect=True
        )
        lb = max(lb, dual)
        y = np.round(y)
        value, a, b = evaluate(y, exact=True)
        for f in found[-5:]:
            evaluate(np.round(f[:S]), exact=True)
        if best - lb <= gap * abs(best):
            break
        start = np.concatenate([best_y, [max(a + b @ best_y, 0)]]) if best_y is not None else None
        start = None
    total = time.perf_counter() - t0
    log(
        f"  MIP phase: {rounds} rounds, {master.cuts} cuts; bound {lb:.2f} best {best:.2f} gap {(best - lb) / best:.2e}; {total:.1f}s (SP {sp_soft.seconds:.1f}s in {sp_soft.calls}) {stats}"
    )
    return {
        "objective": best,
        "bound": lb,
        "seconds": total,
        "lp_seconds": lp_time,
        "y": best_y,
        "x": best_x,
        "cuts": master.cuts,
        "rounds": rounds,
    }
