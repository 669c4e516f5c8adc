"""Build nl-2024-horizon: nl-2024 planned over ten half-years (2025-H1 ... 2029-H2) with a demand band.

Copies nl-2024's tables (build nl-2024 first): its site list, to which it adds the life-cycle
columns by rule, and its demand groups, which it gives a need per half-year. It derives the
horizon files and the back-test data from the unchanged source files in sources/, with nl-2024's
own group rules (nl-2024/group_rules.py) for the status holders and Ukraine.
Every derivation is stated in README.md; every constant below that is not read from a source
file is an assumption and is listed there. Run from anywhere:

    python instances/nl-2024-horizon/build.py
"""

from __future__ import annotations

import csv
import itertools
import math
import re
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
BASE = HERE.parent / "nl-2024"
BACKTEST = HERE / "backtest"
sys.path.insert(0, str(HERE.parents[1]))  # repo root, so the loader's own rounding rule is used
sys.path.insert(0, str(BASE))  # nl-2024's group rules
from group_rules import by_population, housing_tasks, ukraine_places  # noqa: E402

from allocator.data.demand import split_task  # noqa: E402

DAYS_PER_YEAR = 365.25

# The horizon: ten half-years from 1 January 2025, planned with what was known on that day.
HORIZON_START = date(2025, 1, 1)
HORIZON_YEARS = 5
# The back-test replays 2015-H1 ... 2024-H2; its forecasts reach to the end of the horizon.
BACKTEST_START = date(2015, 1, 1)
BACKTEST_END = date(2025, 1, 1)

SCENARIOS = ("low", "mid", "high")

# nl-2024's groups (its groups.csv): those that share need.csv by their static rows, those with a need per half-year.
SHARED_GROUPS = ("asylum", "amv")
PERIOD_GROUPS = ("status_holders", "ukraine")
HOUSING_GROUP = "status_holders"  # the housing task (groups.csv, housing = task)

# Assumptions (README.md, "Assumptions").
REGULAR_LEAD_YEARS = 0.0  # L1
LARGE_LEAD_YEARS = 2.0  # L2
MIN_OPEN_YEARS = {"large": 5.0, "regular": 3.0}  # M1 (large: sourced), M2 (regular: median of the examples)
# M2: the contract lengths stated in coa_location_examples.csv (location, words of the row).
CONTRACT_EXAMPLES = {
    "Musselkanaal azc": ("for 3 years", 3.0),
    "Barneveld (planned)": ("planned 5 years", 5.0),
    "Brummen Heliant paviljoen": ("2 years", 2.0),
}
CONVERSION_BEFORE_2023_11 = 0.96  # B3, occupancy rate stated by COA for its 2022 decisions
CONVERSION_FROM_2023_11 = 0.91  # B3, stated for the MPP 2023-II round

# Figures quoted in the sources' text rather than in a column. Each is checked against the file.
OUTFLOW_2024 = 44_280  # persons who left COA reception in 2024
OUTFLOW_2024_SOURCE = (
    "https://www.tweedekamer.nl/kamerstukken/kamervragen/detail?did=2025D08674&id=2025Z00616",
    "ca. 44.280 personen COA-opvang verlaten, waarvan ca. 30.210 vergunninghouders",
)
EMERGENCY_PEAK_DATE = "2023-09-25"
EMERGENCY_PEAK_NOTE = "20834 in COA noodopvang"  # plus persons_outside_coa on the same row

# Publication dates not written as a date in the `publication` label.
PUBLISHED_OVERRIDES = {
    "previous MPP as cited 2025-09-26 (probably MPP 2024-II, 2024-11/12)": (
        date(2024, 12, 31),
        "the round before MPP 2025, dated 2024-11/12 in the label; known by the end of 2024",
    ),
}
# Forecasts of the stock in reception. Capacity targets (coa_capacity_target) are left out: they are
# decisions on the capacity to hold, reserves included ("inclusief 5.000 plekken als reservecapaciteit").
STOCK_MEASURES = ("coa_capacity_need", "coa_occupancy_forecast")
PERSON_MEASURES = ("coa_occupancy_forecast",)  # already persons; the others are places


def require(ok: bool, message: str) -> None:
    if not ok:
        raise SystemExit(f"build failed: {message}")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def fact(facts: list[dict], text: str, year: str | None = None) -> float:
    """The value of the one row of cost_facts.csv whose fact (and year) match."""
    rows = [r for r in facts if r["fact"] == text and (year is None or r["year"] == year)]
    require(len(rows) == 1, f"cost_facts.csv: expected one row for {text!r} {year or ''}, found {len(rows)}")
    return float(rows[0]["value"])


# ---------------------------------------------------------------- periods


def half_years(start: date, end: date) -> list[tuple[str, date, date]]:
    """(id, first day, first day of the next) for every half-year from start up to end."""
    out = []
    d = start
    while d < end:
        nxt = date(d.year, 7, 1) if d.month == 1 else date(d.year + 1, 1, 1)
        out.append((f"{d.year}-H{1 if d.month == 1 else 2}", d, nxt))
        d = nxt
    return out


def years_between(a: date, b: date) -> float:
    return (b - a).days / DAYS_PER_YEAR


# ---------------------------------------------------------------- observations and forecasts


def parse_date(text: str, end_of_period: bool) -> date | None:
    """YYYY-MM-DD as it is; YYYY-MM as the 15th (observations) or the month's last day (publications)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        y, m = int(text[:4]), int(text[5:])
        if not end_of_period:
            return date(y, m, 15)
        return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
    return None


def published(label: str) -> date | None:
    """When a forecast became known: the date in its label (a month: its last day), or an override."""
    if label in PUBLISHED_OVERRIDES:
        return PUBLISHED_OVERRIDES[label][0]
    found = re.findall(r"\d{4}-\d{2}(?:-\d{2})?", label)
    return parse_date(found[-1], end_of_period=True) if found else None


def observations() -> list[tuple[date, int]]:
    """Residents in COA reception at dated observations (coa_occupancy.csv), in time order.

    Rows dated by a year only are left out: the coa.nl yearly figures repeat the 31 December
    values within 0.3 %, and the 2021 press figure carries no date at all.
    """
    out = {}
    for r in read_csv(SOURCES / "coa_occupancy.csv"):
        when = parse_date(r["date"], end_of_period=False)
        if when is None or not r["residents"]:
            continue
        require(when not in out, f"coa_occupancy.csv: two residents figures on {when}")
        out[when] = int(r["residents"])
    return sorted(out.items())


def stock_forecasts(rows: list[dict]) -> list[dict]:
    """Forecast points of the stock in reception: publication, known-from date, target date, value, unit."""
    out = []
    for r in rows:
        if r["measure"] not in STOCK_MEASURES or not r["middle"]:
            continue
        when = published(r["publication"])
        require(when is not None, f"inflow_forecasts.csv: no publication date in {r['publication']!r}")
        target = r["year_forecast"]
        if re.fullmatch(r"\d{4}", target):  # a stock "throughout the year"
            targets = [date(int(target), 1, 1), date(int(target), 12, 31)]
        else:
            targets = [date.fromisoformat(target)]
        for t in targets:
            out.append(
                {
                    "publication": r["publication"],
                    "known": when,
                    "target": t,
                    "value": float(r["middle"]),
                    "unit": "persons" if r["measure"] in PERSON_MEASURES else "places",
                }
            )
    return out


def inflow_bands(rows: list[dict]) -> list[dict]:
    """Total-inflow bands (rows with both low and high): publication, known-from, year, low, mid, high."""
    out = []
    for r in rows:
        if r["measure"] != "total_asylum_inflow" or not (r["low"] and r["high"]):
            continue
        low, high = float(r["low"]), float(r["high"])
        # Where the round publishes no middle, the middle is taken halfway (assumption B2).
        mid = float(r["middle"]) if r["middle"] else (low + high) / 2
        out.append(
            {
                "publication": r["publication"],
                "known": published(r["publication"]),
                "year": int(r["year_forecast"]),
                "low": low,
                "mid": mid,
                "high": high,
            }
        )
    return out


def conversion(known: date) -> float:
    """Persons per place in a forecast of places (assumption B3)."""
    return CONVERSION_FROM_2023_11 if known >= date(2023, 11, 10) else CONVERSION_BEFORE_2023_11


def forecast_points(points: list[dict], at: date, unit: str) -> tuple[list[tuple[date, float]], list[str]]:
    """The stock path known at ``at``: points dated on or after it, newer publications first.

    A publication supersedes the older ones between its first and its last target date: an older
    point inside that span is dropped. Values are converted to ``unit``.
    """
    known = [p for p in points if p["known"] <= at]
    by_pub: dict[str, list[dict]] = {}
    for p in known:
        by_pub.setdefault(p["publication"], []).append(p)
    order = sorted(by_pub, key=lambda pub: (by_pub[pub][0]["known"], pub), reverse=True)
    spans: list[tuple[date, date]] = []
    path: dict[date, float] = {}
    used = []
    for pub in order:
        pts = by_pub[pub]
        kept = [p for p in pts if p["target"] >= at and not any(a <= p["target"] <= b for a, b in spans)]
        for p in kept:
            value = p["value"]
            if unit == "persons" and p["unit"] == "places":
                value *= conversion(p["known"])
            require(unit == "persons" or p["unit"] == "places", f"{pub}: a forecast of persons cannot give places")
            path[p["target"]] = value
        if kept:
            used.append(pub)
        spans.append((min(p["target"] for p in pts), max(p["target"] for p in pts)))
    return sorted(path.items()), used


def band_ratios(bands: list[dict], at: date, year: int) -> tuple[dict[str, float], str]:
    """low/mid and high/mid of the inflow band known at ``at`` for ``year`` (1, 1 when none is known)."""
    known = [b for b in bands if b["known"] <= at]
    if not known:
        return {s: 1.0 for s in SCENARIOS}, ""
    same = [b for b in known if b["year"] == year]
    if not same:
        earlier = [b for b in known if b["year"] < year]
        pick = max(b["year"] for b in earlier) if earlier else min(b["year"] for b in known)
        same = [b for b in known if b["year"] == pick]
    b = max(same, key=lambda b: (b["known"], b["publication"]))
    return {"low": b["low"] / b["mid"], "mid": 1.0, "high": b["high"] / b["mid"]}, f"{b['publication']} ({b['year']})"


def linear(path: list[tuple[date, float]], day: date) -> float:
    """Piecewise linear through ``path``, constant before its first and after its last point."""
    if day <= path[0][0]:
        return path[0][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(path):
        if day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
    return path[-1][1]


def period_need(path, bands, at: date, start: date, end: date, stay_years: float) -> tuple[dict[str, int], str]:
    """Need of the half-year [start, end) per scenario: the largest daily value of the scenario's path.

    mid(day) follows the forecast path; a scenario moves the part of the stock that arrives
    after ``at`` (a share min(1, (day - at) / stay) of it) by its inflow ratio.
    """
    ratios, basis = band_ratios(bands, at, start.year)
    need = {}
    for s in SCENARIOS:
        best = 0.0
        day = start
        while day < end:
            new_share = min(1.0, max(0.0, years_between(at, day)) / stay_years)
            best = max(best, linear(path, day) * (1 + new_share * (ratios[s] - 1)))
            day += timedelta(days=1)
        need[s] = math.floor(best + 0.5)
    return need, basis


def largest_daily(obs: list[tuple[date, int]], start: date, end: date) -> tuple[int, str]:
    """The half-year [start, end) of dated observations: the largest daily value, linear between them."""
    first, last = obs[0][0], obs[-1][0]
    require(first <= start, f"no observation before {start}")
    best, day = 0.0, start
    while day < end:
        best = max(best, linear(obs, day))
        day += timedelta(days=1)
    note = "linear between observations"
    if end - timedelta(days=1) > last:
        note = f"held at the last observation ({last.isoformat()}) after it"
    return math.floor(best + 0.5), note


# ---------------------------------------------------------------- sites


def run_down_curve() -> list[tuple[float, float]]:
    """Share of the 2022 portfolio still under contract after t years (coa_portfolio_run_down_2022.csv)."""
    rows = read_csv(SOURCES / "coa_portfolio_run_down_2022.csv")
    t0 = date.fromisoformat(rows[0]["date"])
    c0 = float(rows[0]["portfolio_capacity"])
    return [(years_between(t0, date.fromisoformat(r["date"])), float(r["portfolio_capacity"]) / c0) for r in rows]


def years_until_run_down(curve: list[tuple[float, float]], remaining: float) -> float:
    """When the share under contract falls to ``remaining``: linear within the year of data,
    beyond it the last year's rate repeated each year (assumption X2)."""
    for (t0, r0), (t1, r1) in itertools.pairwise(curve):
        if r1 <= remaining <= r0 and r1 < r0:
            return t0 + (t1 - t0) * (r0 - remaining) / (r0 - r1)
    t_end, r_end = curve[-1]
    yearly = (r_end / curve[0][1]) ** (1 / t_end)  # share kept per year over the year of data
    return t_end + math.log(remaining / r_end) / math.log(yearly)


# ---------------------------------------------------------------- demand groups


def per_half_year(tasks: dict[str, int], periods: list[tuple[str, date, date]]) -> dict[str, int]:
    """The housing task of every period (H1); after the last half-year with a task, that task held (H2)."""
    require(periods[0][0] in tasks, f"statushouders_taakstelling_totals.csv: no task for {periods[0][0]}")
    out, last = {}, None
    for pid, _, _ in periods:
        last = tasks.get(pid, last)
        out[pid] = last
    return out


def ukraine_path() -> list[tuple[date, int]]:
    """Places in municipal reception for Ukraine at their dates, month-dated figures on the 15th (B4)."""
    points = {}
    for text, places in ukraine_places(SOURCES).items():
        when = parse_date(text, end_of_period=False)
        require(when is not None and when not in points, f"ukraine_reception.csv: date {text!r} unusable")
        points[when] = places
    return sorted(points.items())


def municipal_need(
    total: int, task: dict[str, int], population: dict[str, int], province_of: dict[str, str]
) -> dict[str, int]:
    """A national need over the municipalities as the loader splits need.csv: over the provinces by task
    share, then over each province's municipalities by population (instances/README.md, "Need per period")."""
    out: dict[str, int] = {}
    for p, amount in split_task(total, task).items():
        out.update(split_task(amount, {m: n for m, n in population.items() if province_of[m] == p}))
    return out


def shared_split(need: dict[str, int], static: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """A municipality's need over the groups without rows per period, by their static rows (largest remainder)."""
    out: dict[str, dict[str, int]] = {g: {} for g in SHARED_GROUPS}
    for m, amount in need.items():
        key = {g: static[g].get(m, 0) for g in SHARED_GROUPS}
        require(amount == 0 or sum(key.values()) > 0, f"{m} has need but no static row of {SHARED_GROUPS}")
        for g, part in split_task(amount, key).items():
            out[g][m] = part
    return out


def markdown(header: list[str], rows: list[list[object]]) -> str:
    cells = [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join("| " + " | ".join(r) + " |" for r in [header, align, *cells])


def main() -> None:
    facts = read_csv(SOURCES / "cost_facts.csv")
    occupancy = read_csv(SOURCES / "coa_occupancy.csv")
    obs = observations()

    # -------------------------------------------------------- money from cost_facts.csv
    # Standby: the 2017 vacancy cost spread over the empty places of 2017 (derivation D5).
    vacancy = fact(facts, "cost of vacancy (empty locations) in one year after a fall in inflow", "2017")
    capacity_2017 = {
        r["date"]: int(r["capacity"])
        for r in occupancy
        if r["capacity"] and r["date"] in ("2017-01-01", "2017-04-26", "2018-01-01")
    }
    residents_2017 = {d.isoformat(): v for d, v in obs}
    empty = [
        (date(2017, 1, 1), capacity_2017["2017-01-01"] - residents_2017["2017-01-01"]),
        (date(2017, 4, 26), capacity_2017["2017-04-26"] - residents_2017["2017-04-26"]),
        (date(2018, 1, 1), capacity_2017["2018-01-01"] - residents_2017["2017-12-31"]),
    ]
    empty_place_years = sum(
        (d1 - d0).days / DAYS_PER_YEAR * (e0 + e1) / 2 for (d0, e0), (d1, e1) in itertools.pairwise(empty)
    )
    standby_per_place = round(vacancy / empty_place_years)
    # Closing: the 2017 buy-outs over the places removed in 2017 (derivation D6).
    buy_out = fact(facts, "other costs of shrinking capacity (buying out contracts) in one year", "2017")
    removed = capacity_2017["2017-01-01"] - capacity_2017["2018-01-01"]
    closing_per_place = round(buy_out / removed)
    opening_per_place = closing_per_place  # O1: no published opening cost; taken equal to the closing cost
    emergency_cost = fact(facts, "cost per resident per year in emergency reception", "2023")

    examples = {r["location"]: r["opening_or_end"] for r in read_csv(SOURCES / "coa_location_examples.csv")}
    for location, (words, _) in CONTRACT_EXAMPLES.items():
        require(words in examples.get(location, ""), f"coa_location_examples.csv: {location} no longer says {words!r}")
    lengths = sorted(years for _, years in CONTRACT_EXAMPLES.values())
    require(MIN_OPEN_YEARS["regular"] == lengths[len(lengths) // 2], "M2 is no longer the median of the examples")

    # -------------------------------------------------------- nl-2024's tables
    for name in ("links.csv", "site_groups.csv"):
        shutil.copyfile(BASE / name, HERE / name)
    # H3: nl-2024's groups.csv with the status holders marked as the housing task (housing_rate applies to them).
    base_groups = read_csv(BASE / "groups.csv")
    header = list(base_groups[0]) + ["housing"]
    write_csv(
        HERE / "groups.csv",
        header,
        [[*g.values(), "task" if g["group"] == HOUSING_GROUP else ""] for g in base_groups],
    )
    provinces = read_csv(BASE / "provinces.csv")
    task = {p["province"]: int(p["task"]) for p in provinces}
    municipalities = read_csv(BASE / "municipalities.csv")
    population = {m["municipality"]: int(m["population"]) for m in municipalities}
    province_of = {m["municipality"]: m["province"] for m in municipalities}
    groups = [g["group"] for g in read_csv(BASE / "groups.csv")]
    require(sorted(groups) == sorted(SHARED_GROUPS + PERIOD_GROUPS), f"nl-2024's groups.csv has the groups {groups}")
    static: dict[str, dict[str, int]] = {g: {} for g in groups}
    for r in read_csv(BASE / "group_demand.csv"):
        static[r["group"]][r["municipality"]] = int(r["demand"])
    base_sites = read_csv(BASE / "sites.csv")
    # G10: a municipality's demand is the key that splits need.csv, so it is that of the groups sharing need.csv;
    # the provinces' shares follow from it (no task column: the Spreidingswet task holds the status holders too).
    write_csv(
        HERE / "provinces.csv",
        [c for c in provinces[0] if c != "task"],
        [[v for c, v in p.items() if c != "task"] for p in provinces],
    )
    header = [*municipalities[0], "demand"]
    write_csv(
        HERE / "municipalities.csv",
        header,
        [[*m.values(), sum(static[g].get(m["municipality"], 0) for g in SHARED_GROUPS)] for m in municipalities],
    )

    # -------------------------------------------------------- periods
    periods = half_years(HORIZON_START, date(HORIZON_START.year + HORIZON_YEARS, 1, 1))
    require(len(periods) == 10, "expected ten half-years")
    # Offsets count the periods' own lengths, as the model does (o_t in models/README.md).
    offset = {pid: 0.5 * k for k, (pid, _, _) in enumerate(periods)}
    write_csv(
        HERE / "periods.csv", ["period", "start", "years"], [[pid, start.isoformat(), 0.5] for pid, start, _ in periods]
    )

    def first_period_from(years: float) -> str:
        return next(pid for pid, _, _ in periods if offset[pid] >= years - 1e-9)

    # -------------------------------------------------------- sites: life-cycle columns by rule
    curve = run_down_curve()
    # X4: the run-down is COA's; municipal reception for Ukraine (sites taking only national groups) has none.
    national = {g["group"] for g in read_csv(BASE / "groups.csv") if g["target"] == "national"}
    takes: dict[str, set[str]] = {}
    for row in read_csv(BASE / "site_groups.csv"):
        takes.setdefault(row["site"], set()).add(row["group"])
    existing_regular = sorted(
        (
            s
            for s in base_sites
            if s["status"] == "existing" and s["kind"] == "regular" and not takes.get(s["site"], set()) <= national
        ),
        key=lambda s: s["site"],
    )
    total_existing_regular = sum(int(s["capacity"]) for s in existing_regular)
    contract_end: dict[str, str] = {}
    cumulative = 0
    for s in existing_regular:
        middle = (cumulative + int(s["capacity"]) / 2) / total_existing_regular
        cumulative += int(s["capacity"])
        ends = years_until_run_down(curve, 1 - middle)
        inside = [pid for pid, _, _ in periods if offset[pid] <= ends < offset[pid] + 0.5]
        if inside:
            contract_end[s["site"]] = inside[0]

    header = list(base_sites[0].keys()) + [
        "earliest_open",
        "contract_end",
        "extension_cost",
        "min_open_years",
        "opening_cost",
        "closing_cost",
        "standby_cost",
    ]
    site_rows = []
    for s in base_sites:
        capacity = int(s["capacity"])
        candidate = s["status"] == "candidate"
        lead = LARGE_LEAD_YEARS if s["kind"] == "large" else REGULAR_LEAD_YEARS
        earliest = first_period_from(lead) if candidate and lead > 0 else ""
        end = contract_end.get(s["site"], "")
        extension = opening_per_place * capacity if end else ""  # X1: an extension priced as a new contract
        site_rows.append(
            list(s.values())
            + [
                earliest,
                end,
                extension,
                f"{MIN_OPEN_YEARS[s['kind']]:g}",
                opening_per_place * capacity,
                closing_per_place * capacity,
                standby_per_place * capacity,
            ]
        )
    write_csv(HERE / "sites.csv", header, site_rows)

    # -------------------------------------------------------- need per period and scenario
    forecasts = read_csv(SOURCES / "inflow_forecasts.csv")
    points = stock_forecasts(forecasts)
    bands = inflow_bands(forecasts)
    stay_years = obs[-1][1] / OUTFLOW_2024  # derivation D2: residents in 2024 / outflow in 2024
    require(obs[-1][0].year == 2024, "the last residents observation is no longer from 2024")

    path, used = forecast_points(points, HORIZON_START, "places")
    require(path and path[0][0] == HORIZON_START, "no forecast of places for the first day of the horizon")
    # Cross-check: every dated need in coa_capacity_needs.csv appears among the forecast points.
    listed = {(p["target"], p["value"]) for p in points}
    for r in read_csv(SOURCES / "coa_capacity_needs.csv"):
        if r["decision_or_page"].startswith("Spreidingswet"):
            continue  # the static task itself (spreidingswet_2024.csv), not a forecast round
        require(
            (date.fromisoformat(r["target_date"]), float(r["places_needed"])) in listed,
            f"coa_capacity_needs.csv: {r['target_date']} {r['places_needed']} is not in inflow_forecasts.csv",
        )
    # Status holders (H1, H2) and Ukraine (U1, U2) per half-year; need.csv is COA's need less the status holders (N1).
    status = per_half_year(housing_tasks(SOURCES), periods)
    ukraine_points = ukraine_path()
    ukraine = {pid: largest_daily(ukraine_points, start, nxt)[0] for pid, start, nxt in periods}
    need_rows = []
    need_table = []
    for pid, start, nxt in periods:
        coa, basis = period_need(path, bands, HORIZON_START, start, nxt, stay_years)
        need = {s: coa[s] - status[pid] for s in SCENARIOS}
        require(min(need.values()) >= 0, f"{pid}: status holders {status[pid]} exceed COA's need {coa}")
        need_rows += [[pid, s, need[s]] for s in SCENARIOS]
        need_table.append((pid, coa, need, basis))
    write_csv(HERE / "need.csv", ["period", "scenario", "need"], need_rows)

    # -------------------------------------------------------- group_demand.csv
    per_period = {"status_holders": status, "ukraine": ukraine}
    demand_rows = [[m, g, static[g][m], ""] for g in SHARED_GROUPS for m in static[g] if static[g][m] > 0]
    for g, national in per_period.items():
        for pid, _, _ in periods:
            parts = by_population(national[pid], population)
            demand_rows += [[m, g, n, pid] for m, n in parts.items() if n > 0]
    order = {g: k for k, g in enumerate(groups)}
    demand_rows.sort(key=lambda r: (r[0], order[r[1]], r[3]))
    write_csv(HERE / "group_demand.csv", ["municipality", "group", "demand", "period"], demand_rows)
    group_rows = []
    for pid, _, need, _ in need_table:
        shared = {s: shared_split(municipal_need(need[s], task, population, province_of), static) for s in SCENARIOS}
        group_rows.append(
            [pid] + [sum(shared[s][g].values()) for g in SHARED_GROUPS for s in SCENARIOS] + [status[pid], ukraine[pid]]
        )

    # -------------------------------------------------------- emergency capacity
    [peak] = [r for r in read_csv(SOURCES / "coa_locations_by_type.csv") if r["peildatum"] == EMERGENCY_PEAK_DATE]
    require(EMERGENCY_PEAK_NOTE in peak["notes"], "coa_locations_by_type.csv: the 2023-09-25 note changed")
    emergency_national = int(EMERGENCY_PEAK_NOTE.split()[0]) + int(peak["persons_outside_coa"])
    emergency = split_task(emergency_national, task)
    write_csv(
        HERE / "emergency.csv",
        ["province", "capacity", "cost_per_place"],
        [[p, emergency[p], f"{emergency_cost:g}"] for p in sorted(emergency)],
    )

    # -------------------------------------------------------- instance.toml
    [terapel] = [r for r in read_csv(SOURCES / "reception_sites.csv") if r["role"].startswith("registration centre")]
    registration_site = [
        s["site"]
        for s in base_sites
        if s["municipality"] == terapel["municipality_code"] and s["status"] == "existing" and s["kind"] == "large"
    ]
    require(
        len(registration_site) == 1, "expected one existing large site in the municipality of the registration centre"
    )
    [penalty] = [
        r for r in read_csv(SOURCES / "coa_location_examples.csv") if r["location"] == "Ter Apel aanmeldcentrum"
    ]
    require(
        "dwangsom EUR15,000/night above 2000, cap EUR1.5m" in penalty["note"],
        "coa_location_examples.csv: the Ter Apel penalty note changed",
    )
    base_toml = (BASE / "instance.toml").read_text(encoding="utf-8")
    body = base_toml.split("\n", 2)[2]  # drop name and description; keep units, currency, period, travel
    require(body.startswith("units = "), "nl-2024's instance.toml changed its layout")
    (HERE / "instance.toml").write_text(
        'name = "nl-2024-horizon"\n'
        'description = "nl-2024 planned over ten half-years (2025-H1 to 2029-H2): asylum seekers and minors with a '
        "low, mid and high need as forecast on 1 January 2025, status holders and displaced people from Ukraine "
        'per half-year, site life cycles, emergency capacity and the Ter Apel limit."\n' + body + "\n[registration]\n"
        f'site = "{registration_site[0]}"\n'
        f"limit = {int(terapel['max_capacity'])}\n"
        "penalty_per_night = 15000\n"
        "penalty_cap = 1500000\n",
        encoding="utf-8",
    )

    # -------------------------------------------------------- back-test data
    replay = half_years(BACKTEST_START, BACKTEST_END)
    reach = half_years(BACKTEST_START, date(HORIZON_START.year + HORIZON_YEARS, 1, 1))
    write_csv(
        BACKTEST / "periods.csv", ["period", "start", "years"], [[pid, s.isoformat(), 0.5] for pid, s, _ in reach]
    )
    arrived_rows = []
    for pid, start, nxt in replay:
        value, note = largest_daily(obs, start, nxt)
        arrived_rows.append([pid, value, note])
    write_csv(BACKTEST / "arrived.csv", ["period", "residents", "note"], arrived_rows)
    forecast_rows = []
    for made, at, _ in replay:
        anchor = [(d, v) for d, v in obs if d <= at][-1]
        future, used_at = forecast_points(points, at, "persons")
        path_at = [anchor] + [(d, v) for d, v in future if d > anchor[0]]
        kind = "forecast" if future else "persistence"
        for pid, start, nxt in reach:
            if start < at:
                continue
            need, basis = period_need(path_at, bands, at, start, nxt, stay_years)
            sources = "; ".join(used_at) if used_at else f"persistence of {anchor[1]} ({anchor[0].isoformat()})"
            forecast_rows += [[made, pid, s, need[s], kind, sources, basis] for s in SCENARIOS]
    write_csv(
        BACKTEST / "forecasts.csv",
        ["made", "period", "scenario", "need", "kind", "stock_forecasts", "band"],
        forecast_rows,
    )
    by_type = {r["peildatum"]: r for r in read_csv(SOURCES / "coa_locations_by_type.csv")}
    history = []
    for r in occupancy:
        if not r["locations"] and not r["capacity"]:
            continue
        extra = by_type.get(r["date"], {})
        history.append(
            [
                r["date"],
                r["residents"],
                r["locations"],
                extra.get("locations_regular", ""),
                extra.get("locations_temporary_or_nood", ""),
                r["capacity"],
                r["source_url"],
            ]
        )
    write_csv(
        BACKTEST / "history.csv",
        [
            "date",
            "residents",
            "locations",
            "locations_regular",
            "locations_temporary_or_nood",
            "capacity",
            "source_url",
        ],
        history,
    )

    # -------------------------------------------------------- report
    print(
        f"stay {stay_years:.3f} years; standby {standby_per_place}/place-year (empty place-years {empty_place_years:,.0f}); "
        f"closing = opening {closing_per_place}/place; emergency {emergency_national} places at {emergency_cost:g}"
    )
    print(f"forecast path at {HORIZON_START}: " + ", ".join(f"{d} {v:,.0f}" for d, v in path) + f" ({'; '.join(used)})")
    for pid, coa, _, basis in need_table:
        print(f"  {pid}: " + ", ".join(f"{s} {coa[s]:,}" for s in SCENARIOS) + f"  band {basis}")
    capacity = {s["site"]: int(s["capacity"]) for s in base_sites}
    ends: dict[str, list[str]] = {}
    for site, pid in sorted(contract_end.items()):
        ends.setdefault(pid, []).append(site)
    beyond = [s["site"] for s in existing_regular if s["site"] not in contract_end]
    print(f"sites: {len(site_rows)}; back-test: {len(arrived_rows)} half-years, {len(forecast_rows)} forecast rows")
    print("\ncontract ends (X2, X4):\n")
    print(
        markdown(
            ["last period of the contract", "sites", "places", "sites (ids)"],
            [[pid, len(c), sum(capacity[x] for x in c), f"{c[0]} … {c[-1]}"] for pid, c in sorted(ends.items())]
            + [
                [
                    "beyond the horizon",
                    len(beyond),
                    sum(capacity[x] for x in beyond),
                    f"{beyond[0]} …" if beyond else "",
                ]
            ],
        )
    )
    print(
        f"group_demand.csv: {len(demand_rows)} rows; Ukraine path " + ", ".join(f"{d} {v:,}" for d, v in ukraine_points)
    )
    print("\nneed.csv (N1):\n")
    print(
        markdown(
            ["period"] + [f"COA {s}" for s in SCENARIOS] + ["status holders"] + [f"need.csv {s}" for s in SCENARIOS],
            [
                [pid] + [coa[s] for s in SCENARIOS] + [status[pid]] + [need[s] for s in SCENARIOS]
                for pid, coa, need, _ in need_table
            ],
        )
    )
    print("\nplaces per group:\n")
    print(
        markdown(
            ["period"] + [f"{g} {s}" for g in SHARED_GROUPS for s in SCENARIOS] + list(PERIOD_GROUPS),
            group_rows,
        )
    )


if __name__ == "__main__":
    main()
