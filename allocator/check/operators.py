"""operator_choice: one operator runs a site (site_operators.csv), re-checked from the instance's variants and the
sites the plan keeps open (or on standby, over periods)."""

from __future__ import annotations

from ..data.operators import operator_variants


def check_operator_choice(ctx, report) -> None:
    """operator_choice[l]: at most one variant of a site open."""
    for location, sites in operator_variants(ctx.instance).items():
        running = [s for s in sites if s in ctx.sites.index and ctx.sites.at[s, "open_site"] > 0.5]
        if len(running) > 1:
            report.add(f"operator_choice[{location}]", f"{len(running)} operators run it: {', '.join(running)}")


def check_horizon_operator_choice(ctx, report) -> None:
    """operator_choice[l,t]: at most one variant of a site in service (open or on standby) in each period."""
    for location, sites in operator_variants(ctx.instance).items():
        for w in ctx.scenarios:
            for t in ctx.periods:
                running = [s for s in sites if ctx.state.get((w, s, t), "closed") != "closed"]
                if len(running) > 1:
                    report.add(
                        f"operator_choice[{location},{t}]",
                        f"{len(running)} operators run it ({w}): {', '.join(running)}",
                    )
