"""Jobs of the workbench: each solve or ranking runs in a worker process, never in the server.

A job waits in a queue until fewer than ``max_running`` jobs run, then gets a worker: an idle
one that keeps a solve session for the same instance and policy values (a warm re-solve), else
a new one. A worker runs one job at a time, so cancelling a job kills that job's worker (with
its block processes and HiGHS) and nothing else. Workers come from a fork server that has
imported the solver once, so a new worker starts in a fraction of a second; workers are
stopped when the runner closes, and end themselves when the server's process ends (see
:mod:`allocator.workbench.worker`).
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
WORKER_MODULE = "allocator.workbench.worker"


@dataclass
class Job:
    """A solve or ranking: its request, where it is, and its answer."""

    id: str
    kind: str  # "solve" or "whatif"
    request: dict  # what the worker gets (instance path, policy dict, options, ...)
    key: tuple  # jobs with the same key can share a kept solve session
    label: str = ""
    status: str = QUEUED
    phase: str = "waiting for a free worker"
    done: int | None = None
    total: int | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict | None = None
    message: str = ""
    problems: list = field(default_factory=list)
    worker: Worker | None = None

    def view(self) -> dict:
        """The job as the API shows it."""
        now = time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "elapsed": round((self.finished or now) - (self.started or now), 2),
            "time_limit": self.request["options"]["time_limit"],
            "message": self.message,
            "problems": self.problems,
            "result": self.result,
        }


class Worker:
    """A worker process and the server's ends of its connection and lifeline."""

    def __init__(self, context):
        self.connection, theirs = context.Pipe()
        lifeline_read, self.lifeline = context.Pipe(duplex=False)
        # Not a daemon: a worker starts block processes. The runner stops it (close, also at exit).
        self.process = context.Process(target=_worker_main, args=(theirs, lifeline_read))
        self.process.start()
        theirs.close()
        lifeline_read.close()
        self.key: tuple | None = None  # the kept session's instance and policy values
        self.idle_since = time.monotonic()

    def kill(self) -> None:
        """End the worker and every process of its group (its block processes), at once."""
        pid = self.process.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()
        self.lifeline.close()


def _worker_main(connection, lifeline) -> None:
    from .worker import main

    main(connection, lifeline)


class JobRunner:
    """The queue of jobs, the workers that run them, and the folders their plans are written to."""

    def __init__(self, folder: Path, on_done, max_running: int = 2, max_idle: int = 2):
        self.folder = folder
        self.on_done = on_done  # called with a finished job (under no lock), e.g. to keep its plans
        self.max_running = max_running
        self.max_idle = max_idle
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.idle: list[Worker] = []
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.closed = False
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload([WORKER_MODULE])
        atexit.register(self.close)

    def warm_up(self) -> None:
        """Start the fork server now, so that it has imported the solver by the first job."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def submit(self, kind: str, request: dict, key: tuple, label: str = "") -> Job:
        """Queue a job; it starts as soon as fewer than ``max_running`` jobs run."""
        with self.lock:
            if self.closed:
                raise RuntimeError("the job runner is closed")
            job_id = f"J{next(self.ids)}"
            folder = self.folder / job_id
            job = Job(job_id, kind, {**request, "kind": kind, "folder": str(folder)}, key, label)
            self.jobs[job_id] = job
            self._dispatch()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job of this id, if any."""
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Stop a job: a queued one never starts; a running one's worker (and only it) is killed."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.status in FINISHED:
                return job
            worker, job.worker = job.worker, None
            self._finish(job, CANCELLED, "cancelled", "")
        if worker is not None:
            worker.kill()
        with self.lock:
            self._dispatch()
        return job

    def running(self) -> list[Job]:
        """The jobs that run now."""
        return [j for j in self.jobs.values() if j.status == RUNNING]

    def _dispatch(self) -> None:
        """Start queued jobs while there is room (call with the lock held)."""
        for job in self.jobs.values():
            if len(self.running()) >= self.max_running:
                return
            if job.status == QUEUED:
                self._start(job)

    def _start(self, job: Job) -> None:
        worker = next((w for w in self.idle if w.key == job.key), None)
        if worker is None and job.kind != "solve":  # a ranking builds its own model: any idle worker will do
            worker = next((w for w in self.idle if w.key and w.key[0] == job.key[0]), None)
        if worker is not None:
            self.idle.remove(worker)
        Path(job.request["folder"]).mkdir(parents=True, exist_ok=True)
        try:
            worker.connection.send(job.request)
        except (AttributeError, OSError):  # no idle worker, or it has ended since
            if worker is not None:
                worker.kill()
            worker = Worker(self.context)
            worker.connection.send(job.request)
        job.worker, job.status, job.started, job.phase = worker, RUNNING, time.time(), "starting"
        threading.Thread(target=self._listen, args=(job, worker), daemon=True).start()

    def _listen(self, job: Job, worker: Worker) -> None:
        """Follow a job's messages until its last one, or until its worker ends."""
        while True:
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):
                message = None
            with self.lock:
                if job.worker is not worker:  # cancelled: the worker was killed
                    return
                if message is None:
                    code = worker.process.exitcode
                    job.worker = None
                    self._finish(job, FAILED, f"the worker process ended unexpectedly (exit code {code})", "")
                    self._dispatch()
                    return
                if message["type"] == "progress":
                    job.phase = message.get("phase", job.phase)
                    if "total" in message:
                        job.done, job.total = message["done"], message["total"]
                    continue
                job.worker = None
            self._complete(job, worker, message)
            return

    def _complete(self, job: Job, worker: Worker, message: dict) -> None:
        if message["type"] == "done":
            job.result = message["result"]
            try:
                self.on_done(job)
            except Exception as exc:  # keeping the plans failed: say so on the job
                message = {"type": "error", "message": f"{type(exc).__name__}: {exc}"}
        with self.lock:
            if job.status in FINISHED:  # cancelled while its plans were being kept
                self._keep(worker)
                return
            if message["type"] == "done":
                worker.key = job.key if job.kind == "solve" else worker.key
                job.done = job.total
                self._finish(job, DONE, "finished", "")
            elif message["type"] == "problems":
                job.problems = message["problems"]
                self._finish(job, FAILED, "refused", message["message"])
            else:
                self._finish(job, FAILED, "failed", message["message"])
            self._keep(worker)
            self._dispatch()

    def _finish(self, job: Job, status: str, phase: str, message: str) -> None:
        job.status, job.phase, job.finished, job.message = status, phase, time.time(), message
        if status != DONE:
            shutil.rmtree(job.request["folder"], ignore_errors=True)

    def _keep(self, worker: Worker) -> None:
        """Keep a worker that finished a job for the next, up to ``max_idle`` (the oldest idle one goes)."""
        if self.closed:
            worker.kill()
            return
        worker.idle_since = time.monotonic()
        self.idle.append(worker)
        while len(self.idle) > self.max_idle:
            self.idle.pop(0).kill()

    def close(self) -> None:
        """Cancel every job and stop every worker."""
        with self.lock:
            self.closed = True
            busy = [j.id for j in self.jobs.values() if j.status in (QUEUED, RUNNING)]
        for job_id in busy:
            self.cancel(job_id)
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.kill()
