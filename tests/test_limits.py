"""Time limits, interrupts (Ctrl-C, SIGTERM) and reproducible outputs."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from helpers import INSTANCES

from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.model.build import build_model
from allocator.solve.highs import SolveSession
from allocator.solve.options import SolveOptions

NL = INSTANCES / "nl-2024"
TWO = INSTANCES / "tiny-two-provinces"
ALLOCATOR = Path(sys.executable).with_name("allocator")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_time_limit_zero_returns_the_starting_plan(tmp_path):
    # With no time at all the plan is the greedy starting plan, reported as not proven optimal.
    r = invoke("solve", TWO, "--time-limit", 0, "--out", tmp_path / "s")
    assert r.exit_code == 4, r.output
    assert "Status     time limit reached: best plan found, not proven optimal" in r.output
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["status"] == "time_limit" and summary["check"]["passed"]


def test_time_limit_zero_without_a_start_finds_no_plan():
    model = build_model(load_instance(TWO), load_policy())
    result = SolveSession(model, SolveOptions(time_limit=0, workers=1)).solve()
    assert result.status.value == "time_limit_no_plan"
    assert result.values is None and result.objective is None
    assert all(v.value is None for v in model.placed.values())  # nothing read from the failed solve


def test_no_plan_exit_code():
    from allocator.commands.common import EXIT_NO_PLAN, exit_code

    assert exit_code("time_limit_no_plan", 0) == EXIT_NO_PLAN == 3


def test_time_limit_on_the_whole_national_model(tmp_path):
    # One HiGHS run over the whole country cannot prove optimality in 1 s; whether it has a plan
    # by then depends on the machine, so both outcomes are accepted with their own exit code.
    out = tmp_path / "s"
    r = invoke("solve", NL, "--no-decompose", "--time-limit", 1, "--out", out, "--no-explain")
    if r.exit_code == 4:
        assert "Status     time limit reached: best plan found, not proven optimal" in r.output
        summary = json.loads((out / "summary.json").read_text())
        # no bound yet (before the root LP ends) leaves the gap unknown, which is shown as such
        assert summary["status"] == "time_limit" and summary["check"]["passed"]
        assert summary["gap"] is None or summary["gap"] > 0
        assert f"gap {100 * summary['gap']:.2f}%" in r.output
    else:
        assert r.exit_code == 3, r.output
        assert "nl-2024: time_limit_no_plan" in r.output and not out.exists()


def start_solve(tmp_path, *args):
    out = tmp_path / "sol"
    process = subprocess.Popen(
        [str(ALLOCATOR), "solve", str(NL), "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    return process, out


def wait_for_workers(process) -> list[psutil.Process]:
    """The solve phase has begun once the block workers are forked."""
    parent = psutil.Process(process.pid)
    for _ in range(1200):
        children = parent.children(recursive=True)
        if children:
            return children
        if process.poll() is not None:
            break
        time.sleep(0.05)
    pytest.fail(f"no worker processes appeared: {process.communicate()}")


def assert_stopped_cleanly(process, out, workers, code, name):
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, (stdout, stderr)
    assert f"interrupted by {name} while building and solving the model; finished: load " in stderr
    assert "no solution folder was written" in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".sol")] == []  # no temp folder beside it
    for worker in workers:
        worker_gone = not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
        assert worker_gone, f"worker {worker.pid} outlived the solve"


@pytest.mark.parametrize("sig, code, name", [(signal.SIGINT, 130, "Ctrl-C (SIGINT)"), (signal.SIGTERM, 143, "SIGTERM")])
def test_interrupt_stops_the_workers_and_writes_nothing(tmp_path, sig, code, name):
    process, out = start_solve(tmp_path, "--workers", "2")
    workers = wait_for_workers(process)
    time.sleep(0.5)
    process.send_signal(sig)
    assert_stopped_cleanly(process, out, workers, code, name)


def test_interrupt_cancels_highs_in_this_process():
    # Without cancelling, this single-block solve would run until its 600 s limit.
    model = build_model(load_instance(NL), load_policy())
    session = SolveSession(model, SolveOptions(decompose=False, workers=1, time_limit=600))
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        session.solve()
    assert time.monotonic() - started < 120
    assert model.open_site["L-TERAPEL"].value is None  # nothing was loaded from the cancelled run


def test_outputs_are_byte_identical_across_runs(tmp_path):
    # To a gap of 0.1%: the same options give the same tables whatever the gap, and the proof to 1e-6 adds a minute.
    for name in ("a", "b"):
        r = invoke("solve", NL, "--gap", "0.001", "--out", tmp_path / name)
        assert r.exit_code == 0, r.output
    for table in ("sites", "placements", "municipalities", "provinces"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == (tmp_path / "b" / f"{table}.csv").read_bytes()
    a, b = (json.loads((tmp_path / n / "summary.json").read_text()) for n in "ab")
    assert a.pop("timings") and b.pop("timings")
    assert a == b
