"""Benders decomposition of a facility block, with the site decisions in the master.

Fischetti, Ljubić and Sinnl, "Benders decomposition without separability: a computational study for
capacitated facility location problems", Management Science 2017. The master holds open_site, the
block's rows over open_site alone (the large-site rule) and one variable θ for the cost of the
placements; the subproblem is the rest of the block with the sites fixed, where the link rows
become column bounds (placed ≤ u·open_site), so that it is a small transport LP however many
arcs there are. Blocks with few sites and many arcs per site (OR-Library capa/b/c: 100 sites,
100,000 arcs) are where this beats branch and bound over the whole block, whose root LP alone
carries a row per arc.

Every cut comes from a dual solution of the subproblem made exactly dual feasible (row duals only
on finite sides, reduced costs recomputed), so by weak duality it bounds the placement cost for
every choice of sites: the master's bound is a valid bound of the block. Two devices keep the
cuts well scaled: the subproblem prices unmet demand at no more than ten times the dearest arc
(a lower price gives a lower cost, so the cuts stay valid), and a site plan with unmet demand at
that price is evaluated and cut at the true price; a min-size row that the sites cannot meet gets
a slack, and a site plan that needs it is cut off by a feasibility cut.

Phase 1 solves the master's LP by cutting planes, separated at points between its optimum and an
interior point (in-out stabilisation); phase 2 solves the master as a MIP, cuts every plan it
returns or meets, and stops when the best plan is within the gap of the master's bound.
"""

from __future__ import annotations

import time

import highspy
import numpy as np
from scipy.sparse import coo_array, csc_array

from .library import new_highs
from .options import Status
from .structure import Facility

SOFT_PRICE = 10.0  # unmet demand in the subproblem costs at most this times the dearest arc
SLACK_PRICE = 10.0  # a missing place of a min-size row costs this times the soft unmet price
MIX = 0.5  # in-out stabilisation: separate at MIX * LP optimum + (1 - MIX) * interior point
LP_STALL = 1e-4  # phase 1 ends when ten rounds raise the bound by less than this, relatively
LP_ROUNDS = 400
PLANS_PER_ROUND = 20  # site plans of a master MIP cut in each round


class _Subproblem:
    """The block with the sites fixed: placed (arcs), unmet (units), min-size slacks."""

    def __init__(self, view: Facility, cost: np.ndarray, upper: np.ndarray, unmet_price: np.ndarray, slack_price):
        n_units, n_sites, n_arcs = len(view.unit_row), len(view.site_column), len(view.arc_column)
        self.view = view
        self.sized = np.flatnonzero(view.min_size > 0)
        n_sized = len(self.sized)
        self.n_arcs, self.n_units = n_arcs, n_units
        arcs = np.arange(n_arcs)
        has_unmet = view.unmet_column >= 0
        unmet_units = np.flatnonzero(has_unmet)
        rows = [view.arc_unit, unmet_units, n_units + view.arc_site]
        cols = [arcs, n_arcs + unmet_units, arcs]
        vals = [np.ones(n_arcs), np.ones(len(unmet_units)), np.ones(n_arcs)]
        if n_sized:
            position = np.full(n_sites, -1)
            position[self.sized] = np.arange(n_sized)
            keep = position[view.arc_site] >= 0
            rows += [n_units + n_sites + position[view.arc_site[keep]], n_units + n_sites + np.arange(n_sized)]
            cols += [arcs[keep], n_arcs + n_units + np.arange(n_sized)]
            vals += [np.ones(int(keep.sum())), np.ones(n_sized)]
        self.n_rows = n_units + n_sites + n_sized
        self.n_cols = n_arcs + n_units + n_sized
        self.matrix = csc_array(
            coo_array(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(self.n_rows, self.n_cols)
            )
        )
        self.cost = np.concatenate([cost[view.arc_column], unmet_price, np.full(n_sized, slack_price)])
        self.arc_upper = upper[view.arc_column]
        unmet_upper = np.where(has_unmet, upper[np.maximum(view.unmet_column, 0)], 0.0)
        self.upper = np.concatenate([self.arc_upper, unmet_upper, np.full(n_sized, np.inf)])
        self.row_lower = np.concatenate([view.demand, np.full(n_sites, -np.inf), np.zeros(n_sized)])
        self.row_upper = np.concatenate([view.demand, np.zeros(n_sites), np.full(n_sized, np.inf)])
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, np.zeros(self.n_cols), self.upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = self.matrix.indptr, self.matrix.indices
        lp.a_matrix_.value_ = self.matrix.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n_cols, self.n_rows
        h.passModel(lp)
        self.h = h
        self.columns = np.arange(self.n_cols, dtype=np.int32)
        self.rows = np.arange(self.n_rows, dtype=np.int32)

    def solve(self, y: np.ndarray):
        """The subproblem's value at ``y``, its plan, and a cut (alpha, beta): value(y') >= alpha + beta·y'."""
        view = self.view
        y = np.clip(y, 0.0, 1.0)
        n_units, n_sites = len(view.unit_row), len(view.site_column)
        upper = self.upper.copy()
        upper[: self.n_arcs] = self.arc_upper * y[view.arc_site]
        lower_rows, upper_rows = self.row_lower.copy(), self.row_upper.copy()
        upper_rows[n_units : n_units + n_sites] = view.capacity * y
        lower_rows[n_units + n_sites :] = view.min_size[self.sized] * y[self.sized]
        h = self.h
        h.changeColsBounds(self.n_cols, self.columns, np.zeros(self.n_cols), upper)
        h.changeRowsBounds(self.n_rows, self.rows, lower_rows, upper_rows)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # a warm start gone wrong: solve from scratch
            h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"Benders subproblem: {h.modelStatusToString(h.getModelStatus())}")
        solution = h.getSolution()
        x = np.array(solution.col_value)
        dual = np.array(solution.row_dual)
        # Exactly dual feasible: a row dual only on a finite side, the reduced costs recomputed from it.
        dual = np.where(dual > 0, np.where(np.isfinite(self.row_lower), dual, 0.0), dual)
        dual = np.where(dual < 0, np.where(np.isfinite(self.row_upper), dual, 0.0), dual)
        reduced = self.cost - self.matrix.T @ dual
        at_upper = np.minimum(reduced, 0.0)
        at_upper[~np.isfinite(self.upper)] = 0.0  # slack columns: cost > 0, reduced cost >= 0 up to noise
        alpha = float(dual[:n_units] @ view.demand)
        alpha += float(at_upper[self.n_arcs : self.n_arcs + n_units] @ self.upper[self.n_arcs : self.n_arcs + n_units])
        beta = np.minimum(dual[n_units : n_units + n_sites], 0.0) * view.capacity
        if len(self.sized):
            np.add.at(beta, self.sized, np.maximum(dual[n_units + n_sites :], 0.0) * view.min_size[self.sized])
        np.add.at(beta, view.arc_site, at_upper[: self.n_arcs] * self.arc_upper)
        return float(self.cost @ x), alpha, beta, x


class _Master:
    """min F·y + θ over the sites, with the block's rows over open_site alone and the cuts."""

    def __init__(self, fixed, lower, upper, rows, theta_lower: float, threads: int, seed: int):
        n = len(fixed)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("random_seed", int(seed))
        h.addVars(n + 1, np.concatenate([lower, [theta_lower]]), np.concatenate([upper, [np.inf]]))
        h.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), np.concatenate([fixed, [1.0]]))
        for columns, values, low, high in rows:
            h.addRow(low, high, len(columns), columns.astype(np.int32), values)
        self.h, self.n, self.cuts = h, n, 0
        self.all = np.arange(n, dtype=np.int32)

    def cut(self, alpha: float, beta: np.ndarray, feasibility: bool = False) -> None:
        """θ - beta·y >= alpha, or for a feasibility cut 0 >= alpha + beta·y."""
        nz = np.flatnonzero(np.abs(beta) > 1e-12 * max(1.0, float(np.abs(beta).max(initial=0.0))))
        if feasibility:
            self.h.addRow(-np.inf, -alpha, len(nz), nz.astype(np.int32), beta[nz])
        else:
            index = np.concatenate([nz, [self.n]]).astype(np.int32)
            self.h.addRow(alpha, np.inf, len(index), index, np.concatenate([-beta[nz], [1.0]]))
        self.cuts += 1

    def _integrality(self, kind) -> None:
        self.h.changeColsIntegrality(self.n, self.all, np.array([kind] * self.n))

    def lp(self) -> tuple[float, float, np.ndarray, float]:
        """The master's LP: its objective, a bound certified from its duals, y and θ."""
        self._integrality(highspy.HighsVarType.kContinuous)
        self.h.run()
        solution = self.h.getSolution()
        x = np.array(solution.col_value)
        certified = _certified(self.h.getLp(), np.array(solution.row_dual))
        return self.h.getInfo().objective_function_value, certified, x[: self.n], x[self.n]

    def mip(self, gap: float, seconds: float, deadline) -> tuple[Status, float | None, np.ndarray | None, list]:
        """Solve the master MIP; its bound, its plan, and every plan HiGHS met on the way."""
        h = self.h
        self._integrality(highspy.HighsVarType.kInteger)
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("time_limit", max(seconds, 0.0))
        found: list = []
        h.cbMipSolution.subscribe(lambda e: found.append(np.array(e.data_out.mip_solution)))
        h.HandleUserInterrupt = True
        h.startSolve()
        stopped = False
        try:
            while not h.wait(0.02)[0]:
                if time.monotonic() >= deadline.at():
                    h.cancelSolve()
                    h.joinSolve()
                    stopped = True
                    break
        except BaseException:
            h.cancelSolve()
            h.joinSolve()
            raise
        finally:
            h.cbMipSolution.clear()
        info = h.getInfo()
        bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
        y = np.array(h.getSolution().col_value)[: self.n] if info.primal_solution_status == 2 else None
        done = h.getModelStatus() == highspy.HighsModelStatus.kOptimal and not stopped
        return (Status.OPTIMAL if done else Status.TIME_LIMIT), bound, y, found


def solve_benders(block, view: Facility, options, deadline, start: np.ndarray | None):
    """(status, x, objective, bound, message) of the block, x over the block's columns."""
    run = _Benders(block, view, options)
    if start is not None and np.isfinite(start).all():
        run.evaluate(np.round(start[view.site_column]), exact=True)
    run.lp_phase(deadline)
    status = run.mip_phase(deadline, options.gap)
    return run.result(status)


class _Benders:
    def __init__(self, block, view: Facility, options):
        self.block, self.view = block, view
        self.fixed = block.cost[view.site_column]
        self.low, self.high = block.lower[view.site_column], block.upper[view.site_column]
        unmet_price = np.where(view.unmet_column >= 0, block.cost[np.maximum(view.unmet_column, 0)], 0.0)
        dearest = float(np.max(block.cost[view.arc_column], initial=1.0))
        soft = np.minimum(unmet_price, SOFT_PRICE * max(dearest, 1.0))
        slack_price = SLACK_PRICE * float(np.max(soft, initial=1.0))
        self.soft = _Subproblem(view, block.cost, block.upper, soft, slack_price)
        self.true = (
            _Subproblem(view, block.cost, block.upper, unmet_price, slack_price)
            if (soft < unmet_price).any()
            else self.soft
        )
        self.feasible = None
        if len(self.soft.sized):
            zero = np.zeros_like(block.cost)
            self.feasible = _Subproblem(view, zero, block.upper, np.zeros(len(view.unit_row)), 1.0)
        cheapest = unmet_price.copy()
        np.minimum.at(cheapest, view.arc_unit, block.cost[view.arc_column])
        self.master = _Master(
            self.fixed,
            self.low,
            self.high,
            _site_rows(block, view),
            float(cheapest @ view.demand),
            options.threads,
            options.seed,
        )
        self.best, self.best_y, self.best_x = np.inf, None, None
        self.bound = -np.inf

    def evaluate(self, y: np.ndarray, exact: bool = False) -> tuple[float, np.ndarray]:
        """Cut at ``y``; at a whole plan (``exact``) also the true price and feasibility. Returns the cut."""
        sp = self.soft
        _, alpha, beta, x = sp.solve(y)
        whole = bool(np.all(np.abs(y - np.round(y)) <= 1e-9))
        short = (x[sp.n_arcs + sp.n_units :] > 1e-9).any()
        if exact and whole and short and self.feasible is not None:
            phi, f_alpha, f_beta, _ = self.feasible.solve(y)
            if phi > 1e-7:  # the sites cannot meet their minimum sizes: cut the plan off
                self.master.cut(f_alpha, f_beta, feasibility=True)
                self.master.cut(alpha, beta)
                return alpha, beta
        if exact and whole and self.true is not sp and x[sp.n_arcs : sp.n_arcs + sp.n_units].sum() > 1e-9:
            _, alpha, beta, x = self.true.solve(y)
        self.master.cut(alpha, beta)
        if whole and not (x[sp.n_arcs + sp.n_units :] > 1e-9).any():
            used = slice(0, sp.n_arcs + sp.n_units)
            total = float(self.true.cost[used] @ x[used]) + float(self.fixed @ y)
            if total < self.best:
                self.best, self.best_y, self.best_x = total, np.round(y), x
        return alpha, beta

    def lp_phase(self, deadline) -> None:
        """The master's LP by cutting planes with in-out stabilisation; rounded points give plans."""
        core = np.clip(np.where(self.high > 0.5, 1.0, 0.0), self.low, 1.0)
        self.evaluate(core)
        history: list[float] = []
        for round_ in range(LP_ROUNDS):
            if time.monotonic() >= deadline.at():
                return
            objective, certified, y, theta = self.master.lp()
            self.bound = max(self.bound, min(certified, objective))
            history.append(objective)
            alpha, beta = self.evaluate(MIX * y + (1 - MIX) * core)
            if alpha + beta @ y <= theta + 1e-9 * max(1.0, abs(theta)):
                alpha, beta = self.evaluate(y)
                if alpha + beta @ y <= theta + 1e-7 * max(1.0, abs(theta)):
                    return  # the master's LP is solved
            core = 0.5 * (core + y)
            if len(history) > 10 and history[-1] - history[-11] < LP_STALL * abs(history[-1]):
                return
            if round_ % 10 == 0:
                self.evaluate(np.clip(np.ceil(y - 1e-6), self.low, self.high), exact=True)

    def mip_phase(self, deadline, gap: float) -> Status:
        """Master MIPs until the best plan is within ``gap`` of the master's bound."""
        while time.monotonic() < deadline.at():
            done, bound, y, found = self.master.mip(gap / 4, deadline.left(), deadline)
            if bound is not None:
                self.bound = max(self.bound, bound)
            for plan in [y] + _most_promising(found, self.fixed, PLANS_PER_ROUND):
                if plan is not None:
                    self.evaluate(np.round(plan), exact=True)
            if self.best_y is not None and _within(self.best, self.bound, gap):
                return Status.OPTIMAL
            if done is not Status.OPTIMAL:
                break
        return Status.TIME_LIMIT

    def result(self, status: Status):
        if self.best_y is None:
            return Status.TIME_LIMIT_NO_PLAN, None, None, None, "Benders: no plan yet"
        view, sp = self.view, self.soft
        x = np.zeros(len(self.block.cost))
        x[view.site_column] = self.best_y
        x[view.arc_column] = self.best_x[: sp.n_arcs]
        units = np.flatnonzero(view.unmet_column >= 0)
        x[view.unmet_column[units]] = self.best_x[sp.n_arcs + units]
        objective = float(self.block.cost @ x)
        bound = min(self.bound, objective) if np.isfinite(self.bound) else None
        return status, x, objective, bound, "" if status is Status.OPTIMAL else "Benders: time limit reached"


def _site_rows(block, view: Facility) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """The block's rows over open_site alone (the large-site rule), in site positions."""
    site_of_column = np.full(len(block.cost), -1)
    site_of_column[view.site_column] = np.arange(len(view.site_column))
    csr = block.matrix.tocsr()
    length = np.diff(csr.indptr)
    row_of_entry = np.repeat(np.arange(csr.shape[0]), length)
    other = np.bincount(row_of_entry[site_of_column[csr.indices] < 0], minlength=csr.shape[0])
    out = []
    for r in np.flatnonzero((length > 0) & (other == 0)).tolist():
        columns = csr.indices[csr.indptr[r] : csr.indptr[r + 1]]
        values = csr.data[csr.indptr[r] : csr.indptr[r + 1]]
        out.append((site_of_column[columns], values, float(block.row_lower[r]), float(block.row_upper[r])))
    return out


def _certified(lp, dual: np.ndarray) -> float:
    """A lower bound of an LP from any row duals, by weak duality: duals only on finite row sides,
    reduced costs recomputed from them and taken at the column bound their sign asks for."""
    row_lower, row_upper = np.array(lp.row_lower_), np.array(lp.row_upper_)
    dual = np.where(dual > 0, np.where(np.isfinite(row_lower), dual, 0.0), np.where(np.isfinite(row_upper), dual, 0.0))
    m = lp.a_matrix_
    matrix = csc_array((np.array(m.value_), np.array(m.index_), np.array(m.start_)), shape=(lp.num_row_, lp.num_col_))
    reduced = np.array(lp.col_cost_) - matrix.T @ dual
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    side = np.where(reduced > 0, lower, upper)
    if not np.isfinite(side[reduced != 0]).all():
        return -np.inf
    rows = np.where(dual > 0, row_lower, row_upper)
    return float(dual[dual != 0] @ rows[dual != 0] + reduced[reduced != 0] @ side[reduced != 0])


def _most_promising(found: list, fixed: np.ndarray, count: int) -> list[np.ndarray]:
    """The distinct site plans the master met, cheapest by its own estimate (F·y + θ) first."""
    n = len(fixed)
    seen, out = set(), []
    for z in sorted(found, key=lambda z: float(fixed @ z[:n]) + float(z[n])):
        y = np.round(z[:n])
        key = y.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(y)
            if len(out) == count:
                break
    return out


def _within(objective: float, bound: float, gap: float) -> bool:
    return objective - bound <= max(gap * abs(objective), 1e-6)
