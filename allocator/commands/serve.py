"""The `serve` command: the planning workbench in the browser (allocator.workbench)."""

from __future__ import annotations

import socket
import sys

import click

from ..core.interrupts import signal_name
from .common import instance_path

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.argument("instance", required=False)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (other than localhost: on a network)."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--jobs",
    "max_running",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Solves that run at once; more wait in a queue.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes for independent blocks in each solve (0 = one per core).",
)
def serve(instance, host, port, max_running, workers):
    """Start the planning workbench for an instance (default: the bundled nl-2024) and print its address."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise click.ClickException(
            f"the workbench needs the 'serve' extra ({exc.name} is not installed): pip install 'reception-allocator[serve]'"
        ) from None
    from ..workbench.app import create_app

    app = create_app(instance_path(instance), max_running=max_running, workers=workers)
    try:
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if host not in LOCAL_HOSTS:
        click.secho(
            f"WARNING: listening on {host}, not on localhost: anyone who can reach this machine on port {bound} "
            "can use the workbench, read its plans and upload workbooks. There is no login.",
            err=True,
            fg="red",
            bold=True,
        )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    try:
        # The socket listens already: a browser may connect as soon as the address is printed.
        click.echo(
            f"Workbench at http://{shown}:{bound}/ (API documentation at http://{shown}:{bound}/docs); Ctrl-C stops it"
        )
        sys.stdout.flush()
        server.run(sockets=[sock])
    except KeyboardInterrupt as exc:  # the server has shut down already; the signal is passed on after
        click.echo(f"Workbench stopped by {signal_name(exc)}; its jobs were cancelled and its plans removed", err=True)
        return
    click.echo("Workbench stopped; its jobs were cancelled and its plans removed", err=True)
