"""What every check needs: the plan's tables keyed by case, the instance, the policy, and the figures recomputed.

A case is what the model's indices add to a snapshot's: a snapshot is the one case (), a plan over
periods has a case (t, ω) per period and scenario. Both folder formats are read into the same
tables keyed by case (see snapshot.py and horizon.py), so each constraint family is checked by one
function over the cases, whatever the shape of the plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from ..data.policy import Risk
from .travel import placement_minutes

ABS_TOL = 1e-6  # places
REL_TOL = 1e-7  # money, relative to the objective
SPENT = ("fixed", "standby", "event", "place", "emergency", "move")  # money spent; the objective adds travel and unmet


@dataclass
class Context:
    """The plan under check as tables keyed by case, and the quantities recomputed from them (:meth:`recompute`)."""

    solution: object
    instance: object
    policy: object
    cases: list[tuple]  # () for a snapshot; (t, ω) per period and scenario
    demand: dict[tuple, dict]  # case -> unit -> places; a unit is a municipality, or (municipality, group)
    state: dict[tuple, object]  # (site, case) -> closed, open or standby (a snapshot's open_site 0/1; else as given)
    placements: pd.DataFrame  # placements.csv
    row_cases: list[tuple]  # the case of each placements row
    site_table: str  # the table stating each site's places per case: sites.csv or timeline.csv
    claimed_load: dict[tuple, float]  # (site, case) -> places the site table states
    balance_rows: list[tuple]  # (key, case, row) per row of municipalities.csv; key: a municipality or a unit
    claimed_figures: dict[tuple, dict]  # case -> the figures the plan states for it (summary KPIs, periods.csv)
    figure_keys: tuple[str, ...]  # which of them are checked
    states: tuple[str, ...] = ("closed", "open")  # a site's states in the plan's shape
    state_row: str = "open_site"  # how the table states them: open_site 0 or 1, or site_state over periods
    state_words: tuple[str, ...] = ("0", "1")
    by_unit: bool = False  # municipalities.csv has a row per demand unit (else per municipality)
    sites: pd.DataFrame | None = None  # a snapshot's sites.csv indexed by site
    municipalities: pd.DataFrame | None = None  # a snapshot's municipalities.csv indexed by municipality
    periods: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    span: dict[tuple, float] = field(default_factory=dict)  # case -> years / years per planning period (1 if one)
    discount: dict[tuple, float] = field(default_factory=dict)  # case -> discount factor of its period
    weights: dict = field(default_factory=dict)  # scenario -> weight (None -> 1 in a snapshot)
    budgets: dict[tuple, float | None] = field(default_factory=dict)  # case -> budget of the money spent
    emergency: dict[tuple, float] = field(default_factory=dict)  # (unit, case) -> emergency places
    events: dict[tuple, str] = field(default_factory=dict)  # (site, case) -> opening, closing or extension
    moves: dict[tuple, float] = field(default_factory=dict)  # (site, case) -> person-moves out of the site
    spare: dict = field(default_factory=dict)  # site -> places there beyond those placed (a decision's)
    site_groups: dict = field(default_factory=dict)  # (site, group) -> (C_sg, c_sg) for each group a site takes
    # recomputed
    placed: dict[tuple, float] = field(default_factory=dict)  # (unit, site, case) -> places
    twice: list[tuple] = field(default_factory=list)  # (unit, site, case) listed more than once
    units: list = field(default_factory=list)  # the unit of each placements row
    minutes: list[float] = field(default_factory=list)  # recomputed travel time per placements row
    prices: list[float] = field(default_factory=list)  # the instance's cost of one place per placements row
    load: dict[tuple, float] = field(default_factory=dict)  # (site, case)
    unit_placed: dict[tuple, float] = field(default_factory=dict)  # (unit, case)
    money: dict[tuple, dict] = field(default_factory=dict)  # case -> part of the cost -> euros (and counts)
    objective: float | None = None

    @property
    def grouped(self) -> bool:
        """The instance has demand groups."""
        return self.instance.groups is not None

    def life(self, s: str, column: str):
        """A site's life-cycle figure (lifecycle.csv), None when not given or without periods."""
        h = self.instance.horizon
        if not self.periods or h is None or s not in h.lifecycle.index:
            return None
        value = h.lifecycle.at[s, column]
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    def position(self, t: str | None) -> int | None:
        return None if t is None else self.periods.index(t)

    def unit(self, row):
        """The demand unit of a row: its municipality, or (municipality, group)."""
        return (row.municipality, row.group) if self.grouped else row.municipality

    def price(self, s: str, group) -> float:
        """The instance's cost of one place: c_s, or the group's c_sg where the site takes the group."""
        own = self.site_groups.get((s, group))
        return float(self.instance.sites.at[s, "cost_per_place"] if own is None else own[1])

    def recompute(self) -> None:
        """Places by unit, site and case, travel times, and the money of every case, from the instance's numbers."""
        pl = self.placements
        self.units = [self.unit(r) for r in pl.itertuples()] if len(pl) else []
        for u, s, c, q in zip(self.units, pl["site"], self.row_cases, pl["placed"]):
            key = (u, s, c)
            if key in self.placed:
                self.twice.append(key)
            self.placed[key] = self.placed.get(key, 0.0) + float(q)
        arcs = pl.drop_duplicates(["municipality", "site"])
        by_arc = dict(zip(zip(arcs["municipality"], arcs["site"]), placement_minutes(self.instance, arcs)))
        self.minutes = [by_arc[(i, s)] for i, s in zip(pl["municipality"], pl["site"])]
        groups = pl["group"] if self.grouped else [None] * len(pl)
        self.prices = [self.price(s, g) for s, g in zip(pl["site"], groups)]
        load, unit_placed = defaultdict(float), defaultdict(float)
        for (u, s, c), q in self.placed.items():
            load[(s, c)] += q
            unit_placed[(u, c)] += q
        self.load, self.unit_placed = dict(load), dict(unit_placed)
        self.money = {c: self.case_money(c) for c in self.cases}
        self._money_of_rows()
        self._unmet()
        by_scenario: dict = defaultdict(float)
        for c, m in self.money.items():
            by_scenario[c[1] if c else None] += self.discount[c] * (
                sum(m[k] for k in SPENT) + m["travel"] + m["penalty"]
            )
        worst = Risk(self.policy.risk) is Risk.WORST
        self.objective = (
            max(by_scenario.values()) if worst else sum(self.weights[w] * v for w, v in by_scenario.items())
        )

    def case_money(self, c: tuple) -> dict:
        """A case's money from its site states, events and moves (the placements' part is added by case later)."""
        m = defaultdict(float)
        sites = self.instance.sites
        for s in sites.index:
            state = self.state[(s, c)]
            if state == "open":
                m["fixed"] += self.span[c] * float(sites.at[s, "fixed_cost"])
                m["open_sites"] += 1
                m[f"open_{sites.at[s, 'kind']}_sites"] += 1
            elif state == "standby":
                m["standby"] += self.span[c] * float(self.life(s, "standby_cost") or 0.0)
            m["event"] += self.event_cost(s, c)
            m["moves"] += self.moves.get((s, c), 0.0)
        m["move"] = self.policy.move_cost * m["moves"] if m["moves"] else 0.0
        return m

    def event_cost(self, s: str, c: tuple) -> float:
        """The cost of the site's event in the case, if any (a contract that runs out closes for free)."""
        event = self.events.get((s, c))
        if event is None:
            return 0.0
        end = self.life(s, "contract_end")
        runs_out = (
            end is not None
            and self.instance.sites.at[s, "status"] == "existing"
            and self.position(c[0]) == self.position(end) + 1
        )
        cost = {
            "opening": self.life(s, "opening_cost"),
            "closing": None if runs_out else self.life(s, "closing_cost"),
            "extension": self.life(s, "extension_cost"),
        }[event]
        return float(cost or 0.0)

    def _money_of_rows(self) -> None:
        """Place cost, travel value, person-minutes and the longest trip per case, from the placements rows."""
        pl, tv = self.placements, self.policy.travel_value
        for c, q, t, price in zip(self.row_cases, pl["placed"], self.minutes, self.prices):
            m = self.money[c]
            m["place"] += self.span[c] * price * q
            m["placed"] += q
            if math.isfinite(t):  # an unreachable arc is reported by check_arcs
                m["travel"] += self.span[c] * tv * t * q
                m["person_minutes"] += t * q
                m["longest"] = max(m.get("longest", -math.inf), t)
        h = self.instance.horizon
        province = self.instance.municipalities["province"]
        for (u, c), v in self.emergency.items():
            if v > 0:
                p, t = province[municipality(u)], c[0]
                self.money[c]["emergency"] += self.span[c] * float(h.emergency.at[(p, t), "cost_per_place"]) * v
                self.money[c]["emergency_places"] += v

    def _unmet(self) -> None:
        """Unmet places per case, and their penalty: M_g of each unit's group (unmet_penalty_by_group), else M."""
        for c, demand in self.demand.items():
            m = self.money[c]
            for u, d in demand.items():
                v = max(d - self.unit_placed.get((u, c), 0.0) - self.emergency.get((u, c), 0.0), 0.0)
                m["demand"] += d
                m["unmet"] += v
                m["penalty"] += self.span[c] * self.policy.penalty_of(None if isinstance(u, str) else u[1]) * v


def municipality(unit) -> str:
    """The municipality of a demand unit: i, or (i, g)."""
    return unit if isinstance(unit, str) else unit[0]


def at(case: tuple) -> str:
    """A case as the end of a row's index: nothing for a snapshot, ",t,ω" over periods."""
    return "".join(f",{k}" for k in case)


def site_plan_at(case: tuple) -> tuple[str, str]:
    """A case as rows over the site plan show it: the period in the index, the scenario after the message."""
    return (f",{case[0]}", f" ({case[1]})") if case else ("", "")


def site_groups(instance) -> dict[tuple[str, str], tuple[int, float]]:
    """(site, group) -> (C_sg, c_sg) for every group a site takes, as the instance's group tables say."""
    if instance.groups is None:
        return {}
    eligible = instance.groups.eligible
    return {
        (s, g): (int(c), float(p))
        for s, g, c, p in zip(eligible["site"], eligible["group"], eligible["capacity"], eligible["cost_per_place"])
    }
