"""Run independent blocks on worker processes and share the time limit between them.

A block gets a share of the time left while other blocks wait for a worker (its size against the
work still to do per worker, as before); as soon as no block waits, every running block may use
the time up to the user's limit. Shares are read by the running solver at every check (shared
memory between the processes) and only ever grow. A block that stopped at its share while time
is left is reported as cut short, so that the caller can resume it from its plan.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..core.errors import AllocatorError
from ..core.interrupts import die_with_parent


class Deadline:
    """When a block must stop: read at every check, since finished blocks may leave it more time."""

    def __init__(self, slots, index: int, final: float):
        self.slots = slots
        self.index = index
        self.final = final  # the user's limit; a share never goes beyond it

    @classmethod
    def fixed(cls, at: float) -> Deadline:
        return cls([at], 0, at)

    def at(self) -> float:
        return self.slots[self.index]

    def left(self) -> float:
        return max(self.at() - time.monotonic(), 0.0)


_SLOTS = None  # the shared deadlines, in a worker process
CONNECT_SECONDS = 20  # to reach a Dask scheduler


def _init_worker(slots, parent: int) -> None:
    """Workers read the shared deadlines, leave Ctrl-C to the parent and die with it (core.interrupts)."""
    global _SLOTS
    _SLOTS = slots
    die_with_parent(parent)


def _in_worker(solve: Callable, job, index: int, final: float):
    return solve(job, Deadline(_SLOTS, index, final))


def run_blocks(jobs: list, sizes: list[float], workers: int, final: float, solve: Callable) -> tuple[list, list[bool]]:
    """``solve(job, deadline)`` for every job, ``workers`` at a time, in the order given.

    Returns the results and, per job, whether it was cut short: it ended while its share was still
    below the user's limit ``final`` (a solver stopped at its share says so in its result).
    """
    n = len(jobs)
    if workers <= 1 or n <= 1:
        slots = [0.0] * n
        results = []
        for k, job in enumerate(jobs):
            slots[k] = _share(time.monotonic(), final, sizes[k], sum(sizes[k:]), 1, n - k)
            results.append(solve(job, Deadline(slots, k, final)))
        return results, [slots[k] < final for k in range(n)]
    context = multiprocessing.get_context("fork")
    slots = context.Array("d", n, lock=False)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(slots, os.getpid()))
    pending = deque(range(n))
    running: dict = {}
    results: list = [None] * n
    cut_short = [False] * n

    def refresh() -> None:
        now = time.monotonic()
        active = sum(sizes[k] for k in pending) + sum(sizes[k] for k in running.values())
        for k in running.values():
            share = final if not pending else _share(now, final, sizes[k], active, workers, len(pending) + len(running))
            slots[k] = max(slots[k], share)

    try:
        while pending or running:
            while pending and len(running) < workers:
                k = pending.popleft()
                slots[k] = 0.0
                running[pool.submit(_in_worker, solve, jobs[k], k, final)] = k
                refresh()
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                k = running.pop(future)
                results[k] = future.result()
                cut_short[k] = slots[k] < final
            refresh()
    except BaseException:
        for process in list((pool._processes or {}).values()):
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results, cut_short


class ClusterError(AllocatorError):
    """The Dask scheduler cannot be used (not installed, or not reachable)."""


def run_blocks_on_cluster(jobs: list, final: float, solve: Callable, address: str) -> tuple[list, list[bool]]:
    """``solve(job, deadline)`` for every job on the Dask cluster at ``address``, all to the user's limit.

    Clocks differ between machines, so each job carries the seconds left and takes its deadline
    from its own clock when it starts (the machines' wall clocks are assumed to agree). The
    cluster's workers need this package installed.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--scheduler needs Dask: pip install 'reception-allocator[cluster]'") from None
    try:
        client = Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    until = time.time() + max(final - time.monotonic(), 0.0)
    futures = []
    try:
        futures = [client.submit(_on_cluster, solve, job, until, pure=False) for job in jobs]
        results = client.gather(futures)
    finally:
        if futures:
            client.cancel(futures)
        client.close()
    return results, [False] * len(jobs)


def _on_cluster(solve: Callable, job, until: float):
    return solve(job, Deadline.fixed(time.monotonic() + max(until - time.time(), 0.0)))


MIN_SHARE = 2.0  # seconds: a small block needs its start-up and presolve whatever its size


def _share(now: float, final: float, size: float, active: float, workers: int, count: int) -> float:
    """A block's deadline: its part of the time left, as the work still to do (``active``, ``count`` blocks)
    queues on ``workers``; at least MIN_SHARE or an even part of the time left, whichever is less (by size
    alone, a block of a few hundred nonzeros among large ones gets milliseconds, pass after pass)."""
    left = max(final - now, 0.0)
    floor = min(MIN_SHARE, left * workers / max(count, workers))
    return min(final, now + max(left * size / max(size, active / workers), floor))
