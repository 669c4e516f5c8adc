"""What-if for a province over the periods: the plan over the horizon with each candidate large site forced, ranked
by objective.

A forced site is open in every period from the first it may serve (its earliest period, see
:meth:`allocator.model.horizon.Rows.fixings`), in every scenario of the band. Each candidate is a
re-plan over the periods (build, solve, extract, check, as `allocator solve` without baselines): the
horizon model has no re-solve of changed blocks, so nothing is shared between the plans.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..core.fmt import amount, table
from ..data.instance import Instance
from ..data.policy import Policy
from ..results.solution import HorizonSolution
from ..solve.options import SolveOptions
from .horizon import HorizonOutcome, plan_figures, plan_horizon
from .whatif import (
    FREE,
    RANKED,
    _names,
    candidate_sites,
    forcing,
    free_line,
    rank_candidates,
    ranked_cells,
    ranked_headers,
    served_by,
    site_names,
)

COLUMNS = [
    *RANKED,
    "expected_total_cost",
    "expected_unmet_place_periods",
    "province_unmet_place_periods",
    "openings",
    "closings",
    "extensions",
    "expected_moves",
    "serves",
    "serves_count",
    "seconds",
    "check",
    "message",
]
# One row per plan and period: the plan's large sites in the province, what they hold, and the province's unmet.
PERIOD_COLUMNS = ["plan", "period", "large_sites", "state", "placed", "province_open_sites", "province_unmet"]
# The figures of a plan, from its objective up to the municipalities its site serves: counts of events, else floats.
COUNTS = ("openings", "closings", "extensions")
FLOATS = tuple(c for c in COLUMNS[COLUMNS.index("objective") : COLUMNS.index("serves")] if c not in COUNTS)


@dataclass(frozen=True, eq=False)
class HorizonWhatIfResult:
    """The ranked candidates (``table``), the free plan as one row (``free``), the figures per plan and period
    (``periods``) and every plan over the horizon.

    ``table`` columns: rank (1 = best objective; empty without a plan that passed the check), site,
    site_name, municipality, status, objective, difference and difference_pct (from the free plan),
    expected_total_cost and expected_unmet_place_periods (the whole plan's, weighted over the
    scenarios), province_unmet_place_periods (the province's municipalities', weighted), openings,
    closings and extensions (of the one site plan), expected_moves, serves and serves_count (the
    municipalities placed at the site in some period, most places first), seconds, check, message.

    ``periods`` columns: plan (``free`` or the forced site), period, large_sites (the province's large
    sites in service, ``;``-joined), state (of the forced site; for the free plan of its large site when
    it has one), placed (at those large sites, weighted over the scenarios), province_open_sites and
    province_unmet (weighted).
    """

    province: str
    province_name: str
    policy: Policy
    free: dict
    table: pd.DataFrame
    periods: pd.DataFrame
    scenarios: tuple[str, ...]
    solutions: dict[str, HorizonSolution] = field(default_factory=dict)


def rank_sites_over_periods(
    instance: Instance,
    policy: Policy,
    province: str,
    candidates: list[str] | None = None,
    options: SolveOptions | None = None,
    progress: Callable[[int, int, str | None], None] | None = None,
) -> HorizonWhatIfResult:
    """Plan the horizon free, then with each candidate forced as the province's large site; rank by objective.

    ``progress(done, total, site)`` is called before each plan: (0, n, None) before the free plan.
    """
    options = options or SolveOptions()
    chosen = candidate_sites(instance, policy, province, candidates)
    progress = progress or (lambda done, total, site: None)
    progress(0, len(chosen), None)
    t = time.perf_counter()
    free = plan_horizon(instance, policy, options)
    solutions = {FREE: free.solution} if free.solution is not None else {}
    free_row = _row(instance, province, None, free, time.perf_counter() - t)
    periods = _periods(instance, province, FREE, None, free.solution)
    rows = []
    for k, site in enumerate(chosen):
        progress(k, len(chosen), site)
        forced = forcing(policy, site)
        t = time.perf_counter()
        outcome = plan_horizon(instance, forced, options)
        if outcome.solution is not None:
            solutions[site] = outcome.solution
        rows.append(_row(instance, province, site, outcome, time.perf_counter() - t))
        periods += _periods(instance, province, site, site, outcome.solution)
    ranked = rank_candidates(pd.DataFrame(rows, columns=COLUMNS), free_row, FLOATS)
    for column in COUNTS:
        ranked[column] = ranked[column].astype("Int64")
    order = [FREE, *ranked["site"]]
    by_plan = pd.DataFrame(periods, columns=PERIOD_COLUMNS)
    by_plan = by_plan.sort_values("plan", key=lambda p: p.map(order.index), kind="stable").reset_index(drop=True)
    return HorizonWhatIfResult(
        province=province,
        province_name=str(instance.provinces.at[province, "name"]),
        policy=policy,
        free=free_row,
        table=ranked,
        periods=by_plan,
        scenarios=tuple(instance.horizon.scenarios),
        solutions=solutions,
    )


def _weighted(frame: pd.DataFrame, weights: dict[str, float], by: list[str], column: str) -> pd.Series:
    """``column`` summed per ``by`` with each scenario's rows weighted by its weight."""
    values = frame[column] * frame["scenario"].map(weights)
    return values.groupby([frame[b] for b in by]).sum()


def _large_sites(instance: Instance, province: str) -> set[str]:
    sites = instance.sites
    return set(sites.index[(sites["kind"] == "large") & (sites["province"] == province)])


def _row(instance: Instance, province: str, site: str | None, outcome: HorizonOutcome, seconds: float) -> dict:
    sol = outcome.solution
    row = dict.fromkeys(COLUMNS)
    row.update(status=outcome.status.value, message=outcome.result.message, seconds=seconds, serves="", serves_count=0)
    if sol is not None:
        figures, weights = plan_figures(sol.summary), sol.summary["weights"]
        prov = sol.provinces[sol.provinces["province"] == province]
        tl = sol.timeline
        if site is None:  # the free plan: describe the large site(s) it keeps in service
            used = tl[tl["site"].isin(_large_sites(instance, province)) & (tl["state"] != "closed")]
            site = ";".join(sorted(set(used["site"]))) or None
        row.update(
            objective=sol.summary["objective"],
            province_unmet_place_periods=float(_weighted(prov, weights, ["province"], "unmet").sum()),
            check="passed" if outcome.check.passed else "failed",
            **{c: figures[c] for c in COLUMNS if c in figures},
        )
        if site is not None and ";" not in site:
            pl = sol.placements[sol.placements["site"] == site]
            served = _weighted(pl, weights, ["municipality"], "placed")
            row.update(served_by(instance, served[served > 0]))
    row.update(site_names(instance, site))
    return row


def _periods(instance: Instance, province: str, plan: str, site: str | None, sol: HorizonSolution | None) -> list:
    """The rows of one plan per period (none without a plan)."""
    if sol is None:
        return []
    weights = sol.summary["weights"]
    shown = sol.summary["scenarios"][0]  # the site plan is the same in every scenario
    tl = sol.timeline[sol.timeline["site"].isin(_large_sites(instance, province))]
    prov = sol.provinces[sol.provinces["province"] == province]
    placed = _weighted(tl, weights, ["period", "site"], "placed")
    unmet = _weighted(prov, weights, ["period"], "unmet")
    one = tl[tl["scenario"] == shown]
    rows = []
    for t in [p["period"] for p in sol.summary["periods"]]:
        now = one[one["period"] == t]
        states = now.set_index("site")["state"]
        serving = sorted(states.index[states != "closed"])
        held = [site] if site else serving
        rows.append(
            {
                "plan": plan,
                "period": t,
                "large_sites": ";".join(serving),
                "state": ";".join(states[s] for s in held) or "closed",
                "placed": float(sum(placed.get((t, s), 0.0) for s in held)),
                "province_open_sites": int(
                    prov.loc[(prov["period"] == t) & (prov["scenario"] == shown), "open_sites"].sum()
                ),
                "province_unmet": float(unmet.get(t, 0.0)),
            }
        )
    return rows


def format_horizon_whatif(result: HorizonWhatIfResult, currency: str = "EUR", max_names: int = 4) -> str:
    """The ranked table for the terminal, the free plan above it, then the large sites per period."""
    free = result.free
    n = len(result.table)
    lines = [
        f"What-if for {result.province_name} ({result.province}) over the periods: {n} candidate large "
        f"site{'s' if n != 1 else ''}, policy {result.policy.name}, scenarios {', '.join(result.scenarios)}"
    ]
    lines.append(free_line(free, "Free plan", currency, f", {free['seconds']:.2f} s"))
    rows = []
    for r in result.table.itertuples():
        plan = not pd.isna(r.objective)
        rows.append(
            [
                *ranked_cells(r, free),
                amount(r.expected_total_cost),
                amount(r.expected_unmet_place_periods),
                amount(r.province_unmet_place_periods),
                *([str(r.openings), str(r.closings), amount(r.expected_moves)] if plan else ["-"] * 3),
                _names(r.serves, r.serves_count, max_names) if plan else (r.message or ""),
            ]
        )
    headers = [
        *ranked_headers(currency),
        f"Cost {currency}",
        "Unmet",
        "Province unmet",
        "Openings",
        "Closings",
        "Moves",
        "Serves",
    ]
    lines += ["", table(headers, rows, "rlllrrrrrrrrrl", total=False)]
    lines += ["", "Per period: placed at the large site (s = on standby, - = closed), u = the province's unmet"]
    lines.append(_period_table(result))
    note = (
        "* the free plan's large site. Cost, unmet and moves are the whole plan's over the periods and the province "
        "unmet its municipalities' (place-periods), each weighted over the scenarios; openings and closings are those "
        "of the one site plan. Each candidate is a plan over the periods of its own, with the site open from its "
        "earliest period."
    )
    lines += ["", *textwrap.wrap(note, width=120)]
    return "\n".join(lines)


def _period_table(result: HorizonWhatIfResult) -> str:
    p = result.periods
    periods = list(dict.fromkeys(p["period"]))
    rows = []
    for plan, group in p.groupby("plan", sort=False):
        cells = [plan]
        for r in group.itertuples():
            mark = {"standby": " s", "closed": " -"}.get(r.state, "")
            cells.append(amount(r.placed) + mark + (f" u{amount(r.province_unmet)}" if r.province_unmet > 0 else ""))
        rows.append(cells)
    return table(["Plan", *periods], rows, "l" + "r" * len(periods), total=False)
