"""Provincial plans assembled into one solution folder, with the provinces without a plan and the overlaps.

A plan is a provincial solution folder (``allocator solve --province``), a plan table (CSV or
workbook, or a folder of them) or another solution folder read as a plan table (its plan.csv, or
its placements); a table's committed places are counted for municipalities as the plan check's
flows count them. The merged solution answers for the provinces with a plan (its scope: they, the
groups of the provinces' task and the sites that take them) and is checked like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..check import CheckReport, check_solution
from ..check.demand import scaled_demand
from ..check.plans import check_plan
from ..core.errors import Problem, SolutionError
from ..data.plans import ALL, PlanError, is_solution_folder, read_plans
from ..data.policy import Policy, load_policy_dict, site_fixings
from ..data.province import province_policy, scope_of, scope_record, scoped_instance, task_scope
from ..results.extract import (
    compute_kpis,
    group_summary,
    groups_table,
    instance_summary,
    municipalities_table,
    provinces_table,
    site_rows,
    unmet_penalty,
    versions,
)
from ..results.solution import GROUP_PLACEMENT_COLUMNS, PLACEMENT_COLUMNS, Solution, read_solution
from ..solve.options import Status


@dataclass
class Merged:
    """The merged solution, the plan each province came from, the provinces without a plan, and the check."""

    solution: Solution
    sources: dict[str, str]  # province -> plan
    gaps: list[str]  # provinces with demand and no plan: outside the merged plan
    check: CheckReport


@dataclass
class _Part:
    province: str
    source: str
    placements: pd.DataFrame  # municipality, site, [group], placed, travel_minutes
    open_sites: set
    policy: Policy | None
    status: str
    bound: float | None
    table: bool = True  # a plan table: its places counted by the plan check's flows, no bound
    earlier: bool = False  # a folder of an earlier version, without a scope (summary.json format 1)


def merge_plans(paths, instance, policy: Policy) -> Merged:
    """Assemble the plans at ``paths``; PlanError when two plans claim one province or a plan cannot be read."""
    parts, problems = [], []
    for path in map(Path, paths):
        if _provincial(path):
            parts.append(_folder_part(path, instance, problems))
        else:
            parts += _table_parts(path, instance, policy)
    parts = [p for p in parts if p is not None]
    seen: dict[str, str] = {}
    for part in parts:
        if part.province in seen:
            problems.append(
                Problem(
                    part.source,
                    f"province {part.province} also has a plan in {seen[part.province]}",
                    column="province",
                    value=part.province,
                )
            )
        seen.setdefault(part.province, part.source)
    if problems:
        raise PlanError(problems)
    if not parts:
        raise PlanError([Problem("plans", "no province has a plan in the files given")])
    planned = [p for p in instance.provinces.index if p in seen]
    merged_policy = _common_policy(parts, province_policy(instance, policy, planned))
    gaps = [p for p in instance.provinces.index if p not in seen and _has_demand(instance, p)]
    scope = task_scope(instance, planned)
    solution = _solution(scoped_instance(instance, scope), merged_policy, parts, gaps)
    solution.summary["scope"] = scope_record(instance, scope)
    report = check_solution(solution, instance, merged_policy)
    solution.summary["check"] = {
        "passed": report.passed,
        "violations": report.violations,
        "objective": report.objective,
    }
    return Merged(solution, seen, gaps, report)


def _has_demand(instance, province: str) -> bool:
    return bool(instance.municipalities.loc[instance.municipalities["province"] == province, "demand"].sum() > 0)


def _provincial(path: Path) -> bool:
    """A solution folder of one province on its own (``allocator solve --province``)."""
    if not is_solution_folder(path):
        return False
    try:
        summary = read_solution(path).summary
    except SolutionError:
        return False  # read as a plan table, whose reading names what is wrong
    scope = scope_of(summary)
    return scope is not None and len(scope.provinces) == 1 and "merged" not in summary and "decision" not in summary


def _folder_part(path: Path, instance, problems: list[Problem]) -> _Part | None:
    solution = read_solution(path)
    scope = scope_of(solution.summary)
    (province,) = scope.provinces
    if (solution.summary.get("instance") or {}).get("fingerprint") != instance.fingerprint:
        problems.append(
            Problem(
                str(path / "summary.json"),
                f"made for another version of the instance than {instance.name}: give its instance as the first argument",
                column="instance.fingerprint",
            )
        )
        return None
    sites = solution.sites
    return _Part(
        province,
        str(path),
        solution.placements,
        set(sites.loc[sites["open_site"] == 1, "site"]),
        load_policy_dict(solution.summary.get("policy") or {}),
        solution.summary.get("status", ""),
        # An earlier version's plan held the sites that take only national groups (with their costs): its bound
        # is not one of the scope's.
        None if scope.every_site else solution.summary.get("bound"),
        table=False,
        earlier=scope.every_site,
    )


def _table_parts(path: Path, instance, policy: Policy) -> list[_Part]:
    """A plan table, one part per province: its committed sites open (with the existing ones) and its places counted by the check's flows."""
    plan = read_plans([path], instance)
    parts = []
    fixed = site_fixings(instance, policy)
    for verdict in check_plan(plan, instance, policy):
        flows = verdict.attribution.rename(columns={"places": "placed"})
        if instance.groups is None:
            flows = flows.drop(columns="group")
        sites = set(verdict.sites["site"]) | {
            s for s, f in fixed.items() if f.value == 1 and instance.sites.at[s, "province"] == verdict.province
        }
        parts.append(_Part(verdict.province, str(path), flows, sites, None, "plan", None))
    return parts


def _common_policy(parts: list[_Part], policy: Policy) -> Policy:
    """The policy of the merged plan: the provincial folders' (which must agree but for their budget shares), else ``policy``."""
    own = [p.policy for p in parts if p.policy is not None]
    if not own:
        return policy
    keys = {k: v for k, v in own[0].to_dict().items() if k != "budget"}
    for p in own[1:]:
        if {k: v for k, v in p.to_dict().items() if k != "budget"} != keys:
            raise PlanError([Problem("plans", "the provincial plans were made under different policies")])
    budgets = [p.budget for p in own]
    if all(b is not None and not math.isinf(b) for b in budgets) and len(own) == len(parts):
        return own[0].with_(budget=sum(budgets))
    return own[0]


def _solution(instance, policy: Policy, parts: list[_Part], gaps: list[str]) -> Solution:
    """The merged plan over ``instance``, the scope of the plans (their provinces, the task's groups)."""
    grouped = instance.groups is not None
    frames = [p.placements for p in parts if len(p.placements)]
    columns = GROUP_PLACEMENT_COLUMNS if grouped else PLACEMENT_COLUMNS
    placements = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    placements = (
        priced(instance, placements, policy)[columns]
        .sort_values(columns[: columns.index("placed")], kind="stable")
        .reset_index(drop=True)
    )
    open_sites = set().union(*(p.open_sites for p in parts)) if parts else set()
    sites = _sites(instance, policy, placements, open_sites)
    demand = unit_demand(instance, policy)
    by_municipality: dict[str, float] = {}
    for (i, _), d in demand.items():
        by_municipality[i] = by_municipality.get(i, 0) + d
    municipalities = municipalities_table(instance, by_municipality, placements)
    provinces = provinces_table(instance, sites, municipalities, placements)
    groups = groups_table(instance, demand, placements) if grouped else None
    kpis = compute_kpis(
        sites,
        placements,
        municipalities,
        unmet_penalty(policy, municipalities, groups),
        policy.effective_budget(instance.budget),
    )
    placements["travel_minutes"] = placements["travel_minutes"].round(4)
    objective = kpis["total_cost"] + kpis["travel_value"] + kpis["unmet_penalty"]
    unproven = _unproven(instance, policy, parts)
    bounds = [p.bound for p in parts]
    bound = sum(bounds) if not unproven and all(b is not None for b in bounds) else None
    summary = {
        "status": Status.OPTIMAL.value if not unproven else "merged",
        "message": unproven and f"optimality of the whole not claimed: {unproven}",
        "objective": objective,
        "bound": bound,
        "gap": None if bound is None else max(objective - bound, 0.0) / max(abs(objective), 1e-9),
        "absolute_gap": None if bound is None else max(objective - bound, 0.0),
        "kpis": kpis,
        "provinces": {
            r.province: {
                "demand": r.demand,
                "placed": r.placed,
                "unmet": r.unmet,
                "realisation": r.realisation,
                "large_sites": r.large_sites,
            }
            for r in provinces.itertuples()
        },
        **({"groups": group_summary(groups)} if groups is not None else {}),
        "merged": {"plans": {p.province: p.source for p in parts}, "gaps": gaps},
        "policy": policy.to_dict(),
        "instance": instance_summary(instance),
        "versions": versions(),
    }
    return Solution(summary, sites, placements, municipalities, provinces, groups)


def _unproven(instance, policy: Policy, parts: list[_Part]) -> str:
    """Why the merged plan is not the proven optimum of its scope ("" when it is: the provinces of the scope do
    not interact, and each plan is its province's proven optimum)."""
    if any(p.table for p in parts):
        return "a plan table carries no bound"
    if any(p.earlier for p in parts):
        return "a plan of an earlier version was solved with the sites that take only national groups"
    if any(p.status != Status.OPTIMAL.value for p in parts):
        return "not every plan is proven optimal"
    if policy.effective_budget(instance.budget) is not None:
        return "a budget couples the provinces"
    if policy.allow_cross_province or policy.mean_travel_limit_minutes is not None:
        return "the policy couples the provinces (cross-province placements or a mean-travel limit)"
    return ""


def unit_demand(instance, policy: Policy) -> dict:
    """Demand per (municipality, group) as the policy scales it."""
    if instance.groups is None:
        own = scaled_demand({i: int(d) for i, d in instance.municipalities["demand"].items()}, policy.demand_scale)
        return {(i, ALL): d for i, d in own.items()}
    out = {}
    for g in instance.groups.ids:
        own = scaled_demand({i: int(d) for i, d in instance.groups.demand[g].items()}, policy.demand_scale)
        out.update({(i, g): d for i, d in own.items()})
    return out


def priced(instance, placements: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The placements with their exact travel minutes, place cost (c_sg, or c_s) and travel value; round the minutes
    to four decimals (as solution folders hold them) once every figure is taken from them."""
    out = placements.copy()
    rows = instance.municipalities.index.get_indexer(out["municipality"])
    columns = instance.sites.index.get_indexer(out["site"])
    out["travel_minutes"] = instance.travel[rows, columns] if len(out) else []
    price = instance.sites["cost_per_place"]
    if instance.groups is not None and len(out):
        e = instance.groups.eligible.set_index(["site", "group"])["cost_per_place"]
        cost = [float(e.get((s, g), price[s])) for s, g in zip(out["site"], out["group"])]
    else:
        cost = [float(price[s]) for s in out["site"]]
    out["place_cost"] = [c * q for c, q in zip(cost, out["placed"])]
    out["travel_value"] = policy.travel_value * out["placed"] * out["travel_minutes"]
    return out


def _sites(instance, policy: Policy, placements: pd.DataFrame, open_sites: set) -> pd.DataFrame:
    fixed = site_fixings(instance, policy)
    return site_rows(
        instance,
        [fixed[s].reason if s in fixed else "" for s in instance.sites.index],
        [int(s in open_sites) for s in instance.sites.index],
        placements,
    )
