"""A quick greedy plan over the horizon, handed to HiGHS as a starting solution.

Sites are opened period by period for the largest demand of any scenario and then kept in
service to the end (so minimum durations hold and nothing closes): in each period the large site
that reaches the most demand where the rule asks for one and none is open yet, then the regular
sites that place the most unplaced demand per unit of fixed cost. Each scenario's demand is then
filled into the open sites along the cheapest arcs, the rest into emergency capacity, the rest
left unmet. HiGHS ignores a start that is not feasible (a minimum size missed in a low scenario),
so nothing depends on the greedy being good, only the time to a first plan.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

from ..data.policy import Risk


def horizon_start(model) -> dict[int, float]:
    """Starting values for every variable of a horizon model, keyed by id(VarData)."""
    d = model.data
    cost = {a: d.cost_per_place[a[1]] + model.policy.travel_value * d.travel_minutes[a] for a in d.arcs}
    arcs_of_site = defaultdict(list)
    for a in sorted(d.arcs, key=lambda a: (cost[a], a)):
        arcs_of_site[a[1]].append(a)
    in_service = _open_sites(model, arcs_of_site)
    values: dict[int, float] = {}
    for (s, t), var in model.open_site.items():
        values[id(var)] = float(s in in_service[t])
    for var in model.standby_site.values():
        values[id(var)] = 0.0
    _events(model, in_service, values)
    _placements(model, in_service, arcs_of_site, values)
    if d.risk == Risk.WORST:
        values[id(model.worst_cost)] = max(_scenario_cost(model, values, w) for w in d.scenarios)
    return values


def _open_sites(model, arcs_of_site) -> dict[str, set[str]]:
    """Period -> the sites in service (all open), opened greedily for the largest demand of any scenario."""
    d = model.data
    kept: set[str] = set()
    out = {}
    for t in d.periods:
        allowed = {s for s in model.SITES if (model.open_site[s, t].ub or 0) > 0.5}
        forced = {s for s in model.SITES if (model.open_site[s, t].lb or 0) > 0.5}
        is_open = (kept & allowed) | forced
        demand = {i: max(d.demand[(t, w)][i] for w in d.scenarios) for i in model.MUNICIPALITIES}
        left = dict(demand)
        room = {s: d.capacity[s] for s in model.SITES}
        if model.policy.large_site_rule.needs_one:
            for candidates in d.large_by_province.values():
                usable = [s for s in candidates if s in allowed]
                if usable and not any(s in is_open for s in usable):
                    is_open.add(
                        max(
                            sorted(usable), key=lambda s: min(sum(demand[a[0]] for a in arcs_of_site[s]), d.capacity[s])
                        )
                    )
        for s in sorted(is_open, key=lambda s: (d.site_kind[s] != "large", s)):
            _fill(s, arcs_of_site, left, room)
        _open_regular(model, allowed - is_open, arcs_of_site, left, room, is_open)
        kept = is_open
        out[t] = set(is_open)
    return out


def _fill(site: str, arcs_of_site, left: dict, room: dict, placed: dict | None = None) -> None:
    for a in arcs_of_site[site]:
        take = min(left[a[0]], room[site])
        if take > 0:
            left[a[0]] -= take
            room[site] -= take
            if placed is not None:
                placed[a] = placed.get(a, 0) + take


def _open_regular(model, candidates: set[str], arcs_of_site, left: dict, room: dict, is_open: set[str]) -> None:
    """Lazy greedy: open the regular site that places the most unplaced demand per unit of fixed cost."""
    d = model.data

    def gain(s: str) -> float:
        return min(sum(left[a[0]] for a in arcs_of_site[s]), d.capacity[s])

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
        _fill(s, arcs_of_site, left, room)


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


def _placements(model, in_service: dict[str, set[str]], arcs_of_site, values: dict) -> None:
    d = model.data
    for var in model.placed.values():
        values[id(var)] = 0.0
    for t in d.periods:
        order = sorted(in_service[t], key=lambda s: (d.site_kind[s] != "large", s))
        for w in d.scenarios:
            left = dict(d.demand[(t, w)])
            room = {s: d.capacity[s] for s in order}
            placed: dict = {}
            for s in order:
                _fill(s, arcs_of_site, left, room, placed)
            for (i, s), q in placed.items():
                values[id(model.placed[i, s, t, w])] = float(q)
            spare = {p: c for (p, tt), c in d.emergency_capacity.items() if tt == t}
            for i in model.MUNICIPALITIES:
                if (i, t, w) in model.unmet:
                    take = min(left[i], spare.get(d.province_of[i], 0)) if (i, t, w) in model.emergency else 0
                    if (i, t, w) in model.emergency:
                        values[id(model.emergency[i, t, w])] = float(take)
                        spare[d.province_of[i]] -= take
                    values[id(model.unmet[i, t, w])] = float(left[i] - take)


def _scenario_cost(model, values: dict, w: str) -> float:
    expr = model.scenario_cost[w].expr
    return sum(coef * values.get(id(var), 0.0) for coef, var in _terms(expr))


def _terms(expr):
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    return list(zip(repn.linear_coefs, repn.linear_vars))
