"""A quick greedy plan over the horizon, handed to HiGHS as a starting solution.

Sites are opened period by period for the largest demand of any scenario and then kept in
service to the end (so minimum durations hold and nothing closes): in each period the large site
that reaches the most demand where the rule asks for one and none is open yet, then the regular
sites that place the most unplaced demand per unit of fixed cost. In each period and scenario the
open sites first take their minimum size, then everything they can along the cheapest arcs; the
rest goes to emergency capacity and the rest is unmet. A site that cannot reach its minimum size
in some scenario stands by in that period (or, if it cannot, is left as it is). People move out of
a site whose load falls (moved). HiGHS ignores a start that is not feasible (one above a move
limit, say), so nothing depends on the greedy being good, only the time to a first plan; tests
check that the start is feasible on the bundled instances.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

from ..data.policy import Risk
from .horizon import key


def horizon_start(model) -> dict[int, float]:
    """Starting values for every variable of a horizon model, keyed by id(VarData)."""
    d = model.data
    cost = {a: d.place_cost(a) + model.policy.travel_value * d.travel_minutes[a] for a in d.arcs}
    arcs_of_site = defaultdict(list)
    for a in sorted(d.arcs, key=lambda a: (cost[a], a)):
        arcs_of_site[a[1]].append(a)
    in_service = _open_sites(model, arcs_of_site)
    values: dict[int, float] = {}
    for var in model.placed.values():
        values[id(var)] = 0.0
    standby: dict[str, set[str]] = {}
    for t in d.periods:
        standby[t] = _fill_period(model, t, in_service[t], arcs_of_site, values)
    for (s, t), var in model.open_site.items():
        values[id(var)] = float(s in in_service[t] and s not in standby[t])
    for (s, t), var in model.standby_site.items():
        values[id(var)] = float(s in standby[t])
    _events(model, in_service, values)
    _moves(model, values)
    if d.risk == Risk.WORST:
        values[id(model.worst_cost)] = max(_scenario_cost(model, values, w) for w in d.scenarios)
    return values


def _open_sites(model, arcs_of_site) -> dict[str, set[str]]:
    """Period -> the sites in service, opened greedily for the largest demand of any scenario."""
    d = model.data
    kept: set[str] = {s for s in model.SITES if d.initial[s]}  # in service before: keeping it never breaks a duration
    out = {}
    for t in d.periods:
        allowed = {s for s in model.SITES if (model.open_site[s, t].ub or 0) > 0.5}
        forced = {s for s in model.SITES if (model.open_site[s, t].lb or 0) > 0.5}
        is_open = (kept & allowed) | forced
        demand = {u: max(d.demand[(t, w)][u] for w in d.scenarios) for u in d.demand[(t, d.scenarios[0])]}
        left = dict(demand)
        room = rooms(d, model.SITES)
        if model.policy.large_site_rule.needs_one:
            for candidates in d.large_by_province.values():
                usable = [s for s in candidates if s in allowed]
                if usable and not any(s in is_open for s in usable):
                    is_open.add(
                        max(
                            sorted(usable),
                            key=lambda s: min(sum(demand[d.unit(a)] for a in arcs_of_site[s]), d.capacity[s]),
                        )
                    )
        for s in _order(d, is_open):
            _fill(d, s, arcs_of_site[s], left, room)
        _open_regular(model, allowed - is_open, arcs_of_site, left, room, is_open)
        kept = is_open
        out[t] = set(is_open)
    return out


def _order(d, sites) -> list[str]:
    return sorted(sites, key=lambda s: (d.site_kind[s] != "large", s))


def rooms(d, sites) -> dict:
    """The room left per site and, where a group has less room of its own, per (site, group)."""
    room = {s: d.capacity[s] for s in sites}
    room.update({sg: c for sg, c in d.group_capacity.items() if sg[0] in room})
    return room


def _fill(d, site: str, arcs, left: dict, room: dict, placed: dict | None = None, upto: float | None = None) -> float:
    """Move demand into ``site`` along ``arcs`` (cheapest first), at most ``upto`` places; return how many."""
    moved = 0.0
    for a in arcs:
        u = d.unit(a)
        own = (site, a[2]) if len(a) == 3 and (site, a[2]) in room else None
        take = min(left[u], room[site], upto - moved if upto is not None else room[site])
        if own is not None:
            take = min(take, room[own])
        if take > 0:
            left[u] -= take
            room[site] -= take
            if own is not None:
                room[own] -= take
            moved += take
            if placed is not None:
                placed[a] = placed.get(a, 0) + take
    return moved


def _open_regular(model, candidates: set[str], arcs_of_site, left: dict, room: dict, is_open: set[str]) -> None:
    """Lazy greedy: open the regular site that places the most unplaced demand per unit of fixed cost."""
    d = model.data

    def gain(s: str) -> float:
        return min(sum(left[d.unit(a)] for a in arcs_of_site[s]), d.capacity[s])

    heap = [(-gain(s) / max(d.fixed_cost[s], 1.0), s) for s in sorted(candidates) if d.site_kind[s] == "regular"]
    heapq.heapify(heap)
    while heap:
        _, s = heapq.heappop(heap)
        g = gain(s)
        if g < max(d.min_size[s], 1):
            continue
        score = -g / max(d.fixed_cost[s], 1.0)
        if heap and score > heap[0][0]:
            heapq.heappush(heap, (score, s))
            continue
        is_open.add(s)
        _fill(d, s, arcs_of_site[s], left, room)


def _fill_period(model, t: str, in_service: set[str], arcs_of_site, values: dict) -> set[str]:
    """Placements, emergency places and unmet demand of period ``t`` in every scenario; the sites that stand by."""
    d = model.data
    standby: set[str] = set()
    while True:
        placed_by, left_by, short = {}, {}, set()
        for w in d.scenarios:
            placed_by[w], left_by[w] = _fill_scenario(
                d, t, w, [s for s in _order(d, in_service) if s not in standby], arcs_of_site
            )
            load = defaultdict(float)
            for a, q in placed_by[w].items():
                load[a[1]] += q
            short |= {s for s in in_service - standby if load[s] < d.min_size[s]}
        movable = {s for s in short if s in d.standby_cost and (model.open_site[s, t].lb or 0) < 0.5}
        if not movable:
            break
        standby |= movable
    for w in d.scenarios:
        for a, q in placed_by[w].items():
            values[id(model.placed[(*a, t, w)])] = float(q)
        _rest(model, t, w, left_by[w], values)
    return standby


def _fill_scenario(d, t: str, w: str, sites: list[str], arcs_of_site) -> tuple[dict, dict]:
    """Every site first takes its minimum size, then what it can, along its cheapest arcs."""
    left = dict(d.demand[(t, w)])
    room = rooms(d, sites)
    placed: dict = {}
    for s in sites:
        _fill(d, s, arcs_of_site[s], left, room, placed, upto=d.min_size[s])
    for s in sites:
        _fill(d, s, arcs_of_site[s], left, room, placed)
    return placed, left


def _rest(model, t: str, w: str, left: dict, values: dict) -> None:
    """What no site took goes to emergency capacity, within each province's, and the rest is unmet."""
    d = model.data
    spare = {p: c for (p, tt), c in d.emergency_capacity.items() if tt == t}
    for u, rest in left.items():
        c = (*key(u), t, w)
        if c not in model.unmet:
            continue
        p = d.province_of[c[0]]
        take = min(rest, spare.get(p, 0)) if c in model.emergency else 0
        if c in model.emergency:
            values[id(model.emergency[c])] = float(take)
            spare[p] -= take
        values[id(model.unmet[c])] = float(rest - take)


def _events(model, in_service: dict[str, set[str]], values: dict) -> None:
    d = model.data
    for s in model.SITES:
        before = d.initial[s]
        for t in d.periods:
            now = int(s in in_service[t])
            values[id(model.site_opening[s, t])] = float(now and not before)
            values[id(model.site_closing[s, t])] = float(before and not now)
            before = now
        if s in d.extension:
            t = d.extension[s][0]
            values[id(model.site_extension[s])] = float(
                s in in_service[t] and values[id(model.site_opening[s, t])] == 0
            )


def _moves(model, values: dict) -> None:
    """moved[s,t,ω] = max(0, the fall of the load at s from t−1 (or the load before the window) to t)."""
    d = model.data
    load = defaultdict(float)
    for a, var in model.placed.items():
        load[(a[1], *a[-2:])] += values.get(id(var), 0.0)
    first = d.periods[0]
    for (s, t, w), var in model.moved.items():
        before = d.previous_load.get(s, 0.0) if t == first else load[(s, model.previous[t], w)]
        values[id(var)] = max(0.0, before - load[(s, t, w)])


def _scenario_cost(model, values: dict, w: str) -> float:
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(model.scenario_cost[w].expr, compute_values=True)
    return repn.constant + sum(
        coef * values.get(id(var), 0.0) for coef, var in zip(repn.linear_coefs, repn.linear_vars)
    )
