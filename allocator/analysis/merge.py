"""Provincial plans assembled into one national solution folder, with its gaps and overlaps by province.

A plan is a solution folder marked as a provincial plan (``allocator solve --province``) or a
plan table (CSV or workbook); a table's committed places are counted for municipalities as the
plan check's flows count them. The merged solution is checked like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..check import CheckReport, check_solution
from ..check.demand import scaled_demand
from ..check.plans import check_plan
from ..check.travel import placement_minutes
from ..core.errors import Problem
from ..data.plans import ALL, PlanError, read_plans
from ..data.policy import Policy, load_policy_dict, site_fixings
from ..data.province import province_instance
from ..results.extract import (
    compute_kpis,
    group_summary,
    groups_table,
    instance_summary,
    municipalities_table,
    provinces_table,
    site_rows,
    versions,
)
from ..results.solution import GROUP_PLACEMENT_COLUMNS, PLACEMENT_COLUMNS, Solution, read_solution
from ..solve.options import Status


@dataclass
class Merged:
    """The merged solution, the plan each province came from, the provinces without a plan, and the check."""

    solution: Solution
    sources: dict[str, str]  # province -> plan
    gaps: list[str]  # provinces with demand and no plan
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


def merge_plans(paths, instance, policy: Policy) -> Merged:
    """Assemble the plans at ``paths``; PlanError when two plans claim one province or a folder is no provincial plan."""
    parts, problems = [], []
    for path in map(Path, paths):
        if path.is_dir():
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
    merged_policy = _common_policy(parts, policy)
    gaps = [p for p in instance.provinces.index if p not in seen and _has_demand(instance, p)]
    # The provinces' task: every province, the groups of the task only.
    task = province_instance(instance, list(instance.provinces.index))
    solution = _solution(task, merged_policy, parts, gaps)
    report = check_solution(solution, instance, merged_policy)
    solution.summary["check"] = {
        "passed": report.passed,
        "violations": report.violations,
        "objective": report.objective,
    }
    return Merged(solution, seen, gaps, report)


def _has_demand(instance, province: str) -> bool:
    return bool(instance.municipalities.loc[instance.municipalities["province"] == province, "demand"].sum() > 0)


def _folder_part(path: Path, instance, problems: list[Problem]) -> _Part | None:
    solution = read_solution(path)
    marker = solution.summary.get("province") or {}
    if "province" not in marker:
        problems.append(Problem(str(path), "not a provincial plan (solve it with allocator solve --province)"))
        return None
    if (solution.summary.get("instance") or {}).get("fingerprint") != instance.fingerprint:
        problems.append(Problem(str(path), "made for another version of the instance"))
        return None
    sites = solution.sites
    return _Part(
        marker["province"],
        str(path),
        solution.placements,
        set(sites.loc[sites["open_site"] == 1, "site"]),
        load_policy_dict(solution.summary.get("policy") or {}),
        solution.summary.get("status", ""),
        solution.summary.get("bound"),
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
        flows["travel_minutes"] = placement_minutes(instance, flows) if len(flows) else []
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
    grouped = instance.groups is not None
    frames = [p.placements for p in parts if len(p.placements)]
    columns = GROUP_PLACEMENT_COLUMNS if grouped else PLACEMENT_COLUMNS
    placements = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    placements = (
        _priced(instance, placements, policy)[columns]
        .sort_values(columns[: columns.index("placed")], kind="stable")
        .reset_index(drop=True)
    )
    open_sites = set().union(*(p.open_sites for p in parts)) if parts else set()
    sites = _sites(instance, placements, open_sites)
    demand = _unit_demand(instance, policy)
    by_municipality: dict[str, float] = {}
    for (i, _), d in demand.items():
        by_municipality[i] = by_municipality.get(i, 0) + d
    municipalities = municipalities_table(instance, by_municipality, placements)
    provinces = provinces_table(instance, sites, municipalities, placements)
    groups = groups_table(instance, demand, placements) if grouped else None
    kpis = compute_kpis(
        sites, placements, municipalities, policy.unmet_penalty, policy.effective_budget(instance.budget)
    )
    objective = kpis["total_cost"] + kpis["travel_value"] + kpis["unmet_penalty"]
    proven = not gaps and all(p.status == Status.OPTIMAL.value for p in parts) and _decoupled(instance, policy)
    bounds = [p.bound for p in parts]
    bound = sum(bounds) if proven and all(b is not None for b in bounds) else None
    summary = {
        "status": Status.OPTIMAL.value if proven else "merged",
        "message": "" if proven else "assembled from provincial plans; optimality of the whole is not claimed",
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


def _decoupled(instance, policy: Policy) -> bool:
    """Provinces independent of each other: then the provincial optima together are the national optimum."""
    national = instance.groups is not None and bool(instance.groups.national_groups)
    return (
        policy.effective_budget(instance.budget) is None
        and not policy.allow_cross_province
        and policy.mean_travel_limit_minutes is None
        and not national
    )


def _unit_demand(instance, policy: Policy) -> dict:
    """Demand per (municipality, group) as the policy scales it."""
    if instance.groups is None:
        own = scaled_demand({i: int(d) for i, d in instance.municipalities["demand"].items()}, policy.demand_scale)
        return {(i, ALL): d for i, d in own.items()}
    out = {}
    for g in instance.groups.ids:
        own = scaled_demand({i: int(d) for i, d in instance.groups.demand[g].items()}, policy.demand_scale)
        out.update({(i, g): d for i, d in own.items()})
    return out


def _priced(instance, placements: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    out = placements.copy()
    price = instance.sites["cost_per_place"]
    if instance.groups is not None and len(out):
        e = instance.groups.eligible.set_index(["site", "group"])["cost_per_place"]
        cost = [float(e.get((s, g), price[s])) for s, g in zip(out["site"], out["group"])]
    else:
        cost = [float(price[s]) for s in out["site"]]
    out["place_cost"] = [c * q for c, q in zip(cost, out["placed"])]
    out["travel_value"] = policy.travel_value * out["placed"] * out["travel_minutes"]
    return out


def _sites(instance, placements: pd.DataFrame, open_sites: set) -> pd.DataFrame:
    status = instance.sites["status"]
    return site_rows(
        instance,
        ["existing" if v == "existing" else "" for v in status],
        [int(s in open_sites) for s in instance.sites.index],
        placements,
    )
