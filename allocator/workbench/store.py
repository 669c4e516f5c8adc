"""What the workbench keeps while it runs: instances (the one served and uploaded workbooks) and plans.

Everything lives in one folder (a temporary one unless given), removed when the server stops:
``uploads/`` holds uploaded workbooks, ``jobs/`` the folders jobs write, ``plans/<id>`` each plan
kept, as an ordinary solution folder that ``allocator check``, ``compare`` and ``report`` read (a
plan over several periods as a horizon solution folder, which ``check`` and ``report`` read).
"""

from __future__ import annotations

import itertools
import math
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import InstanceError, Problem
from ..data.geo import ATTRIBUTION, boundaries_for
from ..data.instance import Instance
from ..data.load import load_instance
from ..reports.horizon import shown_scenario
from ..results.solution import is_horizon_folder, read_horizon_solution, read_solution
from .jsonable import RequestError, records

MAP_WIDTH = 1000.0  # width of the map's SVG coordinate system


@dataclass
class InstanceEntry:
    """An instance the workbench can solve: its id, where it was read from, and the instance."""

    id: str
    path: Path
    instance: Instance
    uploaded: bool
    map: dict | None = None  # drawn once, on first request


@dataclass
class PlanEntry:
    """A plan kept in the session: its solution folder and what made it."""

    id: str
    folder: Path
    label: str
    instance: str
    job: str
    made: dict  # preset, overrides, force_sites, forbid_sites, how (cold, warm, whatif)
    summary: dict = field(default_factory=dict)
    check: bool = False
    violations: list = field(default_factory=list)
    why: list = field(default_factory=list)  # causes of unmet demand found before solving (allocator explain)
    horizon: bool = False  # a plan over several periods (a horizon solution folder)

    def view(self) -> dict:
        """The plan as the API lists it: status, objective, KPIs, its check, and why demand stays unmet."""
        s = self.summary
        return {
            "id": self.id,
            "label": self.label,
            "instance": self.instance,
            "job": self.job,
            "made": self.made,
            "status": s.get("status"),
            "message": s.get("message", ""),
            "objective": s.get("objective"),
            "bound": s.get("bound"),
            "gap": s.get("gap"),
            "kpis": s.get("kpis", {}),
            "policy": s.get("policy", {}),
            # Passed only if the plan passed the check when it was made and again when read back from its folder.
            "check": {
                "passed": self.check and bool((s.get("check") or {}).get("passed")),
                "violations": self.violations or (s.get("check") or {}).get("violations", []),
            },
            "timings": s.get("timings", {}),
            "why": self.why,
            # With periods: integrated or myopic, the scenario planned for (band: all), the scenarios and periods.
            "horizon": {
                "plan": s.get("plan"),
                "scenario": s.get("scenario"),
                "scenarios": s.get("scenarios", []),
                "periods": [p["period"] for p in s.get("periods", [])],
                "groups": s.get("groups", []),
            }
            if self.horizon
            else None,
        }


class Workspace:
    """The instances and plans of a running workbench, and the folder that holds them."""

    def __init__(self, root: Path):
        self.root = root
        for name in ("uploads", "jobs", "plans", "downloads"):
            (root / name).mkdir(parents=True, exist_ok=True)
        self.instances: dict[str, InstanceEntry] = {}
        self.plans: dict[str, PlanEntry] = {}
        self.lock = threading.RLock()
        self.plan_ids = itertools.count(1)
        self.upload_ids = itertools.count(1)

    # ---------------------------------------------------------------- instances

    def add_instance(self, path: Path, instance: Instance, uploaded: bool) -> InstanceEntry:
        """Keep a validated instance under a new id (its name, numbered when taken)."""
        with self.lock:
            base = instance.name or "instance"
            ident = base
            for k in itertools.count(2):
                if ident not in self.instances:
                    break
                ident = f"{base}-{k}"
            entry = InstanceEntry(ident, path, instance, uploaded)
            self.instances[ident] = entry
            return entry

    def upload(self, filename: str, data: bytes) -> InstanceEntry:
        """Validate an uploaded instance workbook with the same reader as the command line; keep it if valid."""
        if not filename.lower().endswith(".xlsx"):
            raise InstanceError([Problem(filename, "an instance workbook must be an .xlsx file")])
        with self.lock:
            path = self.root / "uploads" / f"upload-{next(self.upload_ids)}.xlsx"
        path.write_bytes(data)
        try:
            instance = load_instance(path)
        except InstanceError as exc:
            path.unlink(missing_ok=True)
            # Problems name the workbook's temporary file: name the file as uploaded instead.
            own = (str(path), path.name)
            raise InstanceError(
                [
                    Problem(
                        filename if p.file in own else p.file,
                        p.message.replace(str(path), filename),
                        p.row,
                        p.column,
                        p.value,
                        p.cell,
                    )
                    for p in exc.problems
                ]
            ) from None
        return self.add_instance(path, instance, uploaded=True)

    def instance(self, ident: str) -> InstanceEntry | None:
        """The instance of this id, if any."""
        return self.instances.get(ident)

    # ---------------------------------------------------------------- plans

    def keep_plan(self, folder: Path, label: str, instance: str, job: str, made: dict, record: dict) -> PlanEntry:
        """Move a plan's solution folder into plans/ under a new id and keep it."""
        with self.lock:
            ident = f"P{next(self.plan_ids)}"
        target = self.root / "plans" / ident
        folder.rename(target)
        horizon = is_horizon_folder(target)
        solution = read_horizon_solution(target) if horizon else read_solution(target)
        entry = PlanEntry(
            ident,
            target,
            label,
            instance,
            job,
            made,
            solution.summary,
            record["check"],
            record["violations"],
            record.get("why", []),
            horizon,
        )
        with self.lock:
            self.plans[ident] = entry
        return entry

    def plan(self, ident: str) -> PlanEntry | None:
        """The plan of this id, if any."""
        return self.plans.get(ident)

    def forget_plan(self, ident: str) -> bool:
        """Drop a plan and its folder."""
        with self.lock:
            entry = self.plans.pop(ident, None)
        if entry is None:
            return False
        shutil.rmtree(entry.folder, ignore_errors=True)
        return True

    def close(self) -> None:
        """Remove the workspace folder."""
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- describing instances and plans


def describe(entry: InstanceEntry) -> dict:
    """What `allocator validate` says about an instance, as JSON."""
    inst = entry.instance
    sites = inst.sites
    kinds = sites.groupby(["kind", "status"]).size()
    h = inst.horizon
    return {
        "id": entry.id,
        "name": inst.name,
        "description": inst.description,
        "uploaded": entry.uploaded,
        "units": inst.units,
        "currency": inst.currency,
        "planning_period": inst.planning_period,
        "budget": inst.budget,
        "travel_mode": inst.travel_mode,
        "total_demand": inst.total_demand,
        "fingerprint": inst.fingerprint,
        "municipalities": len(inst.municipalities),
        "sites": [{"kind": k, "status": s, "count": int(n)} for (k, s), n in kinds.items()],
        "provinces": [
            {
                "id": p,
                "name": str(r["name"]),
                "demand": int(inst.municipalities.loc[inst.municipalities["province"] == p, "demand"].sum()),
                "large_sites": [s for s in sites.index[(sites["province"] == p) & (sites["kind"] == "large")]],
            }
            for p, r in inst.provinces.iterrows()
        ],
        "groups": []
        if inst.groups is None
        else [
            {"id": g, "name": inst.groups.name(g), "target": str(inst.groups.table.at[g, "target"])}
            for g in inst.groups.ids
        ],
        # With periods (periods.csv): the periods in order, the scenarios of need and the need in each.
        "horizon": None
        if h is None
        else {
            "periods": h.period_ids,
            "scenarios": list(h.scenarios),
            "need": records(h.need.groupby(["period", "scenario"], sort=False)["need"].sum().reset_index()),
        },
    }


def instance_map(entry: InstanceEntry) -> dict:
    """The instance drawn in SVG coordinates: boundary paths (when the bundled polygons match), points, sites."""
    if entry.map is not None:
        return entry.map
    inst = entry.instance
    munis, sites = inst.municipalities, inst.sites
    shapes = boundaries_for(munis.index, inst.provinces.index)
    lonlat = [munis[["lon", "lat"]].to_numpy(float), sites[["lon", "lat"]].to_numpy(float)]
    if shapes is not None:
        lonlat += [ring for rings in shapes.municipalities.values() for ring in rings]
    points = np.vstack(lonlat)
    project, width, height = _projection(points)
    muni_paths = {} if shapes is None else {i: _path(rings, project) for i, rings in shapes.municipalities.items()}
    province_paths = {} if shapes is None else {p: _path(rings, project) for p, rings in shapes.provinces.items()}
    mx, my = project(munis[["lon", "lat"]].to_numpy(float)).T
    sx, sy = project(sites[["lon", "lat"]].to_numpy(float)).T
    entry.map = {
        "width": width,
        "height": height,
        "polygons": shapes is not None,
        "attribution": ATTRIBUTION if shapes is not None else "",
        "provinces": [
            {"id": p, "name": str(r["name"]), "path": province_paths.get(p)} for p, r in inst.provinces.iterrows()
        ],
        "municipalities": [
            {
                "id": i,
                "name": str(r["name"]),
                "province": r["province"],
                "demand": int(r["demand"]),
                "x": round(float(x), 1),
                "y": round(float(y), 1),
                "path": muni_paths.get(i),
            }
            for (i, r), x, y in zip(munis.iterrows(), mx, my)
        ],
        "sites": [
            {
                "id": s,
                "name": str(r["name"]),
                "municipality": r["municipality"],
                "province": r["province"],
                "kind": r["kind"],
                "status": r["status"],
                "min_size": int(r["min_size"]),
                "capacity": int(r["capacity"]),
                "fixed_cost": float(r["fixed_cost"]),
                "cost_per_place": float(r["cost_per_place"]),
                "x": round(float(x), 1),
                "y": round(float(y), 1),
            }
            for (s, r), x, y in zip(sites.iterrows(), sx, sy)
        ],
    }
    return entry.map


def _projection(points: np.ndarray):
    """Longitude scaled by the cosine of the middle latitude (distances true near it), fitted to MAP_WIDTH."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    squeeze = math.cos(math.radians((lo[1] + hi[1]) / 2))
    span = max((hi[0] - lo[0]) * squeeze, hi[1] - lo[1], 1e-6)
    pad = 0.04 * span
    scale = MAP_WIDTH / ((hi[0] - lo[0]) * squeeze + 2 * pad) if (hi[0] - lo[0]) * squeeze > 1e-9 else MAP_WIDTH / span

    def project(xy: np.ndarray) -> np.ndarray:
        x = ((xy[:, 0] - lo[0]) * squeeze + pad) * scale
        y = ((hi[1] - xy[:, 1]) + pad) * scale
        return np.column_stack([x, y])

    height = ((hi[1] - lo[1]) + 2 * pad) * scale
    return project, round(MAP_WIDTH, 1), round(float(height), 1)


def _path(rings, project) -> str:
    parts = []
    for ring in rings:
        xy = np.round(project(ring), 1)
        coords = " ".join(f"{x:g},{y:g}" for x, y in xy.tolist())
        parts.append(f"M{coords}Z")
    return "".join(parts)


def plan_detail(entry: PlanEntry, scenario: str | None = None) -> dict:
    """A plan with what the map and the tables show: open sites, flows, municipalities and provinces.

    A plan over several periods is shown in one ``scenario`` (default: mid, else the first): see horizon_detail.
    """
    if entry.horizon:
        return horizon_detail(entry, scenario)
    if scenario is not None:
        raise RequestError(
            [Problem("scenario", "the plan has no periods, so no scenarios: leave scenario out", value=scenario)]
        )
    sol = read_solution(entry.folder)
    sites = sol.sites
    used = sites[(sites["open_site"] == 1) | (sites["fixing"] != "")]
    return {
        **entry.view(),
        "sites": records(
            used[["site", "open_site", "placed", "capacity", "utilisation", "fixing", "fixed_cost", "place_cost"]]
        ),
        "flows": records(sol.placements[["municipality", "site", "placed", "travel_minutes"]]),
        "municipalities": records(
            sol.municipalities[["municipality", "demand", "placed", "unmet", "mean_travel_minutes"]]
        ),
        "provinces": records(sol.provinces),
    }


PERIOD_KPIS = [
    "period",
    "scenario",
    "need",
    "placed",
    "emergency",
    "unmet",
    "open_sites",
    "standby_sites",
    "open_capacity",
    "openings",
    "closings",
    "extensions",
    "total_cost",
]


def horizon_detail(entry: PlanEntry, scenario: str | None) -> dict:
    """A plan over several periods: the KPIs per period and scenario, and in ``scenario`` a timeline per site,
    places per municipality and site per period, need and capacity per province, and with groups each group's need."""
    sol = read_horizon_solution(entry.folder)
    scenarios = list(sol.summary["scenarios"])
    if scenario is None:
        scenario = shown_scenario(sol)
    elif scenario not in scenarios:
        raise RequestError(
            [
                Problem(
                    "scenario", f"not a scenario of this plan (its scenarios: {', '.join(scenarios)})", value=scenario
                )
            ]
        )

    def of(table):
        return table[table["scenario"] == scenario]

    timeline = []
    for site, rows in of(sol.timeline).groupby("site", sort=False):
        first = rows.iloc[0]
        timeline.append(
            {
                "site": site,
                "name": first["name"],
                "province": first["province"],
                "kind": first["kind"],
                "status": first["status"],
                "periods": records(rows[["period", "state", "event", "placed", "capacity"]]),
            }
        )
    placements, municipalities = of(sol.placements), of(sol.municipalities)
    keys = ["municipality", "site", "period"] + (["group"] if "group" in placements else [])
    flows = placements.groupby(keys, sort=False)[["placed"]].sum().reset_index()
    by = ["municipality", "period"] + (["group"] if "group" in municipalities else [])
    munis = municipalities.groupby(by, sort=False)[["demand", "placed", "emergency", "unmet"]]
    detail = {
        **entry.view(),
        "scenario": scenario,
        "scenario_kpis": records(sol.scenarios),
        "period_kpis": records(sol.periods[PERIOD_KPIS]),
        "timeline": timeline,
        "events": records(of(sol.events)[["period", "site", "event", "cost"]]),
        "flows": records(flows[flows["placed"] > 0]),
        "municipalities": records(munis.sum().reset_index()),
        "provinces": records(
            of(sol.provinces)[["province", "name", "period", "need", "placed", "emergency", "unmet", "open_capacity"]]
        ),
        "groups": [],
    }
    if "group" in municipalities:
        names = {g["group"]: g["name"] for g in sol.summary.get("groups", [])}
        per = municipalities.groupby(["group", "period"], sort=False)[["demand", "placed", "emergency", "unmet"]].sum()
        detail["groups"] = [
            {
                "group": g,
                "name": names.get(g, g),
                "periods": records(rows.reset_index().drop(columns="group").rename(columns={"demand": "need"})),
            }
            for g, rows in per.groupby(level="group", sort=False)
        ]
    return detail
