"""Demand groups of an instance: groups.csv, group_demand.csv and site_groups.csv (instances/README.md).

Validation collects every problem (file, row, column and value), like the rest of the instance.
An instance without groups.csv has no groups and these files play no part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import Problem
from .demand import split_task
from .tables import Column, duplicates, read_table, typed

MAX_PLACES = 1e9
MAX_MONEY = 1e12
MAX_MINUTES = 1e4
MAX_ROWS = {"groups.csv": 1_000, "group_demand.csv": 2_000_000, "site_groups.csv": 2_000_000}
GROUP_FILES = ("groups.csv", "group_demand.csv", "site_groups.csv")

GROUP_COLUMNS = (
    Column("group", "id"),
    Column("name", "text"),
    Column("target", "choice", choices=("province", "national")),
    Column("sites", "choice", choices=("all", "regular", "listed")),
    Column("max_travel_minutes", "float", required=False, min=0, max=MAX_MINUTES),
    # "task": the status holders waiting in reception for a home under the municipalities' housing task.
    Column("housing", "choice", required=False, choices=("task",)),
)
GROUP_DEMAND_COLUMNS = (
    Column("municipality", "id"),
    Column("group", "id"),
    Column("demand", "int", min=0, max=MAX_PLACES),
    Column("period", "id", required=False),
    Column("scenario", "id", required=False),
)
SITE_GROUP_COLUMNS = (
    Column("site", "id"),
    Column("group", "id"),
    Column("capacity", "int", required=False, min=0, strict_min=True, max=MAX_PLACES),
    Column("cost_per_place", "float", required=False, min=0, max=MAX_MONEY),
)
COLUMNS = {"groups.csv": GROUP_COLUMNS, "group_demand.csv": GROUP_DEMAND_COLUMNS, "site_groups.csv": SITE_GROUP_COLUMNS}


@dataclass(frozen=True, eq=False)
class Groups:
    """The demand groups of a validated instance.

    ``table``: index group (file order): name, target, sites, max_travel_minutes (NaN = no limit of its own).
    ``demand``: index municipality (instance order), one column per group: places.
    ``eligible``: one row per site and group it takes (instance and group order): site, group,
    capacity (C_sg, the site's capacity when not given), cost_per_place (c_sg), listed (named in site_groups.csv).
    ``periodic``: the groups with a need of their own per period (rows with a ``period``): municipality,
    group, period, scenario (None: every scenario), demand; their column of ``demand`` is 0.
    ``housing``: the group of the housing task (groups.csv, housing = task), to which the policy's
    housing_rate applies; None without one.
    """

    table: pd.DataFrame
    demand: pd.DataFrame
    eligible: pd.DataFrame
    periodic: pd.DataFrame | None = None
    housing: str | None = None

    @property
    def ids(self) -> list[str]:
        return list(self.table.index)

    @property
    def province_groups(self) -> list[str]:
        """Groups in the provinces' task."""
        return list(self.table.index[self.table["target"] == "province"])

    @property
    def national_groups(self) -> list[str]:
        """Groups with a separate national target."""
        return list(self.table.index[self.table["target"] == "national"])

    def name(self, group: str) -> str:
        return str(self.table.at[group, "name"])

    @property
    def periodic_ids(self) -> list[str]:
        """Groups with a need of their own per period."""
        return [] if self.periodic is None else [g for g in self.ids if g in set(self.periodic["group"])]


def read_group_tables(root: Path, problems: list[Problem]) -> dict[str, pd.DataFrame | None]:
    """The group tables of an instance folder that exist, checked cell by cell (missing files: None)."""
    return {
        name: read_table(root / name, COLUMNS[name], problems, max_rows=MAX_ROWS[name])
        if (root / name).is_file()
        else None
        for name in GROUP_FILES
    }


def build_groups(
    tables: dict[str, pd.DataFrame | None],
    municipalities: pd.DataFrame,
    sites: pd.DataFrame,
    problems: list[Problem],
    periods: list[str] | None = None,
    scenarios: tuple[str, ...] | None = None,
) -> Groups | None:
    """Validate the group tables against the instance's typed ``municipalities`` and ``sites`` (indexed by id),
    and the ``periods`` and ``scenarios`` of its horizon (None: a snapshot).

    Appends every problem to ``problems``; returns None when the instance has no groups or there are problems.
    """
    groups, demand, site_groups = (tables.get(name) for name in GROUP_FILES)
    if groups is None:
        for name in ("group_demand.csv", "site_groups.csv"):
            if tables.get(name) is not None:
                problems.append(Problem(name, "this table needs groups.csv, which is missing"))
        return None
    if demand is None:
        problems.append(Problem("group_demand.csv", "file not found (an instance with groups.csv needs it)"))
        return None
    start = len(problems)
    _check_ids(groups, demand, site_groups, municipalities, sites, problems)
    _check_periods(demand, periods, scenarios, problems)
    housing = _housing_group(groups, demand, periods, problems)
    if len(problems) > start:
        return None

    table = typed(groups, GROUP_COLUMNS).drop(columns="row").set_index("group")
    table["max_travel_minutes"] = table["max_travel_minutes"].astype(float) if "max_travel_minutes" in table else np.nan
    table = table[["name", "target", "sites", "max_travel_minutes"]]

    demand = typed(demand, GROUP_DEMAND_COLUMNS)
    periodic = None
    if "period" in demand and demand["period"].notna().any():
        own = demand["period"].notna()
        if "scenario" not in demand:
            demand["scenario"] = None
        periodic = demand.loc[own, ["municipality", "group", "period", "scenario", "demand"]].reset_index(drop=True)
        periodic["demand"] = periodic["demand"].astype("int64")
        demand = demand.loc[~own]
    wide = demand.pivot(index="municipality", columns="group", values="demand").reindex(
        index=municipalities.index, columns=table.index
    )
    wide = wide.fillna(0).astype("int64")
    wide.columns.name = None
    # Groups with a need per period take no part: the municipality's demand is the key of need.csv's share.
    own = set() if periodic is None else set(periodic["group"])
    task_groups = [g for g in table.index[table["target"] == "province"] if g not in own]
    got = wide[task_groups].sum(axis=1) if task_groups else pd.Series(0, index=wide.index)
    for m in municipalities.index[got.to_numpy() != municipalities["demand"].to_numpy()]:
        problems.append(
            Problem(
                "group_demand.csv",
                f"the demand of the province groups ({', '.join(task_groups) or 'none'}) of municipality {m} adds up to {int(got[m])}, its demand is {int(municipalities.at[m, 'demand'])}",
                column="demand",
                value=int(got[m]),
            )
        )

    eligible = _eligibility(table, site_groups, sites, problems, housing)
    if len(problems) > start:
        return None
    return Groups(table, wide, eligible, periodic, housing)


def _housing_group(groups, demand, periods: list[str] | None, problems: list[Problem]) -> str | None:
    """The group marked housing = task: at most one, and with periods it has a need per period (the rate
    applies to each period's task)."""
    if "housing" not in groups:
        return None
    marked = [(r.row, r.group) for r in groups.itertuples(index=False) if r.housing == "task"]
    for row, _group in marked[1:]:
        problems.append(
            Problem(
                "groups.csv",
                f"only one group can be the housing task; group {marked[0][1]} (row {marked[0][0]}) already is",
                row,
                "housing",
                "task",
            )
        )
    if not marked:
        return None
    row, group = marked[0]
    has_rows = "period" in demand and any(
        g == group and t is not None for g, t in zip(demand["group"], demand["period"])
    )
    if periods is not None and not has_rows:
        problems.append(
            Problem(
                "groups.csv",
                f"group {group} is the housing task and needs a need per period (rows with a period in group_demand.csv)",
                row,
                "housing",
                "task",
            )
        )
    return group


def _check_periods(demand, periods: list[str] | None, scenarios: tuple[str, ...] | None, problems) -> None:
    """Rows with a period (and scenario) name known ones, and a group has rows either with or without a period."""
    label = "group_demand.csv"
    if "period" not in demand and "scenario" in demand:
        problems.append(Problem(label, "a scenario column needs a period column", row=1, column="scenario"))
    if "period" not in demand:
        return
    with_period: dict[str, int] = {}
    without: dict[str, int] = {}
    for r in demand.itertuples(index=False):
        if r.group is None:
            continue
        if r.period is None:
            without.setdefault(r.group, r.row)
            if getattr(r, "scenario", None) is not None:
                problems.append(Problem(label, "a scenario needs a period", r.row, "scenario", r.scenario))
            continue
        with_period.setdefault(r.group, r.row)
        _check_period_row(r, periods, scenarios, problems)
    for g in sorted(set(with_period) & set(without)):
        problems.append(
            Problem(
                label,
                f"group {g} has rows with a period (row {with_period[g]}) and without one (row {without[g]}): give its need per period or once",
                without[g],
                "period",
                "",
            )
        )


def _check_period_row(r, periods: list[str] | None, scenarios: tuple[str, ...] | None, problems) -> None:
    label = "group_demand.csv"
    if periods is None:
        problems.append(
            Problem(
                label, "a period needs periods.csv (without it the instance is one snapshot)", r.row, "period", r.period
            )
        )
    elif r.period not in periods:
        problems.append(Problem(label, "unknown period (not in periods.csv)", r.row, "period", r.period))
    scenario = getattr(r, "scenario", None)
    if scenario is not None and scenarios is not None and scenario not in scenarios:
        problems.append(Problem(label, "unknown scenario (not in need.csv)", r.row, "scenario", scenario))


def case_demand(
    groups: Groups, need: dict[tuple[str, str], dict[str, int]], problems: list[Problem]
) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    """Demand per (period, scenario) and (municipality, group) of a grouped instance with periods.

    A group with rows per period gets those places (none where a municipality has no row). The
    province groups without such rows share ``need`` (need.csv split over the municipalities) in
    proportion to their rows in group_demand.csv, largest remainder per municipality; the
    national groups without such rows need the same places in every period.
    """
    periodic = groups.periodic_ids
    shared = [g for g in groups.province_groups if g not in periodic]
    national = [g for g in groups.national_groups if g not in periodic]
    own: dict[tuple, int] = {}
    if groups.periodic is not None:
        for r in groups.periodic.itertuples(index=False):
            own[(r.municipality, r.group, r.period, r.scenario)] = int(r.demand)
    static = groups.demand
    out: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    reported: set[str] = set()
    for (t, w), by_municipality in need.items():
        units: dict[tuple[str, str], int] = {}
        for i, amount in by_municipality.items():
            weights = {g: int(static.at[i, g]) for g in shared}
            if amount > 0 and sum(weights.values()) <= 0:
                if i not in reported:
                    reported.add(i)
                    problems.append(
                        Problem(
                            "group_demand.csv",
                            f"the need of municipality {i} ({amount:,} places in {t}, {w}) cannot be split over the groups {', '.join(shared) or '(none without rows per period)'}: their demand there adds up to 0",
                            column="demand",
                            value=i,
                        )
                    )
                continue
            split = split_task(amount, weights) if weights else {}
            for g in groups.ids:
                if g in periodic:
                    units[(i, g)] = own.get((i, g, t, w), own.get((i, g, t, None), 0))
                elif g in national:
                    units[(i, g)] = int(static.at[i, g])
                else:
                    units[(i, g)] = split.get(g, 0)
        out[(t, w)] = units
    return out


def _check_ids(groups, demand, site_groups, municipalities: pd.DataFrame, sites: pd.DataFrame, problems) -> None:
    """Ids that repeat or are unknown, and group capacities above their site's."""
    duplicates(groups, "group", "groups.csv", problems)
    known_groups = {g for g in groups["group"] if g is not None} if "group" in groups else set()
    _references(
        demand,
        "municipality",
        set(municipalities.index),
        "group_demand.csv",
        "municipality (not in municipalities.csv)",
        problems,
    )
    _references(demand, "group", known_groups, "group_demand.csv", "group (not in groups.csv)", problems)
    _demand_rows(demand, problems)
    if site_groups is None:
        return
    _references(site_groups, "site", set(sites.index), "site_groups.csv", "site (not in sites.csv)", problems)
    _references(site_groups, "group", known_groups, "site_groups.csv", "group (not in groups.csv)", problems)
    _pairs(site_groups, ("site", "group"), "site_groups.csv", problems)
    if {"site", "capacity"} <= set(site_groups):
        for row, site, cap in zip(site_groups["row"], site_groups["site"], site_groups["capacity"]):
            if site in sites.index and cap is not None and cap > sites.at[site, "capacity"]:
                problems.append(
                    Problem(
                        "site_groups.csv",
                        f"exceeds the site's capacity ({sites.at[site, 'capacity']})",
                        row,
                        "capacity",
                        cap,
                    )
                )


def _transit_groups(site: str, listed: dict | None, housing: str | None, problems: list[Problem]) -> list[str]:
    """The group a transit site takes: the status holders of the housing task, whatever the groups' ``sites``."""
    if housing is None:
        problems.append(
            Problem(
                "sites.csv",
                f"site {site} is a transit site, which takes the status holders of the housing task, and groups.csv "
                "marks no group with housing = task",
                column="kind",
                value="transit",
            )
        )
        return []
    for g in listed or {}:
        if g != housing:
            problems.append(
                Problem(
                    "site_groups.csv",
                    f"site {site} is a transit site and takes only the group of the housing task ({housing}), not {g}",
                    column="group",
                    value=g,
                )
            )
    return [housing]


def _eligibility(
    table: pd.DataFrame,
    site_groups: pd.DataFrame | None,
    sites: pd.DataFrame,
    problems: list[Problem],
    housing: str | None = None,
) -> pd.DataFrame:
    listed: dict[str, dict[str, tuple]] = {}
    if site_groups is not None:
        rows = typed(site_groups, SITE_GROUP_COLUMNS)
        for r in rows.itertuples(index=False):
            cap = getattr(r, "capacity", None)
            cost = getattr(r, "cost_per_place", None)
            listed.setdefault(r.site, {})[r.group] = (
                None if cap is None or pd.isna(cap) else int(cap),
                None if cost is None or pd.isna(cost) else float(cost),
            )
    out = []
    order = list(table.index)
    for site, kind, cap, cost in zip(sites.index, sites["kind"], sites["capacity"], sites["cost_per_place"]):
        if kind == "transit":
            takes = _transit_groups(site, listed.get(site), housing, problems)
        elif site in listed:
            takes = sorted(listed[site], key=order.index)
        else:
            takes = [
                g
                for g in order
                if table.at[g, "sites"] == "all" or (table.at[g, "sites"] == "regular" and kind == "regular")
            ]
        if not takes:
            problems.append(
                Problem(
                    "site_groups.csv",
                    f"site {site} takes no group (list it in site_groups.csv, or give a group sites = all or regular)",
                    column="site",
                    value=site,
                )
            )
        for g in takes:
            own_cap, own_cost = listed.get(site, {}).get(g, (None, None))
            out.append(
                (
                    site,
                    g,
                    int(cap) if own_cap is None else own_cap,
                    float(cost) if own_cost is None else own_cost,
                    site in listed,
                )
            )
    return pd.DataFrame(out, columns=["site", "group", "capacity", "cost_per_place", "listed"])


def _references(df, column: str, known: set, label: str, what: str, problems: list[Problem]) -> None:
    if column not in df:
        return
    for row, value in zip(df["row"], df[column]):
        if value is not None and value not in known:
            problems.append(Problem(label, f"unknown {what}", row, column, value))


def _demand_rows(demand, problems: list[Problem]) -> None:
    """A municipality, group, period and scenario appear once in group_demand.csv."""
    keys = [c for c in ("municipality", "group", "period", "scenario") if c in demand]
    if not {"municipality", "group"} <= set(keys):
        return
    seen: dict[tuple, int] = {}
    for r in demand[["row", *keys]].itertuples(index=False):
        key = tuple(r[1:])
        if key[0] is None or key[1] is None:
            continue
        if key in seen:
            problems.append(
                Problem("group_demand.csv", f"{' and '.join(keys)} repeat row {seen[key]}", r.row, "group", key[1])
            )
        else:
            seen[key] = r.row


def _pairs(df, columns: tuple[str, str], label: str, problems: list[Problem]) -> None:
    if not set(columns) <= set(df):
        return
    seen: dict[tuple, int] = {}
    for row, a, b in zip(df["row"], df[columns[0]], df[columns[1]]):
        if a is None or b is None:
            continue
        if (a, b) in seen:
            problems.append(
                Problem(label, f"{columns[0]} and {columns[1]} repeat row {seen[(a, b)]}", row, columns[1], b)
            )
        else:
            seen[(a, b)] = row
