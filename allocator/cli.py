"""The `allocator` command: chains the pipeline stages; no model logic lives here."""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

import click

from .errors import AllocatorError, InputError
from .cli_options import policy_options
from .paths import DEFAULT_INSTANCE, bundled_instance

# Exit codes (README, "Exit codes").
EXIT_OPTIMAL = 0
EXIT_INFEASIBLE_OR_UNMET = 1
EXIT_BAD_INPUT = 2
EXIT_NO_PLAN = 3
EXIT_NOT_PROVEN = 4
EXIT_ERROR = 5
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Turns known errors into a clear message and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except InputError as exc:
            click.echo(exc.render(), err=True)
            _debug_traceback(ctx)
            ctx.exit(EXIT_BAD_INPUT)
        except AllocatorError as exc:
            click.echo(f"error: {exc}", err=True)
            _debug_traceback(ctx)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt as exc:
            from .interrupts import exit_code as interrupt_code, signal_name

            click.echo(f"interrupted by {signal_name(exc)}: nothing was written", err=True)
            ctx.exit(interrupt_code(exc))
        except Exception as exc:  # an unexpected failure still ends without a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
            ctx.exit(EXIT_ERROR)


def _debug_traceback(ctx) -> None:
    if ctx.obj and ctx.obj.get("debug"):
        traceback.print_exc()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="reception-allocator")
@click.pass_context
def cli(ctx, debug: bool):
    """Allocate asylum-reception demand to reception locations (Pyomo + HiGHS)."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _instance_path(instance: str | None) -> Path:
    return Path(instance) if instance else bundled_instance(DEFAULT_INSTANCE)


@cli.command()
@click.argument("instance", required=False)
def validate(instance):
    """Check an instance folder (default: the bundled nl-2024) and describe it."""
    from .instance import load_instance

    path = _instance_path(instance)
    inst = load_instance(path)
    sites = inst.sites
    kinds = sites.groupby(["kind", "status"]).size()
    click.echo(f"{inst.name}: valid ({path})")
    click.echo(f"  {len(inst.provinces)} provinces, {len(inst.municipalities)} municipalities, total demand {inst.total_demand:,} {inst.units}")
    click.echo("  sites: " + ", ".join(f"{n} {k} {s}" for (k, s), n in kinds.items()))
    if inst.travel_mode == "network":
        modes = inst.links.groupby("mode").size()
        click.echo(f"  travel network: {len(inst.links)} links (" + ", ".join(f"{n} {m}" for m, n in modes.items()) + "), connected")
    else:
        click.echo(f"  travel matrix: {len(inst.matrix)} municipality-site pairs")
    budget = "none" if inst.budget is None else f"{inst.currency} {inst.budget:,.0f}"
    click.echo(f"  budget: {budget}; costs per {inst.planning_period}; fingerprint {inst.fingerprint[:12]}")


def solver_options(f):
    f = click.option("--decompose/--no-decompose", default=True, show_default=True, help="Solve independent blocks (provinces) separately.")(f)
    f = click.option("--log", is_flag=True, help="Show the HiGHS log.")(f)
    f = click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True, help="Processes for independent blocks (0 = one per core).")(f)
    f = click.option("--seed", type=int, default=0, show_default=True, help="HiGHS random seed.")(f)
    f = click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="HiGHS threads per block.")(f)
    f = click.option("--gap", type=click.FloatRange(min=0), default=1e-4, show_default=True, help="Relative MIP gap at which a plan counts as optimal.")(f)
    f = click.option("--time-limit", type=click.FloatRange(min=0), default=300.0, show_default=True, help="Seconds for the whole solve.")(f)
    return f


def make_policy(policy_name, assignments, force_sites, forbid_sites):
    from .policy import ensure_consistent, load_policy, parse_assignments

    overrides: dict[str, object] = parse_assignments(assignments)
    policy = load_policy(policy_name, overrides)
    if force_sites or forbid_sites:
        policy = policy.with_(
            force_sites=tuple(dict.fromkeys(policy.force_sites + tuple(force_sites))),
            forbid_sites=tuple(dict.fromkeys(policy.forbid_sites + tuple(forbid_sites))),
        )
        ensure_consistent(policy)
    return policy


def exit_code(status: str, unmet: float) -> int:
    if status == "optimal":
        return EXIT_INFEASIBLE_OR_UNMET if unmet > 0 else EXIT_OPTIMAL
    return {
        "time_limit": EXIT_NOT_PROVEN,
        "time_limit_no_plan": EXIT_NO_PLAN,
        "infeasible": EXIT_INFEASIBLE_OR_UNMET,
        "unbounded": EXIT_INFEASIBLE_OR_UNMET,
        "interrupted": EXIT_INTERRUPTED,
    }.get(status, EXIT_ERROR)


@cli.command()
@click.argument("instance", required=False)
@policy_options
@solver_options
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Solution folder to write (default: solutions/<instance>-<policy>).")
@click.option("--xlsx", type=click.Path(dir_okay=False), default=None, help="Also write the solution as an Excel workbook (.xlsx).")
@click.option("--explain/--no-explain", "explain_why", default=True, show_default=True, help="When infeasible, or optimal with demand unmet, explain why (as `allocator explain`).")
@click.pass_context
def solve(ctx, instance, policy_name, assignments, force_sites, forbid_sites, time_limit, gap, threads, seed, workers, log, decompose, out, xlsx, explain_why):
    """Solve an instance (default: the bundled nl-2024) and write its solution folder."""
    from .explain import explain
    from .instance import load_instance
    from .interrupts import exit_code as interrupt_code, signal_name
    from .pipeline import solve as run
    from .report import format_summary
    from .solution import write_solution
    from .solver import SolveOptions, Status

    phase, done, written = "loading the instance", [], None
    try:
        t = time.perf_counter()
        inst = load_instance(_instance_path(instance))
        timings = {"load": time.perf_counter() - t}
        done.append(f"load {timings['load']:.2f}s")
        policy = make_policy(policy_name, assignments, force_sites, forbid_sites)
        options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, workers=workers, log=log, decompose=decompose)
        phase = "building and solving the model"
        outcome = run(inst, policy, options, timings)
        done.append(f"solve {outcome.status.value} {outcome.timings.get('solve', 0.0):.2f}s")
        if outcome.solution is None:
            result = outcome.result
            click.echo(f"{inst.name}: {result.status.value}" + (f" ({result.message})" if result.message else ""))
            click.echo("no plan, so no solution folder was written")
            if explain_why and result.status is Status.INFEASIBLE:
                phase = "explaining the infeasibility"
                click.echo("\n" + explain(inst, policy, options, feasible=False).render())
            ctx.exit(exit_code(result.status.value, 0))
        solution = outcome.solution
        target = Path(out) if out else Path("solutions") / f"{inst.name}-{policy.name}"
        phase = "writing the solution folder"
        t = time.perf_counter()
        write_solution(solution, target)
        written = target
        solution.summary["timings"]["write"] = round(time.perf_counter() - t, 4)
        click.echo(format_summary(solution))
        click.echo(f"\nSolution written to {target}")
        if xlsx:
            from .workbook import write_solution_workbook

            click.echo(f"Workbook written to {write_solution_workbook(solution, xlsx)}")
        if explain_why and solution.kpis["unmet"] > 0 and solution.status == "optimal":
            phase = "explaining the unmet demand"
            click.echo("\n" + explain(inst, policy, options, feasible=True).render())
        ctx.exit(exit_code(solution.status, solution.kpis["unmet"]))
    except KeyboardInterrupt as exc:
        finished = f"; finished: {', '.join(done)}" if done else ""
        folder = f"the solution folder {written} was written before" if written else "no solution folder was written"
        click.echo(f"interrupted by {signal_name(exc)} while {phase}{finished}; {folder}", err=True)
        ctx.exit(interrupt_code(exc))


@cli.command()
@click.argument("solution", type=click.Path(exists=True, file_okay=False))
@click.argument("instance", required=False)
@click.pass_context
def check(ctx, solution, instance):
    """Re-check a solution folder against its instance, independently of the model."""
    from .check import check_solution
    from .instance import load_instance
    from .solution import read_solution

    sol = read_solution(solution)
    path = Path(instance) if instance else Path((sol.summary.get("instance") or {}).get("source") or bundled_instance())
    inst = load_instance(path)
    report = check_solution(sol, inst)
    if report.passed:
        click.echo(f"{solution}: passed. Every constraint holds; objective recomputed {report.objective:,.2f} (claimed {sol.objective:,.2f}).")
        ctx.exit(0)
    click.echo(f"{solution}: FAILED, {len(report.violations)} violations:")
    for v in report.violations:
        click.echo(f"  - {v}")
    ctx.exit(EXIT_ERROR)


@click.command("explain")
@click.argument("instance", required=False)
@policy_options
@solver_options
@click.pass_context
def explain_command(ctx, instance, policy_name, assignments, force_sites, forbid_sites, time_limit, gap, threads, seed, workers, log, decompose):
    """Explain why an instance is infeasible under a policy, or why demand stays unmet."""
    from .explain import explain
    from .instance import load_instance
    from .solver import SolveOptions

    inst = load_instance(_instance_path(instance))
    policy = make_policy(policy_name, assignments, force_sites, forbid_sites)
    options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, workers=workers, log=log, decompose=decompose)
    explanation = explain(inst, policy, options)
    click.echo(explanation.render())
    ctx.exit({"feasible": EXIT_OPTIMAL, "infeasible": EXIT_INFEASIBLE_OR_UNMET, "unmet": EXIT_INFEASIBLE_OR_UNMET, "unknown": EXIT_NO_PLAN}[explanation.verdict])


cli.add_command(explain_command)


@cli.command()
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True, help="Demand units per nl-2024 municipality.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Instance folder to write.")
def generate(scale, seed, out):
    """Write a synthetic instance shaped like the Netherlands (for benchmarks)."""
    from .generate import generate as make

    path = make(scale, seed, out)
    click.echo(f"wrote {path}")


from .cli_files import export_instance_command, report_command  # noqa: E402

cli.add_command(report_command)
cli.add_command(export_instance_command)

from .cli_analysis import compare, sweep, whatif  # noqa: E402  (the commands import from this module lazily)

cli.add_command(whatif)
cli.add_command(compare)
cli.add_command(sweep)


def main() -> None:
    from .interrupts import sigterm_raises

    with sigterm_raises():
        cli(prog_name="allocator")


if __name__ == "__main__":
    sys.exit(main())
