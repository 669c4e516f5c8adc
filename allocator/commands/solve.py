"""The `validate`, `solve`, `check`, `explain` and `generate` commands."""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

import click

from .common import (
    EXIT_ERROR,
    EXIT_INFEASIBLE_OR_UNMET,
    EXIT_NO_PLAN,
    EXIT_OPTIMAL,
    echo_no_plan,
    exit_code,
    given_instance,
    instance_path,
    period_and_policy,
    period_option,
    policy_options,
    solver_options,
    write_timed,
)


@click.command()
@click.argument("instance", required=False)
def validate(instance):
    """Check an instance folder (default: the bundled nl-2024) and describe it."""
    from ..data.load import load_instance

    path = instance_path(instance)
    inst = load_instance(path)
    sites = inst.sites
    kinds = sites.groupby(["kind", "status"]).size()
    click.echo(f"{inst.name}: valid ({path})")
    split = inst.demand_by_target().sum()
    national = (
        f": the provinces' task {split['task']:,} + national groups {split['national']:,}" if split["national"] else ""
    )
    demand = (
        f"total demand {split['demand']:,} {inst.units}{national}"
        if inst.horizon is None
        else f"need per period below (municipalities' demand, the key that splits it: {split['task']:,})"
    )
    click.echo(f"  {len(inst.provinces)} provinces, {len(inst.municipalities)} municipalities, {demand}")
    click.echo("  sites: " + ", ".join(f"{n} {k} {s}" for (k, s), n in kinds.items()))
    if inst.groups is not None:
        totals = _group_totals(inst)
        for label, ids in (
            ("task groups", inst.groups.province_groups),
            ("national groups", inst.groups.national_groups),
        ):
            if ids:
                click.echo(
                    f"  {label}{' per period' if inst.horizon is not None else ''}: "
                    + "; ".join(f"{inst.groups.name(g)} {totals[g]}" for g in ids)
                )
    if inst.travel_mode == "network":
        modes = inst.links.groupby("mode").size()
        click.echo(
            f"  travel network: {len(inst.links)} links ("
            + ", ".join(f"{n} {m}" for m, n in modes.items())
            + "), connected"
        )
    else:
        click.echo(f"  travel matrix: {len(inst.matrix)} municipality-site pairs")
    budget = "none" if inst.budget is None else f"{inst.currency} {inst.budget:,.0f}"
    click.echo(f"  budget: {budget}; costs per {inst.planning_period}; fingerprint {inst.fingerprint[:12]}")
    if inst.horizon is not None:
        from .horizon import describe_horizon

        for line in describe_horizon(inst):
            click.echo(line)


def _group_totals(inst) -> dict[str, str]:
    """Each group's places: its demand, or over periods the least and most of any period and scenario."""
    groups = inst.groups
    if inst.horizon is None:
        return {g: f"{int(v):,}" for g, v in groups.demand.sum().items()}
    per_case: dict[str, list[int]] = {g: [] for g in groups.ids}
    for units in inst.horizon.group_demand.values():
        totals = dict.fromkeys(groups.ids, 0)
        for (_i, g), v in units.items():
            totals[g] += v
        for g, v in totals.items():
            per_case[g].append(v)
    return {g: f"{min(v):,}" if min(v) == max(v) else f"{min(v):,} … {max(v):,}" for g, v in per_case.items()}


@click.command()
@click.argument("instance", required=False)
@policy_options
@functools.partial(
    solver_options,
    what="the solve and, when its plan leaves demand unmet, the explanation (with a budget a third is kept for it)",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Solution folder to write (default: solutions/<instance>-<policy>).",
)
@click.option(
    "--xlsx",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the solution as an Excel workbook (.xlsx).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Solve the independent blocks on this Dask distributed scheduler's cluster instead of local processes.",
)
@click.option(
    "--province",
    metavar="CODE|NAME",
    default=None,
    help="Plan one province on its own (its municipalities, sites and share of a budget): a provincial plan.",
)
@click.option(
    "--explain/--no-explain",
    "explain_why",
    default=True,
    show_default=True,
    help="When infeasible, or when a plan leaves demand unmet (proven optimal or not), explain why (as `allocator explain`).",
)
@click.option(
    "--scenario",
    default=None,
    metavar="NAME|band",
    help="With periods: plan for one scenario of need.csv, or for all of them at once (band, the default).",
)
@click.option(
    "--period",
    default=None,
    metavar="PERIOD",
    help="With periods: plan this period alone as one snapshot (its need under --scenario, the sites in service "
    "then, its budget); with --province, the province's plan for it.",
)
@click.option("--myopic", is_flag=True, help="With periods: the baseline that plans each period for itself.")
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="With periods: also plan the myopic baseline (and, for a band, each scenario alone) and compare.",
)
@click.pass_context
def solve(
    ctx,
    instance,
    choice,
    options,
    out,
    xlsx,
    scheduler,
    province,
    explain_why,
    scenario,
    period,
    myopic,
    baseline,
):
    """Solve an instance (default: the bundled nl-2024) and write its solution folder.

    An instance with periods (periods.csv) is planned over its periods: --scenario, --myopic and
    --baseline choose what is planned and compared; --period plans one period as a snapshot.
    """
    if options.workers and scheduler:
        raise click.UsageError("--workers and --scheduler exclude each other")
    from ..core.interrupts import exit_code as interrupt_code
    from ..core.interrupts import signal_name

    progress = {"phase": "loading the instance", "done": [], "written": None, "started": time.monotonic()}
    try:
        code = _solve(
            progress,
            instance,
            choice,
            out,
            xlsx,
            explain_why,
            province,
            {"scenario": scenario, "period": period, "myopic": myopic, "baseline": baseline},
            dataclasses.replace(options, scheduler=scheduler),
        )
    except KeyboardInterrupt as exc:
        done, written = progress["done"], progress["written"]
        finished = f"; finished: {', '.join(done)}" if done else ""
        folder = f"the solution folder {written} was written before" if written else "no solution folder was written"
        click.echo(f"interrupted by {signal_name(exc)} while {progress['phase']}{finished}; {folder}", err=True)
        code = interrupt_code(exc)
    ctx.exit(code)


def _solve(
    progress,
    instance,
    choice,
    out,
    xlsx,
    explain_why,
    province,
    horizon,
    options,
) -> int:
    from ..analysis.explain import explain
    from ..analysis.pipeline import solve as run
    from ..analysis.pipeline import solve_province
    from ..core.outputs import check_file_target, claim_folder, safe_name
    from ..data.load import load_instance
    from ..data.names import resolve_province, sites_of_province
    from ..data.province import province_instance
    from ..reports.console import format_summary
    from ..solve.options import Status

    source = instance_path(instance)
    t = time.perf_counter()
    inst = load_instance(source)
    timings = {"load": time.perf_counter() - t}
    progress["done"].append(f"load {timings['load']:.2f}s")
    inst, policy = _period(inst, choice, horizon)
    if inst.period is None and (inst.horizon is not None or horizon["scenario"] is not None or horizon["myopic"]):
        from .horizon import solve_horizon

        return solve_horizon(progress, source, inst, policy, options, horizon, out, xlsx, province, timings)
    if province is not None:
        province = resolve_province(inst, province)
        sites_of_province(inst, choice.fixings(inst, policy), province, "a provincial plan holds its own sites only")
    name = "-".join([inst.name, *(inst.period or ()), *([province] if province else []), policy.name])
    target = Path(out) if out else Path("solutions") / safe_name(name)
    if xlsx:
        check_file_target(xlsx, inputs=[source])
    with claim_folder(target, "solution", inputs=[source]) as claim:
        progress["phase"] = "building and solving the model"
        budgeted = policy.effective_budget(inst.budget) is not None
        own, explaining = time_split(options, progress["started"], budgeted and explain_why)
        if province is not None:
            outcome = solve_province(inst, policy, province, own, timings)
            inst, policy = province_instance(inst, province), outcome.model.policy
        else:
            outcome = run(inst, policy, own, timings)
        progress["done"].append(f"solve {outcome.status.value} {outcome.timings.get('solve', 0.0):.2f}s")
        if outcome.solution is None:
            result = outcome.result
            echo_no_plan(inst.name, result)
            if explain_why and result.status is Status.INFEASIBLE:
                progress["phase"] = "explaining the infeasibility"
                click.echo("\n" + explain(inst, policy, explaining(), feasible=False).render())
            return exit_code(result.status.value, 0)
        solution = outcome.solution
        write_timed(solution, claim, progress, target)
    click.echo(format_summary(solution))
    click.echo(f"\nSolution written to {target}")
    if xlsx:
        from ..reports.workbook import write_solution_workbook

        click.echo(f"Workbook written to {write_solution_workbook(solution, xlsx, inputs=[source])}")
    if explain_why and solution.kpis["unmet"] > 0:
        progress["phase"] = "explaining the unmet demand"
        click.echo("\n" + explain(inst, policy, explaining(), feasible=True, plan=solution).render())
    return exit_code(solution.status, solution.kpis["unmet"])


def _period(inst, choice, horizon: dict):
    """The instance and the policy, or with --period the snapshot of that period and the policy."""
    if horizon["period"] is None:
        return inst, choice.policy(inst)
    if horizon["myopic"]:
        raise click.UsageError("--period plans one period and --myopic every period one by one: drop one of them")
    return period_and_policy(inst, choice, horizon["period"], horizon["scenario"])


# With a budget, the explanation of a plan that leaves demand unmet needs solves of its own (the bound on the
# fewest unmet places, the least spend that places everyone): this share of --time-limit is kept for it.
EXPLAIN_SHARE = 1 / 3


def time_split(options, started: float, budget_explained: bool):
    """The options of the solve, and a function giving the explanation's: --time-limit covers the command from
    ``started`` (time.monotonic()), the explanation included; with a budget to explain, the solve has
    1 - EXPLAIN_SHARE of it."""
    end = started + options.time_limit
    own = dataclasses.replace(options, time_limit=options.time_limit * (1 - EXPLAIN_SHARE))
    return own if budget_explained else options, lambda: dataclasses.replace(
        options, time_limit=max(end - time.monotonic(), 0.0)
    )


@click.command()
@click.argument("solution", type=click.Path(exists=True, file_okay=False))
@click.argument("instance", required=False)
@click.pass_context
def check(ctx, solution, instance):
    """Re-check a solution folder against its instance, independently of the model."""
    from ..check import check_solution
    from ..check.decision import check_decision_folder
    from ..check.horizon import check_horizon_solution
    from ..data.load import find_instance
    from ..results.decision import SUBMITTED, is_decision_folder, read_decision
    from ..results.solution import is_horizon_folder, read_horizon_solution, read_solution

    horizon = is_horizon_folder(solution)
    decision = not horizon and is_decision_folder(solution)
    if decision:
        sol = read_decision(solution)
    else:
        sol = read_horizon_solution(solution) if horizon else read_solution(solution)
    inst = find_instance(sol.summary, solution, given_instance(instance))
    if decision:
        report = check_decision_folder(sol, inst, Path(solution) / f"{SUBMITTED}.csv")
    else:
        report = check_horizon_solution(sol, inst) if horizon else check_solution(sol, inst)
    if horizon and sol.baseline is not None:
        report.violations += [f"baseline: {v}" for v in check_horizon_solution(sol.baseline, inst).violations]
    against = f"instance {inst.name} ({inst.fingerprint[:12]}), policy '{report.policy}' as summary.json states it"
    if report.passed:
        own = (
            " The decision keeps every committed place, opens and adds only where a plan falls short, and its cost "
            "agrees with its recomputation."
            if decision
            else ""
        )
        click.echo(
            f"{solution}: passed against {against}. Every constraint holds and every table and summary figure agrees "
            f"with its recomputation; objective recomputed {report.objective:,.2f} (claimed {sol.summary['objective'] if decision else sol.objective:,.2f}).{own}"
        )
        ctx.exit(0)
    click.echo(f"{solution}: FAILED against {against}: {len(report.violations)} violations:")
    for v in report.violations:
        click.echo(f"  - {v}")
    ctx.exit(EXIT_ERROR)


@click.command("explain")
@click.argument("instance", required=False)
@policy_options
@functools.partial(solver_options, what="the whole explanation")
@period_option()
@click.pass_context
def explain_command(ctx, instance, choice, options, period, scenario):
    """Explain why an instance is infeasible under a policy, or why demand stays unmet (with periods: in one
    period, --period)."""
    from ..analysis.explain import explain
    from ..data.load import load_instance

    inst, policy = period_and_policy(load_instance(instance_path(instance)), choice, period, scenario)
    explanation = explain(inst, policy, options)
    click.echo(explanation.render())
    ctx.exit(
        {
            "feasible": EXIT_OPTIMAL,
            "infeasible": EXIT_INFEASIBLE_OR_UNMET,
            "unmet": EXIT_INFEASIBLE_OR_UNMET,
            "unknown": EXIT_NO_PLAN,
        }[explanation.verdict]
    )


@click.command()
@click.option(
    "--scale", type=click.IntRange(min=1), default=1, show_default=True, help="Demand units per nl-2024 municipality."
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed: the same scale and seed give the same instance.",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Instance folder to write.")
def generate(scale, seed, out):
    """Write a synthetic instance shaped like the Netherlands (for benchmarks)."""
    from ..data.generate import generate as make

    path = make(scale, seed, out)
    click.echo(f"wrote {path}")
