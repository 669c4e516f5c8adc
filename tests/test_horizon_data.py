"""Reading the files of an instance planned over several periods: the need split, and every problem named at once."""

import shutil

import pytest
from helpers import INSTANCES

from allocator.core.errors import InstanceError
from allocator.data.load import load_instance


@pytest.fixture
def horizon(tmp_path):
    """tiny-two-provinces (P1: A 200, B 100; P2: C 150, D 50) planned over two years with a national need."""
    folder = tmp_path / "two"
    shutil.copytree(INSTANCES / "tiny-two-provinces", folder)
    (folder / "periods.csv").write_text("period,start,years\nY1,2025-01-01,1\nY2,2026-01-01,1\n")
    (folder / "need.csv").write_text("period,scenario,need\nY1,mid,500\nY2,mid,251\n")
    return folder


def problems(folder) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    return [str(p) for p in caught.value.problems]


def test_need_split_by_province_task_then_by_the_static_key(horizon):
    inst = load_instance(horizon)
    h = inst.horizon
    assert h.key == "demand"
    # A need equal to the static task gives every municipality its static demand.
    assert h.demand[("Y1", "mid")] == inst.municipalities["demand"].to_dict()
    # 251 = P1 150.6 -> 151 (300/500), P2 100.4 -> 100; then A 100.67, B 50.33 -> 101, 50; C 75, D 25.
    assert h.demand[("Y2", "mid")] == {"A": 101, "B": 50, "C": 75, "D": 25}


def test_need_per_province(horizon):
    (horizon / "need.csv").write_text(
        "period,scenario,province,need\nY1,mid,P1,30\nY1,mid,P2,20\nY2,mid,P1,0\nY2,mid,P2,4\n"
    )
    h = load_instance(horizon).horizon
    assert h.demand[("Y1", "mid")] == {"A": 20, "B": 10, "C": 15, "D": 5}
    assert h.demand[("Y2", "mid")] == {"A": 0, "B": 0, "C": 3, "D": 1}


def test_an_instance_without_periods_is_unchanged():
    """No horizon, and the fingerprint over the same files as before periods existed."""
    import hashlib

    from allocator.data.groups import GROUP_FILES

    inst = load_instance(INSTANCES / "nl-2024")
    assert inst.horizon is None
    digest = hashlib.sha256()
    static = ("instance.toml", "provinces.csv", "municipalities.csv", "sites.csv", "links.csv", "travel_times.csv")
    for name in (*static, *GROUP_FILES):
        path = INSTANCES / "nl-2024" / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    assert inst.fingerprint == digest.hexdigest()


def test_every_problem_at_once(horizon):
    (horizon / "periods.csv").write_text("period,start,years\nY1,2025-01-01,1\nY1,2025-13-01,1\nY3,2027-01-01,0\n")
    (horizon / "need.csv").write_text("period,scenario,need\nY1,band,5\nY9,mid,5\nY1,mid,5\nY1,mid,6\n")
    (horizon / "emergency.csv").write_text("province,capacity,cost_per_place\nP9,10,5\nP1,-1,5\n")
    found = problems(horizon)
    assert "periods.csv, row 3, column 'period': duplicate id (first used in row 2) (value: 'Y1')" in found
    assert "periods.csv, row 3, column 'start': not a date (write YYYY-MM-DD) (value: '2025-13-01')" in found
    assert "periods.csv, row 4, column 'years': must be > 0 (value: '0')" in found
    assert (
        "need.csv, row 2, column 'scenario': 'band' names every scenario at once and cannot be a scenario (value: 'band')"
        in found
    )
    assert "need.csv, row 5, column 'need': repeats the need of row 4 (value: 6)" in found
    assert "emergency.csv, row 2, column 'province': unknown province (not in provinces.csv) (value: 'P9')" in found
    assert "emergency.csv, row 3, column 'capacity': must be >= 0 (value: '-1')" in found


def test_periods_follow_each_other(horizon):
    (horizon / "periods.csv").write_text("period,start,years\nY1,2025-01-01,1\nY2,2026-07-01,1\n")
    assert problems(horizon) == [
        "periods.csv, row 3, column 'start': does not start where the period before ends (2025-01-01 + 1 years); periods must follow each other without gaps or overlaps (value: '2026-07-01')"
    ]


def test_missing_need(horizon):
    (horizon / "need.csv").write_text("period,scenario,need\nY1,mid,5\nY2,low,5\n")
    assert problems(horizon) == ["need.csv: 2 period/scenario combinations have no need, e.g. Y1/low, Y2/mid"]


def test_life_cycle_columns(horizon):
    sites = (horizon / "sites.csv").read_text().splitlines()
    header = sites[0] + ",earliest_open,contract_end,extension_cost,standby_cost"
    rows = [sites[1] + ",Y2,Y1,,", sites[2] + ",Y7,,5,-1"] + [s + ",,,," for s in sites[3:]]
    (horizon / "sites.csv").write_text("\n".join([header, *rows]) + "\n")
    found = problems(horizon)
    assert any("standby_cost" in p and "must be >= 0" in p for p in found)
    assert any("earliest_open" in p and "unknown period (not in periods.csv)" in p for p in found)
    assert any("extension_cost without a contract_end would never be paid" in p for p in found)


def test_horizon_files_need_periods(horizon):
    (horizon / "periods.csv").unlink()
    assert problems(horizon) == ["need.csv: needs periods.csv: without periods the instance is one snapshot"]


def test_life_cycle_columns_need_periods(tmp_path):
    folder = tmp_path / "budget"
    shutil.copytree(INSTANCES / "tiny-budget", folder)
    text = (folder / "sites.csv").read_text().splitlines()
    (folder / "sites.csv").write_text("\n".join([text[0] + ",standby_cost", *(r + ",1" for r in text[1:])]) + "\n")
    assert problems(folder) == ["sites.csv, row 1, column 'standby_cost': a life-cycle column needs periods.csv"]


def test_planning_period_must_be_a_length(horizon):
    toml = (
        (horizon / "instance.toml")
        .read_text()
        .replace('planning_period = "1 year"', 'planning_period = "one budget year"')
    )
    (horizon / "instance.toml").write_text(toml)
    assert problems(horizon) == [
        "instance.toml, column 'planning_period': with periods.csv this must be a length of time, e.g. \"1 year\" or \"6 months\" (value: 'one budget year')"
    ]


def test_registration_centre(horizon):
    with open(horizon / "instance.toml", "a") as f:
        f.write('\n[registration]\nsite = "NOPE"\nlimit = 10\npenalty_per_night = 1\npenalty_cap = "a lot"\n')
    found = problems(horizon)
    assert "instance.toml, column 'registration.penalty_cap': must be a number (value: 'a lot')" in found


def test_nl_2024_horizon():
    """The national horizon as its build script derives it (instances/nl-2024-horizon/README.md)."""
    inst = load_instance(INSTANCES / "nl-2024-horizon")
    h = inst.horizon
    assert h.period_ids[0] == "2025-H1" and h.period_ids[-1] == "2029-H2" and h.scenarios == ("low", "mid", "high")
    need = h.need.set_index(["period", "scenario"])["need"]
    # need.csv is COA's need less the half-year's status holders (N1): 106,130 - 15,000 in 2025-H1 mid.
    assert (need[("2025-H1", "mid")], need[("2029-H2", "low")], need[("2029-H2", "high")]) == (91130, 70771, 133229)
    for (t, w), demand in h.demand.items():
        assert sum(demand.values()) == need[(t, w)]
    # The national site list and the four groups: asylum seekers and minors share need.csv, status holders
    # and Ukraine have their own need per half-year (H1, U1).
    assert len(inst.sites) == 1517 and inst.groups.periodic_ids == ["status_holders", "ukraine"]
    for (t, w), units in h.group_demand.items():
        totals = {g: sum(v for (_i, gg), v in units.items() if gg == g) for g in inst.groups.ids}
        assert totals["asylum"] + totals["amv"] == need[(t, w)]
    first = h.group_demand[("2025-H1", "mid")]
    assert sum(v for (_i, g), v in first.items() if g == "status_holders") == 15000
    assert sum(v for (_i, g), v in first.items() if g == "ukraine") == 96546
    assert int(h.emergency.xs("2025-H1", level="period")["capacity"].sum()) == 26451
    large = inst.sites[(inst.sites["kind"] == "large") & (inst.sites["status"] == "candidate")].index
    assert set(h.lifecycle.loc[large, "earliest_open"]) == {"2027-H1"}
    assert h.registration.site == "L-TERAPEL" and h.registration.limit == 2000
