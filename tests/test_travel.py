"""Travel times within limits are exactly the pairs of the whole matrix within those limits."""

import numpy as np
import pytest
from helpers import INSTANCES

from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.model.data import model_data


@pytest.mark.parametrize("name", ["nl-2024", "tiny-two-provinces"])
def test_pairs_within_limits_match_the_whole_matrix(name):
    fresh = load_instance(INSTANCES / name)  # nothing computed yet: the limited search runs
    sites = fresh.sites
    limit = np.where(sites["kind"].to_numpy() == "large", 120.0, 30.0)
    limit[::7] = np.inf  # some sites without a limit
    rows, cols, minutes = fresh.travel_times.within(limit)
    full = load_instance(INSTANCES / name).travel
    want_rows, want_cols = np.nonzero(np.isfinite(full) & (full <= limit[None, :]))
    assert np.array_equal(rows, want_rows) and np.array_equal(cols, want_cols)
    assert np.array_equal(minutes, full[want_rows, want_cols])


def test_model_data_is_the_same_from_the_whole_matrix():
    policy = load_policy("default", {"nearest_regular_sites": 3})
    limited = model_data(load_instance(INSTANCES / "nl-2024"), policy)
    inst = load_instance(INSTANCES / "nl-2024")
    assert inst.travel.shape == (
        len(inst.municipalities),
        len(inst.sites),
    )  # the whole matrix first: the pairs then come from it
    whole = model_data(inst, policy)
    assert limited.arcs == whole.arcs
    assert limited.travel_minutes == whole.travel_minutes
