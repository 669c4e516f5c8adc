"""The `check-plan`, `merge` and `decide` commands: provincial plans and the minister's allocation decision."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    EXIT_ERROR,
    EXIT_INFEASIBLE_OR_UNMET,
    EXIT_OPTIMAL,
    exit_code,
    instance_path,
    policy_options,
    solver_options,
)


@click.command("check-plan")
@click.argument("plan", nargs=1, type=click.Path(exists=True))
@click.argument("instance", required=False)
@policy_options
@click.pass_context
def check_plan_command(ctx, plan, instance, choice):
    """Check a provincial plan (a CSV file, a workbook with a sheet 'plan', or a folder of them) against its task and every hard rule."""
    from ..check.plans import check_plan
    from ..data.load import load_instance
    from ..data.plans import read_plans
    from ..reports.plans import format_verdict

    inst = load_instance(instance_path(instance))
    policy = choice.policy(inst)
    verdicts = check_plan(read_plans([plan], inst), inst, policy)
    click.echo("\n\n".join(format_verdict(v) for v in verdicts))
    ctx.exit(EXIT_OPTIMAL if all(v.complete for v in verdicts) else EXIT_INFEASIBLE_OR_UNMET)


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--instance", "instance", default=None, help="Instance folder or workbook (default: the bundled nl-2024)."
)
@policy_options
@click.option("--out", type=click.Path(file_okay=False), required=True, help="National solution folder to write.")
@click.pass_context
def merge(ctx, plans, instance, choice, out):
    """Assemble provincial plans (folders of `solve --province`, or plan tables) into one national solution folder and check it."""
    from ..analysis.merge import merge_plans
    from ..data.load import load_instance
    from ..reports.console import format_summary
    from ..results.solution import write_solution

    inst = load_instance(instance_path(instance))
    policy = choice.policy(inst)
    merged = merge_plans(plans, inst, policy)
    names = inst.provinces["name"]
    for p, source in merged.sources.items():
        click.echo(f"{names[p]} ({p}): {source}")
    for p in merged.gaps:
        click.echo(f"{names[p]} ({p}): no plan (gap); its task stays unmet in the merged plan")
    write_solution(merged.solution, out, inputs=[instance_path(instance), *plans])
    click.echo("\n" + format_summary(merged.solution))
    if not merged.check.passed:
        click.echo("\nThe merged plan breaks these rules:")
        click.echo("\n".join(f"  - {v}" for v in merged.check.violations))
    click.echo(f"\nMerged solution written to {out}")
    ctx.exit(EXIT_INFEASIBLE_OR_UNMET if merged.gaps else (EXIT_OPTIMAL if merged.check.passed else EXIT_ERROR))


@click.command()
@click.argument("instance", required=False)
@click.option(
    "--plans",
    "plans",
    required=True,
    type=click.Path(exists=True),
    help="Folder of plan files (.csv, .xlsx); a province without one commits nothing.",
)
@policy_options
@solver_options
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Decision folder (default: decisions/<instance>)."
)
@click.pass_context
def decide(
    ctx,
    instance,
    plans,
    choice,
    options,
    out,
):
    """The allocation decision: keep every committed place, close each province's shortfall at least cost."""
    from ..analysis.decide import decide as run
    from ..data.load import load_instance
    from ..data.plans import read_plans
    from ..reports.decision import format_decision, letters
    from ..reports.plans import format_verdict
    from ..results.decision import letter_name, write_decision

    inst = load_instance(instance_path(instance))
    policy = choice.policy(inst)
    outcome = run(inst, policy, read_plans([plans], inst, allow_none=True), options)
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
    target = Path(out) if out else Path("decisions") / inst.name
    write_decision(decision, target, inputs=[instance_path(instance), plans])
    click.echo(format_decision(decision))
    click.echo(
        f"\nDecision written to {target} (tables, summary.json, and "
        + ", ".join(letter_name(p) for p in decision.letters)
        + ")"
    )
    unmet = float(decision.provinces["unmet"].sum())
    ctx.exit(exit_code(decision.summary["status"], unmet))
