"""The worker process of the workbench: runs one job at a time and keeps its solve session between jobs.

A worker is started for a job and kept for the next one with the same instance and policy
values: a re-solve with other sites forced or forbidden then changes the fixings of the kept
model (:func:`allocator.model.build.refix`) and re-solves only the blocks that changed, warm,
as ``allocator whatif`` does. Every plan goes through :func:`allocator.analysis.pipeline.finish`
(extract and the independent check), is written as a solution folder, read back and checked
again from that folder, as ``allocator check`` would. A plan that leaves demand unmet, or a solve
without a plan, carries the causes ``allocator explain`` finds before solving (no further solve).
An instance with periods is planned whole by :func:`allocator.analysis.horizon.plan_horizon` (or
its myopic baseline), as ``allocator solve`` plans it, always cold: the plan is a horizon solution
folder, read back and checked again by :func:`allocator.check.horizon.check_horizon_solution`; its
what-if re-plans the whole horizon for each candidate
(:func:`allocator.analysis.horizon_whatif.rank_sites_over_periods`), as ``allocator whatif`` does.

The worker leads its own process group, so that cancelling a job kills the worker with every
block process it started; and it ends itself (with that group) when the server's end of its
lifeline closes, so that no worker outlives the server, however the server ended.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from ..analysis.explain import presolve_findings
from ..analysis.horizon import plan_horizon, plan_myopic
from ..analysis.horizon_whatif import rank_sites_over_periods
from ..analysis.pipeline import finish
from ..analysis.whatif import rank_sites
from ..check import check_solution
from ..check.horizon import check_horizon_solution
from ..core.errors import InputError
from ..data.load import load_instance
from ..data.policy import load_policy_dict
from ..model.build import build_model, refix
from ..model.start import greedy_start
from ..results.solution import read_horizon_solution, read_solution, write_solution
from ..solve.highs import SolveSession
from ..solve.options import SolveOptions
from .jsonable import error_dict, plain, records


def main(connection, lifeline) -> None:
    """Serve jobs from ``connection`` until it closes: each job is answered by progress messages, then one last message."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is the server's to handle
    threading.Thread(target=_watch, args=(lifeline,), daemon=True).start()
    kept = Kept()
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(run_job(kept, job, lambda **progress: connection.send({"type": "progress", **progress})))


def _watch(lifeline) -> None:
    """Block until the server's end of the lifeline closes, then end this worker and its block processes."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os.killpg(os.getpgid(0), signal.SIGKILL)


def run_job(kept: Kept, job: dict, report) -> dict:
    """One job: the last message (done, problems or error) for the server."""
    try:
        if job["kind"] == "solve":
            result = kept.solve(job, report)
        else:
            result = rank(kept, job, report)
        return {"type": "done", "result": result}
    except InputError as exc:
        return {"type": "problems", **error_dict(exc)}
    except Exception as exc:  # the job failed; the worker and the server go on
        return {"type": "error", "message": f"{type(exc).__name__}: {exc}"}


class Kept:
    """The instance, model and solve session this worker keeps between jobs."""

    def __init__(self):
        self.instances: dict[str, object] = {}
        self.model = None
        self.session: SolveSession | None = None
        self.source: str | None = None

    def instance(self, source: str):
        if source not in self.instances:
            self.instances = {source: load_instance(source)}  # one instance at a time is enough
        return self.instances[source]

    def solve(self, job: dict, report) -> dict:
        """Solve with the job's policy: warm on the kept session when only fixings differ, else a new one."""
        started = time.perf_counter()
        report(phase="loading the instance")
        inst = self.instance(job["instance"])
        policy = load_policy_dict(job["policy"], "policy")
        options = SolveOptions(**job["options"])
        if inst.horizon is not None:
            return solve_horizon(inst, policy, options, job, report, started)
        timings = {}
        how = "warm"
        if self.session is None or self.session.message or self.source != job["instance"]:
            how = "cold"
        else:
            try:
                refix(self.model, inst, policy)
            except ValueError:  # other policy values than fixings: the model must be rebuilt
                how = "cold"
        if how == "cold":
            report(phase="building the model")
            self.session = None  # free the old model before building the next
            t = time.perf_counter()
            self.model = build_model(inst, policy)
            timings["build"] = time.perf_counter() - t
            start = greedy_start(self.model)
            self.session = SolveSession(self.model, options)
            self.source = job["instance"]
            report(phase=f"solving {len(self.session.blocks)} blocks")
            result = self.session.solve(options, start=start)
        else:
            report(phase="re-solving the changed blocks, warm")
            result = self.session.solve(options)
        report(phase="checking the plan")
        outcome = finish(inst, policy, self.model, result, options, timings)
        why = []
        if outcome.solution is None or outcome.solution.kpis["unmet"] > 0:
            why = [
                {"rule": f.rule, "constraint": f.constraint, "objects": list(f.objects), "sentence": f.sentence}
                for f in presolve_findings(inst, policy, self.model.data)
            ]
        plans = (
            [{**plan_record(inst, outcome.solution, Path(job["folder"]) / "plan", how, report), "why": why}]
            if outcome.solution
            else []
        )
        return {
            "status": outcome.status.value,
            "message": outcome.result.message,
            "why": why,
            "how": how,
            "blocks": outcome.result.blocks,
            "blocks_solved": result.timings.get("blocks_solved", 0),
            "seconds": round(time.perf_counter() - started, 3),
            "plans": plans,
        }


def plan_record(inst, solution, folder: Path, how: str, report) -> dict:
    """Write the plan's solution folder, read it back and check it from there."""
    report(phase="writing the solution folder")
    write_solution(solution, folder)
    again = check_solution(read_solution(folder), inst)
    return {"folder": str(folder), "how": how, "check": again.passed, "violations": again.violations[:5]}


def solve_horizon(inst, policy, options, job: dict, report, started: float) -> dict:
    """Plan an instance with periods whole (or its myopic baseline), as `allocator solve` does; a new model each time."""
    myopic = job.get("myopic", False)
    periods = len(inst.horizon.period_ids)
    report(phase=f"building and solving the {'myopic ' if myopic else ''}plan over {periods} periods")
    outcome = (plan_myopic if myopic else plan_horizon)(inst, policy, options, job.get("scenario"))
    how = "myopic" if myopic else "horizon"
    plans = []
    if outcome.solution is not None:
        report(phase="writing the solution folder")
        plans = [{**horizon_record(inst, outcome.solution, Path(job["folder"]) / "plan", how), "why": []}]
    return {
        "status": outcome.status.value,
        "message": outcome.result.message,
        "why": [],
        "how": how,
        "blocks": outcome.result.blocks,
        "blocks_solved": outcome.result.timings.get("blocks_solved", outcome.result.blocks),
        "seconds": round(time.perf_counter() - started, 3),
        "plans": plans,
    }


def horizon_record(inst, solution, folder: Path, how: str) -> dict:
    """Write a plan over the periods as a horizon solution folder, read it back and check it from there."""
    write_solution(solution, folder)
    again = check_horizon_solution(read_horizon_solution(folder), inst)
    return {"folder": str(folder), "how": how, "check": again.passed, "violations": again.violations[:5]}


def rank(kept: Kept, job: dict, report) -> dict:
    """Rank the province's candidate large sites (allocator whatif) and keep every plan."""
    started = time.perf_counter()
    report(phase="loading the instance")
    inst = kept.instance(job["instance"])
    policy = load_policy_dict(job["policy"], "policy")
    options = SolveOptions(**job["options"])

    def progress(done, total, site):
        if inst.horizon is not None:
            phase = "planning the periods free" if site is None else f"planning the periods with {site} forced"
        else:
            phase = "solving the free plan" if site is None else f"re-solving with {site} forced"
        report(phase=phase, done=done, total=total)

    if inst.horizon is not None:
        return rank_horizon(inst, policy, options, job, progress, report, started)
    result = rank_sites(inst, policy, job["province"], job.get("candidates"), options, progress)
    plans = {}
    root = Path(job["folder"])
    for k, (name, solution) in enumerate(result.solutions.items()):
        plans[name] = plan_record(inst, solution, root / f"plan-{k}", "whatif", report)
    return {
        "province": result.province,
        "province_name": result.province_name,
        "free": {k: plain(v) for k, v in result.free.items()},
        "table": records(result.table),
        "build_seconds": round(result.build_seconds, 3),
        "cold_seconds": round(result.cold_seconds, 3),
        "blocks": result.blocks,
        "seconds": round(time.perf_counter() - started, 3),
        "plans": plans,
    }


def rank_horizon(inst, policy, options, job: dict, progress, report, started: float) -> dict:
    """The what-if over the periods: each candidate a plan over the horizon of its own, every plan written as a
    horizon solution folder, read back and checked again from there."""
    result = rank_sites_over_periods(inst, policy, job["province"], job.get("candidates"), options, progress)
    report(phase="writing the solution folders")
    root = Path(job["folder"])
    plans = {
        name: horizon_record(inst, solution, root / f"plan-{k}", "whatif")
        for k, (name, solution) in enumerate(result.solutions.items())
    }
    return {
        "province": result.province,
        "province_name": result.province_name,
        "horizon": True,
        "scenarios": list(result.scenarios),
        "free": {k: plain(v) for k, v in result.free.items()},
        "table": records(result.table),
        "periods": records(result.periods),
        "seconds": round(time.perf_counter() - started, 3),
        "plans": plans,
    }
