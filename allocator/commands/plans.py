"""The `check-plan`, `merge`, `decide` and `plan` commands: provincial plans and the minister's allocation decision."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    EXIT_ERROR,
    EXIT_INFEASIBLE_OR_UNMET,
    EXIT_OPTIMAL,
    deprecated,
    exit_code,
    instance_path,
    one_period,
    period_and_policy,
    period_option,
    policy_options,
    solver_options,
)

PLANS_HELP = (
    "A plan: a CSV file or a workbook with a sheet 'plan', a folder of them, or a solution folder "
    "(its plan.csv, which `solve --province` writes). Repeatable."
)
INSTANCE = "[INSTANCE]"


def _plans_option(required: bool = False):
    return click.option(
        "--plans",
        "plans",
        multiple=True,
        required=required,
        type=click.Path(exists=True),
        metavar="PATH",
        help=PLANS_HELP,
    )


def _one_instance(args: tuple[str, ...]) -> str | None:
    if len(args) > 1:
        raise click.UsageError(f"give one INSTANCE, and the plans with --plans (got {' '.join(args)})")
    return args[0] if args else None


@click.command("check-plan")
@click.argument("args", nargs=-1, metavar=INSTANCE)
@_plans_option()
@policy_options
@period_option()
@click.pass_context
def check_plan_command(ctx, args, plans, choice, period, scenario):
    """Check provincial plans against their task and every hard rule (INSTANCE: default nl-2024)."""
    from ..check.plans import check_plan
    from ..data.load import load_instance
    from ..data.plans import read_plans
    from ..reports.plans import format_verdict

    if plans:
        instance = _one_instance(args)
    elif args and len(args) <= 2:
        deprecated("allocator check-plan PLAN [INSTANCE]", "allocator check-plan [INSTANCE] --plans PLAN")
        plans, instance = args[:1], (args[1] if len(args) > 1 else None)
    else:
        raise click.UsageError("give the plans with --plans PATH")
    inst, policy = period_and_policy(load_instance(instance_path(instance)), choice, period, scenario)
    verdicts = check_plan(read_plans(plans, inst), inst, policy)
    click.echo("\n\n".join(format_verdict(v) for v in verdicts))
    ctx.exit(EXIT_OPTIMAL if all(v.complete for v in verdicts) else EXIT_INFEASIBLE_OR_UNMET)


@click.command()
@click.argument("args", nargs=-1, metavar=INSTANCE)
@_plans_option()
@click.option("--instance", "old_instance", default=None, hidden=True)
@policy_options
@period_option()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Solution folder to write.")
@click.pass_context
def merge(ctx, args, plans, old_instance, choice, period, scenario, out):
    """Assemble provincial plans into one solution folder for the provinces with a plan, and check it
    (INSTANCE: default nl-2024)."""
    from ..analysis.merge import merge_plans
    from ..data.load import load_instance
    from ..reports.console import format_summary
    from ..results.solution import write_solution

    if plans:
        instance = _one_instance(args)
    elif args:
        deprecated("allocator merge PLAN ... [--instance PATH]", "allocator merge [INSTANCE] --plans PLAN ...")
        plans, instance = args, None
    else:
        raise click.UsageError("give the plans with --plans PATH")
    if old_instance is not None:
        if instance is not None:
            raise click.UsageError("give the instance once: as the first argument")
        if plans and not args:
            deprecated("--instance PATH", "the instance as the first argument")
        instance = old_instance
    inst, policy = period_and_policy(load_instance(instance_path(instance)), choice, period, scenario)
    merged = merge_plans(plans, inst, policy)
    names = inst.provinces["name"]
    for p, source in merged.sources.items():
        click.echo(f"{names[p]} ({p}): {source}")
    for p in merged.gaps:
        click.echo(f"{names[p]} ({p}): no plan; outside the merged plan")
    write_solution(merged.solution, out, inputs=[instance_path(instance), *plans])
    click.echo("\n" + format_summary(merged.solution))
    if not merged.check.passed:
        click.echo("\nThe merged plan breaks these rules:")
        click.echo("\n".join(f"  - {v}" for v in merged.check.violations))
    click.echo(f"\nMerged solution written to {out}")
    if not merged.check.passed:
        ctx.exit(EXIT_ERROR)
    ctx.exit(EXIT_INFEASIBLE_OR_UNMET if merged.solution.kpis["unmet"] > 0 else EXIT_OPTIMAL)


@click.command()
@click.argument("args", nargs=-1, metavar=INSTANCE)
@_plans_option(required=True)
@policy_options
@solver_options
@period_option()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Decision folder (a solution folder with the decision's own tables; default: decisions/<instance>).",
)
@click.pass_context
def decide(ctx, args, plans, choice, options, period, scenario, out):
    """The allocation decision: keep every committed place, close each province's shortfall at least cost
    (INSTANCE: default nl-2024; a province without a plan commits nothing)."""
    from ..analysis.decide import decide as run
    from ..data.load import load_instance
    from ..data.plans import read_plans
    from ..reports.decision import format_decision, letters
    from ..reports.plans import format_verdict
    from ..results.decision import letter_name, write_decision

    instance = _one_instance(args)
    inst, policy = period_and_policy(load_instance(instance_path(instance)), choice, period, scenario)
    outcome = run(inst, policy, read_plans(plans, inst, allow_none=True), options)
    if outcome.blocked:
        click.echo("No decision can keep these plans' committed places as they are:\n")
        click.echo("\n\n".join(format_verdict(v) for v in outcome.blocked))
        ctx.exit(EXIT_INFEASIBLE_OR_UNMET)
    if outcome.decision is None:
        result = outcome.result
        click.echo(f"{inst.name}: {result.status.value}" + (f" ({result.message})" if result.message else ""))
        click.echo("no decision, so no decision folder was written")
        ctx.exit(exit_code(result.status.value, 0))
    decision = outcome.decision
    decision.letters.update(letters(decision))
    target = Path(out) if out else Path("decisions") / "-".join([inst.name, *(inst.period or ())])
    write_decision(decision, target, inputs=[instance_path(instance), *plans])
    click.echo(format_decision(decision))
    click.echo(
        f"\nDecision written to {target} (the decided plan's solution tables, the decision's tables, and "
        + ", ".join(letter_name(p) for p in decision.letters)
        + ")"
    )
    unmet = float(decision.provinces["unmet"].sum())
    ctx.exit(exit_code(decision.summary["status"], unmet))


@click.command("plan")
@click.argument("solution", type=click.Path(exists=True, file_okay=False))
@click.argument("instance", required=False)
@click.option(
    "--province",
    "provinces",
    multiple=True,
    metavar="CODE|NAME",
    help="Only this province's plan (repeatable; default: every province of the solution).",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Plan table to write (a new CSV file).")
@period_option()
def plan_command(solution, instance, provinces, out, period, scenario):
    """Write the plan table of a solution folder (what check-plan, merge and decide read): per province, the places
    at each site for each group of the provinces' task, and the municipality they serve (of a plan over periods:
    in one period, --period)."""
    from ..core.errors import OutputError, Problem
    from ..core.files import write_text
    from ..core.fmt import places
    from ..core.outputs import check_file_target
    from ..core.paths import DEFAULT_INSTANCE
    from ..data.load import find_instance
    from ..data.names import resolve_province
    from ..data.plans import plan_table
    from ..data.policy import load_policy_dict
    from ..results.solution import is_horizon_folder, read_horizon_solution, read_solution

    if Path(out).exists():
        raise OutputError(
            [
                Problem(
                    out,
                    "exists; a plan table is never replaced (it may have been edited since): choose another name, "
                    "or remove it yourself",
                )
            ]
        )
    check_file_target(out, inputs=[solution])
    if is_horizon_folder(solution):
        sol = read_horizon_solution(solution)
        inst = one_period(
            find_instance(sol.summary, solution, instance), period, scenario, load_policy_dict(sol.summary["policy"])
        )
        at = inst.period
        placements = sol.placements[(sol.placements["period"] == at[0]) & (sol.placements["scenario"] == at[1])]
    else:
        sol = read_solution(solution)
        inst = find_instance(sol.summary, solution, instance)
        if period is not None or scenario is not None:
            option = "--period" if period is not None else "--scenario"
            raise click.BadParameter(
                f"{solution} is the plan of one snapshot{' (' + inst.period[0] + ')' if inst.period else ''}: "
                f"drop {option}",
                param_hint=option,
            )
        placements = sol.placements
    table = plan_table(placements, inst)
    if provinces:
        chosen = [resolve_province(inst, p) for p in provinces]
        table = table[table["province"].isin(chosen)]
    if table.empty:
        raise OutputError([Problem(out, "the solution places nobody of the provinces' task there: no plan to write")])
    write_text(table.to_csv(index=False, lineterminator="\n"), out)
    names = inst.provinces["name"]
    for p, part in table.groupby("province", sort=False):
        click.echo(f"{names[p]} ({p}): {part['site'].nunique()} sites, {places(part['places'].sum())} places")
    which = instance or ("" if inst.name == DEFAULT_INSTANCE else inst.name)
    at = f" --period {inst.period[0]} --scenario {inst.period[1]}" if inst.period else ""
    click.echo(
        f"Plan table written to {out}; check it with: allocator check-plan {which + ' ' if which else ''}--plans {out}"
        + at
    )
