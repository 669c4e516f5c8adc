"""Solve a built model with HiGHS and report the outcome honestly.

Route: Pyomo's linear standard-form compiler turns the model into sparse arrays, which go to
HiGHS through highspy (the lowest-overhead route measured; see README, Performance). The
arrays are split into independent blocks (with the default policy, one per province): solving
independent blocks separately is exact, and far faster than one solve of the whole, because
branch and bound on a block-diagonal model wastes its effort across blocks. Blocks run in
worker processes when more than one core is allowed.

General-integer columns (whole places) are first relaxed: with the site decisions fixed, the
placement problem is a network flow whose optimal vertex is integral, so the relaxation usually
costs nothing. If the vertex is fractional (side constraints such as a budget), the block is
re-solved with the integers restored, and the relaxation's bound is kept as the proven bound.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy.sparse import bmat, csc_array, vstack
from scipy.sparse.csgraph import connected_components

from .benders import solve_benders
from .lagrange import Lagrangian
from .library import new_highs as _new_highs
from .options import BlockOutcome, SolveOptions, SolveResult, Status, worst_status
from .schedule import Deadline, run_blocks, run_blocks_on_cluster
from .structure import Facility, cover_rows, facility

INTEGRALITY_TOL = 1e-6
# Blocks this small are solved together in one HiGHS call: a process hand-off costs more.
SMALL_BLOCK_COLUMNS = 20
# Blocks below this share of the largest one's non-zeros are solved first, then the others; each part longest first
# (which keeps the workers busy). A small block needs seconds for its bound, but at the end of the queue the large blocks' overruns
# of their shares left it none, and a plan's bound needs every block's (benchmarks/EXPERIMENTS.md).
SMALL_BLOCK_SHARE = 1 / 8
# Seconds always allowed for re-solving the placements with the sites fixed, even past the
# time limit: without it a plan found at the limit could not be turned into whole places.
FINISHING_SECONDS = 10.0
# HiGHS' own absolute gap (mip_abs_gap): within it a plan is optimal whatever relative gap was asked.
ABSOLUTE_GAP = 1e-6
# HiGHS' tolerances let a site decision of 1e-7 carry a little flow; when that leaves the proof short of
# the gap asked for, the block is solved again from its plan with this integrality tolerance.
TIGHT_TOLERANCE = 1e-9
# Facility blocks with at least this many arcs per site are solved by Benders decomposition.
BENDERS_ARCS_PER_SITE = 200
# Other facility blocks with at least this many arcs start from a Lagrangian bound (see _solve_large):
# their root LP takes most of the time a solve has.
LARGE_BLOCK_ARCS = 3_000
LAGRANGE_SHARE = 0.4  # at most, of the block's time left, for the Lagrangian bound (it stops once settled)
NARROW_SHARE = 0.5  # of the time then left, for branch and bound over the sites the Lagrangian points at
SUPPORT = 0.05  # a site is pointed at when the latest subproblems open it at least this often
POLL_SECONDS = 0.02  # how often a running HiGHS is checked against its block's deadline


def highs_version() -> str:
    """The version of the HiGHS library highspy wraps."""
    h = _new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


@dataclass
class _Block:
    """One independent part of the model in HiGHS column-wise form."""

    columns: np.ndarray  # positions in the compiled column list
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # 0 continuous, 1 integer
    binary: np.ndarray  # bool: integer with bounds within [0, 1]
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: csc_array
    view: Facility | None = None  # the block as facility location, when it is one
    cover: tuple | None = None  # (matrix, lower, upper): valid cover rows HiGHS sees in branch and bound


@dataclass
class _BlockResult:
    status: Status
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    message: str = ""
    gap_option: float = 0.0  # the relative gap this result was solved to
    events: list = field(default_factory=list)  # (monotonic time, primal, dual) from HiGHS callbacks


def solve_model(model, options: SolveOptions | None = None) -> SolveResult:
    """Solve ``model``; on success load the plan into its variables. Never reads values from a failed solve."""
    return SolveSession(model, options).solve()


class SolveSession:
    """A model compiled once, split into independent blocks, and solved; solve again after changing bounds.

    Between solves, change variable bounds in the Pyomo model (for example the fixings of
    ``open_site`` through :func:`allocator.model.refix`); :meth:`solve` re-reads them, re-solves
    only the blocks whose bounds changed, warm-started from their previous plan, and reuses the
    other blocks' results.
    """

    def __init__(self, model, options: SolveOptions | None = None):
        self.model = model
        self.options = options or SolveOptions()
        t0 = time.perf_counter()
        self.message = ""
        self.blocks: list[_Block] = []
        self.results: list[_BlockResult | None] = []
        self.previous: dict[int, np.ndarray] = {}  # last plan of each block, the next warm start
        try:
            compiled = LinearStandardFormCompiler().write(model, mixed_form=True)
        except InfeasibleConstraintException as exc:
            self.message = str(exc)
            self.handoff = time.perf_counter() - t0
            return
        self.columns = compiled.columns
        self.offset = float(compiled.c_offset[0]) if len(compiled.c_offset) else 0.0
        self.cost = np.asarray(compiled.c.toarray()[0], dtype=float) if len(self.columns) else np.zeros(0)
        self.integer = np.array([v.is_integer() for v in self.columns], dtype=bool)
        violated = _violated_empty_rows(compiled)
        if violated:
            self.message = (
                "fixed decisions violate " + ", ".join(violated[:10]) + (" ..." if len(violated) > 10 else "")
            )
        else:
            self.blocks = make_blocks(compiled, self.options.decompose)
            self.results = [None] * len(self.blocks)
        self.handoff = time.perf_counter() - t0

    def _sync_bounds(self) -> list[int]:
        """Re-read the variable bounds from the model; return the blocks that changed."""
        changed = []
        for k, block in enumerate(self.blocks):
            lower, upper = _bounds([self.columns[c] for c in block.columns])
            if not (np.array_equal(lower, block.lower) and np.array_equal(upper, block.upper)):
                block.lower, block.upper = lower, upper
                block.binary = (block.integer == 1) & (lower >= 0) & (upper <= 1)
                changed.append(k)
        return changed

    def solve(
        self, options: SolveOptions | None = None, warm_start: bool = True, start: dict | None = None
    ) -> SolveResult:
        """Solve the blocks that need it. ``start`` (id(VarData) -> value, e.g. from
        :func:`allocator.model.start.greedy_start`) is a starting plan for blocks without a previous one."""
        options = options or self.options
        timings = {"handoff": self.handoff}
        self.handoff = 0.0  # counted once
        if self.message:
            return SolveResult(Status.INFEASIBLE, None, None, None, message=self.message, timings=timings)
        t1 = time.perf_counter()
        t_start = time.monotonic()
        for k in self._sync_bounds():
            self.results[k] = None
        todo = [
            k
            for k, r in enumerate(self.results)
            if r is None or r.status is not Status.OPTIMAL or r.gap_option > options.gap
        ]
        workers = max(1, min(options.workers or (os.cpu_count() or 1), len(todo)))
        final = time.monotonic() + options.time_limit
        jobs = self._jobs(todo, options, warm_start, start)
        done = self._run(jobs, workers, final)
        if options.track_progress:
            # Blocks queued behind others already hold their starting plan from the beginning.
            for job, r in zip(jobs, done):
                block, previous = job[0], job[2]
                if previous is not None and np.isfinite(previous).all():
                    r.events.insert(0, (t_start, float(block.cost @ previous), None))
        for k, r in zip(todo, done):
            r.gap_option = options.gap
            self.results[k] = r
            if r.x is not None:
                self.previous[k] = r.x
        timings["solve"] = time.perf_counter() - t1
        timings["solve_highs"] = sum(r.seconds for r in done)
        timings["blocks_solved"] = len(todo)

        result = _combine(self.results, self.offset, len(self.blocks))
        result.timings = timings
        result.block_outcomes = [
            BlockOutcome(tuple(self.columns[c] for c in block.columns), r.status, r.objective, r.bound)
            for block, r in zip(self.blocks, self.results)
        ]
        if options.track_progress:
            result.progress = _progress(self.results, self.offset, t_start)
        if result.status in (Status.OPTIMAL, Status.TIME_LIMIT):
            self._load_plan(result, options)
        return result

    def relaxation(self, time_limit: float) -> float | None:
        """The optimal value of the model's LP relaxation (every integer relaxed), a lower bound on the objective of
        every plan, by HiGHS' interior point method with crossover; None when not found within ``time_limit``."""
        if self.message:
            return None
        deadline = Deadline.fixed(time.monotonic() + time_limit)
        total = self.offset
        for block in self.blocks:
            h = block_highs(block, self.options, deadline, np.zeros(len(block.cost), dtype=np.int32))
            h.setOptionValue("solver", "ipm")
            _run_until(h, deadline)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            total += h.getInfo().objective_function_value
        return total

    def _jobs(self, todo: list[int], options: SolveOptions, warm_start: bool, start: dict | None) -> list[tuple]:
        """(block, options, starting plan) for each block to solve."""
        start_x = None if not start else np.array([start.get(id(v), np.nan) for v in self.columns], dtype=float)
        jobs = []
        for k in todo:
            previous = self.previous.get(k) if warm_start else None
            if previous is None and start_x is not None:
                previous = start_x[self.blocks[k].columns]
            jobs.append((self.blocks[k], options, previous))
        return jobs

    def _run(self, jobs: list[tuple], workers: int, final: float) -> list[_BlockResult]:
        """Solve the jobs sharing the time until ``final``; blocks cut short at their share while time is
        left are resumed from their plan (presolve and all), keeping the better plan and the best bound."""
        sizes = [job[0].matrix.nnz + 1 for job in jobs]
        if jobs and jobs[0][1].scheduler:
            return run_blocks_on_cluster(jobs, final, _solve_block_job, jobs[0][1].scheduler)[0]
        results, cut_short = run_blocks(jobs, sizes, workers, final, _solve_block_job)
        while time.monotonic() < final:
            again = [k for k, r in enumerate(results) if cut_short[k] and r.status in RESUMABLE]
            if not again:
                break
            resumed = [
                (jobs[k][0], jobs[k][1], results[k].x if results[k].x is not None else jobs[k][2]) for k in again
            ]
            more, short = run_blocks(
                resumed, [sizes[k] for k in again], min(workers, len(again)), final, _solve_block_job
            )
            for k, r, c in zip(again, more, short):
                results[k] = _better(results[k], r, jobs[k][1].gap)
                cut_short[k] = c
        return results

    def _load_plan(self, result: SolveResult, options: SolveOptions) -> None:
        """Put the blocks' plans into the model (whole places rounded) and state the objective of that plan."""
        x = np.zeros(len(self.columns))
        for block, r in zip(self.blocks, self.results):
            x[block.columns] = r.x
        x[self.integer] = np.round(x[self.integer])
        result.values = _load(self.model, self.columns, x)
        # The objective of the plan as loaded (whole places rounded), not the solver's float.
        result.objective = self.offset + float(self.cost @ x)
        if result.bound is not None:
            result.bound = min(result.bound, result.objective)
            result.gap = _gap(result.objective, result.bound)
        if result.status is Status.OPTIMAL and (
            result.gap is None or not within_gap(result.objective, result.bound, options.gap)
        ):
            result.status = Status.TIME_LIMIT if result.gap is not None else Status.ERROR
            result.message = (
                f"not proven within the requested gap {options.gap:g} (gap {result.gap:.3g})"
                if result.gap is not None
                else f"no bound for the requested gap {options.gap:g}"
            )


def _progress(results: list, offset: float, t_start: float) -> list[dict]:
    """Objective and bound of the whole model over time: the sums of the blocks' latest values."""
    events = sorted((t, k, p, d) for k, r in enumerate(results) if r is not None for t, p, d in r.events)
    primal: dict[int, float] = {
        k: r.objective for k, r in enumerate(results) if r is not None and not r.events and r.objective is not None
    }
    dual: dict[int, float] = {
        k: r.bound for k, r in enumerate(results) if r is not None and not r.events and r.bound is not None
    }
    out = []
    for t, k, p, d in events:
        if p is not None:
            primal[k] = p
        if d is not None:
            dual[k] = d
        objective = offset + sum(primal.values()) if len(primal) == len(results) else None
        bound = offset + sum(dual.values()) if len(dual) == len(results) else None
        gap = _gap(objective, bound) if objective is not None and bound is not None else None
        out.append({"seconds": round(t - t_start, 3), "objective": objective, "bound": bound, "gap": gap})
    return out


def _bounds(variables) -> tuple[np.ndarray, np.ndarray]:
    lower = np.array([v.value if v.fixed else (-np.inf if v.lb is None else v.lb) for v in variables], dtype=float)
    upper = np.array([v.value if v.fixed else (np.inf if v.ub is None else v.ub) for v in variables], dtype=float)
    return lower, upper


def _violated_empty_rows(compiled) -> list[str]:
    """Rows whose variables are all fixed belong to no block; they hold or make the model infeasible."""
    A = csc_array(compiled.A).tocsr()
    empty = np.flatnonzero(np.diff(A.indptr) == 0)
    bad = []
    for k in empty.tolist():
        con, sense = compiled.rows[k]
        rhs = float(compiled.rhs[k])
        ok = abs(rhs) <= 1e-9 if sense == 0 else (0 <= rhs + 1e-9 if sense == 1 else 0 >= rhs - 1e-9)
        if not ok:
            bad.append(con.name)
    return sorted(set(bad))


def make_blocks(compiled, decompose: bool) -> list[_Block]:
    """The compiled model split into independent blocks (connected components of its matrix), largest first."""
    A = csc_array(compiled.A)
    n_rows, n_cols = A.shape
    rhs = np.asarray(compiled.rhs, dtype=float)
    sense = np.array([mult for _, mult in compiled.rows], dtype=int)
    row_lower = np.where(sense == 1, -np.inf, rhs)
    row_upper = np.where(sense == -1, np.inf, rhs)
    cost = np.asarray(compiled.c.toarray()[0] if n_cols else np.zeros(0), dtype=float)
    lower, upper = _bounds(compiled.columns)
    integer = np.array([1 if v.is_integer() else 0 for v in compiled.columns], dtype=np.int32)
    binary = (integer == 1) & (lower >= 0) & (upper <= 1)

    if decompose and n_cols:
        pattern = A.copy()
        pattern.data = np.ones_like(pattern.data)
        graph = bmat([[None, pattern], [pattern.T, None]], format="csr")
        _, labels = connected_components(graph, directed=False)
        col_label = labels[n_rows:]
        row_label = labels[:n_rows]
    else:
        col_label = np.zeros(n_cols, dtype=int)
        row_label = np.zeros(n_rows, dtype=int)
    groups = _group_labels(col_label)
    blocks = []
    csr = A.tocsr()
    row_family = np.array([con.parent_component().name for con, _ in compiled.rows], dtype=object)
    column_family = np.array([v.parent_component().name for v in compiled.columns], dtype=object)
    for members in groups:
        cols = np.flatnonzero(np.isin(col_label, members))
        rows = np.flatnonzero(np.isin(row_label, members))
        sub = csc_array(csr[rows][:, cols])
        view = facility(sub, row_family[rows], column_family[cols], row_lower[rows])
        blocks.append(
            _Block(
                cols,
                cost[cols],
                lower[cols],
                upper[cols],
                integer[cols],
                binary[cols],
                row_lower[rows],
                row_upper[rows],
                sub,
                view,
                cover_rows(view, len(cols)) if view is not None else None,
            )
        )
    largest = max((b.matrix.nnz for b in blocks), default=0)
    blocks.sort(key=lambda b: (b.matrix.nnz >= SMALL_BLOCK_SHARE * largest, -b.matrix.nnz))
    return blocks


def _group_labels(col_label: np.ndarray) -> list[list[int]]:
    """Each large component on its own; all small ones together."""
    labels, counts = np.unique(col_label, return_counts=True)
    big = [[int(k)] for k, c in zip(labels, counts) if c > SMALL_BLOCK_COLUMNS]
    small = [int(k) for k, c in zip(labels, counts) if c <= SMALL_BLOCK_COLUMNS]
    return big + ([small] if small else [])


RESUMABLE = (Status.TIME_LIMIT, Status.TIME_LIMIT_NO_PLAN)


def _solve_block_job(job, deadline: Deadline) -> _BlockResult:
    block, options, start = job
    events: list = []
    result = _solve_block(block, options, deadline, start, events)
    if options.track_progress:
        events.append((time.monotonic(), result.objective, result.bound))  # the block's final word
    result.events = events
    return result


def _better(old: _BlockResult, new: _BlockResult, gap: float) -> _BlockResult:
    """Two runs of the same block: the better plan with the better bound (both bounds are valid)."""
    plans = [r for r in (old, new) if r.x is not None]
    best = min(plans, key=lambda r: r.objective) if plans else new
    bounds = [r.bound for r in (old, new) if r.bound is not None]
    bound = max(bounds) if bounds else None
    status = best.status
    if best.x is not None and bound is not None:
        bound = min(bound, best.objective)
        status = Status.OPTIMAL if within_gap(best.objective, bound, gap) else Status.TIME_LIMIT
    message = best.message if status is not Status.OPTIMAL else ""
    return _BlockResult(
        status, best.x, best.objective, bound, old.seconds + new.seconds, message, events=old.events + new.events
    )


PROGRESS_INTERVAL = 0.25  # seconds between recorded bound updates


def _track(h: highspy.Highs, events: list) -> None:
    """Record HiGHS' primal and dual bound on every improving plan, and every PROGRESS_INTERVAL otherwise."""

    def record(e, force: bool) -> None:
        now = time.monotonic()
        if force or not events or now - events[-1][0] >= PROGRESS_INTERVAL:
            out = e.data_out
            primal = out.mip_primal_bound if abs(out.mip_primal_bound) < 1e300 else None
            dual = out.mip_dual_bound if abs(out.mip_dual_bound) < 1e300 else None
            events.append((now, primal, dual))

    h.cbMipImprovingSolution.subscribe(lambda e: record(e, True))
    h.cbMipInterrupt.subscribe(lambda e: record(e, False))


def block_highs(block: _Block, options: SolveOptions, deadline: Deadline, integer: np.ndarray) -> highspy.Highs:
    """A Highs object holding ``block`` with the options; its time limit is the user's (shares are polled)."""
    h = _new_highs()
    h.setOptionValue("output_flag", options.log)
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("mip_rel_gap", float(options.gap))
    h.setOptionValue("mip_abs_gap", ABSOLUTE_GAP)
    h.setOptionValue("time_limit", max(deadline.final - time.monotonic(), 0.0))
    matrix, row_lower, row_upper = block.matrix, block.row_lower, block.row_upper
    if integer.any() and block.cover is not None and block.cover[0].shape[0]:
        matrix = csc_array(vstack([matrix, block.cover[0]], format="csc"))
        row_lower = np.concatenate([row_lower, block.cover[1]])
        row_upper = np.concatenate([row_upper, block.cover[2]])
    lp = highspy.HighsLp()
    lp.num_col_ = len(block.cost)
    lp.num_row_ = len(row_lower)
    lp.col_cost_ = block.cost
    lp.col_lower_ = block.lower
    lp.col_upper_ = block.upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in integer]
    h.passModel(lp)
    return h


INCONSISTENT = "HiGHS reported an objective that differs from its own plan's"


def _run(
    h: highspy.Highs, cost: np.ndarray, deadline: Deadline
) -> tuple[Status, np.ndarray | None, float | None, float | None, str]:
    stopped = _run_until(h, deadline)
    status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    if stopped and status == S.kInterrupt:
        status = S.kTimeLimit  # stopped at the block's share of the time, not by the user
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value) if has_x else None
    is_mip = h.getLp().integrality_ and any(t == highspy.HighsVarType.kInteger for t in h.getLp().integrality_)
    obj = info.objective_function_value if has_x else None
    dual = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None  # none yet before the root LP
    if has_x and abs(float(cost @ x) - obj) > 1e-6 * max(1.0, abs(obj)):
        # Seen with MIP presolve and a plan given before it (HiGHS 1.16): never trust such a result.
        return Status.ERROR, None, None, None, f"{INCONSISTENT} ({obj:.6g} vs {float(cost @ x):.6g})"
    bound = (dual if is_mip else obj) if has_x or status == S.kOptimal else None
    if status == S.kOptimal:
        return Status.OPTIMAL, x, obj, bound if bound is not None else obj, ""
    if status in (
        S.kTimeLimit,
        S.kIterationLimit,
        S.kSolutionLimit,
        S.kObjectiveBound,
        S.kObjectiveTarget,
        S.kInterrupt,
    ):
        label = Status.INTERRUPTED if status == S.kInterrupt else None
        if has_x:
            return label or Status.TIME_LIMIT, x, obj, dual if is_mip else None, h.modelStatusToString(status)
        return label or Status.TIME_LIMIT_NO_PLAN, None, None, None, h.modelStatusToString(status)
    if status == S.kInfeasible:
        return Status.INFEASIBLE, None, None, None, "HiGHS proved the model infeasible"
    if status in (S.kUnbounded, S.kUnboundedOrInfeasible):
        return Status.UNBOUNDED, None, None, None, h.modelStatusToString(status)
    return Status.ERROR, None, None, None, h.modelStatusToString(status)


def _run_until(h: highspy.Highs, deadline: Deadline) -> bool:
    """Run HiGHS in its own thread and stop it at the block's deadline; True if it was stopped there.

    The deadline is read at every check because finished blocks may leave this one more time.
    Signals reach Python only between bytecodes, never inside HiGHS; with the run in a thread this
    thread waits in Python, and on an interrupt (Ctrl-C, SIGTERM turned into an exception) asks
    HiGHS to stop at its next check, waits for it, and re-raises. Worker processes ignore
    interrupts (see core.interrupts.die_with_parent) and are terminated by the parent.
    """
    h.HandleUserInterrupt = True
    h.startSolve()
    try:
        while not h.wait(POLL_SECONDS)[0]:
            if time.monotonic() >= deadline.at():
                h.cancelSolve()
                h.joinSolve()
                return True
    except BaseException:
        h.cancelSolve()
        h.joinSolve()
        raise
    return False


def _solve_block(
    block: _Block, options: SolveOptions, deadline: Deadline, start: np.ndarray | None, events: list
) -> _BlockResult:
    t0 = time.perf_counter()
    general = (block.integer == 1) & ~block.binary
    relax = general.any() and block.binary.any()
    integer = np.where(general, 0, block.integer) if relax else block.integer
    given = start if start is not None and bool(np.isfinite(start).all()) else None
    kind = strategy(block, integer)
    found = None
    if kind == "benders":
        found = solve_benders(block, block.view, options, deadline, given)
    elif kind == "large":
        found = _solve_large(block, options, deadline, integer, given, events)
    status, x, obj, bound, message = found or _solve_whole(block, options, deadline, integer, given, events)
    if x is None and status is Status.TIME_LIMIT_NO_PLAN and given is not None and _feasible(block, given):
        # Stopped before HiGHS took the start (it does so after presolve): the start is the plan.
        status, x, obj = Status.TIME_LIMIT, given.copy(), float(block.cost @ given)
    if x is not None and block.binary.any() and not block.binary.all():
        result = _fix_sites(block, options, deadline, general, status, x, bound, message)
    else:
        result = _BlockResult(status, x, obj, bound, 0.0, message)
    if result.status is Status.OPTIMAL and not within_gap(result.objective, result.bound, options.gap):
        if found is None:
            result = _tighten(block, options, deadline, integer, result)
        else:
            result.status, result.message = Status.TIME_LIMIT, f"not proven within the requested gap {options.gap:g}"
    result.seconds = time.perf_counter() - t0
    return result


def _solve_whole(block: _Block, options: SolveOptions, deadline: Deadline, integer, given, events: list) -> tuple:
    """Branch and bound over the whole block (HiGHS), from the starting plan when there is one."""
    h = block_highs(block, options, deadline, integer)
    if given is not None:
        _hand_over(h, given)
    if options.track_progress:
        _track(h, events)
    status, x, obj, bound, message = _run(h, block.cost, deadline)
    if status is Status.ERROR and message.startswith(INCONSISTENT):
        h = block_highs(block, options, deadline, integer)
        h.setOptionValue("presolve", "off")
        status, x, obj, bound, message = _run(h, block.cost, deadline)
    return status, x, obj, bound, message


def _stop_below(event, enough: float, search: Deadline) -> None:
    if event.data_out.objective_function_value <= enough:
        search.slots[0] = 0.0


def _sites_plan(block: _Block, options: SolveOptions, deadline: Deadline, open_sites, integer) -> np.ndarray | None:
    """The best placements with exactly ``open_sites`` open (and the fixings), or None if they admit none."""
    view = block.view
    lower, upper = block.lower.copy(), block.upper.copy()
    y = np.clip(np.round(open_sites), lower[view.site_column], upper[view.site_column])
    lower[view.site_column] = upper[view.site_column] = y
    fixed = dataclasses.replace(block, lower=lower, upper=upper, integer=np.zeros_like(block.integer))
    status, x, _, _, _ = _run(block_highs(fixed, options, deadline, fixed.integer), block.cost, deadline)
    if x is None:
        return None
    x[view.site_column] = y
    return x if _feasible(block, np.where(integer == 1, np.round(x), x)) else None


def _solve_large(block: _Block, options: SolveOptions, deadline: Deadline, integer, given, events: list):
    """A block too large for its root LP within the time: a Lagrangian bound first, a plan from the
    sites it points at (branch and bound over those sites alone), then the whole block from that plan.

    The bound is the Lagrangian's or the whole block's, whichever is higher; the search over the
    sites pointed at proves nothing about the block and its bound is not used. None when the block's
    rows over the sites are not large-site rules (then the block is solved whole).
    """
    lagrangian = Lagrangian.of(block, block.view)
    if lagrangian is None:
        return None
    view = block.view
    upper = float(block.cost @ given) if given is not None and _feasible(block, given) else None
    bound, _ = lagrangian.run(time.monotonic() + LAGRANGE_SHARE * deadline.left(), upper)
    bound = bound if np.isfinite(bound) else None
    pointed = lagrangian.pointed(SUPPORT) | (block.lower[view.site_column] > 0.5)
    narrow_upper = block.upper.copy()
    narrow_upper[view.site_column[~pointed]] = 0.0
    narrow = dataclasses.replace(block, upper=narrow_upper)
    search = Deadline([min(deadline.at(), time.monotonic() + NARROW_SHARE * deadline.left())], 0, deadline.final)
    h = block_highs(narrow, options, search, integer)
    first = _sites_plan(block, options, search, lagrangian.y_best, integer)
    if first is not None:
        _hand_over(h, first)
    elif given is not None and _feasible(narrow, given):
        _hand_over(h, given)
    if bound is not None:
        # Enough: a plan within the gap of the Lagrangian bound ends the search at once.
        enough = bound / (1 - options.gap) if bound > 0 else bound * (1 - options.gap)
        h.cbMipImprovingSolution.subscribe(lambda e: _stop_below(e, enough, search))
    _, x, obj, _, _ = _run(h, block.cost, search)
    for other in (first, given if upper is not None else None):
        if other is not None and (x is None or float(block.cost @ other) < obj):
            x, obj = other.copy(), float(block.cost @ other)
    if x is not None and within_gap(obj, bound, options.gap):
        return Status.OPTIMAL, x, obj, bound, ""
    status, x2, obj2, bound2, message = _solve_whole(block, options, deadline, integer, x, events)
    if x2 is None or (obj is not None and obj < obj2):
        x2, obj2 = x, obj
    bounds = [b for b in (bound, bound2) if b is not None]
    best = max(bounds) if bounds else None
    if x2 is None:
        return Status.TIME_LIMIT_NO_PLAN, None, None, None, message
    ok = within_gap(obj2, best, options.gap)
    return (Status.OPTIMAL if ok else Status.TIME_LIMIT), x2, obj2, best, "" if ok else message


def strategy(block: _Block, integer: np.ndarray) -> str:
    """How a block is solved: "benders" for facility blocks with many arcs per site and no coupling
    row (their root LP carries a row per arc; the Benders subproblem turns those rows into bounds),
    "large" for other facility blocks of at least LARGE_BLOCK_ARCS arcs (a Lagrangian bound and a
    plan from the sites it points at before branch and bound), "highs" (branch and bound over the
    whole block) otherwise."""
    view = block.view
    if view is None or not integer.any() or len(view.coupling_rows):
        return "highs"
    if view.arcs_per_site >= BENDERS_ARCS_PER_SITE:
        return "benders"
    return "large" if len(view.arc_column) >= LARGE_BLOCK_ARCS else "highs"


def _feasible(block: _Block, x: np.ndarray, tol: float = 1e-6) -> bool:
    """``x`` meets the block's bounds, rows and integrality (within ``tol``, relative to the size of the numbers)."""
    scale = np.maximum(1.0, np.abs(x))
    if np.any(x < block.lower - tol * scale) or np.any(x > block.upper + tol * scale):
        return False
    whole = block.integer == 1
    if np.any(np.abs(x[whole] - np.round(x[whole])) > tol):
        return False
    activity = block.matrix @ x
    slack = tol * np.maximum(1.0, np.abs(activity))
    return bool(np.all(activity >= block.row_lower - slack) and np.all(activity <= block.row_upper + slack))


def _hand_over(h: highspy.Highs, x: np.ndarray) -> None:
    """Give HiGHS a starting plan once its presolve is done (through the user-solution callback).

    A plan set before the run went through presolve wrongly in HiGHS 1.16 (OR-Library cap71: an
    objective far below the plan's own reported as optimal), so presolve used to be switched off
    whenever a start was given. Handed over after presolve, both work; the objective HiGHS
    reports is still checked against its plan.
    """
    given = [False]

    def offer(event) -> None:
        if not given[0]:
            given[0] = True
            event.data_in.user_has_solution = True
            event.data_in.setSolution(x)

    h.cbMipUserSolution.subscribe(offer)


def _fix_sites(
    block: _Block,
    options: SolveOptions,
    deadline: Deadline,
    general: np.ndarray,
    status: Status,
    x: np.ndarray,
    bound,
    message: str,
) -> _BlockResult:
    """Fix the plan's site decisions (rounded) and re-solve the placements, so that the plan is clean.

    Within HiGHS' tolerances a site decision of 1e-7 may carry a little flow through a closed site;
    with the sites fixed at 0 or 1 that cannot happen. Whole places: the placements with the sites
    fixed are a network flow, whose optimal vertex simplex returns integral; side constraints (a
    budget, a mean-travel limit) may make it fractional, and then the placements are solved as
    integers. The relaxation's bound stays a valid bound throughout.
    """
    fixed = np.round(x[block.binary])
    lower, upper = block.lower.copy(), block.upper.copy()
    lower[block.binary] = upper[block.binary] = fixed
    lp_block = _Block(
        block.columns,
        block.cost,
        lower,
        upper,
        np.zeros_like(block.integer),
        block.binary,
        block.row_lower,
        block.row_upper,
        block.matrix,
    )
    finish = Deadline.fixed(max(deadline.at(), time.monotonic() + FINISHING_SECONDS))
    _, x2, obj2, _, _ = _run(block_highs(lp_block, options, finish, lp_block.integer), block.cost, finish)
    if x2 is not None and np.all(np.abs(x2[general] - np.round(x2[general])) <= INTEGRALITY_TOL):
        x2[general] = np.round(x2[general])
        x2[block.binary] = fixed
        return _BlockResult(status, x2, obj2, _capped(bound, obj2), 0.0, message)
    if not general.any():
        # Split places and the fixed sites admit no plan (rounding broke a row): keep the solver's plan.
        return _BlockResult(status, x, float(block.cost @ x), _capped(bound, float(block.cost @ x)), 0.0, message)

    # Fractional vertex (side constraints): whole places with the site decisions kept ...
    fixed_int = _Block(
        block.columns,
        block.cost,
        lower,
        upper,
        block.integer,
        block.binary,
        block.row_lower,
        block.row_upper,
        block.matrix,
    )
    _, x3, obj3, _, msg3 = _run(block_highs(fixed_int, options, finish, block.integer), block.cost, finish)
    if x3 is not None and bound is not None and within_gap(obj3, bound, options.gap) and status is Status.OPTIMAL:
        return _BlockResult(Status.OPTIMAL, x3, obj3, bound, 0.0, message)
    if time.monotonic() >= deadline.at():
        if x3 is None:
            return _BlockResult(Status.TIME_LIMIT_NO_PLAN, None, None, None, 0.0, msg3)
        return _BlockResult(Status.TIME_LIMIT, x3, obj3, bound, 0.0, message)
    # ... and if that is not provably good enough, the whole block with whole places, from that plan.
    h4 = block_highs(block, options, deadline, block.integer)
    if x3 is not None:
        _hand_over(h4, x3)
    s4, x4, obj4, bound4, msg4 = _run(h4, block.cost, deadline)
    if x4 is None:
        if x3 is None:
            return _BlockResult(s4, None, None, None, 0.0, msg4)
        return _BlockResult(Status.TIME_LIMIT, x3, obj3, bound, 0.0, msg3 or msg4)
    best_bound = max(b for b in (bound, bound4) if b is not None) if bound is not None or bound4 is not None else None
    if s4 is Status.TIME_LIMIT and best_bound is not None and within_gap(obj4, best_bound, options.gap):
        s4 = Status.OPTIMAL
    return _BlockResult(s4, x4, obj4, best_bound, 0.0, msg4)


def _tighten(
    block: _Block, options: SolveOptions, deadline: Deadline, integer: np.ndarray, result: _BlockResult
) -> _BlockResult:
    """HiGHS said optimal, but the plan and its bound are further apart than asked for (its tolerances
    let tiny site decisions carry flow in the relaxation). Solve again from the plan with a tighter
    integrality tolerance; what is not then within the gap is reported as not proven."""
    h = block_highs(block, options, deadline, integer)
    h.setOptionValue("mip_feasibility_tolerance", TIGHT_TOLERANCE)
    _hand_over(h, result.x)
    status, x, obj, bound, message = _run(h, block.cost, deadline)
    if x is not None and block.binary.any() and not block.binary.all():
        general = (block.integer == 1) & ~block.binary
        again = _fix_sites(block, options, deadline, general, status, x, bound, message)
        x, obj, bound = again.x, again.objective, again.bound
    better = _better(result, _BlockResult(status, x, obj, bound, 0.0, message), options.gap)
    if better.status is not Status.OPTIMAL:
        better.status = Status.TIME_LIMIT
        better.message = f"not proven within the requested gap {options.gap:g}: HiGHS stopped at its tolerances"
    return better


def _capped(bound: float | None, objective: float) -> float | None:
    return None if bound is None else min(bound, objective)


def within_gap(objective: float | None, bound: float | None, gap: float) -> bool:
    """The plan is proven within the relative gap asked for, or within HiGHS' absolute gap."""
    if objective is None or bound is None:
        return False
    return objective - bound <= max(gap * abs(objective), ABSOLUTE_GAP)


def _gap(objective: float, bound: float) -> float:
    if objective == bound:
        return 0.0
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def _combine(results: list[_BlockResult], offset: float, n_blocks: int) -> SolveResult:
    worst = worst_status(r.status for r in results)
    messages = "; ".join(sorted({r.message for r in results if r.message}))
    if worst not in (Status.OPTIMAL, Status.TIME_LIMIT):
        return SolveResult(worst, None, None, None, message=messages, blocks=n_blocks)
    objective = offset + sum(r.objective for r in results)
    bounds = [r.bound for r in results]
    bound = offset + sum(bounds) if all(b is not None for b in bounds) else None
    gap = None if bound is None else _gap(objective, bound)
    return SolveResult(worst, objective, bound, gap, message=messages, blocks=n_blocks)


def _load(model, columns, x: np.ndarray) -> dict:
    values = {}
    for var, value in zip(columns, x.tolist()):
        var.set_value(value, skip_validation=True)
        values[id(var)] = value
    return values
