"""The optional files of an instance planned over several periods (instances/README.md, "Periods").

``periods.csv``, ``need.csv``, ``emergency.csv``, the life-cycle columns of ``sites.csv`` and the
``[registration]`` table of instance.toml are read and checked here; every problem is collected
with its file, row, column and value. The need per period and scenario is split over the
municipalities by the static key, in whole places.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from ..core.errors import Problem
from .demand import split_task
from .tables import Column, duplicates, read_table, typed

MAX_YEARS = 100.0
MAX_PERIODS = 1_000
MAX_NEED_ROWS = 2_000_000
MAX_EMERGENCY_ROWS = 1_000_000
CONTIGUITY_DAYS = 7  # tolerance between one period's end (start + years x 365.25 days) and the next start
DAYS_PER_YEAR = 365.25
BAND = "band"  # the name that asks for every scenario at once; no scenario may carry it

PERIOD_COLUMNS = (
    Column("period", "id"),
    Column("start", "id"),
    Column("years", "float", min=0, strict_min=True, max=MAX_YEARS),
    Column("budget", "float", required=False, min=0, max=1e15),
)
NEED_COLUMNS = (
    Column("period", "id"),
    Column("scenario", "id"),
    Column("province", "id", required=False),
    Column("need", "int", min=0, max=1e9),
)
EMERGENCY_COLUMNS = (
    Column("province", "id"),
    Column("period", "id", required=False),
    Column("capacity", "int", min=0, max=1e9),
    Column("cost_per_place", "float", min=0, max=1e12),
)
# Optional columns of sites.csv, allowed only with periods.csv.
LIFECYCLE_COLUMNS = (
    Column("earliest_open", "id", required=False),
    Column("contract_end", "id", required=False),
    Column("extension_cost", "float", required=False, min=0, max=1e12),
    Column("min_open_years", "float", required=False, min=0, max=MAX_YEARS),
    Column("opening_cost", "float", required=False, min=0, max=1e12),
    Column("closing_cost", "float", required=False, min=0, max=1e12),
    Column("standby_cost", "float", required=False, min=0, max=1e12),
)
LIFECYCLE_NAMES = tuple(c.name for c in LIFECYCLE_COLUMNS)
HORIZON_FILES = ("periods.csv", "need.csv", "emergency.csv")
REGISTRATION_SETTINGS = {"site": str, "limit": int, "penalty_per_night": (int, float), "penalty_cap": (int, float)}


@dataclass(frozen=True)
class Registration:
    """The registration centre where people wait whom the network cannot take (a KPI, not a constraint)."""

    site: str
    limit: int
    penalty_per_night: float
    penalty_cap: float


@dataclass(frozen=True, eq=False)
class Horizon:
    """The periods, scenarios, need and life cycles of an instance planned over several periods."""

    periods: (
        pd.DataFrame
    )  # index period (in order): start (ISO date), years, offset (years from the first start), budget (NaN: none)
    scenarios: tuple[str, ...]
    need: pd.DataFrame  # period, scenario, province (None when national), need
    demand: dict[tuple[str, str], dict[str, int]]  # (period, scenario) -> municipality -> places
    emergency: pd.DataFrame  # index (province, period): capacity, cost_per_place (per planning period)
    lifecycle: pd.DataFrame  # index site: the LIFECYCLE_NAMES, NaN / None where empty
    years_per_planning_period: float
    registration: Registration | None
    key: str  # what splits a province's need over its municipalities: "demand" or "population x weight"
    # with demand groups: (period, scenario) -> (municipality, group) -> places (data.groups.case_demand)
    group_demand: dict[tuple[str, str], dict[tuple[str, str], int]] | None = None

    def units(self, t: str, w: str) -> dict:
        """Demand per unit in (t, w): per municipality, or per (municipality, group) with demand groups."""
        return self.demand[(t, w)] if self.group_demand is None else self.group_demand[(t, w)]

    @property
    def period_ids(self) -> list[str]:
        return list(self.periods.index)


def planning_years(text: str) -> float | None:
    """``"1 year"``, ``"2 years"``, ``"6 months"`` in years; None when it is not a length of time."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(year|years|month|months)\s*", str(text))
    if not match:
        return None
    number = float(match.group(1))
    return number if match.group(2).startswith("year") else number / 12


HORIZON_COLUMNS = {"periods.csv": PERIOD_COLUMNS, "need.csv": NEED_COLUMNS, "emergency.csv": EMERGENCY_COLUMNS}
HORIZON_ROWS = {"periods.csv": MAX_PERIODS, "need.csv": MAX_NEED_ROWS, "emergency.csv": MAX_EMERGENCY_ROWS}


def read_horizon_tables(root: Path, problems: list[Problem]) -> dict | None:
    """The raw horizon tables of an instance folder; None when it has none of them."""
    present = [name for name in HORIZON_FILES if (root / name).is_file()]
    return horizon_tables(
        present,
        lambda name: read_table(root / name, HORIZON_COLUMNS[name], problems, max_rows=HORIZON_ROWS[name]),
        problems,
    )


def horizon_tables(present: list[str], read, problems: list[Problem]) -> dict | None:
    """The horizon tables ``read(name)`` gives for the HORIZON_FILES ``present`` (CSV files or a workbook's
    sheets); None when none is present, or when periods.csv is missing (a Problem for each that needs it)."""
    if not present:
        return None
    if "periods.csv" not in present:
        for name in present:
            problems.append(Problem(name, "needs periods.csv: without periods the instance is one snapshot"))
        return None
    # Emergency capacity is optional; a missing need table is reported by ``read``.
    return {name: None if name == "emergency.csv" and name not in present else read(name) for name in HORIZON_FILES}


def check_registration(data: dict, label: str, problems: list[Problem]) -> None:
    """The ``[registration]`` table of instance.toml: known keys, types and ranges."""
    if not isinstance(data, dict):
        problems.append(Problem(label, "must be a table", column="registration", value=data))
        return
    for key in data:
        if key not in REGISTRATION_SETTINGS:
            problems.append(
                Problem(
                    label,
                    f"unknown key (known: {', '.join('registration.' + k for k in REGISTRATION_SETTINGS)})",
                    column=f"registration.{key}",
                )
            )
    for key, types in REGISTRATION_SETTINGS.items():
        value = data.get(key)
        if value is None:
            problems.append(Problem(label, "required key is missing", column=f"registration.{key}"))
        elif isinstance(value, bool) or not isinstance(value, types):
            problems.append(
                Problem(
                    label,
                    "must be text"
                    if types is str
                    else "must be a whole number"
                    if types is int
                    else "must be a number",
                    column=f"registration.{key}",
                    value=value,
                )
            )
        elif types is not str and (not math.isfinite(value) or value < 0 or value > 1e15):
            problems.append(
                Problem(label, "must be a finite number >= 0 and <= 1e+15", column=f"registration.{key}", value=value)
            )


def check_horizon(
    settings: dict, tables: dict | None, province_ids: set, sites_raw: pd.DataFrame | None, problems: list[Problem]
) -> dict | None:
    """Check the horizon tables on their own and against the ids of the static tables.

    Returns the checked parts for :func:`finish_horizon`, or None when the instance has no
    periods (or a problem was found). ``sites_raw`` is sites.csv as read, with its row numbers.
    """
    lifecycle_given = [c for c in LIFECYCLE_NAMES if sites_raw is not None and c in sites_raw]
    registration = settings.get("registration") if settings else None
    if tables is None:
        for column in lifecycle_given:
            problems.append(Problem("sites.csv", "a life-cycle column needs periods.csv", row=1, column=column))
        if registration is not None:
            problems.append(
                Problem("instance.toml", "the registration centre needs periods.csv", column="registration")
            )
        return None
    start_count = len(problems)
    years_per = planning_years(settings.get("planning_period", "")) if settings else None
    if settings and years_per is None:
        problems.append(
            Problem(
                "instance.toml",
                'with periods.csv this must be a length of time, e.g. "1 year" or "6 months"',
                column="planning_period",
                value=settings.get("planning_period"),
            )
        )
    periods = _check_periods(tables["periods.csv"], problems)
    period_ids = list(periods.index) if periods is not None else []
    need, scenarios = _check_need(tables["need.csv"], period_ids, province_ids, problems)
    emergency = _check_emergency(tables["emergency.csv"], period_ids, province_ids, problems)
    lifecycle = _check_lifecycle(sites_raw, period_ids, problems)
    reg = None
    if isinstance(registration, dict) and not any(p.column and p.column.startswith("registration") for p in problems):
        site = registration.get("site")
        if sites_raw is not None and "site" in sites_raw and site not in set(sites_raw["site"]):
            problems.append(
                Problem("instance.toml", "unknown site (not in sites.csv)", column="registration.site", value=site)
            )
        else:
            reg = Registration(
                site,
                int(registration["limit"]),
                float(registration["penalty_per_night"]),
                float(registration["penalty_cap"]),
            )
    if len(problems) > start_count or periods is None or need is None:
        return None
    return {
        "periods": periods,
        "scenarios": scenarios,
        "need": need,
        "emergency": emergency,
        "lifecycle": lifecycle,
        "years_per_planning_period": years_per,
        "registration": reg,
    }


def finish_horizon(
    parts: dict | None,
    provinces: pd.DataFrame,
    municipalities: pd.DataFrame,
    demand_given: bool,
    problems: list[Problem],
) -> Horizon | None:
    """The Horizon, with the need split over the municipalities of the validated static tables.

    ``provinces`` and ``municipalities`` are typed and indexed by id, with the static demand
    derived; ``demand_given`` says whether municipalities.csv had a ``demand`` column (then the
    static demand is the key that splits a province's need, else population x weight).
    """
    if parts is None:
        return None
    start_count = len(problems)
    demand = split_need(
        parts["need"],
        list(parts["periods"].index),
        parts["scenarios"],
        provinces,
        municipalities,
        demand_given,
        problems,
    )
    if len(problems) > start_count:
        return None
    return Horizon(
        parts["periods"],
        parts["scenarios"],
        parts["need"],
        demand,
        parts["emergency"],
        parts["lifecycle"],
        parts["years_per_planning_period"],
        parts["registration"],
        "demand" if demand_given else "population x weight",
    )


def _has(raw: pd.DataFrame | None, columns: tuple[str, ...]) -> bool:
    """The table was read and has every required column (a missing one is already reported)."""
    return raw is not None and all(c in raw for c in columns)


def _parse_start(text: str | None) -> date | None:
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_periods(raw: pd.DataFrame | None, problems: list[Problem]) -> pd.DataFrame | None:
    label = "periods.csv"
    if not _has(raw, ("period", "start", "years")):
        return None
    before = len(problems)
    duplicates(raw, "period", label, problems)
    starts = []
    for row, text in zip(raw["row"], raw["start"]):
        when = _parse_start(text)
        if text is not None and when is None:
            problems.append(Problem(label, "not a date (write YYYY-MM-DD)", row, "start", text))
        starts.append(when)
    _check_period_order(starts, list(raw["years"]), list(raw["row"]), problems)
    if len(problems) > before:
        return None
    table = typed(raw, PERIOD_COLUMNS).drop(columns="row").set_index("period")
    table["budget"] = table["budget"].astype(float) if "budget" in table else math.nan
    table["offset"] = table["years"].cumsum() - table["years"]
    return table[["start", "years", "offset", "budget"]]


def _check_period_order(starts: list, years: list, rows: list, problems: list[Problem]) -> None:
    """Each period starts after, and where, the one before ends."""
    for k in range(1, len(starts)):
        a, b, length = starts[k - 1], starts[k], years[k - 1]
        if a is None or b is None or length is None:
            continue
        if b <= a:
            problems.append(
                Problem(
                    "periods.csv",
                    f"periods must be in the order of their start; the row before starts {a.isoformat()}",
                    rows[k],
                    "start",
                    b.isoformat(),
                )
            )
        elif abs((b - a).days - length * DAYS_PER_YEAR) > CONTIGUITY_DAYS:
            message = f"does not start where the period before ends ({a.isoformat()} + {length:g} years); periods must follow each other without gaps or overlaps"
            problems.append(Problem("periods.csv", message, rows[k], "start", b.isoformat()))


def _check_need(raw, period_ids: list[str], province_ids: set, problems: list[Problem]):
    label = "need.csv"
    if not _has(raw, ("period", "scenario", "need")):
        return None, ()
    before = len(problems)
    per_province = "province" in raw
    scenarios = _check_need_rows(raw, set(period_ids), set(province_ids), per_province, problems)
    if len(problems) > before:
        return None, ()
    given = {(r.period, r.scenario, r.province if per_province else None) for r in raw.itertuples(index=False)}
    provinces = sorted(province_ids) if per_province else [None]
    missing = [(t, s, p) for t in period_ids for s in scenarios for p in provinces if (t, s, p) not in given]
    if missing:
        shown = ", ".join("/".join(x for x in k if x is not None) for k in missing[:5])
        what = "period/scenario/province" if per_province else "period/scenario"
        problems.append(Problem(label, f"{len(missing)} {what} combinations have no need, e.g. {shown}"))
        return None, ()
    need = typed(raw, NEED_COLUMNS).drop(columns="row").reset_index(drop=True)
    if not per_province:
        need["province"] = None
    return need[["period", "scenario", "province", "need"]], tuple(scenarios)


def _check_need_rows(raw, periods: set, provinces: set, per_province: bool, problems: list[Problem]) -> list[str]:
    """Known periods and provinces, no scenario called band, no repeated row; the scenarios in order of appearance."""
    label = "need.csv"
    seen: dict[tuple, int] = {}
    scenarios: list[str] = []
    for r in raw.itertuples(index=False):
        province = r.province if per_province else None
        if r.period is not None and periods and r.period not in periods:
            problems.append(Problem(label, "unknown period (not in periods.csv)", r.row, "period", r.period))
        if r.scenario == BAND:
            problems.append(
                Problem(
                    label,
                    f"'{BAND}' names every scenario at once and cannot be a scenario",
                    r.row,
                    "scenario",
                    r.scenario,
                )
            )
        elif r.scenario is not None and r.scenario not in scenarios:
            scenarios.append(r.scenario)
        if per_province and province is None:
            problems.append(
                Problem(label, "value is missing (the table gives the need per province)", r.row, "province", "")
            )
        elif per_province and province not in provinces:
            problems.append(Problem(label, "unknown province (not in provinces.csv)", r.row, "province", province))
        key = (r.period, r.scenario, province)
        if key in seen:
            problems.append(Problem(label, f"repeats the need of row {seen[key]}", r.row, "need", r.need))
        seen.setdefault(key, r.row)
    return scenarios


def _check_emergency(raw, period_ids: list[str], province_ids: set, problems: list[Problem]) -> pd.DataFrame:
    if not _has(raw, ("province", "capacity", "cost_per_place")):
        return _emergency_table({})
    label = "emergency.csv"
    before = len(problems)
    has_period = "period" in raw
    seen: dict[tuple, int] = {}
    for r in raw.itertuples(index=False):
        period = r.period if has_period else None
        if r.province is not None and r.province not in province_ids:
            problems.append(Problem(label, "unknown province (not in provinces.csv)", r.row, "province", r.province))
        if period is not None and period_ids and period not in period_ids:
            problems.append(Problem(label, "unknown period (not in periods.csv)", r.row, "period", period))
        if (r.province, period) in seen:
            problems.append(
                Problem(
                    label,
                    f"repeats row {seen[(r.province, period)]} for this province and period",
                    r.row,
                    "province",
                    r.province,
                )
            )
        seen.setdefault((r.province, period), r.row)
    if len(problems) > before:
        return _emergency_table({})
    return _emergency_table(_emergency_rows(typed(raw, EMERGENCY_COLUMNS), has_period, period_ids))


def _emergency_rows(table: pd.DataFrame, has_period: bool, period_ids: list[str]) -> dict:
    """(province, period) -> (capacity, cost): rows for every period first, a row for one period overrides them."""
    rows = {}
    for every in (True, False):
        for r in table.itertuples(index=False):
            period = r.period if has_period else None
            if (period is None) == every:
                for t in period_ids if every else [period]:
                    rows[(r.province, t)] = (int(r.capacity), float(r.cost_per_place))
    return rows


def _emergency_table(rows: dict) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples(sorted(rows), names=["province", "period"])
    return pd.DataFrame(
        {
            "capacity": pd.Series([rows[k][0] for k in index], index=index, dtype="int64"),
            "cost_per_place": pd.Series([rows[k][1] for k in index], index=index, dtype=float),
        },
        index=index,
    )


def _check_lifecycle(sites_raw: pd.DataFrame | None, period_ids: list[str], problems: list[Problem]) -> pd.DataFrame:
    n = 0 if sites_raw is None or "site" not in sites_raw else len(sites_raw)
    columns = {c: list(sites_raw[c]) if n and c in sites_raw else [None] * n for c in LIFECYCLE_NAMES}
    sites = list(sites_raw["site"]) if n else []
    statuses = list(sites_raw["status"]) if n and "status" in sites_raw else [None] * n
    for k in range(n):
        values = {c: columns[c][k] for c in LIFECYCLE_NAMES}
        _check_site_lifecycle(int(sites_raw["row"].iloc[k]), statuses[k], values, set(period_ids), problems)
    # Period ids stay Python objects (None where empty); money and years are floats (NaN where empty).
    frame = pd.DataFrame({c: pd.Series(columns[c], dtype=object) for c in ("earliest_open", "contract_end")})
    frame = frame.set_axis(pd.Index(sites, name="site"))
    for c in ("extension_cost", "min_open_years", "opening_cost", "closing_cost", "standby_cost"):
        frame[c] = pd.Series([math.nan if v is None else float(v) for v in columns[c]], index=frame.index, dtype=float)
    return frame


def _check_site_lifecycle(row: int, status: str | None, values: dict, periods: set, problems: list[Problem]) -> None:
    label = "sites.csv"
    for column in ("earliest_open", "contract_end"):
        if values[column] is not None and values[column] not in periods:
            problems.append(Problem(label, "unknown period (not in periods.csv)", row, column, values[column]))
    if status == "existing" and values["earliest_open"] is not None:
        problems.append(
            Problem(
                label,
                "an existing site is in service from the start; earliest_open is for candidates",
                row,
                "earliest_open",
                values["earliest_open"],
            )
        )
    if status == "candidate" and values["contract_end"] is not None:
        problems.append(
            Problem(
                label,
                "contract_end is for existing sites; a candidate's contract starts when it opens",
                row,
                "contract_end",
                values["contract_end"],
            )
        )
    if values["extension_cost"] is not None and values["contract_end"] is None:
        problems.append(
            Problem(
                label,
                "extension_cost without a contract_end would never be paid",
                row,
                "extension_cost",
                values["extension_cost"],
            )
        )


def split_need(
    need: pd.DataFrame,
    period_ids,
    scenarios,
    provinces: pd.DataFrame,
    municipalities: pd.DataFrame,
    demand_given: bool,
    problems: list[Problem],
) -> dict[tuple[str, str], dict[str, int]]:
    """Municipal demand per (period, scenario): national need over the provinces by task share,
    then each province's need over its municipalities by the static key (largest remainder)."""
    muni = municipalities
    static_by_province = muni.groupby("province")["demand"].sum().reindex(provinces.index, fill_value=0)
    task = provinces["task"] if "task" in provinces and provinces["task"].notna().all() else static_by_province
    shares = {p: int(task[p]) for p in provinces.index}
    if demand_given:
        key = {i: float(d) for i, d in muni["demand"].items()}
    else:
        key = {i: float(muni.at[i, "population"]) * float(muni.at[i, "weight"]) for i in muni.index}
    members = {p: [i for i in muni.index[muni["province"] == p]] for p in provinces.index}
    demand: dict[tuple[str, str], dict[str, int]] = {}
    national = need["province"].isna().all()
    by_key = {(r.period, r.scenario, r.province): int(r.need) for r in need.itertuples(index=False)}
    reported: set = set()
    for t in period_ids:
        for s in scenarios:
            if national:
                total = by_key[(t, s, None)]
                if sum(shares.values()) <= 0 and total > 0:
                    problems.append(
                        Problem(
                            "need.csv",
                            "a national need cannot be split: the provinces' tasks add up to 0",
                            column="need",
                            value=total,
                        )
                    )
                    return {}
                province_need = split_task(total, shares) if total or sum(shares.values()) else {p: 0 for p in shares}
            else:
                province_need = {p: by_key[(t, s, p)] for p in provinces.index}
            parts: dict[str, int] = {}
            for p, amount in province_need.items():
                weights = {i: key[i] for i in members[p]}
                if amount > 0 and sum(weights.values()) <= 0:
                    if p not in reported:
                        reported.add(p)
                        problems.append(
                            Problem(
                                "need.csv",
                                f"the need of province {p} cannot be split: its municipalities' {'demand' if demand_given else 'population x weight'} adds up to 0",
                                column="need",
                                value=amount,
                            )
                        )
                    continue
                parts.update(split_task(amount, weights) if weights else {})
            demand[(t, s)] = {i: parts.get(i, 0) for i in muni.index}
    return demand
