"""Compare solution folders: KPIs side by side, then what changed relative to the first.

Works from the folders alone (``read_solution``), so any solutions of the same instance can be
compared, whichever command or policy made them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..check import check_solution
from ..core import fmt
from ..core.errors import InputError, Problem, SolutionError
from ..core.outputs import SIGNATURE
from ..data.diff import instance_differences
from ..data.load import find_instance
from ..results.solution import Solution, read_solution

FORMATS = ("text", "csv", "markdown", "json")

# (key, label, kind): the KPI rows, in order. Every comparison names the instance and policy of each plan, then
# how well it was solved (SOLVED_ROWS).
NAMED_ROWS = (("instance", "Instance", "text"), ("policy", "Policy", "text"))
SOLVED_ROWS = (
    ("status", "Status", "status"),
    ("check", "Check (re-run now)", "text"),
    ("gap", "Gap", "gap"),
    ("absolute_gap", "Absolute gap", "money"),
    ("objective", "Objective", "money"),
    ("total_cost", "Total cost", "money"),
)
KPI_ROWS = (
    *NAMED_ROWS,
    *SOLVED_ROWS,
    ("fixed_cost", "  fixed", "money"),
    ("place_cost", "  places", "money"),
    ("travel_value", "Travel value", "money"),
    ("demand", "Demand", "places"),
    ("task", "  task", "places"),  # the provinces' own groups (shown when a solution has national groups)
    ("national", "  national groups", "places"),
    ("placed", "Placed", "places"),
    ("unmet", "Unmet", "places"),
    ("task_unmet", "  task", "places"),
    ("national_unmet", "  national groups", "places"),
    ("open_sites", "Open sites", "count"),
    ("open_large_sites", "  large", "count"),
    ("open_regular_sites", "  regular", "count"),
    ("mean_travel_minutes", "Mean travel (min)", "minutes"),
    ("max_travel_minutes", "Max travel (min)", "minutes"),
)


SPLIT = ("task", "national", "task_unmet", "national_unmet")  # rows of the task and the national groups apart


class CompareError(InputError):
    """Solution folders that cannot be compared (e.g. made for different instances)."""

    what = "comparison"


@dataclass(frozen=True, eq=False)
class Changes:
    """What changed from solution ``base`` to solution ``other``."""

    base: str
    other: str
    sites: pd.DataFrame  # change (opened/closed), site, name, province, kind
    municipalities: pd.DataFrame  # municipality, name, province, from_sites, to_sites (";"-joined)
    provinces: pd.DataFrame  # province, name, placed, unmet, cost (other - base), large_site_from, large_site_to


@dataclass(frozen=True, eq=False)
class Comparison:
    """Solutions side by side: KPIs, realisation per province, every fact, and the changes from the first."""

    names: tuple[str, ...]
    paths: tuple[str, ...]
    currency: str
    kpis: pd.DataFrame  # index: KPI key; one column per solution (raw values)
    provinces: pd.DataFrame  # index: province; name, then one realisation column per solution
    facts: pd.DataFrame  # section, id, name, one column per solution (the csv format)
    changes: tuple[Changes, ...]  # one per solution after the first


def compare_folders(
    folders: list[str | Path], allow_different_instances: bool = False, instance: str | Path | None = None
) -> Comparison:
    """Read the folders and compare them; every unreadable folder is reported at once. Each folder is re-checked
    against ``instance`` when given, else against the instance its summary.json names."""
    solutions = read_folders(folders, read_solution)
    checks = [recheck(solution, folder, instance) for solution, folder in zip(solutions, folders)]
    return compare_solutions(solutions, [str(f) for f in folders], allow_different_instances, checks)


def read_folders(folders: list[str | Path], read) -> list:
    """Every folder read by ``read``; one SolutionError names every problem of every folder."""
    solutions, problems = [], []
    for folder in folders:
        try:
            solutions.append(read(folder))
        except SolutionError as exc:
            problems += [
                Problem(
                    p.file if p.file == str(Path(folder)) else str(Path(folder) / p.file),
                    p.message,
                    p.row,
                    p.column,
                    p.value,
                )
                for p in exc.problems
            ]
    if problems:
        raise SolutionError(problems)
    return solutions


def recheck(solution: Solution, folder: str | Path, instance: str | Path | None = None) -> str:
    """The independent check re-run on a solution folder, in a word: passed, FAILED (n violations), or why it could not run."""
    try:
        report = check_solution(solution, find_instance(solution.summary, folder, instance))
    except SolutionError as exc:
        return f"not re-checked: {exc.problems[0].message}"
    return "passed" if report.passed else f"FAILED ({len(report.violations)} violations)"


def compare_solutions(
    solutions: list[Solution],
    paths: list[str],
    allow_different_instances: bool = False,
    checks: list[str] | None = None,
) -> Comparison:
    """Compare ``solutions`` (at least two); refuse solutions of different instances unless allowed.

    ``checks``: what the independent check says of each now (default: "not re-checked").
    """
    if len(solutions) < 2:
        raise CompareError([Problem("solutions", "at least two solutions are needed", value=len(solutions))])
    instances = [s.summary.get("instance") or {} for s in solutions]
    if not allow_different_instances:
        same_instance(solutions, paths)
    names = _names(paths)
    checks = checks or ["not re-checked"] * len(solutions)
    kpis = pd.DataFrame(
        {name: _kpis(sol, check) for name, sol, check in zip(names, solutions, checks)}, dtype=object
    ).reindex([k for k, _, _ in KPI_ROWS])
    provinces = _side_by_side([s.provinces for s in solutions], names, "province", "realisation")
    changes = tuple(_changes(names[0], solutions[0], name, sol) for name, sol in zip(names[1:], solutions[1:]))
    currency = instances[0].get("currency") or "EUR"
    return Comparison(tuple(names), tuple(paths), currency, kpis, provinces, _facts(solutions, names, kpis), changes)


def same_instance(solutions: list, paths: list[str]) -> None:
    """Refuse (CompareError) solutions made for another instance than the first, saying what differs."""
    first = (solutions[0].summary.get("instance") or {}).get("fingerprint")
    problems = [
        Problem(
            str(Path(path) / "summary.json"),
            _other_instance(solutions[0], paths[0], sol, path),
            column="instance.fingerprint",
        )
        for sol, path in zip(solutions[1:], paths[1:])
        if (sol.summary.get("instance") or {}).get("fingerprint") != first
    ]
    if problems:
        raise CompareError(problems)


def _other_instance(first: Solution, first_path: str, other: Solution, other_path: str) -> str:
    """Why two solutions cannot be compared, saying what differs between their instances when both can be found."""
    a, b = first.summary.get("instance") or {}, other.summary.get("instance") or {}
    if a.get("name") == b.get("name"):
        head = f"made for another version of instance {b.get('name')} (fingerprint {str(b.get('fingerprint'))[:12]}, the first solution's {str(a.get('fingerprint'))[:12]})"
    else:
        head = f"made for instance {b.get('name')}, the first solution for {a.get('name')}"
    try:
        what = instance_differences(find_instance(first.summary, first_path), find_instance(other.summary, other_path))
        detail = ": " + "; ".join(what) if what else ""
    except SolutionError:
        detail = " (its instance files were not found to say what differs)"
    return f"{head}{detail}; compare different instances only with --allow-different-instances"


def _names(paths: list[str]) -> list[str]:
    """Folder names as column labels; the paths as given when two folders share a name."""
    short = [Path(p).name or str(p) for p in paths]
    return short if len(set(short)) == len(short) else [str(p) for p in paths]


def _kpis(solution: Solution, check: str) -> dict:
    s, k = solution.summary, solution.kpis
    out = {
        "instance": (s.get("instance") or {}).get("name"),
        "policy": (s.get("policy") or {}).get("name"),
        "check": check,
    }
    split = solution.by_target().sum()
    for key, _, _ in KPI_ROWS[2:]:
        if key == "check":
            continue
        if key in SPLIT:
            out[key] = float(split[key])
        else:
            out[key] = s.get(key) if key in ("status", "gap", "absolute_gap", "objective") else k.get(key)
    return out


def _side_by_side(tables: list[pd.DataFrame], names: list[str], key: str, column: str) -> pd.DataFrame:
    index = list(dict.fromkeys(x for t in tables for x in t[key]))
    out = pd.DataFrame(index=pd.Index(index, name=key))
    out["name"] = pd.concat([t.set_index(key)["name"] for t in tables]).groupby(level=0).first().reindex(index)
    for name, t in zip(names, tables):
        out[name] = t.set_index(key)[column].reindex(index)
    return out


def _site_sets(solution: Solution) -> dict[str, str]:
    """The sites serving each municipality, ";"-joined (once each, whatever the groups placed there)."""
    grouped = solution.placements.groupby("municipality")["site"]
    return {i: ";".join(sorted(set(sites))) for i, sites in grouped}


def _changes(base_name: str, base: Solution, other_name: str, other: Solution) -> Changes:
    a = base.sites.set_index("site")
    b = other.sites.set_index("site")
    ids = list(dict.fromkeys([*a.index, *b.index]))
    open_a = a["open_site"].reindex(ids, fill_value=0)
    open_b = b["open_site"].reindex(ids, fill_value=0)
    info = pd.concat([b[["name", "province", "kind"]], a[["name", "province", "kind"]]])
    info = info[~info.index.duplicated()]
    rows = []
    for change, mask in (("opened", (open_a == 0) & (open_b == 1)), ("closed", (open_a == 1) & (open_b == 0))):
        for s in sorted(open_a.index[mask]):
            rows.append((change, s, info.at[s, "name"], info.at[s, "province"], info.at[s, "kind"]))
    sites = pd.DataFrame(rows, columns=["change", "site", "name", "province", "kind"])

    sets_a, sets_b = _site_sets(base), _site_sets(other)
    muni = (
        pd.concat([other.municipalities, base.municipalities]).drop_duplicates("municipality").set_index("municipality")
    )
    rows = []
    for i in sorted(set(sets_a) | set(sets_b)):
        before, after = sets_a.get(i, ""), sets_b.get(i, "")
        if before != after:
            rows.append((i, muni.at[i, "name"], muni.at[i, "province"], before, after))
    municipalities = pd.DataFrame(rows, columns=["municipality", "name", "province", "from_sites", "to_sites"])

    pa = base.provinces.set_index("province")
    pb = other.provinces.set_index("province")
    rows = []
    for p in list(dict.fromkeys([*pa.index, *pb.index])):
        ra = pa.loc[p] if p in pa.index else None
        rb = pb.loc[p] if p in pb.index else None
        diff = {f: _value(rb, f) - _value(ra, f) for f in ("placed", "unmet", "cost")}
        large_a = "" if ra is None else ra["large_sites"]
        large_b = "" if rb is None else rb["large_sites"]
        if any(abs(v) > 1e-6 for v in diff.values()) or large_a != large_b:
            rows.append(
                (
                    p,
                    (rb if rb is not None else ra)["name"],
                    diff["placed"],
                    diff["unmet"],
                    diff["cost"],
                    large_a,
                    large_b,
                )
            )
    provinces = pd.DataFrame(
        rows, columns=["province", "name", "placed", "unmet", "cost", "large_site_from", "large_site_to"]
    )
    return Changes(base_name, other_name, sites, municipalities, provinces)


def _value(row, field: str) -> float:
    return 0.0 if row is None else float(row[field])


def _facts(solutions: list[Solution], names: list[str], kpis: pd.DataFrame) -> pd.DataFrame:
    """One row per fact, one column per solution: KPIs, province figures, and the sites and
    municipality site sets that differ between the solutions."""
    rows = kpi_facts(kpis, names, KPI_ROWS)
    for field in ("demand", "placed", "unmet", "realisation", "cost", "large_sites"):
        table = _side_by_side([s.provinces for s in solutions], names, "province", field)
        rows += [[f"province.{field}", p, r["name"], *[r[n] for n in names]] for p, r in table.iterrows()]
        if field == "demand":  # the task and the national groups apart
            for part in ("task", "national"):
                split = [
                    s.provinces[["province", "name"]].assign(**{part: s.by_target()[part].to_numpy()})
                    for s in solutions
                ]
                table = _side_by_side(split, names, "province", part)
                rows += [[f"province.{part}", p, r["name"], *[r[n] for n in names]] for p, r in table.iterrows()]
    sites = _side_by_side([s.sites for s in solutions], names, "site", "open_site").fillna(0)
    for s, r in sites.iterrows():
        if len({int(r[n]) for n in names}) > 1:
            rows.append(["site.open_site", s, r["name"], *[int(r[n]) for n in names]])
    sets = [_site_sets(s) for s in solutions]
    muni = pd.concat([s.municipalities for s in solutions]).drop_duplicates("municipality").set_index("municipality")
    for i in sorted(set().union(*sets)):
        values = [x.get(i, "") for x in sets]
        if len(set(values)) > 1:
            rows.append(["municipality.sites", i, muni.at[i, "name"], *values])
    return pd.DataFrame(rows, columns=["section", "id", "name", *names])


def sections(comparison: Comparison) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The comparison as titled tables (title, headers, rows, alignment) for text and markdown."""
    names = comparison.names
    national = any(comparison.kpis.loc["national"].fillna(0) > 0)
    shown = [row for row in KPI_ROWS if national or row[0] not in SPLIT]
    out = [kpi_section(comparison, shown, f"KPIs (money in {comparison.currency})")]
    prov_rows = [[p, r["name"], *[fmt.percent(r[n]) for n in names]] for p, r in comparison.provinces.iterrows()]
    out.append(("Realisation per province", ["Province", "Name", *names], prov_rows, "ll" + "r" * len(names)))
    for ch in comparison.changes:
        title = f"Changes from {ch.base} to {ch.other}"
        site_rows = [[r.change, r.site, str(r.name), str(r.province), str(r.kind)] for r in ch.sites.itertuples()]
        out.append(
            (
                f"{title}: sites opened or closed ({len(site_rows)})",
                ["Change", "Site", "Name", "Province", "Kind"],
                site_rows,
                "lllll",
            )
        )
        muni_rows = [
            [r.municipality, str(r.name), str(r.province), f"{_sites(r.from_sites)} -> {_sites(r.to_sites)}"]
            for r in ch.municipalities.itertuples()
        ]
        out.append(
            (
                f"{title}: municipalities whose sites changed ({len(muni_rows)})",
                ["Municipality", "Name", "Province", "Sites (from -> to)"],
                muni_rows,
                "llll",
            )
        )
        prov_rows = [
            [
                r.province,
                str(r.name),
                fmt.signed_places(r.placed),
                fmt.signed_places(r.unmet),
                fmt.signed_places(r.cost),
                r.large_site_from or "-"
                if r.large_site_from == r.large_site_to
                else f"{r.large_site_from or '-'} -> {r.large_site_to or '-'}",
            ]
            for r in ch.provinces.itertuples()
        ]
        out.append(
            (
                f"{title}: provinces that differ ({len(prov_rows)})",
                ["Province", "Name", "Placed", "Unmet", f"Cost {comparison.currency}", "Large site"],
                prov_rows,
                "llrrrl",
            )
        )
    return out


# What both comparisons, of snapshots and of plans over several periods, do alike.


def kpi_facts(kpis: pd.DataFrame, names, kpi_rows) -> list[list]:
    """The facts rows of the KPIs: section kpi, key, label, one value per solution."""
    labels = {k: label.strip() for k, label, _ in kpi_rows}
    return [["kpi", key, labels[key], *[kpis.at[key, n] for n in names]] for key in kpis.index]


def kpi_section(comparison, kpi_rows, title: str) -> tuple[str, list[str], list[list[str]], str]:
    """The titled table of the KPIs of ``kpi_rows``: one column per solution, after the first each with its change
    from the first; the absolute gap shown with the relative one."""
    names, kpis = comparison.names, comparison.kpis
    headers, align = ["KPI"], "l"
    for k, n in enumerate(names):
        headers += [n] + (["change"] if k else [])
        align += "r" + ("r" if k else "")
    rows = []
    for key, label, kind in kpi_rows:
        if key == "absolute_gap":
            continue
        first = kpis.at[key, names[0]]
        row = [label]
        for k, n in enumerate(names):
            value = kpis.at[key, n]
            row.append(_gap(value, kpis.at["absolute_gap", n]) if key == "gap" else _fmt(value, kind))
            if k:
                row.append(_delta(value, first, kind))
        rows.append(row)
    return title, headers, rows, align


def records(df: pd.DataFrame) -> list[dict]:
    """The rows of ``df`` as plain records (no numpy values, no NaN)."""
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def solution_records(comparison) -> list[dict]:
    """Per solution: its name, its path and its KPIs, as plain values."""
    kpis = comparison.kpis
    return [
        {"name": n, "path": p, **{k: _plain(kpis.at[k, n]) for k in kpis.index}}
        for n, p in zip(comparison.names, comparison.paths)
    ]


def render(comparison: Comparison, style: str = "text") -> str:
    """The comparison as text (plain tables), markdown, csv (the facts table) or json."""
    return render_parts(comparison, sections, to_dict, style)


def render_parts(comparison, titled, as_dict, style: str) -> str:
    """A comparison (of snapshots or of plans over several periods) in ``style``: the csv format is its facts
    table, json its ``as_dict(comparison)``, text and markdown its ``titled(comparison)`` tables."""
    if style == "csv":
        return comparison.facts.to_csv(index=False, lineterminator="\n")
    if style == "json":
        return json.dumps({"generator": SIGNATURE, **as_dict(comparison)}, indent=2, ensure_ascii=False) + "\n"
    # The first line names the tool, so that a later run recognises the file as one it may replace.
    parts = []
    if style == "markdown":
        parts.append(
            f"<!-- comparison written by {SIGNATURE} -->\n\n| | solution |\n|---|---|\n"
            + "\n".join(f"| {n} | `{p}` |" for n, p in zip(comparison.names, comparison.paths))
        )
    else:
        head = f"Comparison of {len(comparison.names)} solutions ({SIGNATURE})"
        parts.append("\n".join([head, *(f"{n}: {p}" for n, p in zip(comparison.names, comparison.paths))]))
    for title, headers, rows, align in titled(comparison):
        if style == "markdown":
            parts.append(f"### {title}\n\n" + (_markdown(headers, rows, align) if rows else "none"))
        else:
            parts.append(title + "\n" + (fmt.table(headers, rows, align, total=False) if rows else "  none"))
    return "\n\n".join(parts) + "\n"


def to_dict(comparison: Comparison) -> dict:
    """The comparison as plain records (the json format)."""
    return {
        "solutions": solution_records(comparison),
        "realisation": records(comparison.provinces.reset_index()),
        "changes": [
            {
                "from": ch.base,
                "to": ch.other,
                "sites": records(ch.sites),
                "municipalities": [
                    {**r, "from_sites": _split(r["from_sites"]), "to_sites": _split(r["to_sites"])}
                    for r in records(ch.municipalities)
                ],
                "provinces": records(ch.provinces),
            }
            for ch in comparison.changes
        ],
    }


def _markdown(headers: list[str], rows: list[list[str]], align: str) -> str:
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _fmt(value, kind: str) -> str:
    if fmt.missing(value):
        return fmt.MISSING
    if kind == "text":
        return str(value)
    if kind == "status":
        return fmt.status_word(value)
    if kind == "minutes":
        return fmt.number(value, 1)
    if kind == "places":
        return fmt.places(value)
    return fmt.amount(value) if kind in ("money", "count") else str(value)


def _delta(value, first, kind: str) -> str:
    if kind in ("text", "status", "gap"):
        return ""
    if fmt.missing(value) or fmt.missing(first):
        return fmt.MISSING
    d = float(value) - float(first)
    if kind == "minutes":
        return fmt.signed(d, 1)
    return fmt.signed_places(d) if kind == "places" else fmt.signed(d)


def _gap(gap, absolute) -> str:
    if fmt.missing(gap):
        return fmt.MISSING
    return fmt.percent(gap) + ("" if fmt.missing(absolute) else f" ({fmt.amount(absolute)})")


def _sites(joined: str) -> str:
    return joined.replace(";", ", ") if joined else "none"


def _split(joined: str) -> list[str]:
    return joined.split(";") if joined else []


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
