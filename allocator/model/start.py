"""A quick greedy plan, handed to HiGHS as a starting solution; one greedy for every shape of model.

The greedy runs over the cases of the model's ``rows``: a snapshot (and the allocation decision)
is the one case (), a plan over the horizon has a case (t, ω) per period and scenario.

Period by period, sites are chosen for the largest demand of any of the period's cases, greedy by
province in phases: open the large site that reaches the most demand (when the rule asks for one),
fill open sites from the cheapest arcs, then keep opening the regular site that places the most
unplaced demand per euro of fixed cost; in a period of one case, demand still stranded opens a
reachable site anyway, topped up from sites that can spare places. Sites opened in the period that
end below their minimum size are closed again. What is in service stays in service in the later
periods (so minimum durations hold and nothing closes).

Each case is then filled by the period's sites: a period of one case keeps the placements it was
planned with; with several scenarios each site first takes its minimum size, then what it can. A
site short of its minimum size in some case stands by in that period where it can. What no site
takes goes to emergency capacity, within each province's, and the rest is unmet.

The result satisfies every constraint except, possibly, the large-site rule where no candidate
can reach its minimum size, or a move limit; HiGHS ignores a start that is not feasible, so
nothing depends on the greedy being good, only the time to a first plan.
With demand groups the same steps run over demand units (municipality, group), within each
group's room at a site as well as the site's.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

from .horizon import key


def greedy_start(model) -> dict[int, float]:
    """Starting values for every variable of ``model`` (a snapshot, a decision or a horizon), keyed by id(VarData)."""
    shape = _Shape(model)
    network = _Network(model)
    values: dict[int, float] = {}
    in_service: dict = {}
    standby: dict = {}
    kept = shape.initial
    for t, cases in shape.periods:
        allowed, forced = shape.allowed[t], shape.forced[t]
        plan = _Plan(model, network, shape.plan_demand(cases), allowed, forced | (kept & allowed))
        plan.open_large_sites()
        plan.open_regular_sites()
        if len(cases) == 1:
            # Demand stranded in the largest of several scenarios is placed in the others: a site opened for it
            # would cost its fixed cost in all of them.
            plan.open_for_stranded_demand()
        plan.close_small_sites()
        kept = in_service[t] = {s for s, o in plan.is_open.items() if o}
        standby[t] = _fill_period(model, shape, network, t, cases, plan, values)
    shape.site_values(in_service, standby, values)
    _events(model, in_service, values)
    _moves(model, values)
    _added(model, values)
    _worst_cost(model, values)
    return values


class _Shape:
    """Where the model's shape shows: its periods and cases, the variables of a case, and the sites' bounds."""

    def __init__(self, model):
        self.model = model
        d = model.data
        self.one_case = model.rows.cases == [()]
        if self.one_case:
            self.periods = [(None, [()])]
            self.initial: set[str] = set()
        else:
            self.periods = [(t, [(t, w) for w in d.scenarios]) for t in d.periods]
            self.initial = {s for s in model.SITES if d.initial[s]}  # in service before: keeping it breaks no duration
        # period -> the sites that may be open in it, and those fixed open
        self.allowed: dict = defaultdict(set)
        self.forced: dict = defaultdict(set)
        for index, var in model.open_site.items():
            s, t = (index, None) if self.one_case else index
            if var.ub is None or var.ub >= 0.5:
                self.allowed[t].add(s)
            if (var.lb or 0) > 0.5:
                self.forced[t].add(s)
        # case -> arc or demand unit -> its variable in the case (a lookup by Pyomo index is slow on a large model)
        self.placed = {(): model.placed} if self.one_case else self._by_case(model.placed, lambda a: a)
        self.unmet = self._by_case(model.unmet, lambda u: u if isinstance(u, str) or len(u) == 2 else u[0])
        emergency = model.component("emergency")
        self.emergency = self._by_case(emergency, lambda u: u[0] if len(u) == 1 else u) if emergency is not None else {}

    def _by_case(self, var, unit_of) -> dict:
        """case -> {arc or unit: variable}; the case is the index's last two entries (t, ω), or () in one case."""
        out: dict = defaultdict(dict)
        if self.one_case:
            out[()] = {unit_of(k): v for k, v in var.items()}
            return out
        for k, v in var.items():
            out[k[-2:]][unit_of(k[:-2])] = v
        return out

    def demand(self, case: tuple) -> dict:
        return self.model.data.demand[case] if case else self.model.data.demand

    def plan_demand(self, cases: list[tuple]) -> dict:
        """The largest demand of any of ``cases`` per demand unit."""
        if len(cases) == 1:
            return dict(self.demand(cases[0]))
        first = self.demand(cases[0])
        return {u: max(self.demand(c)[u] for c in cases) for u in first}

    def can_stand_by(self, s: str, t) -> bool:
        return t is not None and s in self.model.data.standby_cost and s not in self.forced[t]

    def site_values(self, in_service: dict, standby: dict, values: dict) -> None:
        """open_site (and standby_site): in service and not standing by."""
        m = self.model
        if self.one_case:
            values.update({id(var): float(s in in_service[None]) for s, var in m.open_site.items()})
            return
        for (s, t), var in m.open_site.items():
            values[id(var)] = float(s in in_service[t] and s not in standby[t])
        for (s, t), var in m.standby_site.items():
            values[id(var)] = float(s in standby[t])


class _Network:
    """The arcs per site and per demand unit, cheapest (place cost and valued travel time) first."""

    def __init__(self, model):
        d = model.data
        cost = {a: d.place_cost(a) + model.policy.travel_value * d.travel_minutes[a] for a in d.arcs}
        self.arcs_by_site: dict[str, list] = defaultdict(list)
        self.arcs_by_unit: dict = defaultdict(list)
        for a in sorted(d.arcs, key=lambda a: (cost[a], a)):
            self.arcs_by_site[a[1]].append(a)
            self.arcs_by_unit[d.unit(a)].append(a)


class _Plan:
    """The plan of one demand under construction: open sites, places per arc, demand left, room left."""

    def __init__(self, model, network: _Network, demand: dict, allowed: set[str], held: set[str]):
        self.model = model
        self.data = data = model.data
        self.arcs_by_site = network.arcs_by_site
        self.arcs_by_municipality = network.arcs_by_unit
        self.unit = data.unit
        self.demand = demand
        self.left = dict(demand)  # demand not yet placed
        self.room = dict(data.capacity)
        self.group_room = dict(data.group_capacity or {})  # (site, group) -> room left where C_sg < C_s
        self.placed: dict[tuple, float] = defaultdict(float)
        self.held = held  # open from the start: fixed open, or in service before
        self.is_open = {s: s in held for s in model.SITES}
        self.closed_for_good = set(model.SITES) - allowed

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

    def fill(self, site: str, upto: float | None = None) -> None:
        """Place as much unplaced demand as fits at ``site`` (at most ``upto`` places), cheapest arcs first."""
        moved = 0.0
        for a in self.arcs_by_site[site]:
            take = min(self.left[self.unit(a)], self._fits(a))
            if upto is not None:
                take = min(take, upto - moved)
            if take > 0:
                self.left[self.unit(a)] -= take
                self._move(a, take)
                moved += take

    def open_large_sites(self) -> None:
        """Per province without an open large site (when the rule asks for one): the one that reaches the most demand; then fill every open site."""
        data = self.data
        if self.model.policy.large_site_rule.needs_one:
            for candidates in data.large_by_province.values():
                if any(self.is_open[s] for s in candidates):
                    continue
                usable = [s for s in candidates if s not in self.closed_for_good]
                reach = {s: sum(self.demand[self.unit(a)] for a in self.arcs_by_site[s]) for s in usable}
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

    def load(self, s: str) -> float:
        return self.data.capacity[s] - self.room[s]

    def _spare(self, s: str) -> float:
        """Unplaced demand within reach of ``s`` plus what its neighbours' sites hold above their minimum size."""
        spare = 0.0
        for b in self.arcs_by_site[s]:
            spare += self.left[self.unit(b)]
            for b2 in self.arcs_by_municipality[self.unit(b)]:
                if b2[1] != s and self.placed.get(b2, 0) > 0:
                    spare += max(0.0, min(self.placed[b2], self.load(b2[1]) - self.data.min_size[b2[1]]))
        return spare

    def _top_up(self, s: str) -> None:
        """Move places to ``s`` from other sites of the same municipalities until it reaches its minimum size."""
        for b in self.arcs_by_site[s]:
            for b2 in self.arcs_by_municipality[self.unit(b)]:
                need = self.data.min_size[s] - self.load(s)
                if need <= 0:
                    break
                donor = b2[1]
                if donor == s or self.placed.get(b2, 0) <= 0:
                    continue
                give = min(self.placed[b2], self.load(donor) - self.data.min_size[donor], need, self._fits(b))
                if give > 0:
                    self._move(b2, -give)
                    self._move(b, give)

    def close_small_sites(self) -> None:
        """A site opened here that ended up below its minimum size gives its places back."""
        for s in sorted(s for s, o in self.is_open.items() if o):
            if self.load(s) < self.data.min_size[s] and s not in self.held:
                for a in self.arcs_by_site[s]:
                    q = self.placed.get(a, 0.0)
                    self.left[self.unit(a)] += q
                    self._move(a, -q)
                self.is_open[s] = False


def _fill_period(model, shape: _Shape, network: _Network, t, cases: list, plan: _Plan, values: dict) -> set[str]:
    """Placements, emergency places and unmet demand of every case of period ``t``; the sites that stand by."""
    d = model.data
    in_service = {s for s, o in plan.is_open.items() if o}
    standby: set[str] = set()
    while True:
        fills = {}
        short = set()
        for c in cases:
            if len(cases) == 1 and not standby:
                fills[c] = plan  # planned for exactly this demand
            else:
                sites = sorted(in_service - standby, key=lambda s: (d.site_kind[s] != "large", s))
                fills[c] = fill = _Plan(model, network, shape.demand(c), set(sites), set(sites))
                for s in sites:
                    fill.fill(s, upto=d.min_size[s])
                for s in sites:
                    fill.fill(s)
            short |= {s for s in in_service - standby - short if fills[c].load(s) < d.min_size[s]}
        movable = {s for s in short if shape.can_stand_by(s, t)}
        if not movable:
            break
        standby |= movable
    for c, fill in fills.items():
        placed = fill.placed
        values.update({id(var): placed.get(a, 0.0) for a, var in shape.placed[c].items()})
        _rest(model, shape, t, c, fill.left, values)
    return standby


def _rest(model, shape: _Shape, t, case: tuple, left: dict, values: dict) -> None:
    """What no site took goes to emergency capacity, within each province's, and the rest is unmet."""
    d = model.data
    spare = {p: c for (p, tt), c in d.emergency_capacity.items() if tt == t} if case else {}
    unmet_of, emergency_of = shape.unmet[case], shape.emergency.get(case, {})
    for u, rest in left.items():
        unmet = unmet_of.get(u)
        if unmet is None:
            continue
        emergency = emergency_of.get(u)
        take = 0
        if emergency is not None:
            p = d.province_of[key(u)[0]]
            take = min(rest, spare.get(p, 0))
            values[id(emergency)] = float(take)
            spare[p] -= take
        values[id(unmet)] = float(rest - take)


def _events(model, in_service: dict, values: dict) -> None:
    """site_opening, site_closing and site_extension (a plan over periods) from the sites in service."""
    if model.component("site_opening") is None:
        return
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
    if model.component("moved") is None or not len(model.moved):
        return
    d = model.data
    load = defaultdict(float)
    for a, var in model.placed.items():
        load[(a[1], *a[-2:])] += values.get(id(var), 0.0)
    first = d.periods[0]
    for (s, t, w), var in model.moved.items():
        before = d.previous_load.get(s, 0.0) if t == first else load[(s, model.previous[t], w)]
        values[id(var)] = max(0.0, before - load[(s, t, w)])


def _added(model, values: dict) -> None:
    """An allocation decision adds what its places exceed the committed ones by."""
    if model.decision is None:
        return
    load: dict = defaultdict(float)
    for a, var in model.placed.items():
        load[a[1] if len(a) == 2 else (a[1], a[2])] += values[id(var)]
    committed = model.decision.commitments.places
    values.update({id(var): max(load[k] - committed.get(k, 0), 0.0) for k, var in model.added.items()})


def _worst_cost(model, values: dict) -> None:
    """worst_cost (risk "worst"): the dearest scenario's cost."""
    if model.component("worst_cost") is None:
        return
    from pyomo.repn import generate_standard_repn

    def cost(w: str) -> float:
        repn = generate_standard_repn(model.scenario_cost[w].expr, compute_values=True)
        return repn.constant + sum(
            coef * values.get(id(var), 0.0) for coef, var in zip(repn.linear_coefs, repn.linear_vars)
        )

    values[id(model.worst_cost)] = max(cost(w) for w in model.data.scenarios)
