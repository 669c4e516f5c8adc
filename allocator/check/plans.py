"""The plan check: does a province's plan meet its task per group and keep every hard rule? (models/README.md, "Provincial plans").

No model and no solver: commitments are compared with the instance's rules directly, and the
part of each group's demand the committed places can serve within the travel limits is a
maximum flow (networkx), one per group because committed places belong to one group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

from ..core.errors import PolicyError, Problem
from ..data.plans import ALL, Plan
from ..data.policy import LargeSiteRule, site_fixings
from ..data.province import province_instance
from .travel import placement_minutes

GROUP_COLUMNS = ["group", "name", "task", "committed", "covered", "short", "too_few", "out_of_reach"]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a plan, in planners' words. ``blocking``: a decision cannot keep the plan's places as they are."""

    rule: str  # the model's name of the rule, e.g. site_capacity[R-GM0202-01]
    sentence: str
    blocking: bool


@dataclass
class ProvinceVerdict:
    """The check of one province's plan."""

    province: str
    name: str
    file: str | None  # where the plan came from; None: no plan
    groups: pd.DataFrame  # GROUP_COLUMNS, one row per group of the task
    sites: pd.DataFrame  # site, name, kind, group, places (committed)
    findings: list[Finding] = field(default_factory=list)
    attribution: pd.DataFrame | None = None  # municipality, site, group, places: the flow of committed places

    @property
    def complete(self) -> bool:
        """No shortfall and no rule broken."""
        return not self.findings and float(self.groups["short"].sum()) == 0

    @property
    def blocked(self) -> bool:
        """A rule is broken that a decision cannot mend without moving committed places."""
        return any(f.blocking for f in self.findings)


def check_plan(plan: Plan, instance, policy, provinces: list[str] | None = None) -> list[ProvinceVerdict]:
    """The verdict on every province of ``plan`` (or on ``provinces``, with an empty plan for those it lacks)."""
    if policy.nearest_regular_sites is not None:
        raise PolicyError(
            [
                Problem(
                    f"policy '{policy.name}'",
                    "plans are checked without it; set it to none",
                    column="nearest_regular_sites",
                )
            ]
        )
    return [_verdict(plan, instance, policy, p) for p in (provinces if provinces is not None else plan.provinces)]


def _verdict(plan: Plan, instance, policy, province: str) -> ProvinceVerdict:
    own = province_instance(instance, province)
    rows = plan.of(province)
    committed = rows.groupby(["site", "group"], sort=True)["places"].sum()
    groups = _group_ids(own)
    sites = _site_table(own, committed)
    verdict = ProvinceVerdict(
        province, str(instance.provinces.at[province, "name"]), plan.files.get(province), pd.DataFrame(), sites
    )
    verdict.findings += _site_findings(own, policy, committed)
    verdict.findings += _large_site_findings(own, policy, set(committed.index.get_level_values(0)))
    verdict.findings += _municipality_findings(own, policy, rows)
    cover, attribution = _cover(own, policy, rows, groups)
    verdict.attribution = attribution
    verdict.groups = _group_table(own, groups, committed, cover)
    return verdict


def _group_ids(instance) -> list[str]:
    return [ALL] if instance.groups is None else instance.groups.province_groups


def _demand(instance, group: str) -> pd.Series:
    if instance.groups is None:
        return instance.municipalities["demand"]
    return instance.groups.demand[group]


def _takes(instance) -> dict[tuple[str, str], tuple[int, float]]:
    """(site, group) -> (C_sg, c_sg) for every group each site takes."""
    sites = instance.sites
    if instance.groups is None:
        return {
            (s, ALL): (int(c), float(p)) for s, c, p in zip(sites.index, sites["capacity"], sites["cost_per_place"])
        }
    e = instance.groups.eligible
    return {(s, g): (int(c), float(p)) for s, g, c, p in zip(e["site"], e["group"], e["capacity"], e["cost_per_place"])}


def _group_name(instance, group: str) -> str:
    return "places" if instance.groups is None else instance.groups.name(group)


def _site_label(instance, site: str) -> str:
    return f"{instance.sites.at[site, 'name']} [{site}]"


def _site_table(instance, committed: pd.Series) -> pd.DataFrame:
    rows = [
        (s, instance.sites.at[s, "name"], instance.sites.at[s, "kind"], g, int(q)) for (s, g), q in committed.items()
    ]
    return pd.DataFrame(rows, columns=["site", "name", "kind", "group", "places"])


def _site_findings(instance, policy, committed: pd.Series) -> list[Finding]:
    """Eligibility, group and site capacity, minimum size and forbidden sites, site by site."""
    takes = _takes(instance)
    fixings = site_fixings(instance, policy)
    forbidden = {s for s, f in fixings.items() if f.value == 0}
    out = []
    for (s, g), q in committed.items():
        label = _site_label(instance, s)
        if (s, g) not in takes:
            out.append(
                Finding(
                    f"site_groups[{s},{g}]",
                    f"{label} does not take {_group_name(instance, g)}; {q:,} places committed there",
                    True,
                )
            )
        elif q > takes[(s, g)][0] and takes[(s, g)][0] < instance.sites.at[s, "capacity"]:
            out.append(
                Finding(
                    f"group_capacity[{s},{g}]",
                    f"{label} takes at most {takes[(s, g)][0]:,} {_group_name(instance, g)}; the plan commits {q:,}",
                    True,
                )
            )
    for s, q in committed.groupby(level=0).sum().items():
        label, site = _site_label(instance, s), instance.sites.loc[s]
        if q > site["capacity"]:
            out.append(
                Finding(
                    f"site_capacity[{s}]",
                    f"{label} holds at most {site['capacity']:,} places; the plan commits {q:,}",
                    True,
                )
            )
        if 0 < site["min_size"] and q < site["min_size"]:
            out.append(
                Finding(
                    f"site_min_size[{s}]",
                    f"{label} opens only with at least {site['min_size']:,} places; the plan commits {q:,}",
                    False,
                )
            )
        if s in forbidden:
            out.append(
                Finding(f"open_site[{s}]", f"{label} may not open under policy '{policy.name}' (forbidden)", True)
            )
    held = set(committed.index.get_level_values(0))
    for s, f in fixings.items():
        if f.value == 1 and s in instance.sites.index and s not in held and instance.sites.at[s, "min_size"] > 0:
            out.append(
                Finding(
                    f"site_min_size[{s}]",
                    f"{_site_label(instance, s)} stays open ({f.reason}) and holds at least "
                    f"{instance.sites.at[s, 'min_size']:,} places; the plan commits none",
                    False,
                )
            )
    return out


def _large_site_findings(instance, policy, committed_sites: set) -> list[Finding]:
    """The large-site rule over the committed sites and the sites that stay open anyway (existing, forced)."""
    rule = LargeSiteRule(policy.large_site_rule)
    if rule is LargeSiteRule.OFF:
        return []
    sites = instance.sites
    province = instance.provinces.index[0]
    if instance.municipalities["demand"].sum() == 0 and not (sites["kind"] == "large").any():
        return []  # as in the model: the rule binds provinces with demand or with large sites
    open_anyway = {s for s, f in site_fixings(instance, policy).items() if f.value == 1}
    large = sorted(s for s in committed_sites | open_anyway if sites.at[s, "kind"] == "large")
    if rule.needs_one and not large:
        return [
            Finding(f"large_site_per_province[{province}]", "the plan has no large site; the rule asks for one", False)
        ]
    if rule.caps_at_one and len(large) > 1:
        names = ", ".join(_site_label(instance, s) for s in large)
        return [
            Finding(
                f"large_site_per_province[{province}]",
                f"the plan has {len(large)} large sites ({names}); the rule allows one",
                True,
            )
        ]
    return []


def _eligible_minutes(instance, policy, pairs: pd.DataFrame) -> list[float]:
    """Minutes of each (municipality, site, group) pair, inf where an arc rule forbids it."""
    minutes = placement_minutes(instance, pairs) if len(pairs) else []
    out = []
    for row, t in zip(pairs.itertuples(), minutes):
        regular = instance.sites.at[row.site, "kind"] == "regular"
        limits = [policy.max_travel_minutes, policy.max_travel_minutes_regular if regular else None]
        if instance.groups is not None:
            own = instance.groups.table.at[row.group, "max_travel_minutes"]
            limits.append(None if math.isnan(own) else own)
        out.append(t if all(limit is None or t <= limit + 1e-6 for limit in limits) else math.inf)
    return out


def _municipality_findings(instance, policy, rows: pd.DataFrame) -> list[Finding]:
    """Places named for a municipality must be within its reach."""
    named = rows[rows["municipality"] != ""]
    if named.empty:
        return []
    minutes = _eligible_minutes(instance, policy, named)
    out = []
    for row, t in zip(named.itertuples(), minutes):
        if math.isinf(t):
            who = instance.municipalities.at[row.municipality, "name"]
            out.append(
                Finding(
                    f"placed[{row.municipality},{row.site}]",
                    f"{row.places:,} places at {_site_label(instance, row.site)} for {who} ({row.file}, row {row.row}): beyond the travel limits",
                    False,
                )
            )
    return out


def _named(instance, policy, rows: pd.DataFrame, demand: dict, places: dict) -> list[tuple]:
    """Places a plan names for a municipality serve it first, within reach and up to its demand; both
    ``demand`` and ``places`` are reduced by what they serve."""
    named = rows[rows["municipality"] != ""]
    named = named[named["site"].isin(list(places))]
    out = []
    for row, t in zip(named.itertuples(), _eligible_minutes(instance, policy, named)):
        q = min(row.places, demand.get(row.municipality, 0), places[row.site]) if math.isfinite(t) else 0
        if q > 0:
            demand[row.municipality] -= q
            places[row.site] -= q
            out.append((row.municipality, row.site, row.group, int(q)))
    return out


def _cover(instance, policy, rows: pd.DataFrame, groups: list[str]):
    """Per group, the most demand the committed places can serve, and which places serve whom: the places a
    plan names for a municipality first, then a maximum flow of the other places to the demand left."""
    takes = _takes(instance)
    committed = rows.groupby(["site", "group"], sort=True)["places"].sum()
    cover, flows = {}, []
    for g in groups:
        places = {s: int(q) for (s, h), q in committed.items() if h == g and (s, g) in takes}
        demand = {i: int(d) for i, d in _demand(instance, g).items() if d > 0}
        first = _named(instance, policy, rows[rows["group"] == g], demand, places)
        flows += first
        cover[g] = sum(q for *_, q in first)
        pairs = pd.DataFrame([(i, s, g) for i in demand for s in places], columns=["municipality", "site", "group"])
        graph = nx.DiGraph()
        for i, d in demand.items():
            graph.add_edge("source", ("i", i), capacity=d)
        for s, q in places.items():
            graph.add_edge(("s", s), "sink", capacity=q)
        for row, t in zip(pairs.itertuples(), _eligible_minutes(instance, policy, pairs)):
            if math.isfinite(t):
                graph.add_edge(("i", row.municipality), ("s", row.site))
        if "source" not in graph or "sink" not in graph:
            continue
        value, flow = nx.maximum_flow(graph, "source", "sink")
        cover[g] += value
        flows += [
            (node[1], target[1], g, int(q))
            for node, out in flow.items()
            if isinstance(node, tuple) and node[0] == "i"
            for target, q in out.items()
            if q > 0
        ]
    attribution = pd.DataFrame(flows, columns=["municipality", "site", "group", "places"])
    attribution = attribution.groupby(["municipality", "site", "group"], as_index=False, sort=True)["places"].sum()
    return cover, attribution


def _group_table(instance, groups: list[str], committed: pd.Series, cover: dict) -> pd.DataFrame:
    by_group = committed.groupby(level=1).sum()
    rows = []
    for g in groups:
        task = int(_demand(instance, g).sum())
        places = int(by_group.get(g, 0))
        covered = int(cover.get(g, 0))
        too_few = max(task - places, 0)
        rows.append(
            (g, _group_name(instance, g), task, places, covered, task - covered, too_few, task - covered - too_few)
        )
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)
