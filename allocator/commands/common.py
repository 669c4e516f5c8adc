"""What several commands share: exit codes, option groups, the policy from the options, the default instance.

This module imports only click and the ground floor, so that `allocator --help` stays quick.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path

import click

from ..core.fmt import status_text
from ..core.paths import DEFAULT_INSTANCE, bundled_instance
from ..solve.options import SolveOptions, Status

# Exit codes (README, "Exit codes").
EXIT_OPTIMAL = 0
EXIT_INFEASIBLE_OR_UNMET = 1
EXIT_BAD_INPUT = 2
EXIT_NO_PLAN = 3
EXIT_NOT_PROVEN = 4
EXIT_ERROR = 5
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


def deprecated(old: str, new: str) -> None:
    """Say on stderr, in one line, that a spelling still works for now and which one replaces it."""
    click.echo(f"deprecated: {old} (still accepted for one release); use {new}", err=True)


def instance_path(instance: str | None) -> Path:
    """The instance given on the command line (a folder, a workbook, or the name of a bundled instance), else nl-2024."""
    if not instance:
        return bundled_instance(DEFAULT_INSTANCE)
    path = Path(instance)
    if not path.exists() and "/" not in instance and bundled_instance(instance).is_dir():
        return bundled_instance(instance)
    return path


def given_instance(instance: str | None) -> Path | None:
    """An instance named after the solution folders (a folder, a workbook or a bundled name); None: the one
    each folder's summary.json names."""
    return instance_path(instance) if instance else None


def solutions_and_instance(arguments: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """SOLUTION... [INSTANCE]: the last argument is the instance when it is not a solution folder (no
    summary.json) but names an instance (a bundled name, a workbook, or a folder with instance.toml)."""
    if len(arguments) < 2:
        return tuple(arguments), None
    last = Path(arguments[-1])
    if (last / "summary.json").is_file():
        return tuple(arguments), None
    is_instance = (
        (last / "instance.toml").is_file()
        or (last.suffix.lower() == ".xlsx" and last.is_file())
        or (not last.exists() and "/" not in arguments[-1] and bundled_instance(arguments[-1]).is_dir())
    )
    return (tuple(arguments[:-1]), arguments[-1]) if is_instance else (tuple(arguments), None)


def existing_folders(folders: tuple[str, ...], hint: str = "SOLUTION") -> None:
    """Refuse, as a usage error, a solution folder that does not exist."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise click.BadParameter(f"{folder}: no such solution folder", param_hint=hint)


@dataclass(frozen=True)
class PolicyChoice:
    """What the policy options chose: a preset or file, --set overrides, sites forced and forbidden."""

    name: str
    assignments: tuple[str, ...] = ()
    force_sites: tuple[str, ...] = ()
    forbid_sites: tuple[str, ...] = ()

    def fixings(self, instance, policy) -> dict[str, tuple[str, ...]]:
        """The sites ``policy`` forces and forbids, by where they were given: the options, or the policy's keys."""
        from ..data.names import resolve_sites

        force = resolve_sites(instance, self.force_sites, "--force-site")
        forbid = resolve_sites(instance, self.forbid_sites, "--forbid-site")
        label = f"policy '{policy.name}'"
        return {
            "--force-site": force,
            "--forbid-site": forbid,
            f"{label} (force_sites)": tuple(s for s in policy.force_sites if s not in force),
            f"{label} (forbid_sites)": tuple(s for s in policy.forbid_sites if s not in forbid),
        }

    def policy(self, instance=None):
        """The preset with the overrides and fixings applied (sites by id, or by name when ``instance`` is given)."""
        from ..data.names import resolve_sites
        from ..data.policy import load_policy, parse_assignments, with_fixings

        policy = load_policy(self.name, parse_assignments(self.assignments))
        force, forbid = self.force_sites, self.forbid_sites
        if instance is not None:
            force = resolve_sites(instance, force, "--force-site")
            forbid = resolve_sites(instance, forbid, "--forbid-site")
        return with_fixings(policy, force, forbid)


def gathered(into: str, names: tuple[str, ...], make):
    """Hand a command the options ``names`` as one argument ``into``, made by ``make(**values)``."""

    def decorate(f):
        @functools.wraps(f)
        def command(*args, **kwargs):
            kwargs[into] = make(**{n: kwargs.pop(n) for n in names})
            return f(*args, **kwargs)

        return command

    return decorate


POLICY_OPTIONS = ("policy_name", "assignments", "force_sites", "forbid_sites")


def policy_options(f, default: str = "default"):
    """--policy (preset ``default``), --set, --force-site and --forbid-site, handed over as ``choice``
    (a :class:`PolicyChoice`)."""
    from ..data.policy import KEYS

    f = gathered("choice", POLICY_OPTIONS, lambda policy_name, **rest: PolicyChoice(policy_name, **rest))(f)

    keys = ", ".join(k for k in KEYS if k not in ("name", "description"))
    f = click.option(
        "--forbid-site",
        "forbid_sites",
        multiple=True,
        metavar="ID|NAME",
        help="Keep this site closed (repeatable; an id, or a name that names one site).",
    )(f)
    f = click.option(
        "--force-site",
        "force_sites",
        multiple=True,
        metavar="ID|NAME",
        help="Open this site (repeatable; an id, or a name that names one site).",
    )(f)
    f = click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help=f"Override a policy key (repeatable), e.g. --set budget=2.5e9. Keys: {keys} (models/README.md explains each).",
    )(f)
    f = click.option(
        "--policy",
        "policy_name",
        default=default,
        show_default=True,
        help="Policy preset (see `allocator policies`) or a .toml file.",
    )(f)
    return f


class FiniteFloat(click.ParamType):
    """A finite number within [low, high]: NaN and infinity are refused with the option named."""

    name = "number"

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"{value!r} is not between {self.low:g} and {self.high:g}", param, ctx)
        return number


def limit_options(what: str = "the whole solve", gap: float | None = None):
    """--time-limit, --gap (default ``gap``, else SolveOptions') and --seed."""

    def decorate(f):
        f = click.option("--seed", type=int, default=0, show_default=True, help="HiGHS random seed.")(f)
        f = click.option(
            "--gap",
            type=FiniteFloat(0, 1),
            default=SolveOptions.gap if gap is None else gap,
            show_default=True,
            help="Relative MIP gap at which a plan counts as optimal (0 to 1).",
        )(f)
        f = click.option(
            "--time-limit",
            type=FiniteFloat(0, 1e7),
            default=SolveOptions.time_limit,
            show_default=True,
            help=f"Seconds for {what}.",
        )(f)
        return f

    return decorate


SOLVER_OPTIONS = ("time_limit", "gap", "threads", "seed", "workers", "log", "decompose")


def solver_options(f, what: str = "the whole solve"):
    """The limits (--time-limit: seconds for ``what``) plus --threads, --workers, --log and --decompose, handed
    over as ``options`` (:class:`SolveOptions`)."""
    f = gathered("options", SOLVER_OPTIONS, SolveOptions)(f)
    f = click.option(
        "--decompose/--no-decompose",
        default=True,
        show_default=True,
        help="Solve independent blocks (provinces) separately.",
    )(f)
    f = click.option("--log", is_flag=True, help="Show the HiGHS log.")(f)
    f = click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Processes for independent blocks (0 = one per core).",
    )(f)
    f = click.option(
        "--threads", type=click.IntRange(min=1), default=1, show_default=True, help="HiGHS threads per block."
    )(f)
    return limit_options(what)(f)


def exit_code(status: str, unmet: float) -> int:
    """The exit code of one solve: 0 optimal, 1 infeasible or unmet demand, 3 no plan, 4 not proven, 130 interrupted, 5 error."""
    if status == Status.OPTIMAL:
        return EXIT_INFEASIBLE_OR_UNMET if unmet > 0 else EXIT_OPTIMAL
    return {
        Status.TIME_LIMIT: EXIT_NOT_PROVEN,
        Status.TIME_LIMIT_NO_PLAN: EXIT_NO_PLAN,
        Status.INFEASIBLE: EXIT_INFEASIBLE_OR_UNMET,
        Status.UNBOUNDED: EXIT_INFEASIBLE_OR_UNMET,
        Status.INTERRUPTED: EXIT_INTERRUPTED,
    }.get(status, EXIT_ERROR)


def echo_no_plan(name: str, result) -> None:
    """The lines of a solve that ended without a plan: the status, and that nothing was written."""
    click.echo(f"{name}: {status_text(result.status)}" + (f" ({result.message})" if result.message else ""))
    click.echo("no plan, so no solution folder was written")


def write_timed(solution, claim, progress: dict, target) -> None:
    """Write ``solution`` into the claimed folder, the phase shown in ``progress``, its seconds in its timings."""
    from ..results.solution import write_solution

    progress["phase"] = "writing the solution folder"
    t = time.perf_counter()
    write_solution(solution, claim)
    progress["written"] = target
    solution.summary["timings"]["write"] = round(time.perf_counter() - t, 4)


def statuses_exit(statuses: list[str]) -> int:
    """The exit code of many solves: 5 if any plan failed its check (or errored), 4 if any hit the time limit, else 0."""
    if any(s in (Status.ERROR, Status.UNBOUNDED, Status.INTERRUPTED) for s in statuses):
        return EXIT_ERROR
    if any(s in (Status.TIME_LIMIT, Status.TIME_LIMIT_NO_PLAN) for s in statuses):
        return EXIT_NOT_PROVEN
    return EXIT_OPTIMAL


def period_option(scenario: bool = True):
    """--period (and --scenario): the period of an instance with periods that a command of one snapshot plans."""

    def decorate(f):
        f = click.option(
            "--period",
            default=None,
            metavar="PERIOD",
            help="With periods: the period to plan as one snapshot (its need, the sites in service then, its budget).",
        )(f)
        if scenario:
            f = click.option(
                "--scenario",
                default=None,
                metavar="SCENARIO",
                help="With --period: the scenario of the period's need (needed when need.csv has several).",
            )(f)
        return f

    return decorate


def one_period(inst, period: str | None, scenario: str | None, policy=None):
    """The instance itself, or the snapshot of one period (``period``, ``scenario``) of an instance with periods,
    its need under ``policy`` (the status holders' backlog); an instance with periods needs --period (InputError
    otherwise)."""
    if inst.horizon is None and period is None and scenario is None:
        return inst
    from ..data.period import chosen_period, period_instance

    return period_instance(inst, chosen_period(inst, period, scenario), policy)


def period_and_policy(inst, choice, period: str | None, scenario: str | None):
    """The policy chosen on the command line and the instance, or its one period (--period, --scenario) with the need
    under that policy."""
    policy = choice.policy(inst)
    return one_period(inst, period, scenario, policy), policy
