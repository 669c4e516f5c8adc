"""Compare solution folders of plans over several periods: KPIs side by side, each period (and scenario, and
demand group) side by side, then what changed relative to the first.

The same structure, vocabulary and output formats as the comparison of snapshots (analysis.compare): text and
markdown print titled tables, csv the facts table (one row per fact, one column per solution), json plain
records. Money is spent money (undiscounted), as in the folders' periods.csv and scenarios.csv; the KPIs are
expected over each plan's scenarios by the weights its scenarios.csv states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..check.horizon import check_horizon_solution
from ..core import fmt
from ..core.errors import Problem, SolutionError
from ..data.load import find_instance
from ..results.solution import HorizonSolution, is_horizon_folder, read_horizon_solution
from .compare import (
    NAMED_ROWS,
    SOLVED_ROWS,
    CompareError,
    Comparison,
    _fmt,
    _names,
    compare_folders,
    kpi_facts,
    kpi_section,
    read_folders,
    records,
    render,
    render_parts,
    same_instance,
    solution_records,
)

EVERY = "all"  # the scenario of a site state that holds in every scenario (one site plan for the band)

# (key, label, kind): the KPI rows, in order; money and places are expected over the plan's scenarios, so counts
# too are places: whole, or with two decimals where the weights split them.
KPI_ROWS = (
    *NAMED_ROWS,
    ("plan", "Plan", "text"),
    ("scenarios", "Scenarios", "text"),
    *SOLVED_ROWS,
    ("site_cost", "  sites", "money"),
    ("place_cost", "  places", "money"),
    ("emergency_cost", "  emergency", "money"),
    ("move_cost", "  moves", "money"),
    ("worst_total_cost", "Total cost, worst scenario", "money"),
    ("travel_value", "Travel value", "money"),
    ("unmet_penalty", "Unmet penalty", "money"),
    ("need", "Need (place-periods)", "places"),
    ("placed", "Placed", "places"),
    ("emergency", "Emergency", "places"),
    ("unmet", "Unmet", "places"),
    ("openings", "Openings", "places"),
    ("closings", "Closings", "places"),
    ("extensions", "Extensions", "places"),
    ("moves", "Moves (people)", "places"),
    ("max_open_sites", "Open sites (most in a period)", "places"),
    ("nights_above_limit", "Nights above the registration limit", "places"),
)
# Per scenario in scenarios.csv, weighted into the KPI of the same key.
EXPECTED = (
    "total_cost",
    "site_cost",
    "place_cost",
    "emergency_cost",
    "move_cost",
    "travel_value",
    "unmet_penalty",
    "need",
    "placed",
    "emergency",
    "unmet",
    "openings",
    "closings",
    "extensions",
    "moves",
    "nights_above_limit",
)
# (column of periods.csv, header, kind): the figures of each period and scenario.
PERIOD_FIELDS = (
    ("total_cost", "Cost", "money"),
    ("need", "Need", "places"),
    ("placed", "Placed", "places"),
    ("emergency", "Emergency", "places"),
    ("unmet", "Unmet", "places"),
    ("open_sites", "Open sites", "places"),
    ("openings", "Openings", "places"),
    ("closings", "Closings", "places"),
    ("moves", "Moves", "places"),
)
GROUP_FIELDS = (
    ("need", "Need", "places"),
    ("placed", "Placed", "places"),
    ("emergency", "Emergency", "places"),
    ("unmet", "Unmet", "places"),
)
# What a change table shows of a period, and of a province in a period (other - base).
PERIOD_CHANGES = ("total_cost", "placed", "unmet", "open_sites", "openings", "closings", "moves")
PROVINCE_CHANGES = ("placed", "unmet", "open_sites", "moves")


@dataclass(frozen=True, eq=False)
class HorizonChanges:
    """What changed from plan ``base`` to plan ``other``, period by period."""

    base: str
    other: str
    sites: pd.DataFrame  # period, scenario, site, name, province, kind, change, from_state, to_state
    periods: pd.DataFrame  # period, scenario, then PERIOD_CHANGES (other - base), the rows that differ
    provinces: pd.DataFrame  # province, name, period, scenario, then PROVINCE_CHANGES (other - base)


@dataclass(frozen=True, eq=False)
class HorizonComparison:
    """Plans over several periods side by side: KPIs, each period, group and province's realisation, every fact,
    and the changes from the first."""

    names: tuple[str, ...]
    paths: tuple[str, ...]
    currency: str
    kpis: pd.DataFrame  # index: KPI key; one column per solution (raw values)
    periods: pd.DataFrame  # period, scenario, solution, then the PERIOD_FIELDS
    groups: pd.DataFrame  # group, name, period, scenario, solution, then the GROUP_FIELDS (empty without groups)
    provinces: pd.DataFrame  # index (province, period): name, then one realisation column per solution
    facts: pd.DataFrame  # section, id, name, one column per solution (the csv format)
    changes: tuple[HorizonChanges, ...]  # one per solution after the first


def compare_any_folders(
    folders: list[str | Path], allow_different_instances: bool = False, instance: str | Path | None = None
) -> Comparison | HorizonComparison:
    """Compare snapshot solution folders, or solution folders of plans over several periods; refuse a mix."""
    horizon = [is_horizon_folder(f) for f in folders]
    if not any(horizon):
        return compare_folders(folders, allow_different_instances, instance)
    if not all(horizon):
        plan = str(folders[horizon.index(True)])
        snapshot = str(folders[horizon.index(False)])
        raise CompareError(
            [
                Problem(
                    snapshot,
                    f"is a plan of one snapshot and {plan} a plan over several periods, which cannot be set side by "
                    "side: give solution folders of one kind (of the same instance)",
                )
            ]
        )
    solutions = read_folders(folders, read_horizon_solution)
    loaded: dict = {}  # plans of one instance load it once (nl-2024-horizon takes seconds)
    checks = [recheck_horizon(s, f, instance, loaded) for s, f in zip(solutions, folders)]
    return compare_horizons(solutions, [str(f) for f in folders], allow_different_instances, checks)


def render_any(comparison: Comparison | HorizonComparison, style: str = "text") -> str:
    """Either comparison in ``style`` (text, csv, markdown or json)."""
    if isinstance(comparison, HorizonComparison):
        return render_parts(comparison, sections, to_dict, style)
    return render(comparison, style)


def recheck_horizon(
    solution: HorizonSolution, folder: str | Path, instance: str | Path | None = None, loaded: dict | None = None
) -> str:
    """The independent check re-run on a plan and its baseline, as `allocator check` runs it, in a word.

    ``loaded`` keeps the instances found, by fingerprint (or the one given), for the next plan of the same one."""
    loaded = {} if loaded is None else loaded
    key = "given" if instance else (solution.summary.get("instance") or {}).get("fingerprint")
    try:
        inst = loaded.get(key) or find_instance(solution.summary, folder, instance)
    except SolutionError as exc:
        return f"not re-checked: {exc.problems[0].message}"
    loaded[key] = inst
    violations = check_horizon_solution(solution, inst).violations
    if solution.baseline is not None:
        violations = violations + check_horizon_solution(solution.baseline, inst).violations
    return "passed" if not violations else f"FAILED ({len(violations)} violations)"


def compare_horizons(
    solutions: list[HorizonSolution],
    paths: list[str],
    allow_different_instances: bool = False,
    checks: list[str] | None = None,
) -> HorizonComparison:
    """Compare plans over several periods (at least two); refuse plans of different instances unless allowed."""
    if len(solutions) < 2:
        raise CompareError([Problem("solutions", "at least two solutions are needed", value=len(solutions))])
    if not allow_different_instances:
        same_instance(solutions, paths)
    names = _names(paths)
    checks = checks or ["not re-checked"] * len(solutions)
    kpis = pd.DataFrame(
        {name: _kpis(sol, check) for name, sol, check in zip(names, solutions, checks)}, dtype=object
    ).reindex([k for k, _, _ in KPI_ROWS])
    order = _order(solutions)
    periods = _long(solutions, names, lambda s: s.periods, ["period", "scenario"], [f for f, _, _ in PERIOD_FIELDS])
    groups = _long(solutions, names, _group_table, ["group", "period", "scenario"], [f for f, _, _ in GROUP_FIELDS])
    group_names = {g["group"]: g["name"] for s in solutions for g in s.summary.get("groups") or []}
    groups.insert(1, "name", groups["group"].map(group_names))
    periods, groups = (_sorted(t, order) for t in (periods, groups))
    provinces = _realisation(solutions, names, order)
    changes = tuple(_changes(names[0], solutions[0], name, sol, order) for name, sol in zip(names[1:], solutions[1:]))
    currency = (solutions[0].summary.get("instance") or {}).get("currency") or "EUR"
    facts = _facts(solutions, names, kpis, order)
    return HorizonComparison(tuple(names), tuple(paths), currency, kpis, periods, groups, provinces, facts, changes)


def _kpis(solution: HorizonSolution, check: str) -> dict:
    s, sc = solution.summary, solution.scenarios
    weight = sc["weight"].astype(float)

    def expected(column: str) -> float:
        return round(float((weight * sc[column].astype(float)).sum()), 9)  # no noise from the weights' thirds

    out = {key: expected(key) for key in EXPECTED}
    out.update(
        instance=(s.get("instance") or {}).get("name"),
        policy=(s.get("policy") or {}).get("name"),
        plan=f"{s.get('plan')} ({s.get('scenario')})",
        scenarios=", ".join(map(str, sc["scenario"])),
        status=s.get("status"),
        check=check,
        gap=s.get("gap"),
        absolute_gap=s.get("absolute_gap"),
        objective=s.get("objective"),
        worst_total_cost=float(sc["total_cost"].max()) if len(sc) else None,
        max_open_sites=int(solution.periods["open_sites"].max()) if len(solution.periods) else 0,
    )
    return out


def _order(solutions: list[HorizonSolution]) -> dict[str, dict[str, int]]:
    """The order of periods (as the plans run), of scenarios and of demand groups (as the plans name them)."""
    periods = [p["period"] for s in solutions for p in s.summary.get("periods") or []]
    periods += [t for s in solutions for t in s.periods["period"]]
    scenarios = [w for s in solutions for w in s.scenarios["scenario"]]
    groups = [g["group"] for s in solutions for g in s.summary.get("groups") or []]
    return {
        "group": {g: k for k, g in enumerate(dict.fromkeys(groups))},
        "period": {t: k for k, t in enumerate(dict.fromkeys(periods))},
        "scenario": {w: k for k, w in enumerate(dict.fromkeys([EVERY, *scenarios]))},
    }


def _sorted(table: pd.DataFrame, order: dict, columns: list[str] | None = None) -> pd.DataFrame:
    """Rows by ``columns`` (default: those of ``table`` that ``order`` or a key names), periods and scenarios
    in their order, ties kept as they came."""
    keys = columns or [c for c in ("group", "province", "site", "period", "scenario") if c in table]
    if table.empty:
        return table.reset_index(drop=True)

    def rank(column: pd.Series) -> pd.Series:
        return column.map(order[column.name]) if column.name in order else column

    return table.sort_values(keys, key=rank, kind="stable").reset_index(drop=True)


def _group_table(solution: HorizonSolution) -> pd.DataFrame:
    m = solution.municipalities
    if "group" not in m:
        return pd.DataFrame(columns=["group", "period", "scenario", *(f for f, _, _ in GROUP_FIELDS)])
    table = m.groupby(["group", "period", "scenario"], sort=False)[["demand", "placed", "emergency", "unmet"]].sum()
    return table.rename(columns={"demand": "need"}).reset_index()


def _long(solutions, names, table_of, keys: list[str], fields: list[str]) -> pd.DataFrame:
    """One row per key and solution, the solutions of a key together in their order."""
    parts = [table_of(s)[[*keys, *fields]].assign(solution=n) for s, n in zip(solutions, names)]
    table = pd.concat(parts, ignore_index=True)
    return table[[*keys, "solution", *fields]]


def _weighted(solution: HorizonSolution, table: pd.DataFrame, keys: list[str], fields: list[str]) -> pd.DataFrame:
    """``fields`` summed over the scenarios by their weights, per ``keys``."""
    weight = table["scenario"].map(dict(zip(solution.scenarios["scenario"], solution.scenarios["weight"])))
    scaled = table[keys].join(table[fields].astype(float).mul(weight.astype(float), axis=0))
    return scaled.groupby(keys, sort=False)[fields].sum()


def _realisation(solutions, names, order) -> pd.DataFrame:
    """Per province and period: placed / need, expected over each plan's scenarios."""
    keys = ["province", "period"]
    tables = [_weighted(s, s.provinces, keys, ["placed", "need"]) for s in solutions]
    index = list(dict.fromkeys(k for t in tables for k in t.index))
    out = pd.DataFrame(index=pd.MultiIndex.from_tuples(index, names=keys))
    province_names = pd.concat([s.provinces[["province", "name"]] for s in solutions]).drop_duplicates("province")
    out["name"] = out.index.get_level_values("province").map(
        dict(zip(province_names["province"], province_names["name"]))
    )
    for name, t in zip(names, tables):
        share = (t["placed"] / t["need"]).where(t["need"] > 0, 1.0)
        out[name] = share.reindex(out.index)
    out = _sorted(out.reset_index(), order, keys)
    return out.set_index(keys)


def _states(solution: HorizonSolution) -> dict[tuple[str, str, str], str]:
    """(site, period, scenario) -> state; scenario EVERY when the plan holds one site plan for all its scenarios."""
    tl = solution.timeline
    states = {(r.site, r.period, r.scenario): r.state for r in tl.itertuples(index=False)}
    one_plan = tl.groupby(["site", "period"])["state"].nunique().le(1).all()
    if one_plan:
        return {(s, t, EVERY): state for (s, t, _), state in states.items()}
    return states


def _state_keys(all_states: list[dict]) -> list[tuple[str, str, str]]:
    """The (site, period, scenario) keys the plans are compared on: per scenario once a plan has its own per scenario."""
    if all(k[2] == EVERY for states in all_states for k in states):
        return list(dict.fromkeys(k for states in all_states for k in states))
    scenarios = list(dict.fromkeys(k[2] for states in all_states for k in states if k[2] != EVERY))
    keys = []
    for states in all_states:
        for s, t, w in states:
            keys += [(s, t, x) for x in scenarios] if w == EVERY else [(s, t, w)]
    return list(dict.fromkeys(keys))


def _state(states: dict, key: tuple[str, str, str]) -> str | None:
    """The state at ``key``: the plan's own for that scenario, else that of its one site plan (None: not held)."""
    return states.get(key, states.get((key[0], key[1], EVERY)))


def _site_info(solutions) -> pd.DataFrame:
    info = pd.concat([s.timeline[["site", "name", "province", "kind"]] for s in solutions])
    return info.drop_duplicates("site").set_index("site")


def _changes(base_name, base: HorizonSolution, other_name, other: HorizonSolution, order) -> HorizonChanges:
    a, b = _states(base), _states(other)
    info = _site_info([other, base])
    rows = []
    for key in _state_keys([a, b]):
        before, after = _state(a, key), _state(b, key)
        if before is not None and after is not None and before != after:
            s, t, w = key
            change = {"open": "opened", "closed": "closed", "standby": "standby"}[after]
            rows.append(
                (t, w, s, info.at[s, "name"], info.at[s, "province"], info.at[s, "kind"], change, before, after)
            )
    columns = ["period", "scenario", "site", "name", "province", "kind", "change", "from_state", "to_state"]
    sites = _sorted(pd.DataFrame(rows, columns=columns), order, ["period", "scenario", "site"])

    periods = _differences(base.periods, other.periods, ["period", "scenario"], PERIOD_CHANGES)
    provinces = _differences(base.provinces, other.provinces, ["province", "period", "scenario"], PROVINCE_CHANGES)
    names = dict(
        zip(
            pd.concat([other.provinces, base.provinces])["province"],
            pd.concat([other.provinces, base.provinces])["name"],
        )
    )
    provinces.insert(1, "name", provinces["province"].map(names))
    return HorizonChanges(base_name, other_name, sites, _sorted(periods, order), _sorted(provinces, order))


def _differences(base: pd.DataFrame, other: pd.DataFrame, keys: list[str], fields: tuple[str, ...]) -> pd.DataFrame:
    """other - base per key both tables hold, the rows where a field differs."""
    a = base.set_index(keys)[list(fields)].astype(float)
    b = other.set_index(keys)[list(fields)].astype(float)
    common = [k for k in b.index if k in a.index]
    diff = b.loc[common] - a.loc[common]
    return diff[(diff.abs() > 1e-6).any(axis=1)].reset_index()


def _facts(solutions, names, kpis, order) -> pd.DataFrame:
    """One row per fact, one column per solution: KPIs, each period's, group's and province's figures, and the
    site states that differ between the solutions."""
    rows = kpi_facts(kpis, names, KPI_ROWS)
    group_names = {g["group"]: g["name"] for s in solutions for g in s.summary.get("groups") or []}
    province_names = {p: n for s in solutions for p, n in zip(s.provinces["province"], s.provinces["name"])}
    tables = (
        ("period", lambda s: s.periods, ["period", "scenario"], [f for f, _, _ in PERIOD_FIELDS], None),
        ("group", _group_table, ["group", "period", "scenario"], [f for f, _, _ in GROUP_FIELDS], group_names),
        (
            "province",
            lambda s: s.provinces,
            ["province", "period", "scenario"],
            ["need", "placed", "emergency", "unmet", "open_sites", "moves"],
            province_names,
        ),
    )
    for section, table_of, keys, fields, named in tables:
        frames = [_sorted(table_of(s), order, keys).set_index(keys) for s in solutions]
        index = list(dict.fromkeys(k for f in frames for k in f.index))
        for field in fields:
            for k in index:
                values = [f.at[k, field] if k in f.index else None for f in frames]
                rows.append([f"{section}.{field}", "/".join(k), named.get(k[0], "") if named else "", *values])
    states = [_states(s) for s in solutions]
    info = _site_info(solutions)
    for key in _sorted(pd.DataFrame(_state_keys(states), columns=["site", "period", "scenario"]), order).itertuples(
        index=False, name=None
    ):
        values = [_state(x, key) for x in states]
        if len(set(values)) > 1:
            ident = "/".join(key[:2] if key[2] == EVERY else key)
            rows.append(["site.state", ident, info.at[key[0], "name"], *values])
    return pd.DataFrame(rows, columns=["section", "id", "name", *names])


# ---------------------------------------------------------------- text, markdown and json


def sections(comparison: HorizonComparison) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The comparison as titled tables (title, headers, rows, alignment) for text and markdown."""
    names, cur = comparison.names, comparison.currency
    out = [
        kpi_section(
            comparison, KPI_ROWS, f"KPIs (money in {cur}, spent over the periods; expected over each plan's scenarios)"
        )
    ]
    period_rows = [
        [r["period"], r["scenario"], r["solution"], *(_fmt(r[f], kind) for f, _, kind in PERIOD_FIELDS)]
        for _, r in comparison.periods.iterrows()
    ]
    out.append(
        (
            f"Per period and scenario (cost in {cur})",
            ["Period", "Scenario", "Solution", *(h for _, h, _ in PERIOD_FIELDS)],
            period_rows,
            "lll" + "r" * len(PERIOD_FIELDS),
        )
    )
    if not comparison.groups.empty:
        group_rows = [
            [r["group"], r["period"], r["scenario"], r["solution"], *(_fmt(r[f], k) for f, _, k in GROUP_FIELDS)]
            for _, r in comparison.groups.iterrows()
        ]
        out.append(
            (
                "Per demand group, period and scenario",
                ["Group", "Period", "Scenario", "Solution", *(h for _, h, _ in GROUP_FIELDS)],
                group_rows,
                "llll" + "r" * len(GROUP_FIELDS),
            )
        )
    prov_rows = [
        [p, r["name"], t, *[fmt.percent(r[n]) for n in names]] for (p, t), r in comparison.provinces.iterrows()
    ]
    out.append(
        (
            "Realisation per province and period (expected over each plan's scenarios)",
            ["Province", "Name", "Period", *names],
            prov_rows,
            "lll" + "r" * len(names),
        )
    )
    for ch in comparison.changes:
        title = f"Changes from {ch.base} to {ch.other}"
        site_rows = [
            [
                r.period,
                r.scenario,
                r.change,
                r.site,
                str(r.name),
                str(r.province),
                str(r.kind),
                f"{r.from_state} -> {r.to_state}",
            ]
            for r in ch.sites.itertuples()
        ]
        out.append(
            (
                f"{title}: sites whose state differs, per period ({len(site_rows)})",
                ["Period", "Scenario", "Change", "Site", "Name", "Province", "Kind", "State (from -> to)"],
                site_rows,
                "llllllll",
            )
        )
        period_rows = [
            [r["period"], r["scenario"], fmt.signed(r["total_cost"])]
            + [fmt.signed_places(r[f]) for f in PERIOD_CHANGES[1:]]
            for _, r in ch.periods.iterrows()
        ]
        out.append(
            (
                f"{title}: periods that differ ({len(period_rows)})",
                ["Period", "Scenario", f"Cost {cur}", "Placed", "Unmet", "Open sites", "Openings", "Closings", "Moves"],
                period_rows,
                "ll" + "r" * len(PERIOD_CHANGES),
            )
        )
        prov_rows = [
            [
                r["province"],
                str(r["name"]),
                r["period"],
                r["scenario"],
                *(fmt.signed_places(r[f]) for f in PROVINCE_CHANGES),
            ]
            for _, r in ch.provinces.iterrows()
        ]
        out.append(
            (
                f"{title}: provinces that differ, per period ({len(prov_rows)})",
                ["Province", "Name", "Period", "Scenario", "Placed", "Unmet", "Open sites", "Moves"],
                prov_rows,
                "llll" + "r" * len(PROVINCE_CHANGES),
            )
        )
    return out


def to_dict(comparison: HorizonComparison) -> dict:
    """The comparison as plain records (the json format)."""
    return {
        "solutions": solution_records(comparison),
        "periods": records(comparison.periods),
        "groups": records(comparison.groups),
        "realisation": records(comparison.provinces.reset_index()),
        "changes": [
            {
                "from": ch.base,
                "to": ch.other,
                "sites": records(ch.sites),
                "periods": records(ch.periods),
                "provinces": records(ch.provinces),
            }
            for ch in comparison.changes
        ],
    }
