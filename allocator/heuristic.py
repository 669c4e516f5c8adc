"""A quick greedy plan, handed to HiGHS as a starting solution on large instances.

Greedy by province: open the large site that reaches the most demand (when the rule asks for
one), fill open sites from the cheapest arcs, then keep opening the regular site that places the
most unplaced demand per euro of fixed cost. Sites left below their minimum size are closed
again and their places returned. The result satisfies every constraint except, possibly, the
large-site rule where no candidate can reach its minimum size; HiGHS ignores a start that is
not feasible, so nothing depends on the greedy being good, only the time to a first plan.
"""

from __future__ import annotations

import heapq
from collections import defaultdict


def greedy_start(model) -> dict[int, float]:
    """Starting values for every variable of ``model``, keyed by id(VarData)."""
    data = model.data
    policy = model.policy
    cost = {a: data.cost_per_place[a[1]] + policy.travel_value * data.travel_minutes[a] for a in data.arcs}
    arcs_of_site = defaultdict(list)
    arcs_of_muni = defaultdict(list)
    for a in sorted(data.arcs, key=lambda a: (cost[a], a)):
        arcs_of_site[a[1]].append(a)
        arcs_of_muni[a[0]].append(a)
    left = dict(data.demand)  # demand not yet placed
    room = dict(data.capacity)
    placed: dict[tuple, float] = defaultdict(float)
    is_open = {s: bool(var.lb and var.lb > 0.5) for s, var in model.open_site.items()}
    closed_for_good = {s for s, var in model.open_site.items() if var.ub is not None and var.ub < 0.5}

    def fill(site: str) -> float:
        moved = 0.0
        for a in arcs_of_site[site]:
            take = min(left[a[0]], room[site])
            if take > 0:
                left[a[0]] -= take
                room[site] -= take
                placed[a] += take
                moved += take
        return moved

    if policy.large_site_rule in ("exactly", "at_least"):
        for province, candidates in data.large_by_province.items():
            if any(is_open[s] for s in candidates):
                continue
            usable = [s for s in candidates if s not in closed_for_good]
            reach = {s: sum(data.demand[a[0]] for a in arcs_of_site[s]) for s in usable}
            if reach:
                best = max(sorted(reach), key=lambda s: min(reach[s], data.capacity[s]))
                is_open[best] = True
    for s in sorted(s for s, o in is_open.items() if o):
        fill(s)

    def gain(s: str) -> float:
        return min(sum(left[a[0]] for a in arcs_of_site[s]), data.capacity[s])

    # Lazy greedy: a site's gain only falls as demand is placed, so a popped site whose fresh
    # gain still beats the next stale one is the true best.
    heap = [(-gain(s) / max(data.fixed_cost[s], 1.0), s) for s in sorted(data.capacity)
            if data.site_kind[s] == "regular" and not is_open[s] and s not in closed_for_good]
    heapq.heapify(heap)
    while heap:
        _, s = heapq.heappop(heap)
        g = gain(s)
        if g < max(data.min_size[s], 1):
            continue
        score = -g / max(data.fixed_cost[s], 1.0)
        if heap and score > heap[0][0]:
            heapq.heappush(heap, (score, s))
            continue
        is_open[s] = True
        fill(s)

    # Demand still unplaced has no open site with room in reach: open a reachable site anyway
    # and top it up to its minimum size with places moved from sites that can spare them.
    for i in sorted((i for i in left if left[i] > 0), key=lambda i: (-left[i], i)):
        for a in arcs_of_muni[i]:
            s = a[1]
            if left[i] <= 0:
                break
            if is_open[s] or s in closed_for_good or data.site_kind[s] != "regular":
                continue
            spare = 0.0
            for b in arcs_of_site[s]:
                spare += left[b[0]]
                for b2 in arcs_of_muni[b[0]]:
                    if b2[1] != s and placed.get(b2, 0) > 0:
                        spare += max(0.0, min(placed[b2], data.capacity[b2[1]] - room[b2[1]] - data.min_size[b2[1]]))
            if spare < data.min_size[s]:
                continue
            is_open[s] = True
            fill(s)
            for b in arcs_of_site[s]:
                for b2 in arcs_of_muni[b[0]]:
                    need = data.min_size[s] - (data.capacity[s] - room[s])
                    if need <= 0:
                        break
                    donor = b2[1]
                    if donor == s or placed.get(b2, 0) <= 0:
                        continue
                    give = min(placed[b2], data.capacity[donor] - room[donor] - data.min_size[donor], need, room[s])
                    if give > 0:
                        placed[b2] -= give
                        room[donor] += give
                        placed[b] += give
                        room[s] -= give

    # Minimum sizes: a site that ended up too small gives its places back.
    for s in sorted(s for s, o in is_open.items() if o):
        load = data.capacity[s] - room[s]
        if load < data.min_size[s] and not (model.open_site[s].lb and model.open_site[s].lb > 0.5):
            for a in arcs_of_site[s]:
                left[a[0]] += placed.pop(a, 0.0)
            room[s] = data.capacity[s]
            is_open[s] = False

    values = {id(var): float(is_open[s]) for s, var in model.open_site.items()}
    values.update({id(var): placed.get(a, 0.0) for a, var in model.placed.items()})
    values.update({id(var): float(left[i]) for i, var in model.unmet.items()})
    return values
