"""Operators of a site: COA, the municipality, or both together (site_operators.csv, instances/README.md).

Since the Spreidingswet a municipality may run a reception location itself or jointly with COA, at
other costs and lead times than COA's own. A row of site_operators.csv is such a variant of a candidate
site: its operator, fixed cost, cost per place and (with periods) earliest period. Each variant becomes a
site of its own at the same place (id ``SITE@OPERATOR``), with the site's capacity, minimum size, kind,
groups and travel times, so that every rule of the model holds for it as for any site; the one rule
that joins them, ``operator_choice``, lets at most one variant of a site be open (models/README.md).
sites.csv's row is the site as its own operator runs it (column ``operator``, default coa).
"""

from __future__ import annotations

import pandas as pd

from ..core.errors import Problem
from .tables import Column

FILE = "site_operators.csv"
DEFAULT_OPERATOR = "coa"
SEPARATOR = "@"
MAX_MONEY = 1e12
COLUMNS = (
    Column("site", "id"),
    Column("operator", "id"),
    Column("fixed_cost", "float", min=0, max=MAX_MONEY),
    Column("cost_per_place", "float", min=0, max=MAX_MONEY),
    Column("earliest_open", "id", required=False),
)


def variant_id(site: str, operator: str) -> str:
    """The id of the variant of ``site`` that ``operator`` runs."""
    return f"{site}{SEPARATOR}{operator}"


def expand_operators(
    operators: pd.DataFrame | None,
    sites: pd.DataFrame | None,
    site_groups: pd.DataFrame | None,
    matrix: pd.DataFrame | None,
    has_periods: bool,
    problems: list[Problem],
):
    """The raw tables of sites.csv, site_groups.csv and travel_times.csv with a row for every variant of
    site_operators.csv, and the site -> (location, operator) table of every site (None without the file).

    Rows of the tables as read (with their ``row`` numbers); every problem of site_operators.csv is appended to
    ``problems`` with its row and column, and then nothing is expanded."""
    if operators is None or sites is None:
        return sites, site_groups, matrix, None
    by_id = {s: k for k, s in zip(sites.index, sites["site"]) if s is not None}
    own = {
        s: (sites.at[k, "operator"] if "operator" in sites and sites.at[k, "operator"] else DEFAULT_OPERATOR)
        for s, k in by_id.items()
    }
    start = len(problems)
    _check(operators, sites, by_id, own, has_periods, problems)
    if len(problems) > start:
        return sites, site_groups, matrix, None
    variants, locations = [], list(sites["site"])
    for r in operators.itertuples():
        base = sites.loc[by_id[r.site]].copy()
        base["site"] = variant_id(r.site, r.operator)
        base["name"] = f"{base['name']} ({r.operator})"
        base["operator"] = r.operator
        base["fixed_cost"], base["cost_per_place"] = r.fixed_cost, r.cost_per_place
        if getattr(r, "earliest_open", None) is not None:
            base["earliest_open"] = r.earliest_open
        variants.append(base.to_frame().T)
        locations.append(r.site)
    expanded = pd.concat(
        [sites.assign(operator=[own.get(s, DEFAULT_OPERATOR) for s in sites["site"]]), *variants], ignore_index=True
    ).astype(object)
    expanded = expanded.where(expanded.notna(), None)  # a column only variants fill is empty, not NaN, elsewhere
    table = pd.DataFrame(
        {"location": locations, "operator": expanded["operator"].to_numpy()},
        index=pd.Index(expanded["site"], name="site"),
    )
    return expanded, _copies(site_groups, operators, price=True), _copies(matrix, operators), table


def _check(operators, sites, by_id: dict, own: dict, has_periods: bool, problems: list[Problem]) -> None:
    """Every problem of site_operators.csv's rows, with row and column."""
    seen: set[tuple[str, str]] = set()
    for r in operators.itertuples():
        site, operator = r.site, r.operator
        if site is None or operator is None:
            continue
        if site not in by_id:
            problems.append(Problem(FILE, "unknown site (not in sites.csv)", r.row, "site", site))
            continue
        if sites.at[by_id[site], "status"] == "existing":
            problems.append(
                Problem(
                    FILE,
                    "an existing site is run by the operator of its contract; only a candidate site has variants",
                    r.row,
                    "site",
                    site,
                )
            )
        if operator == own[site]:
            problems.append(
                Problem(FILE, "is the site's own operator, whose costs sites.csv gives", r.row, "operator", operator)
            )
        if (site, operator) in seen:
            problems.append(Problem(FILE, "this site and operator appear twice", r.row, "operator", operator))
        seen.add((site, operator))
        if variant_id(site, operator) in by_id:
            problems.append(
                Problem(FILE, f"the variant's id {variant_id(site, operator)} is a site of sites.csv", r.row, "site")
            )
        if getattr(r, "earliest_open", None) is not None and not has_periods:
            problems.append(
                Problem(FILE, "earliest_open needs periods (periods.csv)", r.row, "earliest_open", r.earliest_open)
            )


def _copies(table: pd.DataFrame | None, operators: pd.DataFrame, price: bool = False) -> pd.DataFrame | None:
    """``table`` (rows with a ``site``) with each site's rows repeated for each of its variants; with ``price``
    (site_groups.csv) a group's own cost per place at the site is its operator's, so a variant's replaces it."""
    if table is None or "site" not in table:
        return table
    extra = []
    for r in operators.itertuples():
        rows = table[table["site"] == r.site]
        if len(rows):
            rows = rows.assign(site=variant_id(r.site, r.operator))
            if price and "cost_per_place" in rows:
                rows = rows.assign(
                    cost_per_place=[None if c is None else r.cost_per_place for c in rows["cost_per_place"]]
                )
            extra.append(rows)
    return pd.concat([table, *extra], ignore_index=True) if extra else table


def operator_variants(instance) -> dict[str, list[str]]:
    """V_l: each site l of sites.csv with operator variants among the instance's sites -> those sites, in order."""
    if instance.operators is None:
        return {}
    out: dict[str, list[str]] = {}
    for s, location in instance.operators["location"].items():
        if s in instance.sites.index:
            out.setdefault(location, []).append(s)
    return {location: sites for location, sites in out.items() if len(sites) > 1}
