"""The `instances`, `policies` and `list` commands: what is bundled, and ids with their names."""

from __future__ import annotations

import click

from .common import instance_path

LISTS = ("provinces", "municipalities", "sites")


@click.command("instances")
def instances_command():
    """List the bundled instances (usable by name, e.g. `allocator solve nl-2024`)."""
    from ..core.fmt import table
    from ..core.paths import bundled_instance, bundled_instances, instances_dir
    from ..data.load import load_instance

    rows = []
    for name in bundled_instances():
        inst = load_instance(bundled_instance(name))
        rows.append(
            [
                name,
                f"{len(inst.provinces)}",
                f"{len(inst.municipalities):,}",
                f"{len(inst.sites):,}",
                f"{inst.total_demand:,}",
                _short(inst.description),
            ]
        )
    click.echo(
        table(
            ["Instance", "Provinces", "Municipalities", "Sites", "Demand", "Description"], rows, "lrrrrl", total=False
        )
    )
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
    """List the provinces, municipalities or sites of an instance (default: nl-2024): ids with their names."""
    from ..core.fmt import table
    from ..data.load import load_instance
    from ..data.names import resolve_province

    inst = load_instance(instance_path(instance))
    if (kind or status) and what != "sites":
        raise click.UsageError("--kind and --status apply to sites")
    p = resolve_province(inst, province) if province else None
    names = inst.provinces["name"]
    if what == "provinces":
        demand = inst.municipalities.groupby("province")["demand"].sum()
        rows = [
            [code, str(r["name"]), f"{int(demand.get(code, 0)):,}"]
            for code, r in inst.provinces.iterrows()
            if p in (None, code)
        ]
        out = table(["Province", "Name", "Demand"], rows, "llr", total=False)
    elif what == "municipalities":
        muni = inst.municipalities if p is None else inst.municipalities[inst.municipalities["province"] == p]
        rows = [
            [i, str(r["name"]), f"{r['province']} {names[r['province']]}", f"{int(r['demand']):,}"]
            for i, r in muni.iterrows()
        ]
        out = table(["Municipality", "Name", "Province", "Demand"], rows, "lllr", total=False)
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
    click.echo(f"\n{len(rows)} {what}")


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
