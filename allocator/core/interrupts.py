"""Ctrl-C, SIGTERM and SIGHUP as exceptions, so that a solve stops cleanly and says what it finished; workers that
end with their parent.

SIGINT already raises KeyboardInterrupt. SIGTERM (sent by `kill`, schedulers and container
runtimes) and SIGHUP (a closed terminal or SSH session) would end the process at once, leaving
worker processes behind; here they raise Terminated, a KeyboardInterrupt, so the same clean-up
runs (see solve.schedule.run_blocks). A parent killed outright (SIGKILL) runs no clean-up at all:
its workers ask the kernel to kill them when it dies (:func:`die_with_parent`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from contextlib import contextmanager

EXIT_SIGINT = 130  # 128 + SIGINT, as shells report it


_PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM or SIGHUP."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__()
        self.signum = signum


def _raise_terminated(signum, frame):
    raise Terminated(signum)


@contextmanager
def sigterm_raises():
    """Within the block SIGTERM and SIGHUP raise Terminated; the previous handlers are restored after."""
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def die_with_parent(parent: int) -> None:
    """In a worker process: be killed when the parent ``parent`` dies, however it dies (Linux), and leave Ctrl-C to it.

    Where the system offers no such request, the worker at least exits at once if the parent is already gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def exit_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP (128 + the signal, as shells report it)."""
    if isinstance(exc, Terminated):
        return 128 + int(exc.signum)
    return EXIT_SIGINT


def signal_name(exc: BaseException) -> str:
    """The signal behind an interrupt, for messages."""
    if isinstance(exc, Terminated):
        return "SIGHUP" if exc.signum == signal.SIGHUP else "SIGTERM"
    return "Ctrl-C (SIGINT)"
