"""`allocator solve` on an instance with periods, and `allocator backtest`."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import click

from .common import (
    EXIT_BAD_INPUT,
    echo_no_plan,
    exit_code,
    instance_path,
    limit_options,
    policy_options,
    write_timed,
)


def describe_horizon(inst) -> list[str]:
    """Lines for `allocator validate`: periods, scenarios, need, emergency capacity, registration centre."""
    h = inst.horizon
    periods = h.period_ids
    need = h.need.groupby(["period", "scenario"])["need"].sum()
    lengths = " / ".join(sorted({f"{y:g}" for y in h.periods["years"]}))
    lines = [
        f"  periods: {len(periods)} ({periods[0]} … {periods[-1]}, {lengths} year{'' if lengths == '1' else 's'} each); scenarios {', '.join(h.scenarios)}",
        f"  need per period{_shared(inst)}: {int(need.min()):,} … {int(need.max()):,} {inst.units}",
    ]
    emergency = h.emergency.groupby("period")["capacity"].sum()
    lines.append(
        f"  emergency capacity: {int(emergency.max()):,} {inst.units} a period"
        if len(emergency)
        else "  emergency capacity: none"
    )
    changed = {c: int(h.lifecycle[c].notna().sum()) for c in h.lifecycle.columns}
    lines.append("  site life cycles: " + (", ".join(f"{n} {c}" for c, n in changed.items() if n) or "none"))
    if h.registration is not None:
        lines.append(f"  registration centre: {h.registration.site}, limit {h.registration.limit:,}")
    if inst.groups is not None and inst.groups.housing is not None:
        lines.append(
            f"  housing task: {inst.groups.name(inst.groups.housing)} (policy housing_rate: the share housed each period)"
        )
    return lines


def _shared(inst) -> str:
    """With demand groups: which groups share need.csv's need (the others have their own per period)."""
    groups = inst.groups
    if groups is None:
        return ""
    shared = [groups.name(g) for g in groups.province_groups if g not in groups.periodic_ids]
    return f" (need.csv, shared by {', '.join(shared)})"


def solve_horizon(progress, source, inst, policy, options, horizon: dict, out, xlsx, province, timings: dict) -> int:
    """Plan the horizon (or its myopic baseline), compare with the baselines, write the folder, print the summary; the exit code."""
    from ..analysis.horizon import plan_horizon, plan_myopic, plan_with_baselines
    from ..core.outputs import check_file_target, claim_folder, safe_name
    from ..reports.horizon import format_horizon_summary

    scenario, myopic = horizon["scenario"], horizon["myopic"]
    refused = _refused(inst, scenario, province)
    if refused:
        click.echo(f"1 problem in the input:\n  - {refused}", err=True)
        return EXIT_BAD_INPUT
    scenario = scenario or "band"
    kind = "myopic" if myopic else "horizon"
    target = Path(out) if out else Path("solutions") / safe_name(f"{inst.name}-{policy.name}-{kind}-{scenario}")
    if xlsx:
        check_file_target(xlsx, inputs=[source])
    with claim_folder(target, "solution", inputs=[source]) as claim:
        baselines = horizon["baseline"] and not myopic
        progress["phase"] = "planning the baselines, then the plan" if baselines else "building and solving the model"
        t = time.perf_counter()
        run = plan_with_baselines if baselines else plan_myopic if myopic else plan_horizon
        outcome = run(inst, policy, options, scenario, timings)
        progress["done"].append(f"solve {outcome.status.value} {outcome.timings.get('solve', 0.0):.2f}s")
        if outcome.solution is None:
            echo_no_plan(inst.name, outcome.result)
            return exit_code(outcome.result.status.value, 0)
        solution = outcome.solution
        if baselines:  # the plan's own phases are in its timings; the rest went to the baselines
            own = sum(v for k, v in solution.summary["timings"].items() if k not in ("load",))
            solution.summary["timings"]["baseline"] = round(max(time.perf_counter() - t - own, 0.0), 4)
        write_timed(solution, claim, progress, target)
    click.echo(format_horizon_summary(solution))
    click.echo(f"\nSolution written to {target}")
    if xlsx:
        from ..reports.workbook import write_horizon_workbook

        click.echo(f"Workbook written to {write_horizon_workbook(solution, xlsx, inputs=[source])}")
    return exit_code(solution.status, float(solution.scenarios["unmet"].sum()))


def _refused(inst, scenario, province) -> str | None:
    """Why these options cannot be used with this instance (None: they can)."""
    if inst.horizon is None:
        option = "--scenario" if scenario is not None else "--myopic"
        return f"{option} needs an instance with periods (periods.csv) and {inst.name} has none: drop {option}"
    if province:
        return (
            "--province plans one snapshot and an instance with periods is planned whole: give --period to plan the "
            "province in one period, or drop --province (the plan's provinces.csv and municipalities.csv show each "
            "province's part)"
        )
    return None


@click.command()
@click.argument("instance", required=False)
@functools.partial(policy_options, default="backtest")
@limit_options(what="each solve", gap=1e-2)
@click.option(
    "--horizon-periods",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Periods each rolling plan looks ahead.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes for independent blocks (0 = one per core).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="CSV file for the replay table (default: print only)."
)
@click.pass_context
def backtest(
    ctx,
    instance,
    choice,
    time_limit,
    gap,
    seed,
    horizon_periods,
    workers,
    out,
):
    """Replay history half-year by half-year: a rolling plan with the forecast known at each date against a myopic one.

    INSTANCE (default: the bundled nl-2024-horizon) needs a backtest/ folder. The default policy
    is models/backtest.toml: large sites follow the need, since the lean years cannot fill them.
    """
    from ..analysis.backtest import replay
    from ..core.errors import InstanceError, Problem
    from ..core.paths import bundled_instance
    from ..data.backtest import load_backtest
    from ..data.load import load_instance
    from ..reports.horizon import format_backtest
    from ..solve.options import SolveOptions

    inst = load_instance(instance_path(instance) if instance else bundled_instance("nl-2024-horizon"))
    if not (Path(inst.source) / "backtest").is_dir():
        raise InstanceError(
            [
                Problem(
                    str(inst.source),
                    "no back-test data: `allocator backtest` replays the instance's backtest/ folder (periods.csv, "
                    "arrived.csv, forecasts.csv, history.csv) and it has none; give an instance with one, such as "
                    "nl-2024-horizon (the default)",
                )
            ]
        )
    data = load_backtest(inst)
    policy = choice.policy()
    options = SolveOptions(time_limit=time_limit, gap=gap, seed=seed, workers=workers)
    result = replay(inst, data, policy, options, horizon_periods, progress=lambda text: click.echo(text, err=True))
    if out:
        from ..core.files import atomic_file

        with atomic_file(out) as path:
            result.table.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
    click.echo(format_backtest(result, inst.currency))
    if out:
        click.echo(f"\nReplay table written to {out}")
    ctx.exit(0)
