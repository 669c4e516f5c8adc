"""Ctrl-C and SIGTERM as exceptions, so that a solve stops cleanly and says what it finished.

SIGINT already raises KeyboardInterrupt. SIGTERM (sent by `kill`, schedulers and container
runtimes) would end the process at once, leaving worker processes behind; here it raises
Terminated, a KeyboardInterrupt, so the same clean-up runs (see solve.schedule.run_blocks).
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

EXIT_SIGINT = 130  # 128 + SIGINT, as shells report it
EXIT_SIGTERM = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def sigterm_raises():
    """Within the block SIGTERM raises Terminated; the previous handler is restored after."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_SIGTERM if isinstance(exc, Terminated) else EXIT_SIGINT


def signal_name(exc: BaseException) -> str:
    """The signal behind an interrupt, for messages."""
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"
