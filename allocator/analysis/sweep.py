"""Scenario sweeps: solve the instance under many policies and tabulate the results.

Scenarios come from a grid (``--vary key=v1,v2,...``, the cartesian product over keys) and/or
a CSV file (one scenario a row). Each is solved by the usual pipeline (build, solve, extract,
check) in a worker: local processes by default, or the workers of a Dask cluster. Workers
only solve and return the solution; this process writes every folder and the sweep table, so
the outputs are the same whichever way the sweep ran. On an instance with periods each scenario
is a plan over the periods, as `allocator solve` makes it without baselines, and the table holds
the horizon KPIs of summary.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core import fmt
from ..core.errors import AllocatorError, InputError, PolicyError, Problem
from ..core.files import write_text
from ..core.interrupts import die_with_parent
from ..core.outputs import claim_folder, write_marker
from ..data.instance import Instance
from ..data.policy import KEYS, Policy, check_policy, load_policy
from ..results.solution import HorizonSolution, Solution, write_solution
from ..solve.options import SolveOptions

TABLE = "sweep.csv"
KEY_PREFIX = "policy."  # sweep.csv column of a varied policy key
PLAN_STATUSES = ("optimal", "time_limit")
KPI_COLUMNS = [
    "objective",
    "bound",
    "gap",
    "absolute_gap",
    "total_cost",
    "fixed_cost",
    "place_cost",
    "travel_value",
    "placed",
    "unmet",
    "open_sites",
    "open_large_sites",
    "open_regular_sites",
    "mean_travel_minutes",
    "max_travel_minutes",
    "budget_used",
]
COUNT_COLUMNS = ("open_sites", "open_large_sites", "open_regular_sites")
PARETO = {"pareto_cost_unmet": ("total_cost", "unmet"), "pareto_cost_travel": ("total_cost", "mean_travel_minutes")}
# On an instance with periods: the KPIs of a horizon summary.json as single numbers (analysis.horizon.plan_figures).
HORIZON_KPI_COLUMNS = [
    "objective",
    "bound",
    "gap",
    "absolute_gap",
    "expected_total_cost",
    "worst_total_cost",
    "expected_site_cost",
    "expected_place_cost",
    "expected_emergency_cost",
    "expected_move_cost",
    "expected_travel_value",
    "expected_unmet_penalty",
    "expected_emergency_place_periods",
    "expected_unmet_place_periods",
    "openings",
    "closings",
    "extensions",
    "expected_moves",
    "expected_extra_place_periods",
    "max_open_sites",
]
HORIZON_COUNT_COLUMNS = ("openings", "closings", "extensions", "max_open_sites")
HORIZON_PARETO = {
    "pareto_cost_unmet": ("expected_total_cost", "expected_unmet_place_periods"),
    "pareto_cost_moves": ("expected_total_cost", "expected_moves"),
}
SUMMARY_COLUMNS = ("objective", "bound", "gap", "absolute_gap")  # top-level keys of summary.json, not KPIs


@dataclass(frozen=True)
class Layout:
    """The KPI columns of sweep.csv, which of them count, and the Pareto pairs: one layout for snapshots, one for
    instances with periods."""

    kpis: list[str]
    counts: tuple[str, ...]
    pareto: dict[str, tuple[str, str]]


SNAPSHOT = Layout(KPI_COLUMNS, COUNT_COLUMNS, PARETO)
HORIZON = Layout(HORIZON_KPI_COLUMNS, HORIZON_COUNT_COLUMNS, HORIZON_PARETO)


def layout_of(instance: Instance) -> Layout:
    """The layout of sweep.csv for ``instance``."""
    return SNAPSHOT if instance.horizon is None else HORIZON


# Characters a scenario id keeps from a value; "_" is left out so that ids stay unambiguous.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9.+-]+$")
MAX_ID_LENGTH = 64


class ScenarioError(InputError):
    """Bad scenarios: unknown keys, bad values, repeated scenarios."""

    what = "scenarios"


class SweepError(AllocatorError):
    """The sweep could not run (e.g. the Dask scheduler cannot be reached)."""


@dataclass(frozen=True)
class Scenario:
    """Policy keys and their values as given (text, parsed like ``--set``)."""

    id: str
    values: tuple[tuple[str, str], ...]

    @property
    def overrides(self) -> dict[str, str]:
        return dict(self.values)


@dataclass(frozen=True, eq=False)
class ScenarioRun:
    """What a worker returns for one scenario."""

    status: str
    message: str
    solution: Solution | HorizonSolution | None
    seconds: float


@dataclass(frozen=True, eq=False)
class SweepResult:
    """The sweep table, where it was written, which scenarios were solved or kept, and how long it took."""

    table: pd.DataFrame  # the rows of sweep.csv: finished scenarios, in scenario order
    folder: Path
    solved: tuple[str, ...]  # solved in this run
    reused: tuple[str, ...]  # finished earlier with the same inputs (--resume)
    kept: tuple[str, ...]  # rows of earlier sweeps into the same folder with other scenarios, kept in sweep.csv
    pending: tuple[str, ...]  # not finished (after an interrupt)
    seconds: float
    where: str  # "in this process", "N local processes", "Dask scheduler ADDRESS"
    layout: Layout = SNAPSHOT


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; ``result`` holds what finished (already written)."""

    def __init__(self, result: SweepResult):
        super().__init__("sweep interrupted")
        self.result = result


def scenario_id(values: tuple[tuple[str, str], ...]) -> str:
    """A short deterministic name from the key values: ``budget-2.6e9_demand_scale-0.8``, or a hash
    when a value has other characters or the name would be long."""
    if not values:
        return "base"
    text = "_".join(f"{k}-{v}" for k, v in values)
    if all(SAFE_VALUE.match(v) for _, v in values) and len(text) <= MAX_ID_LENGTH:
        return text
    digest = hashlib.sha256(json.dumps(values).encode()).hexdigest()[:12]
    return f"scenario-{digest}"


def grid(vary: list[str] | tuple[str, ...]) -> list[Scenario]:
    """``["key=v1,v2", ...]`` into the cartesian product of the values (first key varies slowest)."""
    problems: list[Problem] = []
    axes: dict[str, list[str]] = {}
    for item in vary:
        key, sep, raw = item.partition("=")
        key = key.strip()
        values = [v.strip() for v in raw.split(",")]
        if not sep or not key or not raw.strip() or "" in values:
            problems.append(Problem("--vary", "expected key=value1,value2,...", value=item))
        elif key in axes:
            problems.append(Problem("--vary", "key varied twice", column=key, value=item))
        else:
            axes[key] = list(dict.fromkeys(values))
            for v in axes[key]:
                problems += _check_values({key: v}, "--vary")
    if problems:
        raise ScenarioError(_unique(problems))
    combos = itertools.product(*[[(k, v) for v in vs] for k, vs in axes.items()])
    return [Scenario(scenario_id(tuple(c)), tuple(c)) for c in combos]


def read_scenarios(path: str | Path) -> list[Scenario]:
    """A CSV file with one column per policy key and one scenario per row; an empty cell leaves the key as the policy has it."""
    path = Path(path)
    label = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(label, "file not found")]) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ScenarioError([Problem(label, f"not a readable CSV table: {str(exc).strip()}")]) from None
    problems: list[Problem] = []
    for column in raw.columns:
        if column not in KEYS:
            problems.append(Problem(label, f"unknown policy key (known: {', '.join(KEYS)})", row=1, column=column))
    if len(set(raw.columns)) != len(raw.columns):
        problems.append(Problem(label, "a column name appears twice", row=1))
    if raw.empty:
        problems.append(Problem(label, "the table has no scenarios (rows)"))
    if problems:
        raise ScenarioError(problems)
    scenarios = []
    for idx, record in raw.iterrows():
        row = int(idx) + 2
        values = tuple((k, str(v).strip()) for k, v in record.items() if str(v).strip() != "")
        problems += [dataclasses.replace(p, row=row) for p in _check_values(dict(values), label)]
        scenarios.append((row, Scenario(scenario_id(values), values)))
    problems += _duplicates(scenarios, label)
    if problems:
        raise ScenarioError(problems)
    return [s for _, s in scenarios]


def scenarios_from(vary: list[str] | tuple[str, ...] = (), file: str | Path | None = None) -> list[Scenario]:
    """The file's scenarios, each combined with every grid point (keys may not appear in both)."""
    axes = grid(vary)
    if file is None:
        return axes
    listed = read_scenarios(file)
    both = sorted({k for s in listed for k, _ in s.values} & {k for s in axes for k, _ in s.values})
    if both:
        raise ScenarioError([Problem("--vary", f"key also set in the scenario file {file}", column=k) for k in both])
    out = [Scenario(scenario_id(f.values + g.values), f.values + g.values) for f in listed for g in axes]
    problems = _duplicates(list(enumerate(out, start=2)), str(file))
    if problems:
        raise ScenarioError(problems)
    return out


def _check_values(values: dict[str, str], label: str) -> list[Problem]:
    """Problems with these policy values alone, labelled with where they came from."""
    if not values:
        return []
    try:
        load_policy("default", values)
    except PolicyError as exc:
        return [dataclasses.replace(p, file=label) for p in exc.problems if p.file == "--set"]
    return []


def _duplicates(numbered: list[tuple[int, Scenario]], label: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for row, s in numbered:
        if s.id in seen:
            problems.append(Problem(label, f"the same scenario as row {seen[s.id]}", row=row, value=s.id))
        else:
            seen[s.id] = row
    return problems


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def scenario_policies(
    instance: Instance, scenarios: list[Scenario], policy_name: str = "default", overrides: dict | None = None
) -> list[Policy]:
    """The effective policy of each scenario: the preset, then ``--set`` overrides, then the scenario's values."""
    policies, problems = [], []
    for s in scenarios:
        try:
            policy = load_policy(policy_name, {**(overrides or {}), **s.overrides})
            check_policy(policy, instance)
            policies.append(policy)
        except PolicyError as exc:
            problems += [
                dataclasses.replace(p, file=f"scenario {s.id}") if p.file.startswith("policy '") else p
                for p in exc.problems
            ]
    if problems:
        raise ScenarioError(_unique(problems))
    return policies


def input_hash(instance: Instance, policy: Policy, options: SolveOptions) -> str:
    """Same instance, same effective policy, same solver options: same hash (used by --resume)."""
    payload = {
        "instance": instance.fingerprint,
        "policy": policy.to_dict(),
        "options": {k: getattr(options, k) for k in ("time_limit", "gap", "threads", "seed", "decompose")},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def solve_scenario(instance: Instance, policy: Policy, options: SolveOptions) -> ScenarioRun:
    """Solve one scenario in a worker (one process: no nested worker pools); over the periods when the instance
    has them (the integrated plan for every scenario of its band, without baselines)."""
    from .horizon import plan_horizon
    from .pipeline import solve

    t = time.perf_counter()
    try:
        plan = solve if instance.horizon is None else plan_horizon
        out = plan(instance, policy, dataclasses.replace(options, workers=1))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # one failed scenario must not end the sweep; it is reported in its row
        return ScenarioRun("error", f"{type(exc).__name__}: {exc}", None, time.perf_counter() - t)
    return ScenarioRun(out.status.value, out.result.message, out.solution, time.perf_counter() - t)


def run_sweep(
    instance: Instance,
    scenarios: list[Scenario],
    folder: str | Path,
    policy_name: str = "default",
    overrides: dict | None = None,
    options: SolveOptions | None = None,
    workers: int = 0,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int, Scenario | None, ScenarioRun | None], None] | None = None,
) -> SweepResult:
    """Solve every scenario and write ``folder/<scenario id>/`` and ``folder/sweep.csv``.

    ``workers``: local processes (0 = one per core; 1 = in this process); ``scheduler``: a Dask
    scheduler address instead. With ``resume``, scenarios already in ``folder/sweep.csv`` with
    the same input hash are kept, not solved again. Ctrl-C raises :class:`SweepInterrupted`
    after the finished scenarios are written. ``progress(done, total, scenario, run)`` is called
    once before the first solve (scenario and run None) and after each scenario.
    """
    options = options or SolveOptions()
    root = Path(folder)
    policies = scenario_policies(instance, scenarios, policy_name, overrides)
    # The folder is held for the whole sweep: a second sweep into it is refused, not interleaved.
    with claim_folder(root, "sweep", inputs=[instance.source]):
        return _run(instance, scenarios, policies, root, options, workers, scheduler, resume, progress)


def _run(instance, scenarios, policies, root, options, workers, scheduler, resume, progress) -> SweepResult:
    layout = layout_of(instance)
    hashes = [input_hash(instance, p, options) for p in policies]
    keys = list(dict.fromkeys(k for s in scenarios for k, _ in s.values))
    rows: dict[int, dict] = _finished(root, scenarios, hashes, keys, layout) if resume else {}
    earlier = _earlier_rows(root, scenarios)
    todo = [k for k in range(len(scenarios)) if k not in rows]
    reused = tuple(scenarios[k].id for k in sorted(rows))
    solved: list[str] = []
    t0 = time.perf_counter()
    if scheduler:
        where = f"Dask scheduler {scheduler}"
        runs = _dask(scheduler, instance, [(k, policies[k]) for k in todo], options)
    else:
        n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        where = "this process" if n == 1 else f"{n} local processes"
        runs = _local(n, instance, [(k, policies[k]) for k in todo], options)

    def result(pending=()) -> SweepResult:
        kept = tuple(earlier["scenario"]) if earlier is not None else ()
        return SweepResult(
            _table(rows, scenarios, layout),
            root,
            tuple(solved),
            reused,
            kept,
            tuple(pending),
            time.perf_counter() - t0,
            where,
            layout,
        )

    def write_table() -> None:
        _write_table(root, rows, scenarios, earlier, layout)

    try:
        root.mkdir(parents=True, exist_ok=True)
        write_marker(root, "sweep")
        write_table()
        if progress:
            progress(0, len(todo), None, None)
        for k, run in runs:
            s = scenarios[k]
            summary = None
            if run.solution is not None:
                run.solution.summary["sweep"] = {"scenario": s.id, "values": s.overrides, "input_hash": hashes[k]}
                write_solution(run.solution, root / s.id)
                summary = run.solution.summary
            else:
                _remove_stale(root / s.id, s.id)
            rows[k] = _row(s, keys, hashes[k], run.status, run.message, summary, layout)
            solved.append(s.id)
            write_table()
            if progress:
                progress(len(solved), len(todo), s, run)
    except KeyboardInterrupt:
        runs.close()
        write_table()
        raise SweepInterrupted(result([s.id for k, s in enumerate(scenarios) if k not in rows])) from None
    return result()


def _earlier_rows(root: Path, scenarios: list[Scenario]) -> pd.DataFrame | None:
    """Rows of sweep.csv for scenarios this sweep does not have (an earlier sweep with another grid): kept as they are."""
    path = root / TABLE
    if not path.is_file():
        return None
    try:
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None
    if "scenario" not in old:
        return None
    ids = {s.id for s in scenarios}
    earlier = old[~old["scenario"].isin(ids)].reset_index(drop=True)
    return earlier if len(earlier) else None


def _local(
    n: int, instance: Instance, jobs: list[tuple[int, Policy]], options: SolveOptions
) -> Iterator[tuple[int, ScenarioRun]]:
    if n == 1:
        for k, policy in jobs:
            yield k, solve_scenario(instance, policy, options)
        return
    # Workers ignore Ctrl-C: this process handles it and ends them.
    pool = multiprocessing.get_context("fork").Pool(
        n, initializer=_init_worker, initargs=(os.getpid(), instance, options)
    )
    try:
        yield from pool.imap_unordered(_pool_job, jobs)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


_worker_state: dict = {}


def _init_worker(parent: int, instance: Instance, options: SolveOptions) -> None:
    die_with_parent(parent)
    _worker_state.update(instance=instance, options=options)


def _pool_job(job: tuple[int, Policy]) -> tuple[int, ScenarioRun]:
    k, policy = job
    return k, solve_scenario(_worker_state["instance"], policy, _worker_state["options"])


def _dask(
    address: str, instance: Instance, jobs: list[tuple[int, Policy]], options: SolveOptions
) -> Iterator[tuple[int, ScenarioRun]]:
    """Connects at once (so that a bad address fails before anything is written), then solves lazily."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs Dask: pip install 'reception-allocator[cluster]'") from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    return _dask_runs(client, instance, jobs, options)


def _dask_runs(
    client, instance: Instance, jobs: list[tuple[int, Policy]], options: SolveOptions
) -> Iterator[tuple[int, ScenarioRun]]:
    from distributed import as_completed

    futures = {}
    try:
        if jobs:
            shared = client.scatter(instance, broadcast=True)
            futures = {client.submit(solve_scenario, shared, policy, options, pure=False): k for k, policy in jobs}
            for future in as_completed(futures, loop=client.loop):
                yield futures[future], future.result()
    finally:
        if futures:
            client.cancel(list(futures))
        client.close()


def _remove_stale(folder: Path, sid: str) -> None:
    """A scenario without a plan has no folder: remove one an earlier sweep wrote for it."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    if (summary.get("sweep") or {}).get("scenario") == sid:
        shutil.rmtree(folder)


def _row(
    s: Scenario, keys: list[str], digest: str, status: str, message: str, summary: dict | None, layout: Layout
) -> dict:
    row = {"scenario": s.id, **{KEY_PREFIX + k: s.overrides.get(k, "") for k in keys}, "status": status}
    kpis = (summary or {}).get("kpis") or {}
    if layout is HORIZON and summary is not None:
        from .horizon import plan_figures

        kpis = plan_figures(summary)
    for column in layout.kpis:
        row[column] = (summary or {}).get(column) if column in SUMMARY_COLUMNS else kpis.get(column)
    row.update({name: False for name in layout.pareto})
    row.update(folder=s.id if summary is not None else "", input_hash=digest, message=message or "")
    return row


def _finished(
    root: Path, scenarios: list[Scenario], hashes: list[str], keys: list[str], layout: Layout
) -> dict[int, dict]:
    """Rows of scenarios already solved with the same inputs (their folders checked too)."""
    path = root / TABLE
    if not path.is_file():
        return {}
    try:
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return {}
    if not {"scenario", "status", "input_hash", "folder", "message"} <= set(old.columns):
        return {}
    done = {r["scenario"]: r for r in old.to_dict("records")}
    rows = {}
    for k, (s, digest) in enumerate(zip(scenarios, hashes)):
        r = done.get(s.id)
        if r is None or r["input_hash"] != digest or r["status"] == "error":
            continue
        if r["folder"]:
            try:
                summary = json.loads((root / r["folder"] / "summary.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if (summary.get("sweep") or {}).get("input_hash") != digest:
                continue
            rows[k] = _row(s, keys, digest, summary["status"], summary.get("message", ""), summary, layout)
        else:
            rows[k] = _row(s, keys, digest, r["status"], r["message"], None, layout)
    return rows


def _table(rows: dict[int, dict], scenarios: list[Scenario], layout: Layout) -> pd.DataFrame:
    records = [rows[k] for k in sorted(rows)]
    keys = list(dict.fromkeys(k for s in scenarios for k, _ in s.values))
    columns = [
        "scenario",
        *[KEY_PREFIX + k for k in keys],
        "status",
        *layout.kpis,
        *layout.pareto,
        "folder",
        "input_hash",
        "message",
    ]
    table = pd.DataFrame(records, columns=columns)
    for column in layout.kpis:
        table[column] = table[column].astype("Int64" if column in layout.counts else float)
    return mark_pareto(table, layout)


def mark_pareto(table: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """Mark the scenarios no other scenario beats on both criteria of each pair (cost vs unmet, cost vs mean travel;
    over periods cost vs unmet place-periods and cost vs moves).

    Only checked plans take part; a scenario with nothing placed has no mean travel and is not
    ranked on it.
    """
    table = table.copy()
    eligible = table["status"].isin(PLAN_STATUSES) & (table["folder"] != "")
    for name, (a, b) in layout.pareto.items():
        ok = eligible & table[a].notna() & table[b].notna()
        points = [(round(float(x), 6), round(float(y), 6)) for x, y in zip(table[a], table[b])]
        marks = []
        for k, p in enumerate(points):
            if not ok.iloc[k]:
                marks.append(False)
                continue
            dominated = any(ok.iloc[j] and q[0] <= p[0] and q[1] <= p[1] and q != p for j, q in enumerate(points))
            marks.append(not dominated)
        table[name] = marks
    return table


def _write_table(
    root: Path,
    rows: dict[int, dict],
    scenarios: list[Scenario],
    earlier: pd.DataFrame | None,
    layout: Layout,
) -> Path:
    table = _table(rows, scenarios, layout)
    for name in layout.pareto:
        table[name] = table[name].map({True: "true", False: "false"})
    if earlier is not None:
        table = pd.concat([table.astype(object), earlier], ignore_index=True).fillna("")
    return write_text(table.to_csv(index=False, lineterminator="\n"), root / TABLE)


def format_sweep(result: SweepResult, currency: str = "EUR") -> str:
    """The sweep table for the terminal."""
    if result.layout is HORIZON:
        return _format_horizon_sweep(result, currency)
    t = result.table
    keys = [c for c in t.columns if c.startswith(KEY_PREFIX)]
    rows = []
    for r in t.to_dict("records"):
        plan = bool(r["folder"])
        rows.append(
            [
                r["scenario"],
                *[str(r[k]) or "-" for k in keys],
                fmt.status_word(r["status"]),
                fmt.amount(r["objective"]) if plan else fmt.MISSING,
                fmt.amount(r["total_cost"]) if plan else fmt.MISSING,
                fmt.amount(r["unmet"]) if plan else fmt.MISSING,
                fmt.number(r["mean_travel_minutes"]) if plan else fmt.MISSING,
                "*" if r["pareto_cost_unmet"] else "",
                "*" if r["pareto_cost_travel"] else "",
            ]
        )
    headers = [
        "Scenario",
        *[k[len(KEY_PREFIX) :] for k in keys],
        "Status",
        f"Objective {currency}",
        f"Cost {currency}",
        "Unmet",
        "Mean min",
        "Pareto cost/unmet",
        "cost/travel",
    ]
    return (
        fmt.table(headers, rows, "l" + "r" * len(keys) + "lrrrrll", total=False) if rows else "(no scenario finished)"
    )


def _format_horizon_sweep(result: SweepResult, currency: str) -> str:
    """The sweep table of plans over periods: costs, unmet place-periods and moves weighted over the scenarios."""
    t = result.table
    keys = [c for c in t.columns if c.startswith(KEY_PREFIX)]
    backlog = "expected_extra_place_periods" in t and pd.to_numeric(t["expected_extra_place_periods"]).abs().sum() > 0
    rows = []
    for r in t.to_dict("records"):
        figures = [
            fmt.amount(r["objective"]),
            fmt.amount(r["expected_total_cost"]),
            fmt.amount(r["expected_unmet_place_periods"]),
            *([fmt.amount(r["expected_extra_place_periods"])] if backlog else []),
            str(r["openings"]),
            str(r["closings"]),
            fmt.amount(r["expected_moves"]),
        ]
        rows.append(
            [
                r["scenario"],
                *[str(r[k]) or "-" for k in keys],
                fmt.status_word(r["status"]),
                *(figures if r["folder"] else [fmt.MISSING] * len(figures)),
                "*" if r["pareto_cost_unmet"] else "",
                "*" if r["pareto_cost_moves"] else "",
            ]
        )
    headers = [
        "Scenario",
        *[k[len(KEY_PREFIX) :] for k in keys],
        "Status",
        f"Objective {currency}",
        f"Cost {currency}",
        "Unmet place-periods",
        *(["Backlog place-periods"] if backlog else []),
        "Openings",
        "Closings",
        "Moves",
        "Pareto cost/unmet",
        "cost/moves",
    ]
    align = "l" + "r" * len(keys) + "l" + "r" * (6 + backlog) + "ll"
    return fmt.table(headers, rows, align, total=False) if rows else "(no scenario finished)"
