"""A quick greedy plan, handed to HiGHS as a starting solution on large instances.

Greedy by province, in phases: open the large site that reaches the most demand (when the rule
asks for one), fill open sites from the cheapest arcs, then keep opening the regular site that
places the most unplaced demand per euro of fixed cost; demand still stranded opens a reachable
site anyway, topped up from sites that can spare places. Sites left below their minimum size are
closed again and their places returned. The result satisfies every constraint except, possibly,
the large-site rule where no candidate can reach its minimum size; HiGHS ignores a start that is
not feasible, so nothing depends on the greedy being good, only the time to a first plan.
With demand groups the same steps run over demand units (municipality, group), within each
group's room at a site as well as the site's.
"""

from __future__ import annotations

import heapq
from collections import defaultdict


def greedy_start(model) -> dict[int, float]:
    """Starting values for every variable of ``model``, keyed by id(VarData)."""
    plan = _Greedy(model)
    plan.open_large_sites()
    plan.open_regular_sites()
    plan.open_for_stranded_demand()
    plan.close_small_sites()
    return plan.values()


class _Greedy:
    """The plan under construction: open sites, places per arc, demand left, room left."""

    def __init__(self, model):
        self.model = model
        self.data = data = model.data
        cost = {a: data.place_cost(a) + model.policy.travel_value * data.travel_minutes[a] for a in data.arcs}
        self.arcs_by_site: dict[str, list] = defaultdict(list)  # cheapest first
        self.arcs_by_municipality: dict = defaultdict(list)  # by demand unit
        for a in sorted(data.arcs, key=lambda a: (cost[a], a)):
            self.arcs_by_site[a[1]].append(a)
            self.arcs_by_municipality[data.unit(a)].append(a)
        self.unit = data.unit
        self.left = dict(data.demand)  # demand not yet placed
        self.room = dict(data.capacity)
        self.group_room = dict(data.group_capacity or {})  # (site, group) -> room left where C_sg < C_s
        self.placed: dict[tuple, float] = defaultdict(float)
        self.is_open = {s: bool(var.lb and var.lb > 0.5) for s, var in model.open_site.items()}
        self.closed_for_good = {s for s, var in model.open_site.items() if var.ub is not None and var.ub < 0.5}

    def _fits(self, a) -> float:
        """Places arc ``a`` can still take at its site: the site's room, and its group's."""
        if len(a) == 3 and (a[1], a[2]) in self.group_room:
            return min(self.room[a[1]], self.group_room[(a[1], a[2])])
        return self.room[a[1]]

    def _move(self, a, q: float) -> None:
        """Put ``q`` more places on arc ``a`` (negative: take them off), keeping the rooms up to date."""
        self.placed[a] += q
        self.room[a[1]] -= q
        if len(a) == 3 and (a[1], a[2]) in self.group_room:
            self.group_room[(a[1], a[2])] -= q

    def fill(self, site: str) -> None:
        """Place as much unplaced demand as fits at ``site``, cheapest arcs first."""
        for a in self.arcs_by_site[site]:
            take = min(self.left[self.unit(a)], self._fits(a))
            if take > 0:
                self.left[self.unit(a)] -= take
                self._move(a, take)

    def open_large_sites(self) -> None:
        """Per province without an open large site (when the rule asks for one): the one that reaches the most demand; then fill every open site."""
        data = self.data
        if self.model.policy.large_site_rule.needs_one:
            for candidates in data.large_by_province.values():
                if any(self.is_open[s] for s in candidates):
                    continue
                usable = [s for s in candidates if s not in self.closed_for_good]
                reach = {s: sum(data.demand[self.unit(a)] for a in self.arcs_by_site[s]) for s in usable}
                if reach:
                    best = max(sorted(reach), key=lambda s: min(reach[s], data.capacity[s]))
                    self.is_open[best] = True
        for s in sorted(s for s, o in self.is_open.items() if o):
            self.fill(s)

    def _gain(self, s: str) -> float:
        return min(sum(self.left[self.unit(a)] for a in self.arcs_by_site[s]), self.data.capacity[s])

    def open_regular_sites(self) -> None:
        """Keep opening the regular site with the most placeable demand per euro of fixed cost."""
        data = self.data
        # Lazy greedy: a site's gain only falls as demand is placed, so a popped site whose fresh
        # gain still beats the next stale one is the true best.
        heap = [
            (-self._gain(s) / max(data.fixed_cost[s], 1.0), s)
            for s in sorted(data.capacity)
            if data.site_kind[s] == "regular" and not self.is_open[s] and s not in self.closed_for_good
        ]
        heapq.heapify(heap)
        while heap:
            _, s = heapq.heappop(heap)
            g = self._gain(s)
            if g < max(data.min_size[s], 1):
                continue
            score = -g / max(data.fixed_cost[s], 1.0)
            if heap and score > heap[0][0]:
                heapq.heappush(heap, (score, s))
                continue
            self.is_open[s] = True
            self.fill(s)

    def open_for_stranded_demand(self) -> None:
        """Demand with no open site in reach: open a reachable regular site and top it up to its minimum size from sites that can spare places."""
        for i in sorted((i for i in self.left if self.left[i] > 0), key=lambda i: (-self.left[i], i)):
            for a in self.arcs_by_municipality[i]:
                if self.left[i] <= 0:
                    break
                s = a[1]
                if self.is_open[s] or s in self.closed_for_good or self.data.site_kind[s] != "regular":
                    continue
                if self._spare(s) < self.data.min_size[s]:
                    continue
                self.is_open[s] = True
                self.fill(s)
                self._top_up(s)

    def _load(self, s: str) -> float:
        return self.data.capacity[s] - self.room[s]

    def _spare(self, s: str) -> float:
        """Unplaced demand within reach of ``s`` plus what its neighbours' sites hold above their minimum size."""
        spare = 0.0
        for b in self.arcs_by_site[s]:
            spare += self.left[self.unit(b)]
            for b2 in self.arcs_by_municipality[self.unit(b)]:
                if b2[1] != s and self.placed.get(b2, 0) > 0:
                    spare += max(0.0, min(self.placed[b2], self._load(b2[1]) - self.data.min_size[b2[1]]))
        return spare

    def _top_up(self, s: str) -> None:
        """Move places to ``s`` from other sites of the same municipalities until it reaches its minimum size."""
        for b in self.arcs_by_site[s]:
            for b2 in self.arcs_by_municipality[self.unit(b)]:
                need = self.data.min_size[s] - self._load(s)
                if need <= 0:
                    break
                donor = b2[1]
                if donor == s or self.placed.get(b2, 0) <= 0:
                    continue
                give = min(self.placed[b2], self._load(donor) - self.data.min_size[donor], need, self._fits(b))
                if give > 0:
                    self._move(b2, -give)
                    self._move(b, give)

    def close_small_sites(self) -> None:
        """A site that ended up below its minimum size (and is not fixed open) gives its places back."""
        for s in sorted(s for s, o in self.is_open.items() if o):
            lower = self.model.open_site[s].lb
            if self._load(s) < self.data.min_size[s] and not (lower and lower > 0.5):
                for a in self.arcs_by_site[s]:
                    q = self.placed.get(a, 0.0)
                    self.left[self.unit(a)] += q
                    self._move(a, -q)
                self.is_open[s] = False

    def values(self) -> dict[int, float]:
        """The plan as starting values keyed by id(VarData)."""
        m = self.model
        values = {id(var): float(self.is_open[s]) for s, var in m.open_site.items()}
        values.update({id(var): self.placed.get(a, 0.0) for a, var in m.placed.items()})
        values.update({id(var): float(self.left[u]) for u, var in m.unmet.items()})
        if m.decision is not None:
            # An allocation decision adds what its places exceed the committed ones by.
            load: dict = defaultdict(float)
            for a, q in self.placed.items():
                load[a[1] if len(a) == 2 else (a[1], a[2])] += q
            committed = m.decision.commitments.places
            values.update({id(var): max(load[k] - committed.get(k, 0), 0.0) for k, var in m.added.items()})
        return values
