"""The solution tables of the tiny instances, byte for byte: a change to the model, the extraction or the
folder format that moves one figure shows here.

After a deliberate change, rewrite the stored tables with
``ALLOCATOR_UPDATE_GOLDEN=1 python -m pytest tests/test_outputs.py`` and review the diff.
"""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import HAND_ARGS, INSTANCES

from allocator.commands.main import cli

STORED = Path(__file__).parent / "outputs"
UPDATE = os.environ.get("ALLOCATOR_UPDATE_GOLDEN") == "1"
CASES = {
    "tiny-two-provinces": [],
    "tiny-groups": [],
    "tiny-budget": [],
    "tiny-horizon-standby": ["--set", "budget=240"],
    "tiny-horizon-lifecycle": [],
    "tiny-horizon-band": [],
    "tiny-horizon-groups": [],
    "tiny-horizon-moves": ["--set", "move_cost=3"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_solution_tables_are_unchanged(name, tmp_path):
    out = tmp_path / name
    r = CliRunner().invoke(
        cli,
        ["solve", str(INSTANCES / name), *HAND_ARGS, *CASES[name], "--gap", "0", "--workers", "1", "--out", str(out)],
    )
    assert r.exit_code in (0, 1) and "Solution written to" in r.output, r.output  # 1: places unmet, as planned
    tables = sorted(p.relative_to(out) for p in out.rglob("*.csv"))
    stored = STORED / name
    if UPDATE:
        for old in stored.rglob("*.csv"):
            old.unlink()
        for table in tables:
            (stored / table).parent.mkdir(parents=True, exist_ok=True)
            (stored / table).write_bytes((out / table).read_bytes())
    assert tables == sorted(p.relative_to(stored) for p in stored.rglob("*.csv"))
    for table in tables:
        assert (out / table).read_bytes() == (stored / table).read_bytes(), f"{name}: {table} differs"
