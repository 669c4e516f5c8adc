"""What several commands share: exit codes, option groups, the policy from the options, the default instance.

This module imports only click and the ground floor, so that `allocator --help` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..core.paths import DEFAULT_INSTANCE, bundled_instance
from ..solve.options import Status

# Exit codes (README, "Exit codes").
EXIT_OPTIMAL = 0
EXIT_INFEASIBLE_OR_UNMET = 1
EXIT_BAD_INPUT = 2
EXIT_NO_PLAN = 3
EXIT_NOT_PROVEN = 4
EXIT_ERROR = 5
EXIT_INTERRUPTED = 130


def instance_path(instance: str | None) -> Path:
    """The instance given on the command line, else the bundled nl-2024."""
    return Path(instance) if instance else bundled_instance(DEFAULT_INSTANCE)


def policy_options(f):
    """--policy, --set, --force-site and --forbid-site."""
    f = click.option(
        "--forbid-site", "forbid_sites", multiple=True, metavar="ID", help="Keep this site closed (repeatable)."
    )(f)
    f = click.option("--force-site", "force_sites", multiple=True, metavar="ID", help="Open this site (repeatable).")(f)
    f = click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a policy key (repeatable), e.g. --set budget=2.5e9.",
    )(f)
    f = click.option(
        "--policy",
        "policy_name",
        default="default",
        show_default=True,
        help="Policy preset name in models/ or a .toml file.",
    )(f)
    return f


def limit_options(gap: float = 1e-4, what: str = "the whole solve"):
    """--time-limit, --gap and --seed."""

    def decorate(f):
        f = click.option("--seed", type=int, default=0, show_default=True, help="HiGHS random seed.")(f)
        f = click.option(
            "--gap",
            type=click.FloatRange(min=0),
            default=gap,
            show_default=True,
            help="Relative MIP gap at which a plan counts as optimal.",
        )(f)
        f = click.option(
            "--time-limit", type=click.FloatRange(min=0), default=300.0, show_default=True, help=f"Seconds for {what}."
        )(f)
        return f

    return decorate


def solver_options(f):
    """The limits plus --threads, --workers, --log and --decompose."""
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
    # 1e-6: at 1e-4 (EUR 270,000 on nl-2024) two large sites a province could choose differ by less than the gap
    return limit_options(gap=1e-6)(f)


def make_policy(policy_name, assignments, force_sites=(), forbid_sites=()):
    """The policy preset with --set overrides and the sites forced or forbidden on the command line."""
    from ..data.policy import ensure_consistent, load_policy, parse_assignments

    policy = load_policy(policy_name, parse_assignments(assignments))
    if force_sites or forbid_sites:
        policy = policy.with_(
            force_sites=tuple(dict.fromkeys(policy.force_sites + tuple(force_sites))),
            forbid_sites=tuple(dict.fromkeys(policy.forbid_sites + tuple(forbid_sites))),
        )
        ensure_consistent(policy)
    return policy


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


def statuses_exit(statuses: list[str]) -> int:
    """The exit code of many solves: 5 if any plan failed its check (or errored), 4 if any hit the time limit, else 0."""
    if any(s in (Status.ERROR, Status.UNBOUNDED, Status.INTERRUPTED) for s in statuses):
        return EXIT_ERROR
    if any(s in (Status.TIME_LIMIT, Status.TIME_LIMIT_NO_PLAN) for s in statuses):
        return EXIT_NOT_PROVEN
    return EXIT_OPTIMAL
