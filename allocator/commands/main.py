"""The `allocator` command: the Click group, its error handling, and the commands it holds.

Command modules import only click and commands.common at import time; each command imports
the stages it chains when it runs, so that `allocator --help` does not load Pyomo or HiGHS.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from ..core.errors import AllocatorError, InputError
from ..core.interrupts import exit_code as interrupt_code
from ..core.interrupts import signal_name, sigterm_raises
from .analysis import compare, sweep, whatif
from .common import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_ERROR
from .files import export_instance_command, report_command
from .horizon import backtest
from .lookup import instances_command, list_command, policies_command
from .plans import check_plan_command, decide, merge, plan_command
from .serve import serve
from .solve import check, explain_command, generate, solve, validate


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
            click.echo(f"interrupted by {signal_name(exc)}: nothing was written", err=True)
            ctx.exit(interrupt_code(exc))
        except BrokenPipeError:
            # The reader went away (`allocator list sites | head`): stop quietly, as a pipe would.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
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


# One line each in `allocator --help`, short enough to be shown whole.
COMMANDS = {
    validate: "Check an instance and describe it.",
    solve: "Solve an instance; write and check its plan.",
    check: "Re-check a solution folder, independently.",
    explain_command: "Say why no plan exists or demand stays unmet.",
    whatif: "Rank a province's candidate large sites.",
    compare: "Compare solution folders side by side.",
    sweep: "Solve a grid of policy scenarios.",
    report_command: "Write an HTML report (and PNG figures).",
    export_instance_command: "Write an instance as an Excel workbook.",
    instances_command: "List the bundled instances.",
    policies_command: "List the policy presets.",
    list_command: "List provinces, municipalities, sites or demand groups.",
    generate: "Write a synthetic instance for benchmarks.",
    check_plan_command: "Check a province's plan against its task and the rules.",
    merge: "Assemble provincial plans into one plan of their provinces.",
    decide: "Close the provinces' shortfalls: the allocation decision.",
    plan_command: "Write a solution's plan table, as check-plan reads it.",
    serve: "Start the planning workbench in the browser.",
    backtest: "Replay 2015-2024: a rolling plan against a myopic one.",
}
for command, line in COMMANDS.items():
    command.short_help = line
    cli.add_command(command)


def main() -> None:
    """The console script: SIGTERM is handled like Ctrl-C, so that workers stop and nothing is half written."""
    with sigterm_raises():
        cli(prog_name="allocator")


if __name__ == "__main__":
    sys.exit(main())
