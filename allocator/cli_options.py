"""Command-line options shared by several commands (their own module, so that command modules can import them)."""

import click


def policy_options(f):
    f = click.option("--forbid-site", "forbid_sites", multiple=True, metavar="ID", help="Keep this site closed (repeatable).")(f)
    f = click.option("--force-site", "force_sites", multiple=True, metavar="ID", help="Open this site (repeatable).")(f)
    f = click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a policy key (repeatable), e.g. --set budget=2.5e9.")(f)
    f = click.option("--policy", "policy_name", default="default", show_default=True, help="Policy preset name in models/ or a .toml file.")(f)
    return f
