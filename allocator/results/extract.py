"""The tables and KPIs of the plan a solve loaded into the model: one function per table."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

from ..data.policy import site_fixings
from ..solve.highs import highs_version
from .solution import GROUP_COLUMNS, GROUP_PLACEMENT_COLUMNS, PLACEMENT_COLUMNS, Solution


def extract_solution(instance, model, result, options=None, timings: dict | None = None) -> Solution:
    """Tables and KPIs of the plan loaded in ``model``. Only call with a result that has a plan."""
    if not result.has_plan:
        raise ValueError(f"no plan to extract: the solve ended with status {result.status.value}")
    policy = model.policy
    placements = placements_table(model)
    sites = sites_table(instance, model, placements)
    municipalities = municipalities_table(instance, municipality_demand(model.data), placements)
    provinces = provinces_table(instance, sites, municipalities, placements)
    groups = groups_table(instance, model.data.demand, placements) if model.data.groups else None
    kpis = compute_kpis(
        sites, placements, municipalities, unmet_penalty(policy, municipalities, groups), model.data.budget
    )
    # Written to four decimals of a minute; every figure above was taken from the exact times.
    placements["travel_minutes"] = placements["travel_minutes"].round(4)
    summary = {
        "status": result.status.value,
        "message": result.message,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "absolute_gap": result.absolute_gap,
        "kpis": kpis,
        "provinces": {
            row.province: {
                "demand": row.demand,
                "placed": row.placed,
                "unmet": row.unmet,
                "realisation": row.realisation,
                "large_sites": row.large_sites,
            }
            for row in provinces.itertuples()
        },
        "policy": policy.to_dict(),
        **run_summary(instance, options),
        **({"groups": group_summary(groups)} if groups is not None else {}),
        "blocks": result.blocks,
        "block_gaps": block_gaps(model, result),
        "timings": {k: round(v, 4) for k, v in {**(timings or {}), **result.timings}.items()},
        "versions": versions(),
    }
    return Solution(summary, sites, placements, municipalities, provinces, groups)


def run_summary(instance, options) -> dict:
    """The summary's record of what was solved and how: the solver options and the instance."""
    return {
        "options": None
        if options is None
        else {k: getattr(options, k) for k in ("time_limit", "gap", "threads", "seed", "workers", "decompose")},
        "instance": instance_summary(instance),
    }


def instance_summary(instance) -> dict:
    """The summary's record of the instance a plan was made for (and the period, for one period of an instance with
    periods)."""
    return {
        "name": instance.name,
        "source": instance.source,
        "fingerprint": instance.fingerprint,
        "units": instance.units,
        "currency": instance.currency,
        "planning_period": instance.planning_period,
        **({"period": dict(zip(("period", "scenario"), instance.period))} if instance.period else {}),
    }


def block_gaps(model, result) -> list[dict]:
    """Per independent block: the provinces it holds, its status, objective, bound and absolute gap (as HiGHS reached them)."""
    data = model.data
    out = []
    for block in result.block_outcomes:
        provinces = set()
        for var in block.variables:
            name, index = var.parent_component().name, var.index()
            if name == "open_site":
                provinces.add(data.site_province[index])
            elif name == "placed":
                provinces.add(data.province_of[index[0]])
            elif name == "unmet":
                provinces.add(data.province_of[data.municipality(index)])
        out.append(
            {
                "provinces": sorted(provinces),
                "status": block.status.value,
                "objective": block.objective,
                "bound": block.bound,
                "absolute_gap": block.absolute_gap,
            }
        )
    return out


def placements_table(model) -> pd.DataFrame:
    """placements.csv: one row per arc with places, its travel time, place cost and travel value."""
    data, policy = model.data, model.policy
    w = policy.travel_value

    def amount(v: float) -> float:
        # Whole places are exact; fractional ones are cut to 1e-9 so that sums do not carry solver noise.
        return float(round(v)) if policy.whole_places else round(float(v), 9)

    rows = []
    for arc, var in model.placed.items():
        value = var.value or 0.0
        if value > 1e-9:
            t = data.travel_minutes[arc]
            q = amount(value)
            if q > 0:
                rows.append((*arc, q, t, data.place_cost(arc) * q, w * t * q))
    columns = GROUP_PLACEMENT_COLUMNS if data.groups else PLACEMENT_COLUMNS
    placements = (
        pd.DataFrame(rows, columns=columns)
        .sort_values(columns[: columns.index("placed")], kind="stable")
        .reset_index(drop=True)
    )
    return placements


def sites_table(instance, model, placements: pd.DataFrame) -> pd.DataFrame:
    """sites.csv: every site with its fixing, whether it is open, its places, utilisation and costs."""
    fixed = site_fixings(instance, model.policy)
    sites = instance.sites
    return site_rows(
        instance,
        [fixed[s].reason if s in fixed else "" for s in sites.index],
        [int(round(model.open_site[s].value or 0)) for s in sites.index],
        placements,
    )


def site_rows(instance, fixing: list[str], open_site: list[int], placements: pd.DataFrame) -> pd.DataFrame:
    """The rows of sites.csv from each site's fixing and open state and the (priced) placements."""
    sites = instance.sites
    by_site = placements.groupby("site")[["placed", "place_cost", "travel_value"]].sum()
    table = pd.DataFrame(
        {
            "site": sites.index,
            "name": sites["name"].to_numpy(),
            "municipality": sites["municipality"].to_numpy(),
            "province": sites["province"].to_numpy(),
            "kind": sites["kind"].to_numpy(),
            "status": sites["status"].to_numpy(),
            **(
                {"operator": instance.operators["operator"].reindex(sites.index).to_numpy()}
                if instance.operators is not None
                else {}
            ),
            "fixing": fixing,
            "open_site": open_site,
            "placed": by_site["placed"].reindex(sites.index, fill_value=0.0).to_numpy(),
            "min_size": sites["min_size"].to_numpy(),
            "capacity": sites["capacity"].to_numpy(),
        }
    )
    table["utilisation"] = (table["placed"] / table["capacity"]).round(4)
    table["fixed_cost"] = table["open_site"] * sites["fixed_cost"].to_numpy()
    table["place_cost"] = by_site["place_cost"].reindex(sites.index, fill_value=0.0).to_numpy()
    table["travel_value"] = by_site["travel_value"].reindex(sites.index, fill_value=0.0).to_numpy()
    return table


def municipalities_table(instance, demand: dict[str, int], placements: pd.DataFrame) -> pd.DataFrame:
    """municipalities.csv: demand, placed, unmet, number of sites used and travel per municipality."""
    muni = instance.municipalities
    need = pd.Series(demand).reindex(muni.index).astype(float)
    grouped = placements.groupby("municipality")
    placed = grouped["placed"].sum().reindex(muni.index, fill_value=0.0)
    return pd.DataFrame(
        {
            "municipality": muni.index,
            "name": muni["name"].to_numpy(),
            "province": muni["province"].to_numpy(),
            "demand": need.to_numpy(),
            "placed": placed.to_numpy(),
            "unmet": (need - placed).clip(lower=0).to_numpy(),
            "sites": grouped["site"].count().reindex(muni.index, fill_value=0).to_numpy(),
            "mean_travel_minutes": _ratio(_person_minutes(placements).reindex(muni.index, fill_value=0.0), placed)
            .round(4)
            .to_numpy(),
            "max_travel_minutes": grouped["travel_minutes"].max().reindex(muni.index).to_numpy(),
        }
    )


def municipality_demand(data) -> dict[str, int]:
    """Demand per municipality: its own, or the sum over its groups."""
    out: dict[str, int] = {}
    for unit, d in data.demand.items():
        i = data.municipality(unit)
        out[i] = out.get(i, 0) + d
    return out


def groups_table(instance, unit_demand: dict, placements: pd.DataFrame) -> pd.DataFrame:
    """groups.csv: per province and group, demand (the task, or the share of a national target), placed, unmet.

    ``unit_demand`` maps (municipality, group) to its demand.
    """
    groups = instance.groups
    muni = instance.municipalities
    demand = pd.Series(dict(unit_demand), dtype=float)
    demand.index = pd.MultiIndex.from_tuples(demand.index, names=["municipality", "group"])
    by_unit = demand.groupby(
        [demand.index.get_level_values(0).map(muni["province"]), demand.index.get_level_values(1)]
    ).sum()
    province = placements["municipality"].map(muni["province"])
    placed = placements.groupby([province, placements["group"]])[["placed", "place_cost", "travel_value"]].sum()
    open_sites = placements.groupby([province, placements["group"]])["site"].nunique()
    rows = []
    for p in instance.provinces.index:
        for g in groups.ids:
            need = float(by_unit.get((p, g), 0.0))
            got = (
                placed.loc[(p, g)]
                if (p, g) in placed.index
                else pd.Series({"placed": 0.0, "place_cost": 0.0, "travel_value": 0.0})
            )
            rows.append(
                (
                    p,
                    instance.provinces.at[p, "name"],
                    g,
                    groups.name(g),
                    groups.table.at[g, "target"],
                    need,
                    float(got["placed"]),
                    max(need - float(got["placed"]), 0.0),
                    round(float(got["placed"]) / need, 6) if need else float("nan"),
                    int(open_sites.get((p, g), 0)),
                    float(got["place_cost"]),
                    float(got["travel_value"]),
                )
            )
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def group_summary(groups: pd.DataFrame) -> dict:
    """National totals per group for summary.json."""
    out = {}
    for g, part in groups.groupby("group", sort=False):
        demand, placed = float(part["demand"].sum()), float(part["placed"].sum())
        out[g] = {
            "name": part["group_name"].iloc[0],
            "target": part["target"].iloc[0],
            "demand": demand,
            "placed": placed,
            "unmet": float(part["unmet"].sum()),
        }
    return out


def provinces_table(
    instance, sites: pd.DataFrame, municipalities: pd.DataFrame, placements: pd.DataFrame
) -> pd.DataFrame:
    """provinces.csv: task, placed, unmet and realisation, the large sites, open sites and costs per province."""
    provinces = instance.provinces
    muni = instance.municipalities
    by_prov = (
        municipalities.groupby("province")[["demand", "placed", "unmet"]].sum().reindex(provinces.index, fill_value=0.0)
    )
    person_minutes = _person_minutes(placements).reindex(muni.index, fill_value=0.0)
    prov_minutes = person_minutes.groupby(muni["province"]).sum().reindex(provinces.index, fill_value=0.0)
    open_sites = sites[sites["open_site"] == 1]
    large_open = open_sites[open_sites["kind"] == "large"].groupby("province")
    costs = (
        open_sites.groupby("province")[["fixed_cost"]]
        .sum()
        .join(sites.groupby("province")[["place_cost", "travel_value"]].sum(), how="outer")
    )
    costs = costs.reindex(provinces.index, fill_value=0.0).fillna(0.0)
    table = pd.DataFrame(
        {
            "province": provinces.index,
            "name": provinces["name"].to_numpy(),
            "demand": by_prov["demand"].to_numpy(),
            "placed": by_prov["placed"].to_numpy(),
            "unmet": by_prov["unmet"].to_numpy(),
            "realisation": _ratio(by_prov["placed"], by_prov["demand"]).round(6).to_numpy(),
            "large_sites": [
                ";".join(large_open.get_group(p)["site"]) if p in large_open.groups else "" for p in provinces.index
            ],
            "large_site_names": [
                ";".join(large_open.get_group(p)["name"]) if p in large_open.groups else "" for p in provinces.index
            ],
            "open_sites": open_sites.groupby("province")["site"]
            .count()
            .reindex(provinces.index, fill_value=0)
            .to_numpy(),
            "fixed_cost": costs["fixed_cost"].to_numpy(),
            "place_cost": costs["place_cost"].to_numpy(),
            "travel_value": costs["travel_value"].to_numpy(),
        }
    )
    table["cost"] = table["fixed_cost"] + table["place_cost"]
    table["mean_travel_minutes"] = _ratio(prov_minutes, by_prov["placed"]).round(4).to_numpy()
    return table


def unmet_penalty(policy, municipalities: pd.DataFrame, groups: pd.DataFrame | None) -> float:
    """The penalty of the places left unmet: M sum_i unmet_i, or with demand groups sum_g M_g unmet_g (groups.csv)."""
    if groups is None:
        return policy.unmet_penalty * float(municipalities["unmet"].sum())
    return float(sum(policy.penalty_of(g) * u for g, u in zip(groups["group"], groups["unmet"])))


def compute_kpis(
    sites: pd.DataFrame,
    placements: pd.DataFrame,
    municipalities: pd.DataFrame,
    penalty: float,
    budget: float | None,
) -> dict:
    """The KPIs of summary.json, from the tables; ``penalty`` is the money of the places left unmet (:func:`unmet_penalty`)."""
    placed = float(placements["placed"].sum())
    person_minutes = float((placements["placed"] * placements["travel_minutes"]).sum())
    fixed = float(sites["fixed_cost"].sum())
    place = float(sites["place_cost"].sum())
    travel = float(sites["travel_value"].sum())
    unmet = float(municipalities["unmet"].sum())
    opened = sites[sites["open_site"] == 1]
    return {
        "total_cost": fixed + place,
        "fixed_cost": fixed,
        "place_cost": place,
        "travel_value": travel,
        "unmet_penalty": penalty,
        "demand": float(municipalities["demand"].sum()),
        "placed": placed,
        "unmet": unmet,
        "open_sites": int(len(opened)),
        "open_large_sites": int((opened["kind"] == "large").sum()),
        "open_regular_sites": int((opened["kind"] == "regular").sum()),
        "mean_travel_minutes": round(person_minutes / placed, 4) if placed else None,
        "max_travel_minutes": float(placements["travel_minutes"].max()) if len(placements) else None,
        "budget": budget,
        "budget_used": round((fixed + place) / budget, 6) if budget else None,
    }


def _person_minutes(placements: pd.DataFrame) -> pd.Series:
    return (placements["placed"] * placements["travel_minutes"]).groupby(placements["municipality"]).sum()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den.where(den != 0)).astype(float)


def versions() -> dict:
    """Versions of Python, this package, its main libraries and HiGHS, for the summary."""
    out = {"python": platform.python_version()}
    for dist in ("reception-allocator", "pyomo", "highspy", "pandas", "networkx", "numpy", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["HiGHS"] = highs_version()
    return out
