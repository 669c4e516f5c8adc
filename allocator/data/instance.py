"""Load and validate an instance folder into a frozen Instance.

Validation collects every problem (file, row, column, value) and raises one InstanceError.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InstanceError, Problem
from .demand import split_task
from .groups import GROUP_FILES, Groups, build_groups, case_demand, read_group_tables
from .horizon import (
    HORIZON_FILES,
    LIFECYCLE_COLUMNS,
    Horizon,
    check_horizon,
    check_registration,
    finish_horizon,
    read_horizon_tables,
)
from .operators import COLUMNS as OPERATOR_COLUMNS
from .operators import FILE as OPERATOR_FILE
from .operators import expand_operators
from .tables import Column, duplicates, read_table, typed
from .travel import TravelTimes, network_problems

# Upper limits far beyond any real instance: they stop absurd numbers (1e300) before they
# overflow whole numbers or reach HiGHS as coefficients it would take for infinity.
MAX_PLACES = 1e9
MAX_POPULATION = 1e10
MAX_MONEY = 1e12
MAX_MINUTES = 1e4
MAX_WEIGHT = 1e6
MAX_BUDGET = 1e15
# Most rows a table may have: beyond these, loading and the model would take hours.
MAX_ROWS = {
    "provinces.csv": 1_000,
    "municipalities.csv": 100_000,
    "sites.csv": 100_000,
    "links.csv": 1_000_000,
    "travel_times.csv": 2_000_000,
    "site_operators.csv": 200_000,
}

PROVINCE_COLUMNS = (
    Column("province", "id"),
    Column("name", "text"),
    Column("task", "int", required=False, min=0, max=MAX_PLACES),
)
MUNICIPALITY_COLUMNS = (
    Column("municipality", "id"),
    Column("name", "text"),
    Column("province", "id"),
    Column("population", "int", min=0, max=MAX_POPULATION),
    Column("lat", "float", min=-90, max=90),
    Column("lon", "float", min=-180, max=180),
    Column("demand", "int", required=False, min=0, max=MAX_PLACES),
    Column("weight", "float", required=False, min=0, strict_min=True, max=MAX_WEIGHT),
)
SITE_COLUMNS = (
    Column("site", "id"),
    Column("name", "text"),
    Column("municipality", "id"),
    Column("province", "id"),
    Column("kind", "choice", choices=("large", "regular", "transit")),
    Column("status", "choice", choices=("candidate", "existing")),
    Column("min_size", "int", min=0, max=MAX_PLACES),
    Column("capacity", "int", min=0, strict_min=True, max=MAX_PLACES),
    Column("fixed_cost", "float", min=0, max=MAX_MONEY),
    Column("cost_per_place", "float", min=0, max=MAX_MONEY),
    Column("lat", "float", min=-90, max=90),
    Column("lon", "float", min=-180, max=180),
    Column("operator", "id", required=False),  # who runs it (default coa): see site_operators.csv
) + LIFECYCLE_COLUMNS  # optional; only with periods.csv
LINK_COLUMNS = (
    Column("from", "id"),
    Column("to", "id"),
    Column("minutes", "float", min=0, strict_min=True, max=MAX_MINUTES),
    Column("mode", "text"),
)
MATRIX_COLUMNS = (
    Column("municipality", "id"),
    Column("site", "id"),
    Column("minutes", "float", min=0, max=MAX_MINUTES),
)

# key -> (type(s), required); nested table "travel" handled separately
SETTINGS = {
    "name": (str, True),
    "description": (str, True),
    "units": (str, True),
    "currency": (str, True),
    "planning_period": (str, True),
    "budget": ((int, float), False),
    "travel": (dict, True),
    "registration": (dict, False),  # only with periods.csv
}
TRAVEL_SETTINGS = {
    "mode": (str, True),
    "speed_kmh": ((int, float), False),
    "detour_factor": ((int, float), False),
}
INSTANCE_FILES = (
    "instance.toml",
    "provinces.csv",
    "municipalities.csv",
    "sites.csv",
    "links.csv",
    "travel_times.csv",
    *GROUP_FILES,
    *HORIZON_FILES,
    OPERATOR_FILE,
)


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated planning problem. Tables are indexed by their id column."""

    name: str
    description: str
    units: str
    currency: str
    planning_period: str
    budget: float | None
    travel_mode: str
    speed_kmh: float | None
    detour_factor: float | None
    provinces: pd.DataFrame  # index province: name, task
    municipalities: pd.DataFrame  # index municipality: name, province, population, lat, lon, weight, demand
    sites: pd.DataFrame  # index site: name, municipality, province, kind, status, min_size, capacity, ...
    links: pd.DataFrame | None  # from, to, minutes, mode (network mode)
    matrix: pd.DataFrame | None  # municipality, site, minutes (matrix mode)
    travel_times: TravelTimes  # computed when first asked for (whole, or within limits)
    source: str
    fingerprint: str
    groups: Groups | None = None  # demand groups (groups.csv); None: one undifferentiated demand
    horizon: Horizon | None = None  # periods, scenarios and site life cycles (instances/README.md, "Periods")
    period: tuple[str, str] | None = None  # (period, scenario) of the instance with periods this snapshot is cut from
    operators: pd.DataFrame | None = None  # index site (each site and variant): location (its site), operator

    @property
    def travel(self) -> np.ndarray:
        """Minutes, municipalities (rows, index order) x sites (columns); inf = unreachable."""
        return self.travel_times.full()

    @property
    def total_demand(self) -> int:
        """The provinces' task: the demand of every municipality (with demand groups, of the groups in the task)."""
        return int(self.municipalities["demand"].sum())

    def demand_by_target(self) -> pd.DataFrame:
        """Per municipality (index order): ``task`` (the groups with a provincial target; without groups, the one
        demand), ``national`` (the groups with a national target, e.g. displaced people from Ukraine) and
        ``demand`` (both)."""
        task = self.municipalities["demand"].astype(int)
        national = pd.Series(0, index=task.index, dtype=int)
        if self.groups is not None and self.groups.national_groups:
            national = self.groups.demand[self.groups.national_groups].sum(axis=1).reindex(task.index).astype(int)
        return pd.DataFrame({"task": task, "national": national, "demand": task + national})


def load_folder_instance(root: Path) -> Instance:
    """Read and validate an instance folder; raise InstanceError listing every problem."""
    problems: list[Problem] = []
    if not root.is_dir():
        raise InstanceError([Problem(str(root), "no such instance folder")])
    settings = _read_settings(root / "instance.toml", problems)
    mode = travel_mode(settings)

    def table(name, columns):
        return read_table(root / name, columns, problems, max_rows=MAX_ROWS[name])

    provinces = table("provinces.csv", PROVINCE_COLUMNS)
    municipalities = table("municipalities.csv", MUNICIPALITY_COLUMNS)
    sites = table("sites.csv", SITE_COLUMNS)
    links = matrix = None
    if mode == "network":
        links = table("links.csv", LINK_COLUMNS)
    elif mode == "matrix":
        matrix = table("travel_times.csv", MATRIX_COLUMNS)
    return build_instance(
        settings,
        provinces,
        municipalities,
        sites,
        links,
        matrix,
        problems,
        str(root.resolve()),
        lambda: fingerprint(root),
        group_tables=read_group_tables(root, problems),
        horizon_tables=read_horizon_tables(root, problems),
        operator_table=table(OPERATOR_FILE, OPERATOR_COLUMNS) if (root / OPERATOR_FILE).is_file() else None,
    )


def is_workbook(path: Path) -> bool:
    """An instance given as an Excel workbook rather than a folder."""
    return Path(path).suffix.lower() == ".xlsx"


def build_instance(
    settings: dict,
    provinces,
    municipalities,
    sites,
    links,
    matrix,
    problems: list[Problem],
    source: str,
    fingerprint_of,
    locate=None,
    group_tables: dict | None = None,
    horizon_tables: dict | None = None,
    operator_table=None,
) -> Instance:
    """Validate tables already read by ``check_table`` (CSV files or sheets) into an Instance.

    ``group_tables`` holds groups.csv, group_demand.csv and site_groups.csv as read (absent: None);
    ``horizon_tables`` periods.csv, need.csv and emergency.csv (absent: None); ``operator_table`` site_operators.csv
    (absent: None), whose variants become sites (:mod:`allocator.data.operators`).

    Problems are reported under the CSV file names; ``locate`` maps each to the place where the
    user finds it (e.g. a workbook cell) before InstanceError is raised.
    """

    def fail():
        raise InstanceError([locate(p) for p in problems] if locate else problems)

    mode = travel_mode(settings)
    group_tables = dict(group_tables or {})
    sites, group_tables["site_groups.csv"], matrix, operators = expand_operators(
        operator_table,
        sites,
        group_tables.get("site_groups.csv"),
        matrix,
        bool(horizon_tables and horizon_tables.get("periods.csv") is not None),
        problems,
    )
    duplicates(provinces, "province", "provinces.csv", problems)
    duplicates(municipalities, "municipality", "municipalities.csv", problems)
    duplicates(sites, "site", "sites.csv", problems)
    _check_references(provinces, municipalities, sites, links, matrix, problems)
    demand_given = municipalities is not None and "demand" in municipalities
    if municipalities is not None and provinces is not None:
        _derive_demand(provinces, municipalities, problems)
    horizon_parts = check_horizon(settings, horizon_tables, _ids(provinces, "province"), sites, problems)
    if problems:
        fail()

    provinces = typed(provinces, PROVINCE_COLUMNS).drop(columns="row").set_index("province")
    if "task" not in provinces:
        provinces["task"] = pd.Series(pd.NA, index=provinces.index, dtype="Int64")
    municipalities = typed(municipalities, MUNICIPALITY_COLUMNS).drop(columns="row").set_index("municipality")
    municipalities["demand"] = municipalities["demand"].astype("int64")
    municipalities["weight"] = municipalities["weight"].astype(float).fillna(1.0) if "weight" in municipalities else 1.0
    municipalities = municipalities[["name", "province", "population", "weight", "demand", "lat", "lon"]]
    sites = typed(sites, SITE_COLUMNS).drop(columns="row").set_index("site")
    travel_cfg = settings["travel"]
    if mode == "network":
        links = typed(links, LINK_COLUMNS).drop(columns="row").reset_index(drop=True)
        network_problems(municipalities, links, problems)
        travel = TravelTimes.from_network(
            municipalities, sites, links, travel_cfg["speed_kmh"], travel_cfg["detour_factor"]
        )
    else:
        matrix = typed(matrix, MATRIX_COLUMNS).drop(columns="row").reset_index(drop=True)
        travel = TravelTimes.from_matrix(municipalities, sites, matrix)
    periods = None if horizon_parts is None else list(horizon_parts["periods"].index)
    scenarios = None if horizon_parts is None else horizon_parts["scenarios"]
    groups = build_groups(group_tables or {}, municipalities, sites, problems, periods, scenarios)
    if group_tables.get("groups.csv") is None:
        for s in sites.index[sites["kind"] == "transit"]:
            problems.append(
                Problem(
                    "sites.csv",
                    f"site {s} is a transit site, which takes the status holders of the housing task: the instance "
                    "needs demand groups (groups.csv) with a group housing = task",
                    column="kind",
                    value="transit",
                )
            )
    horizon = finish_horizon(horizon_parts, provinces, municipalities, demand_given, problems)
    if horizon is not None and groups is not None:
        horizon = replace(horizon, group_demand=case_demand(groups, horizon.demand, problems))
    if problems:
        fail()

    return Instance(
        name=settings["name"],
        description=settings["description"],
        units=settings["units"],
        currency=settings["currency"],
        planning_period=settings["planning_period"],
        budget=float(settings["budget"]) if "budget" in settings else None,
        travel_mode=mode,
        speed_kmh=travel_cfg.get("speed_kmh"),
        detour_factor=travel_cfg.get("detour_factor"),
        provinces=provinces,
        municipalities=municipalities,
        sites=sites,
        links=links,
        matrix=matrix,
        travel_times=travel,
        source=source,
        fingerprint=fingerprint_of(),
        groups=groups,
        horizon=horizon,
        operators=operators,
    )


def fingerprint(root: Path) -> str:
    """sha256 over the instance's own files (names and bytes), independent of where the folder lies."""
    digest = hashlib.sha256()
    for name in INSTANCE_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0")
            digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
            digest.update(b"\0")
    return digest.hexdigest()


def _read_settings(path: Path, problems: list[Problem]) -> dict:
    label = "instance.toml"
    if not path.is_file():
        problems.append(Problem(label, "file not found"))
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(Problem(label, "not valid UTF-8 text"))
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(label, f"not valid TOML: {exc}"))
        return {}
    return check_settings(data, label, problems)


def check_settings(data: dict, label: str, problems: list[Problem]) -> dict:
    """Check the settings (instance.toml or a settings sheet); problems name the key in ``column``."""
    _check_keys(data, SETTINGS, label, "", problems)
    travel = data.get("travel")
    if isinstance(travel, dict):
        _check_travel_settings(travel, label, problems)
    if "registration" in data:
        check_registration(data["registration"], label, problems)
    budget = data.get("budget")
    if _is_number(budget):
        _check_number(budget, 0, MAX_BUDGET, "budget", label, problems)
    return data


def _check_travel_settings(travel: dict, label: str, problems: list[Problem]) -> None:
    _check_keys(travel, TRAVEL_SETTINGS, label, "travel.", problems)
    mode = travel.get("mode")
    if mode not in ("network", "matrix"):
        problems.append(Problem(label, 'must be "network" or "matrix"', column="travel.mode", value=mode))
        travel["mode"] = None
    if mode != "network":
        return
    for key, low, high in (("speed_kmh", 0, 1000), ("detour_factor", 1, 10)):
        value = travel.get(key)
        if value is None:
            problems.append(Problem(label, "required in network mode", column=f"travel.{key}"))
        elif _is_number(value):
            _check_number(value, low, high, f"travel.{key}", label, problems, strict=key == "speed_kmh")


def _check_number(
    value, low: float, high: float, key: str, label: str, problems: list[Problem], strict: bool = False
) -> None:
    """A finite number within [low, high] (above low when ``strict``)."""
    if not math.isfinite(value):
        problems.append(Problem(label, "must be a finite number", column=key, value=value))
    elif not (value > low if strict else value >= low):
        problems.append(Problem(label, f"must be {'>' if strict else '>='} {low}", column=key, value=value))
    elif value > high:
        problems.append(Problem(label, f"must be <= {high:g}", column=key, value=value))


def travel_mode(settings: dict | None) -> str | None:
    """The travel mode the settings give, or None (missing, or settings of the wrong shape: reported elsewhere)."""
    travel = settings.get("travel") if isinstance(settings, dict) else None
    return travel.get("mode") if isinstance(travel, dict) else None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(data: dict, spec: dict, label: str, prefix: str, problems: list[Problem]) -> None:
    for key in data:
        if key not in spec:
            problems.append(
                Problem(label, f"unknown key (known: {', '.join(prefix + k for k in spec)})", column=prefix + key)
            )
    for key, (types, required) in spec.items():
        if key not in data:
            if required:
                problems.append(Problem(label, "required key is missing", column=prefix + key))
        elif not isinstance(data[key], types) or isinstance(data[key], bool):
            expected = "a table" if types is dict else "text" if types is str else "a number"
            problems.append(Problem(label, f"must be {expected}", column=prefix + key, value=data[key]))


def _ids(df: pd.DataFrame | None, column: str) -> set:
    return set() if df is None or column not in df else {v for v in df[column] if v is not None}


def _check_references(provinces, municipalities, sites, links, matrix, problems: list[Problem]) -> None:
    province_ids = _ids(provinces, "province")
    municipality_ids = _ids(municipalities, "municipality")
    site_ids = _ids(sites, "site")
    for df, column, known, label, what in (
        (municipalities, "province", province_ids, "municipalities.csv", "province (not in provinces.csv)"),
        (sites, "province", province_ids, "sites.csv", "province (not in provinces.csv)"),
        (sites, "municipality", municipality_ids, "sites.csv", "municipality (not in municipalities.csv)"),
        (links, "from", municipality_ids, "links.csv", "municipality"),
        (links, "to", municipality_ids, "links.csv", "municipality"),
        (matrix, "municipality", municipality_ids, "travel_times.csv", "municipality"),
        (matrix, "site", site_ids, "travel_times.csv", "site"),
    ):
        _check_known(df, column, known, label, what, problems)
    if (
        sites is not None
        and municipalities is not None
        and {"municipality", "province"} <= set(sites)
        and "province" in municipalities
    ):
        _check_site_provinces(sites, municipalities, problems)
    if sites is not None and {"min_size", "capacity"} <= set(sites):
        for row, low, high in zip(sites["row"], sites["min_size"], sites["capacity"]):
            if low is not None and high is not None and low > high:
                problems.append(Problem("sites.csv", f"min_size exceeds capacity ({high})", row, "min_size", low))
    if links is not None and {"from", "to"} <= set(links):
        _check_link_pairs(links, problems)
    if matrix is not None and {"municipality", "site"} <= set(matrix):
        _check_matrix_pairs(matrix, problems)


def _check_known(df, column: str, known: set, label: str, what: str, problems: list[Problem]) -> None:
    if df is None or column not in df or not known:
        return
    for row, value in zip(df["row"], df[column]):
        if value is not None and value not in known:
            problems.append(Problem(label, f"unknown {what}", row, column, value))


def _check_site_provinces(sites, municipalities, problems: list[Problem]) -> None:
    home = dict(zip(municipalities["municipality"], municipalities["province"]))
    for row, site_muni, site_prov in zip(sites["row"], sites["municipality"], sites["province"]):
        if site_muni in home and site_prov is not None and home[site_muni] is not None and home[site_muni] != site_prov:
            problems.append(
                Problem(
                    "sites.csv",
                    f"province differs from the province of municipality {site_muni} ({home[site_muni]})",
                    row,
                    "province",
                    site_prov,
                )
            )


def _check_link_pairs(links, problems: list[Problem]) -> None:
    seen: dict[frozenset, int] = {}
    for row, a, b in zip(links["row"], links["from"], links["to"]):
        if a is None or b is None:
            continue
        if a == b:
            problems.append(Problem("links.csv", "a link must join two different municipalities", row, "to", b))
            continue
        pair = frozenset((a, b))
        if pair in seen:
            problems.append(Problem("links.csv", f"duplicate link (first given in row {seen[pair]})", row, "to", b))
        else:
            seen[pair] = row


def _check_matrix_pairs(matrix, problems: list[Problem]) -> None:
    seen: dict[tuple, int] = {}
    for row, a, b in zip(matrix["row"], matrix["municipality"], matrix["site"]):
        if a is None or b is None:
            continue
        if (a, b) in seen:
            problems.append(
                Problem("travel_times.csv", f"duplicate pair (first given in row {seen[(a, b)]})", row, "site", b)
            )
        else:
            seen[(a, b)] = row


def _derive_demand(provinces: pd.DataFrame, municipalities: pd.DataFrame, problems: list[Problem]) -> None:
    """Fill municipalities['demand'] from the province task when absent; check totals when both are given."""
    if "province" not in municipalities or "province" not in provinces:
        return
    task = dict(zip(provinces["province"], provinces["task"])) if "task" in provinces else {}
    rows = dict(zip(provinces["province"], provinces["row"]))
    if "demand" in municipalities:
        _check_task_totals(task, rows, municipalities, problems)
    elif "population" in municipalities:
        municipalities["demand"] = _split_tasks(task, rows, municipalities, problems)


def _check_task_totals(task: dict, rows: dict, municipalities: pd.DataFrame, problems: list[Problem]) -> None:
    if not task or not municipalities["demand"].notna().all():
        return
    totals = municipalities.groupby("province")["demand"].sum(min_count=1).to_dict()
    for pid, want in task.items():
        got = int(totals.get(pid, 0) or 0)
        if want is not None and got != want:
            problems.append(
                Problem(
                    "provinces.csv",
                    f"task differs from the sum of its municipalities' demand ({got})",
                    rows[pid],
                    "task",
                    want,
                )
            )


def _split_tasks(task: dict, rows: dict, municipalities: pd.DataFrame, problems: list[Problem]) -> pd.Series:
    """Each province's task over its municipalities by population × weight (whole places, largest remainder)."""
    weight = municipalities["weight"] if "weight" in municipalities else pd.Series(1.0, index=municipalities.index)
    demand = pd.Series(None, index=municipalities.index, dtype=object)
    for pid, group in municipalities.groupby("province", sort=True):
        want = task.get(pid)
        if want is None:
            if pid in rows:
                problems.append(
                    Problem(
                        "provinces.csv",
                        "municipalities.csv has no 'demand' column, so every province with municipalities needs a task",
                        rows[pid],
                        "task",
                    )
                )
            continue
        if group["population"].isna().any():
            continue  # already reported as a bad cell
        shares = {}
        for idx in group.index:
            w = weight.get(idx)
            shares[group.at[idx, "municipality"]] = group.at[idx, "population"] * (
                1.0 if w is None or pd.isna(w) else w
            )
        if sum(shares.values()) <= 0 and want > 0:
            problems.append(
                Problem(
                    "provinces.csv",
                    "task cannot be split: its municipalities have zero population",
                    rows[pid],
                    "task",
                    want,
                )
            )
            continue
        parts = split_task(int(want), shares)
        for idx in group.index:
            demand[idx] = parts[group.at[idx, "municipality"]]
    return demand
