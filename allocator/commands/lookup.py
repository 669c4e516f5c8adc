"""The `instances`, `policies` and `list` commands: what is bundled, and ids with their names."""

from __future__ import annotations

import click

from .common import instance_path

LISTS = ("provinces", "municipalities", "sites", "groups")


@click.command("instances")
def instances_command():
    """List the bundled instances (usable by name, e.g. `allocator solve nl-2024`)."""
    from ..core.fmt import table
    from ..core.paths import bundled_instance, bundled_instances, instances_dir
    from ..data.load import load_instance

    rows = []
    for name in bundled_instances():
        inst = load_instance(bundled_instance(name))
        split = _demand_split(inst)
        rows.append(
            [
                name,
                f"{len(inst.provinces)}",
                f"{len(inst.municipalities):,}",
                f"{len(inst.sites):,}",
                *[f"{split[c]:,}" for c in DEMAND_COLUMNS],
                _short(inst.description, 60),
            ]
        )
    headers = ["Instance", "Provinces", "Municipalities", "Sites", *DEMAND_HEADERS, "Description"]
    click.echo(table(headers, rows, "lrrrrrrl", total=False))
    click.echo(f"\n{DEMAND_NOTE} (with periods: in the period and scenario of the largest demand)")
    click.echo(f"\nBundled in {instances_dir()}")


@click.command("policies")
def policies_command():
    """List the policy presets (usable with --policy NAME)."""
    from ..core.fmt import table
    from ..core.paths import models_dir
    from ..data.policy import available_presets, load_policy

    rows = [[name, _short(load_policy(name).description, 100)] for name in available_presets()]
    click.echo(table(["Policy", "Description"], rows, "ll", total=False))
    click.echo(
        f"\nPresets in {models_dir()}; any key can be changed with --set KEY=VALUE (see `allocator solve --help`)."
    )


@click.command("list")
@click.argument("what", type=click.Choice(LISTS))
@click.argument("instance", required=False)
@click.option(
    "--province",
    default=None,
    metavar="CODE|NAME",
    help="Only this province (code such as PV25, or name such as Gelderland).",
)
@click.option(
    "--kind", type=click.Choice(["large", "regular"]), default=None, help="Sites: only large or only regular ones."
)
@click.option(
    "--status",
    type=click.Choice(["candidate", "existing"]),
    default=None,
    help="Sites: only candidates or only existing ones.",
)
def list_command(what, instance, province, kind, status):
    """List the provinces, municipalities, sites or demand groups of an instance (default: nl-2024): ids with their names."""
    from ..core.fmt import table
    from ..data.load import load_instance
    from ..data.names import resolve_province

    inst = load_instance(instance_path(instance))
    if (kind or status) and what != "sites":
        raise click.UsageError("--kind and --status apply to sites")
    p = resolve_province(inst, province) if province else None
    names = inst.provinces["name"]
    split = inst.demand_by_target()
    columns = DEMAND_COLUMNS if split["national"].any() else ("task",)
    headers = DEMAND_HEADERS[: len(columns)]
    if what == "groups":
        out, rows = _groups(inst, p)
    elif what == "provinces":
        by_province = split.groupby(inst.municipalities["province"]).sum().reindex(inst.provinces.index, fill_value=0)
        rows = [
            [code, str(r["name"]), *[f"{int(by_province.at[code, c]):,}" for c in columns]]
            for code, r in inst.provinces.iterrows()
            if p in (None, code)
        ]
        out = table(["Province", "Name", *headers], rows, "ll" + "r" * len(columns), total=False)
    elif what == "municipalities":
        muni = inst.municipalities if p is None else inst.municipalities[inst.municipalities["province"] == p]
        rows = [
            [
                i,
                str(r["name"]),
                f"{r['province']} {names[r['province']]}",
                *[f"{int(split.at[i, c]):,}" for c in columns],
            ]
            for i, r in muni.iterrows()
        ]
        out = table(["Municipality", "Name", "Province", *headers], rows, "lll" + "r" * len(columns), total=False)
    else:
        sites = inst.sites
        keep = (
            (sites["province"] == p if p else True)
            & (sites["kind"] == kind if kind else True)
            & (sites["status"] == status if status else True)
        )
        chosen = sites[keep] if not isinstance(keep, bool) else sites
        muni = inst.municipalities["name"]
        rows = [
            [
                s,
                str(r["name"]),
                f"{r['municipality']} {muni[r['municipality']]}",
                str(r["province"]),
                r["kind"],
                r["status"],
                f"{int(r['capacity']):,}",
            ]
            for s, r in chosen.iterrows()
        ]
        out = table(
            ["Site", "Name", "Municipality", "Province", "Kind", "Status", "Capacity"],
            rows,
            "llllllr",
            total=False,
        )
    click.echo(out)
    if what != "groups" or rows:
        click.echo(f"\n{len(rows)} {what}" + (f"; {DEMAND_NOTE}" if what != "groups" and len(columns) > 1 else ""))


def _groups(inst, province: str | None) -> tuple[str, list]:
    """The demand groups: id, name, target, the sites rule and the demand (of one province, when given)."""
    from ..core.fmt import table

    if inst.groups is None:
        demand = inst.municipalities["demand"]
        if province is not None:
            demand = demand[inst.municipalities["province"] == province]
        return (
            f"{inst.name} has no demand groups (groups.csv): one demand of {int(demand.sum()):,} {inst.units}, the provinces' task",
            [],
        )
    demand = inst.groups.demand
    if province is not None:
        demand = demand[inst.municipalities.loc[demand.index, "province"] == province]
    totals = demand.sum()
    g = inst.groups.table
    rows = [[group, str(r["name"]), r["target"], r["sites"], f"{int(totals[group]):,}"] for group, r in g.iterrows()]
    body = table(["Group", "Name", "Target", "Sites", "Demand"], rows, "llllr", total=False)
    task = sum(int(totals[x]) for x in inst.groups.province_groups)
    national = sum(int(totals[x]) for x in inst.groups.national_groups)
    notes = [
        "",
        f"Demand {task + national:,} {inst.units}: the task {task:,} (groups with target province) + national groups {national:,} (target national).",
        "Sites: all = every site; regular = regular sites only; listed = only the sites site_groups.csv lists for the group.",
    ]
    if inst.groups.housing is not None:
        notes.append(
            f"Housing task: {inst.groups.housing} (housing = task in groups.csv): the policy key housing_rate sets the "
            "share housed each period, and transit sites take this group only."
        )
    return "\n".join([body, *notes]), rows


DEMAND_COLUMNS = ("task", "national", "demand")
DEMAND_HEADERS = ["Task", "National", "Demand"]
DEMAND_NOTE = "Task: the provinces' own groups; National: groups with a national target; Demand = Task + National"


def _demand_split(inst) -> dict[str, int]:
    """Task, national and demand: the instance's, or over periods those of the case with the largest demand."""
    if inst.horizon is None:
        return {k: int(v) for k, v in inst.demand_by_target().sum().items()}
    national = set(inst.groups.national_groups) if inst.groups is not None else set()
    best = {"task": 0, "national": 0, "demand": -1}
    for t in inst.horizon.period_ids:
        for w in inst.horizon.scenarios:
            units = inst.horizon.units(t, w)
            away = sum(v for u, v in units.items() if not isinstance(u, str) and u[1] in national)
            total = sum(units.values())
            if total > best["demand"]:
                best = {"task": total - away, "national": away, "demand": total}
    return best


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
