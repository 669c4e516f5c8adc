"""The independent blocks of a solve on a Dask cluster give the same plan as local runs."""

import numpy as np
import pytest

from allocator.analysis.pipeline import solve
from allocator.data.generate import generate
from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.solve.options import SolveOptions, Status
from allocator.solve.schedule import ClusterError, run_blocks_on_cluster


def test_blocks_on_a_local_cluster_give_the_local_plan(tmp_path):
    """On the twelve independent provinces of the synthetic x1 instance (nl-2024's take minutes to prove, on a
    cluster as locally)."""
    from distributed import LocalCluster

    inst = load_instance(generate(1, 1, tmp_path / "x1"))
    policy = load_policy()
    local = solve(inst, policy, SolveOptions(workers=2, time_limit=60))
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = solve(inst, policy, SolveOptions(scheduler=cluster.scheduler_address, time_limit=60))
    assert local.status is remote.status is Status.OPTIMAL
    assert remote.result.blocks == local.result.blocks > 1
    assert remote.check.passed
    assert remote.result.objective == local.result.objective
    assert remote.result.bound == local.result.bound
    for name in ("sites", "placements", "municipalities", "provinces"):
        assert getattr(remote.solution, name).equals(getattr(local.solution, name)), name
    x_local = np.array(sorted(local.result.values.values()))
    assert np.array_equal(np.array(sorted(remote.result.values.values())), x_local)


def test_an_unreachable_scheduler_is_reported(monkeypatch):
    monkeypatch.setattr("allocator.solve.schedule.CONNECT_SECONDS", 1)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        run_blocks_on_cluster([None], 0.0, print, "tcp://127.0.0.1:9")
