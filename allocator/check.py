"""Independent check of a solution against its instance and policy, from the tables alone.

Written without Pyomo and without the model's travel code: travel times are recomputed here
with a plain Dijkstra (or read from the matrix), demand is re-derived, every constraint of
models/README.md is re-evaluated, and the objective and KPIs are recomputed and compared with
what the solution claims.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from .demand import scale_demand
from .policy import load_policy_dict
from .solution import Solution, compute_kpis

ABS_TOL = 1e-6  # places
REL_TOL = 1e-7  # money, relative to the objective


@dataclass
class CheckReport:
    violations: list[str] = field(default_factory=list)
    objective: float | None = None  # recomputed

    @property
    def passed(self) -> bool:
        return not self.violations

    def add(self, constraint: str, message: str) -> None:
        self.violations.append(f"{constraint}: {message}")


def check_solution(solution: Solution, instance, policy=None) -> CheckReport:
    """Every violation of the instance's constraints under the policy the solution was made with."""
    report = CheckReport()
    summary = solution.summary
    if policy is None:
        policy = load_policy_dict(summary.get("policy") or {})
    fingerprint = (summary.get("instance") or {}).get("fingerprint")
    if fingerprint != instance.fingerprint:
        report.add("instance", f"the solution was made for another version of the instance (fingerprint {str(fingerprint)[:12]} vs {instance.fingerprint[:12]})")

    sites = instance.sites
    muni = instance.municipalities
    demand = scale_demand({m: int(d) for m, d in muni["demand"].items()}, policy.demand_scale)
    st = solution.sites.set_index("site")
    pl = solution.placements
    mt = solution.municipalities.set_index("municipality")

    missing_sites = sorted(set(sites.index) - set(st.index))
    if missing_sites:
        report.add("sites", f"{len(missing_sites)} sites missing from sites.csv, e.g. {missing_sites[:3]}")
    missing_muni = sorted(set(muni.index) - set(mt.index))
    if missing_muni:
        report.add("municipalities", f"{len(missing_muni)} municipalities missing from municipalities.csv, e.g. {missing_muni[:3]}")
    unknown = sorted((set(pl["site"]) - set(sites.index)) | (set(pl["municipality"]) - set(muni.index)))
    if unknown:
        report.add("placements", f"unknown ids in placements.csv: {unknown[:5]}")
        return report
    if missing_sites or missing_muni:
        return report

    # Variable domains.
    for s, value in st["open_site"].items():
        if value not in (0, 1):
            report.add(f"open_site[{s}]", f"must be 0 or 1, is {value}")
    for row in pl.itertuples():
        if row.placed < -ABS_TOL:
            report.add(f"placed[{row.municipality},{row.site}]", f"negative ({row.placed})")
        if policy.whole_places and abs(row.placed - round(row.placed)) > ABS_TOL:
            report.add(f"placed[{row.municipality},{row.site}]", f"not a whole number of places ({row.placed})")
    duplicated = pl.duplicated(["municipality", "site"])
    for row in pl[duplicated].itertuples():
        report.add(f"placed[{row.municipality},{row.site}]", "listed twice in placements.csv")

    # demand_balance
    placed_by_muni = pl.groupby("municipality")["placed"].sum()
    for i in muni.index:
        d = demand[i]
        got = float(placed_by_muni.get(i, 0.0))
        if got > d + ABS_TOL:
            report.add(f"demand_balance[{i}]", f"placed {got:g} exceeds demand {d}")
        if abs(float(mt.at[i, "demand"]) - d) > ABS_TOL:
            report.add(f"demand_balance[{i}]", f"municipalities.csv says demand {mt.at[i, 'demand']:g}, the instance gives {d}")
        if abs(float(mt.at[i, "unmet"]) - (d - got)) > ABS_TOL:
            report.add(f"demand_balance[{i}]", f"unmet {mt.at[i, 'unmet']:g} is not demand {d} minus placed {got:g}")

    # site_capacity, site_min_size, and placements only at open sites
    placed_by_site = pl.groupby("site")["placed"].sum()
    for s in sites.index:
        load = float(placed_by_site.get(s, 0.0))
        is_open = int(st.at[s, "open_site"]) == 1
        cap, low = int(sites.at[s, "capacity"]), int(sites.at[s, "min_size"])
        if load > (cap if is_open else 0) + ABS_TOL:
            report.add(f"site_capacity[{s}]", f"holds {load:g} places, allowed {cap if is_open else 0} ({'open' if is_open else 'closed'})")
        if is_open and load < low - ABS_TOL:
            report.add(f"site_min_size[{s}]", f"holds {load:g} places, minimum {low}")
        if abs(float(st.at[s, "placed"]) - load) > ABS_TOL:
            report.add(f"sites.csv[{s}]", f"placed column says {st.at[s, 'placed']:g}, placements add up to {load:g}")

    # large_site_per_province
    rule = policy.large_site_rule
    if rule != "off":
        province_demand: dict[str, int] = defaultdict(int)
        for i, d in demand.items():
            province_demand[muni.at[i, "province"]] += d
        large = sites[sites["kind"] == "large"]
        for p in instance.provinces.index:
            candidates = list(large.index[large["province"] == p])
            if province_demand.get(p, 0) == 0 and not candidates:
                continue
            count = int(st.loc[candidates, "open_site"].sum()) if candidates else 0
            ok = count == 1 if rule == "exactly" else count <= 1 if rule == "at_most" else count >= 1
            if not ok:
                report.add(f"large_site_per_province[{p}]", f"{count} large sites open, rule is '{rule}' one")

    # fixings
    if policy.keep_existing_open:
        for s in sites.index[sites["status"] == "existing"]:
            if int(st.at[s, "open_site"]) != 1:
                report.add(f"open_site[{s}]", "existing site closed while keep_existing_open = true")
    for s in policy.force_sites:
        if s in st.index and int(st.at[s, "open_site"]) != 1:
            report.add(f"open_site[{s}]", "forced site is not open")
    for s in policy.forbid_sites:
        if s in st.index and int(st.at[s, "open_site"]) != 0:
            report.add(f"open_site[{s}]", "forbidden site is open")

    # Travel: recomputed independently, then every arc rule.
    minutes = _travel_minutes(instance, pl)
    province_of = muni["province"]
    adjacency = _adjacency(instance) if instance.travel_mode == "network" else None
    farthest: dict[str, tuple[float, str]] = {}
    for row, t in zip(pl.itertuples(), minutes):
        name = f"placed[{row.municipality},{row.site}]"
        kind = sites.at[row.site, "kind"]
        if math.isinf(t):
            report.add(name, "the site cannot be reached from the municipality")
            continue
        if abs(t - row.travel_minutes) > 1e-3 * max(1.0, t):
            report.add(name, f"travel_minutes says {row.travel_minutes:g}, recomputed {t:.4f}")
        if policy.max_travel_minutes is not None and t > policy.max_travel_minutes + 1e-6:
            report.add(name, f"travel {t:.1f} min exceeds max_travel_minutes {policy.max_travel_minutes:g}")
        if kind == "regular" and policy.max_travel_minutes_regular is not None and t > policy.max_travel_minutes_regular + 1e-6:
            report.add(name, f"travel {t:.1f} min exceeds max_travel_minutes_regular {policy.max_travel_minutes_regular:g}")
        if not policy.allow_cross_province and province_of[row.municipality] != sites.at[row.site, "province"]:
            report.add(name, "crosses a province border while allow_cross_province = false")
        if kind == "regular" and policy.nearest_regular_sites is not None:
            if t > farthest.get(row.municipality, (-1.0, ""))[0]:
                farthest[row.municipality] = (t, row.site)
    # Only each municipality's farthest regular site can break nearest_regular_sites: nearer ones have fewer sites in front.
    if farthest:
        access = _regular_access(instance)
        for i, (t, site) in sorted(farthest.items()):
            nearer = _nearer_regular_sites(instance, policy, adjacency, access, i, t)
            if nearer >= policy.nearest_regular_sites:
                report.add(f"placed[{i},{site}]", f"{nearer} eligible regular sites are nearer, nearest_regular_sites = {policy.nearest_regular_sites}")

    placed_total = float(pl["placed"].sum())
    person_minutes = float(sum(q * t for q, t in zip(pl["placed"], minutes) if math.isfinite(t)))
    if policy.mean_travel_limit_minutes is not None and person_minutes > policy.mean_travel_limit_minutes * placed_total + 1e-6 * max(1.0, person_minutes):
        report.add("mean_travel_limit", f"mean travel {person_minutes / placed_total:.2f} min exceeds {policy.mean_travel_limit_minutes:g}")

    # Money, from the instance's prices (not from the solution's cost columns).
    fixed = float((st.loc[sites.index, "open_site"].astype(float) * sites["fixed_cost"]).sum())
    place = float(sum(q * sites.at[s, "cost_per_place"] for s, q in zip(pl["site"], pl["placed"])))
    travel_value = policy.travel_value * person_minutes
    unmet_total = float(sum(max(d - float(placed_by_muni.get(i, 0.0)), 0.0) for i, d in demand.items()))
    objective = policy.unmet_penalty * unmet_total + fixed + place + travel_value
    report.objective = objective
    scale = max(1.0, abs(objective))
    budget = policy.effective_budget(instance.budget)
    if budget is not None and fixed + place > budget + REL_TOL * max(1.0, budget):
        report.add("budget_limit", f"cost {fixed + place:,.0f} exceeds budget {budget:,.0f}")
    claimed = summary.get("objective")
    if claimed is None or abs(claimed - objective) > REL_TOL * scale + 1e-6:
        report.add("total_cost", f"solution claims {claimed}, recomputed {objective:.6f}")
    bound = summary.get("bound")
    if bound is not None and claimed is not None and bound > claimed + REL_TOL * scale:
        report.add("bound", f"bound {bound} above the objective {claimed}")

    # Claimed KPIs against the ones recomputed from the tables.
    sites_for_kpi = st.reset_index()
    sites_for_kpi["fixed_cost"] = sites_for_kpi["open_site"] * sites.loc[sites_for_kpi["site"], "fixed_cost"].to_numpy()
    recomputed = compute_kpis(sites_for_kpi, pl.assign(travel_minutes=minutes), mt.reset_index(), policy.unmet_penalty, budget)
    claimed_kpis = summary.get("kpis") or {}
    for key in ("total_cost", "fixed_cost", "place_cost", "travel_value", "placed", "unmet", "open_sites", "open_large_sites"):
        a, b = claimed_kpis.get(key), recomputed[key]
        if a is None or abs(float(a) - float(b)) > REL_TOL * max(1.0, abs(float(b))) + 1e-6:
            report.add(f"kpis.{key}", f"summary says {a}, tables give {b}")
    return report


def _travel_minutes(instance, placements: pd.DataFrame) -> list[float]:
    """Minutes for each placement row, recomputed from the instance's own files."""
    sites = instance.sites
    muni = instance.municipalities
    if instance.travel_mode == "matrix":
        table = {(a, b): t for a, b, t in zip(instance.matrix["municipality"], instance.matrix["site"], instance.matrix["minutes"])}
        return [table.get((i, s), math.inf) for i, s in zip(placements["municipality"], placements["site"])]
    adjacency = _adjacency(instance)
    wanted: dict[str, set] = defaultdict(set)
    for i, s in zip(placements["municipality"], placements["site"]):
        wanted[sites.at[s, "municipality"]].add(i)
    distance = {node: _dijkstra(adjacency, node, targets) for node, targets in wanted.items()}
    out = []
    for i, s in zip(placements["municipality"], placements["site"]):
        node = sites.at[s, "municipality"]
        access = _haversine_km(muni.at[node, "lat"], muni.at[node, "lon"], sites.at[s, "lat"], sites.at[s, "lon"]) * instance.detour_factor / instance.speed_kmh * 60.0
        out.append(distance[node].get(i, math.inf) + access)
    return out


def _adjacency(instance) -> dict[str, list[tuple[str, float]]]:
    adjacency: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, t in zip(instance.links["from"], instance.links["to"], instance.links["minutes"]):
        adjacency[a].append((b, t))
        adjacency[b].append((a, t))
    return adjacency


def _regular_access(instance) -> dict[str, list[tuple[str, str, float]]]:
    """Per province, every regular site as (site, municipality node, access minutes from that node)."""
    out: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    muni = instance.municipalities
    for s, row in instance.sites[instance.sites["kind"] == "regular"].iterrows():
        node = row["municipality"]
        minutes = 0.0
        if instance.travel_mode == "network":
            minutes = _haversine_km(muni.at[node, "lat"], muni.at[node, "lon"], row["lat"], row["lon"]) * instance.detour_factor / instance.speed_kmh * 60.0
        out[row["province"]].append((s, node, minutes))
    return out


def _nearer_regular_sites(instance, policy, adjacency, access, municipality: str, minutes: float) -> int:
    """How many eligible regular sites are strictly nearer to ``municipality`` than ``minutes``."""
    if policy.allow_cross_province:
        candidates = [entry for entries in access.values() for entry in entries]
    else:
        candidates = access.get(instance.municipalities.at[municipality, "province"], [])
    limit = min(x for x in (minutes, policy.max_travel_minutes, policy.max_travel_minutes_regular) if x is not None) - 1e-6
    if instance.travel_mode == "matrix":
        m = instance.matrix
        own = m[m["municipality"] == municipality].set_index("site")["minutes"]
        return sum(1 for s, _, _ in candidates if s in own.index and own[s] < limit)
    distance = _dijkstra(adjacency, municipality, set(), radius=minutes)
    return sum(1 for _, node, extra in candidates if node in distance and distance[node] + extra < limit)


def _dijkstra(adjacency, source: str, targets: set, radius: float | None = None) -> dict[str, float]:
    """Shortest times from ``source``; stops once every target is settled, or (with ``radius``) beyond it."""
    settled: dict[str, float] = {}
    heap = [(0.0, source)]
    left = set(targets)
    while heap and (left or radius is not None):
        d, node = heapq.heappop(heap)
        if radius is not None and d > radius:
            break
        if node in settled:
            continue
        settled[node] = d
        left.discard(node)
        for nxt, t in adjacency[node]:
            if nxt not in settled:
                heapq.heappush(heap, (d + t, nxt))
    return settled


def _haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
