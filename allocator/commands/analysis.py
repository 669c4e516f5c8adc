"""The `whatif`, `compare` and `sweep` commands: they chain allocator.analysis.whatif, .compare and .sweep."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from .common import (
    EXIT_ERROR,
    EXIT_INFEASIBLE_OR_UNMET,
    EXIT_INTERRUPTED,
    deprecated,
    existing_folders,
    given_instance,
    instance_path,
    limit_options,
    policy_options,
    solutions_and_instance,
    statuses_exit,
)


@click.command()
@click.argument("instance", required=False)
@click.option(
    "--province",
    required=True,
    metavar="CODE|NAME",
    help="Province whose large site is tested, e.g. PV25 or Gelderland.",
)
@click.option(
    "--candidates", default=None, metavar="ID,ID,...", help="Large sites to test (default: all of the province's)."
)
@policy_options
@limit_options(what="each solve")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes for the first (cold) solve's blocks (0 = one per core).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write each plan as a solution folder: DIR/free and DIR/<site id>.",
)
@click.pass_context
def whatif(
    ctx,
    instance,
    province,
    candidates,
    choice,
    time_limit,
    gap,
    seed,
    workers,
    out,
):
    """Rank a province's candidate large sites: solve with each forced in turn.

    On an instance with periods each is a plan over the periods (the site open from its earliest period) and the
    table compares the plans' cost, unmet place-periods, openings, closings and moves, and per period what the
    province's large site holds.
    """
    from ..core.outputs import check_folder_target
    from ..data.load import load_instance
    from ..data.names import resolve_province, resolve_sites, sites_of_province
    from ..solve.options import SolveOptions

    source = instance_path(instance)
    if out:
        check_folder_target(out, "whatif", inputs=[source])
    inst = load_instance(source)
    policy = choice.policy(inst)
    province = resolve_province(inst, province)
    if not policy.allow_cross_province:
        sites_of_province(
            inst,
            choice.fixings(inst, policy),
            province,
            f"without cross-province placements it does not bear on the plan of {inst.provinces.at[province, 'name']}",
        )
    sites = (
        None
        if candidates is None
        else list(resolve_sites(inst, [s.strip() for s in candidates.split(",") if s.strip()], "--candidates"))
    )
    options = SolveOptions(time_limit=time_limit, gap=gap, seed=seed, workers=workers)
    rank, show, write, check = _whatif_steps(inst)
    result = rank(inst, policy, province, sites, options)
    click.echo(show(result, inst.currency))
    statuses = [result.free["status"], *result.table["status"]]
    if out:
        written = write(result, out, inputs=[source])
        failed = []
        for folder in written:  # each folder on its own, as `allocator check` would see it
            report = check(folder, inst)
            if not report.passed:
                failed.append(f"{folder}: {'; '.join(report.violations[:3])}")
        click.echo(
            f"\n{len(written)} solution folders written to {out} (each re-checked: {len(written) - len(failed)} passed)"
        )
        for line in failed:
            click.echo(f"error: check failed for {line}", err=True)
        if failed:
            ctx.exit(EXIT_ERROR)
    if result.free["status"] == "infeasible":
        ctx.exit(EXIT_INFEASIBLE_OR_UNMET)
    ctx.exit(statuses_exit(statuses))


def _whatif_steps(inst):
    """Rank, format, write and check-a-folder for what-if: of one snapshot, or over the periods."""
    if inst.horizon is None:
        from ..analysis.whatif import format_whatif, rank_sites, write_whatif
        from ..check import check_solution
        from ..results.solution import read_solution

        return rank_sites, format_whatif, write_whatif, lambda folder, i: check_solution(read_solution(folder), i)
    from ..analysis.horizon_whatif import format_horizon_whatif, rank_sites_over_periods
    from ..analysis.whatif import write_whatif
    from ..check.horizon import check_horizon_solution
    from ..results.solution import read_horizon_solution

    return (
        rank_sites_over_periods,
        format_horizon_whatif,
        write_whatif,
        lambda folder, i: check_horizon_solution(read_horizon_solution(folder), i),
    )


@click.command()
@click.argument("arguments", nargs=-1, required=True, metavar="SOLUTION SOLUTION... [INSTANCE]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "markdown", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file (atomically) instead of the terminal.",
)
@click.option("--output", "old_out", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.option("--allow-different-instances", is_flag=True, help="Compare solutions made for different instances.")
def compare(arguments, fmt, out, old_out, allow_different_instances):
    """Compare solution folders: KPIs side by side, then what changed relative to the first.

    Folders of plans over several periods are compared period by period (and scenario, and demand group).
    Each folder is re-checked against the instance its summary.json names, unless INSTANCE (a folder, a
    workbook or a bundled name) follows the solution folders.
    """
    from ..analysis.compare_horizon import compare_any_folders, render_any
    from ..core.files import write_text
    from ..core.outputs import check_file_target

    solutions, instance = solutions_and_instance(arguments)
    if old_out is not None:
        deprecated("compare --output FILE", "--out FILE")
        if out is not None:
            raise click.UsageError("the output file is given twice: with --out and with --output")
        out = old_out
    if len(solutions) < 2:
        raise click.UsageError("compare needs at least two solution folders")
    existing_folders(solutions)
    instance = given_instance(instance)
    if out:
        check_file_target(out, inputs=[*solutions, *([instance] if instance else [])])
    text = render_any(compare_any_folders(list(solutions), allow_different_instances, instance), fmt)
    if out:
        write_text(text, out)
        click.echo(f"Comparison written to {out}")
    else:
        click.echo(text, nl=False)


@click.command()
@click.argument("instance", required=False)
@click.option(
    "--vary",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Values of a policy key to sweep (repeatable; the grid is the cartesian product).",
)
@click.option(
    "--scenarios",
    "scenario_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV file: one column per policy key, one scenario per row.",
)
@click.option(
    "--policy",
    "policy_name",
    default="default",
    show_default=True,
    help="Policy preset name in models/ or a .toml file.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a policy key in every scenario (repeatable).",
)
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Sweep folder (default: sweeps/<instance>-<policy>)."
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Local processes, one scenario each (0 = one per core).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on this Dask distributed scheduler instead of local processes.",
)
@click.option("--resume", is_flag=True, help="Keep scenarios already solved with the same inputs.")
@limit_options(what="each solve")
@click.pass_context
def sweep(
    ctx, instance, vary, scenario_file, policy_name, assignments, out, workers, scheduler, resume, time_limit, gap, seed
):
    """Solve a grid or list of policy scenarios; write a folder each and a sweep table.

    On an instance with periods each scenario is a plan over the periods (as `allocator solve` makes it, without
    the baselines) and the table holds the horizon KPIs.
    """
    from ..analysis.sweep import SweepInterrupted, format_sweep, run_sweep, scenarios_from
    from ..core.fmt import status_word
    from ..core.outputs import safe_name
    from ..data.load import load_instance
    from ..data.policy import load_policy, parse_assignments
    from ..solve.options import SolveOptions

    if workers and scheduler:
        raise click.UsageError("--workers and --scheduler exclude each other")
    inst = load_instance(instance_path(instance))
    overrides = parse_assignments(assignments)
    base = load_policy(policy_name, overrides)
    scenarios = scenarios_from(vary, scenario_file)
    folder = Path(out) if out else Path("sweeps") / f"{safe_name(inst.name)}-{safe_name(base.name)}"
    options = SolveOptions(time_limit=time_limit, gap=gap, seed=seed)
    started = time.perf_counter()
    stderr = sys.stderr
    bar = {}

    def progress(done, total, scenario, run):
        # A bar with the time left on a terminal; one line per scenario in a log.
        if scenario is None:
            if stderr.isatty():
                bar["bar"] = click.progressbar(
                    length=total,
                    label=f"Solving {total} of {len(scenarios)} scenarios",
                    show_eta=True,
                    show_pos=True,
                    file=stderr,
                    item_show_func=lambda item: item,
                )
                bar["bar"].__enter__()
            return
        note = f"{_clock(time.perf_counter() - started)} elapsed; {scenario.id}: {status_word(run.status)}"
        if "bar" in bar:
            bar["bar"].update(1, note)
            if done == total:
                bar["bar"].__exit__(None, None, None)
        else:
            click.echo(f"[{done}/{total}] {note} ({run.seconds:.1f}s)", err=True)

    try:
        result = run_sweep(
            inst, scenarios, folder, policy_name, overrides, options, workers, scheduler, resume, progress
        )
    except SweepInterrupted as exc:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
        done = exc.result
        click.echo(
            f"\ninterrupted after {_clock(done.seconds)}: {len(done.table)} of {len(scenarios)} scenarios finished and kept in {folder}"
        )
        if len(done.table):
            click.echo(format_sweep(done, inst.currency))
        click.echo(
            "\nResume with:\n  "
            + _resume_command(
                instance,
                vary,
                scenario_file,
                policy_name,
                assignments,
                folder,
                workers,
                scheduler,
                time_limit,
                gap,
                seed,
            )
        )
        ctx.exit(EXIT_INTERRUPTED)
    figure = _sweep_figure(result.table, folder, inst.currency)
    click.echo(
        f"Sweep of {len(scenarios)} scenarios on {inst.name} (policy {base.name}): {len(result.solved)} solved in {result.where}, {len(result.reused)} kept from before; {_clock(result.seconds)}"
        + (
            f"\n{len(result.kept)} rows of an earlier sweep into {folder} with other scenarios are kept in sweep.csv below this sweep's"
            if result.kept
            else ""
        )
    )
    click.echo(format_sweep(result, inst.currency))
    click.echo(_sweep_note(inst))
    click.echo(
        f"Sweep table written to {folder / 'sweep.csv'}; one solution folder per scenario with a plan."
        + (f"\nFigure written to {figure}" if figure is not None else "")
    )
    ctx.exit(statuses_exit(list(result.table["status"])))


def _sweep_figure(table, folder: Path, currency: str) -> Path | None:
    """sweep.svg beside sweep.csv when the sweep varies one numeric key (reports.sweep); None otherwise."""
    from ..core.files import write_bytes
    from ..reports.sweep import sweep_figure

    svg = sweep_figure(table, currency)
    return None if svg is None else write_bytes(folder / "sweep.svg", svg)


def _sweep_note(inst) -> str:
    """What the columns of the sweep table mean."""
    if inst.horizon is None:
        return "\nPareto: * = no other scenario has lower or equal cost and unmet (cost/unmet) or mean travel (cost/travel), one of them lower."
    return (
        "\nEach scenario is a plan over the periods for every scenario of the band; cost, unmet place-periods and "
        "moves are weighted by the scenario weights.\nPareto: * = no other scenario has lower or equal cost and "
        "unmet place-periods (cost/unmet) or moves (cost/moves), one of them lower."
    )


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{seconds:.1f}s"


def _resume_command(
    instance, vary, scenario_file, policy_name, assignments, folder, workers, scheduler, time_limit, gap, seed
) -> str:
    parts = ["allocator", "sweep"] + ([instance] if instance else [])
    if policy_name != "default":
        parts += ["--policy", policy_name]
    for a in assignments:
        parts += ["--set", a]
    for v in vary:
        parts += ["--vary", v]
    if scenario_file:
        parts += ["--scenarios", scenario_file]
    parts += ["--out", str(folder)]
    if scheduler:
        parts += ["--scheduler", scheduler]
    elif workers:
        parts += ["--workers", str(workers)]
    parts += ["--time-limit", f"{time_limit:g}", "--gap", f"{gap:g}"]
    if seed:
        parts += ["--seed", str(seed)]
    return shlex.join(parts + ["--resume"])
