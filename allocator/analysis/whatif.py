"""What-if for a province: the plan with each candidate large site forced, ranked by objective.

The model is built once and compiled once (one :class:`SolveSession`); each candidate is a
change of fixings (:func:`allocator.model.refix`), so a re-solve touches only the blocks whose
bounds changed (under the default policy, the province's own block), warm-started from the
previous plan.
"""

from __future__ import annotations

import math
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import InputError, Problem
from ..core.fmt import amount, number, signed, signed_percent, status_word, table
from ..core.outputs import safe_name, write_folder
from ..data.instance import Instance
from ..data.policy import Policy
from ..model.build import build_model, refix
from ..model.start import greedy_start
from ..results.solution import Solution, write_solution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions
from .pipeline import Outcome, finish

FREE = "free"  # folder name of the plan without extra fixings
# The first columns of every what-if table, a snapshot's or over the periods: the candidate, its rank and objective.
RANKED = ["rank", "site", "site_name", "municipality", "status", "objective", "difference", "difference_pct"]
COLUMNS = [
    *RANKED,
    "total_cost",
    "province_cost",
    "province_fixed_cost",
    "province_place_cost",
    "unmet",
    "mean_travel_minutes",
    "max_travel_minutes",
    "serves",
    "serves_count",
    "seconds",
    "blocks_solved",
    "check",
    "message",
]
# The figures of a plan: from its objective up to the municipalities its site serves.
FLOATS = tuple(COLUMNS[COLUMNS.index("objective") : COLUMNS.index("serves")])


class WhatIfError(InputError):
    """A what-if request that cannot run (unknown province, a candidate that is not one of its large sites)."""

    what = "what-if request"


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """The ranked candidates (``table``, one row per candidate), the free optimum, and every plan.

    ``table`` columns: rank (1 = best objective; empty without a plan that passed the check),
    site, site_name, municipality (where the site lies), status, objective, difference and
    difference_pct (from the free optimum), total_cost (whole plan, fixed + places),
    province_cost with its fixed and place parts, unmet, mean and max travel (of the province's
    municipalities), serves (names of the municipalities placed at the site, most places first,
    ``;``-joined) and serves_count, seconds (refix and re-solve), blocks_solved, check
    (passed/failed), message.
    """

    province: str
    province_name: str
    policy: Policy
    free: dict  # the free optimum as one row with the table's columns (site = its large site)
    table: pd.DataFrame
    build_seconds: float
    cold_seconds: float  # compile and first solve of the whole model
    blocks: int
    solutions: dict[str, Solution] = field(default_factory=dict)  # "free" and each candidate with a plan
    # Names of the instance's groups in the provinces' task and with a national target (none without groups):
    # the figures of the table count both, as the national plan places both.
    task_groups: tuple[str, ...] = ()
    national_groups: tuple[str, ...] = ()


def candidate_sites(
    instance: Instance, policy: Policy, province: str, candidates: list[str] | None = None
) -> list[str]:
    """The large sites to test: all of the province's (less those the policy forbids), or the given ones, checked."""
    sites = instance.sites
    if province not in instance.provinces.index:
        known = ", ".join(instance.provinces.index)
        raise WhatIfError([Problem("--province", f"unknown province (known: {known})", value=province)])
    if candidates is None:
        large = sites[(sites["kind"] == "large") & (sites["province"] == province)]
        chosen = [s for s in large.index if s not in policy.forbid_sites]
        problems = (
            []
            if chosen
            else [Problem("--province", "the province has no large site that the policy allows", value=province)]
        )
    else:
        chosen = list(dict.fromkeys(candidates))
        problems = [] if chosen else [Problem("--candidates", "no site ids given")]
        problems += [p for p in (_candidate_problem(sites, policy, province, s) for s in chosen) if p is not None]
    if problems:
        raise WhatIfError(problems)
    return chosen


def _candidate_problem(sites: pd.DataFrame, policy: Policy, province: str, s: str) -> Problem | None:
    if s not in sites.index:
        return Problem("--candidates", "unknown site id", value=s)
    if sites.at[s, "kind"] != "large":
        return Problem("--candidates", f"not a large site (kind {sites.at[s, 'kind']!r})", value=s)
    if sites.at[s, "province"] != province:
        return Problem("--candidates", f"a large site of {sites.at[s, 'province']}, not of {province}", value=s)
    if s in policy.forbid_sites:
        return Problem("--candidates", "forbidden by the policy (forbid_sites)", value=s)
    return None


def rank_sites(
    instance: Instance,
    policy: Policy,
    province: str,
    candidates: list[str] | None = None,
    options: SolveOptions | None = None,
    progress: Callable[[int, int, str | None], None] | None = None,
) -> WhatIfResult:
    """Solve the free plan, then each candidate forced as the province's large site; rank by objective.

    ``progress(done, total, site)`` is called before each solve: (0, n, None) before the free plan,
    then (k, n, site) before the k-th candidate's re-solve.
    """
    options = options or SolveOptions()
    chosen = candidate_sites(instance, policy, province, candidates)
    progress = progress or (lambda done, total, site: None)
    t = time.perf_counter()
    model = build_model(instance, policy)
    build_seconds = time.perf_counter() - t

    progress(0, len(chosen), None)
    t = time.perf_counter()
    session = SolveSession(model, options)
    free_result = session.solve(start=greedy_start(model))  # as allocator solve does, so both find the same free plan
    cold_seconds = time.perf_counter() - t
    free = finish(instance, policy, model, free_result, options, {"build": build_seconds})
    solutions = {FREE: free.solution} if free.solution is not None else {}
    free_row = _row(instance, province, None, free, cold_seconds, free_result.timings.get("blocks_solved", 0))

    rows = []
    for k, site in enumerate(chosen):
        progress(k, len(chosen), site)
        forced = forcing(policy, site)
        t = time.perf_counter()
        refix(model, instance, forced)
        result = session.solve()
        seconds = time.perf_counter() - t
        outcome = finish(instance, forced, model, result, options)
        if outcome.solution is not None:
            solutions[site] = outcome.solution
        rows.append(_row(instance, province, site, outcome, seconds, result.timings.get("blocks_solved", 0)))

    table = rank_candidates(pd.DataFrame(rows, columns=COLUMNS), free_row, FLOATS)
    return WhatIfResult(
        province=province,
        province_name=str(instance.provinces.at[province, "name"]),
        policy=policy,
        free=free_row,
        table=table,
        build_seconds=build_seconds,
        cold_seconds=cold_seconds,
        blocks=free_result.blocks,
        solutions=solutions,
        task_groups=tuple(instance.groups.name(g) for g in instance.groups.province_groups) if instance.groups else (),
        national_groups=tuple(instance.groups.name(g) for g in instance.groups.national_groups)
        if instance.groups
        else (),
    )


def _row(
    instance: Instance, province: str, site: str | None, outcome: Outcome, seconds: float, blocks_solved: int
) -> dict:
    sol = outcome.solution
    row = dict.fromkeys(COLUMNS)
    row.update(
        status=outcome.status.value,
        message=outcome.result.message,
        seconds=seconds,
        blocks_solved=blocks_solved,
        serves="",
        serves_count=0,
    )
    if sol is not None:
        prov = sol.provinces.set_index("province").loc[province]
        if site is None:  # the free plan: describe the large site it chose
            site = prov["large_sites"] or None
        in_province = set(sol.municipalities.loc[sol.municipalities["province"] == province, "municipality"])
        pl = sol.placements[sol.placements["municipality"].isin(in_province)]
        placed = float(pl["placed"].sum())
        row.update(
            objective=sol.objective,
            total_cost=sol.kpis["total_cost"],
            province_cost=float(prov["cost"]),
            province_fixed_cost=float(prov["fixed_cost"]),
            province_place_cost=float(prov["place_cost"]),
            unmet=float(prov["unmet"]),
            mean_travel_minutes=round(float((pl["placed"] * pl["travel_minutes"]).sum()) / placed, 4)
            if placed
            else None,
            max_travel_minutes=float(pl["travel_minutes"].max()) if len(pl) else None,
            check="passed" if outcome.check.passed else "failed",
        )
        if site is not None and ";" not in site:
            served = sol.placements[sol.placements["site"] == site].groupby("municipality")["placed"].sum()
            row.update(served_by(instance, served))
    row.update(site_names(instance, site))
    return row


# What a what-if does alike for a snapshot and for a plan over the periods.


def forcing(policy: Policy, site: str) -> Policy:
    """``policy`` with ``site`` forced open as well."""
    return policy.with_(force_sites=tuple(dict.fromkeys((site, *policy.force_sites))))


def served_by(instance: Instance, served: pd.Series) -> dict:
    """serves and serves_count of a row: the municipalities of ``served`` (places per municipality id), most places
    first, then by name."""
    names = instance.municipalities["name"]
    order = sorted(served.index, key=lambda i: (-served[i], names[i], i))
    return {"serves": ";".join(names[i] for i in order), "serves_count": len(order)}


def site_names(instance: Instance, site: str | None) -> dict:
    """site, and for one site of the instance its name and municipality's name, of a row."""
    if site is None or site not in instance.sites.index:
        return {"site": site}
    return {
        "site": site,
        "site_name": instance.sites.at[site, "name"],
        "municipality": instance.municipalities.at[instance.sites.at[site, "municipality"], "name"],
    }


def rank_candidates(table: pd.DataFrame, free: dict, floats: tuple[str, ...]) -> pd.DataFrame:
    """Best objective first, ties by site id; rows without a checked plan last (by site id); the differences from
    the free plan's objective, which sets its own to zero. The ``floats`` columns become floats."""
    free_objective = free["objective"]
    has_plan = table["objective"].notna() & (table["check"] == "passed")
    ranked = table[has_plan].sort_values(["objective", "site"], kind="stable")
    rest = table[~has_plan].sort_values("site", kind="stable")
    table = pd.concat([ranked, rest], ignore_index=True) if len(rest) else ranked.reset_index(drop=True)
    table["rank"] = pd.array([k + 1 if k < len(ranked) else None for k in range(len(table))], dtype="Int64")
    if free_objective is not None:
        table["difference"] = table["objective"] - free_objective
        table["difference_pct"] = table["difference"] / abs(free_objective) if free_objective else math.nan
    for column in floats:
        table[column] = table[column].astype(float)
    for key in ("difference", "difference_pct"):
        free[key] = 0.0 if free_objective is not None else None
    return table


def free_line(free: dict, what: str, currency: str, seconds: str = "") -> str:
    """The free plan's objective (``what``: how it is called) and its large site, or why it has none."""
    if free["objective"] is None:
        return f"{what}: none ({status_word(free['status'])}{': ' + free['message'] if free['message'] else ''})"
    chosen = f"{free['site_name']} [{free['site']}]" if free["site_name"] else (free["site"] or "no large site")
    return (
        f"{what}: {currency} {amount(free['objective'])} ({status_word(free['status'])}{seconds}), large site {chosen}"
    )


def ranked_cells(r, free: dict) -> list[str]:
    """The first cells of a candidate's row in the terminal, up to Diff % (see ranked_headers)."""
    return [
        "-" if pd.isna(r.rank) else str(r.rank),
        r.site + (" *" if r.site == free["site"] else ""),
        str(r.municipality),
        status_word(r.status) + (" (check failed)" if r.check == "failed" else ""),
        amount(r.objective),
        signed(r.difference),
        signed_percent(r.difference_pct),
    ]


def ranked_headers(currency: str) -> list[str]:
    """The headers of ranked_cells."""
    return ["Rank", "Site", "Municipality", "Status", f"Objective {currency}", f"Diff {currency}", "Diff %"]


def write_whatif(result: WhatIfResult, folder: str | Path, inputs=()) -> list[Path]:
    """Each plan as a solution folder (of one snapshot, or over the periods), ``folder/free`` and
    ``folder/<site id>``; the whole folder is written at once.

    ``folder`` may only be new or a what-if folder this package wrote, never one of ``inputs``.
    """
    problems = [
        Problem("--out", "a site id that cannot be a folder name", value=s)
        for s in result.solutions
        if s != FREE and (s in (FREE, ".", "..") or safe_name(s) != s)
    ]
    if problems:
        raise WhatIfError(problems)

    def fill(staging: Path) -> None:
        for name, solution in result.solutions.items():
            write_solution(solution, staging / name)

    root = write_folder(folder, "whatif", fill, inputs)
    return [root / name for name in result.solutions]


def format_whatif(result: WhatIfResult, currency: str = "EUR", max_names: int = 4) -> str:
    """The ranked table for the terminal, with the free optimum above it and the solve times."""
    free = result.free
    n = len(result.table)
    lines = [
        f"What-if for {result.province_name} ({result.province}): {n} candidate large site{'s' if n != 1 else ''}, policy {result.policy.name}"
    ]
    lines.append(free_line(free, "Free optimum", currency))
    lines.append(
        f"Cold solve {result.cold_seconds:.2f} s ({result.blocks} block{'s' if result.blocks != 1 else ''}; model built in {result.build_seconds:.2f} s, once)"
    )
    rows = []
    for r in result.table.itertuples():
        plan = not pd.isna(r.objective)
        rows.append(
            [
                *ranked_cells(r, free),
                amount(r.province_cost),
                amount(r.unmet),
                number(r.mean_travel_minutes),
                number(r.max_travel_minutes),
                f"{r.seconds:.2f} ({r.blocks_solved})",
                _names(r.serves, r.serves_count, max_names) if plan else (r.message or ""),
            ]
        )
    headers = [
        *ranked_headers(currency),
        f"Cost {currency}",
        "Unmet",
        "Mean min",
        "Max min",
        "Re-solve s (blocks)",
        "Serves",
    ]
    lines += ["", table(headers, rows, "rlllrrrrrrrrl", total=False)]
    lines += ["", *textwrap.wrap(_covers(result), width=120)]
    return "\n".join(lines)


def _covers(result: WhatIfResult) -> str:
    """The footnote: what the figures of the table count."""
    covers = "the province's fixed + place cost in the national plan; unmet, mean and max travel are the province's municipalities'"
    if result.national_groups:
        covers += (
            f", every group: its task ({', '.join(result.task_groups)}) and its part of the national groups "
            f"({', '.join(result.national_groups)}), as the national plan places both (`allocator solve --province` "
            "plans the task alone, so its cost and travel differ)"
        )
    return (
        f"* the free optimum's large site. Cost = {covers}. Re-solves reuse the model built once: refix + re-solve of "
        "the changed blocks only, from the previous plan."
    )


def _names(serves: str, count: int, max_names: int) -> str:
    if not count:
        return "0"
    names = serves.split(";")
    shown = ", ".join(names[:max_names])
    return f"{count}: {shown}" + (f", +{count - max_names} more" if count > max_names else "")
