"""The formulation, family by family: each tiny model written as an LP file with symbolic names equals a
reviewed golden file in tests/formulation/, and models/README.md names exactly the model's components.

After a deliberate change to the formulation, rewrite the golden files with
``ALLOCATOR_UPDATE_GOLDEN=1 python -m pytest tests/test_formulation.py`` and review the diff.
"""

import os
import re
from pathlib import Path

import pytest
from helpers import ROOT, two_province_horizon, write_matrix_instance

from allocator.data.load import load_instance
from allocator.data.policy import load_policy
from allocator.data.province import province_instance
from allocator.model.build import build_model
from allocator.model.decision import Commitments, build_decision_model
from allocator.model.horizon import build_horizon_model

GOLDEN = Path(__file__).parent / "formulation"
UPDATE = os.environ.get("ALLOCATOR_UPDATE_GOLDEN") == "1"

# Neutral prices: every family below switches on one rule of the policy.
BASE = {
    "travel_value": 1,
    "unmet_penalty": 100,
    "max_travel_minutes": "none",
    "max_travel_minutes_regular": "none",
    "large_site_rule": "off",
}
CASES = {
    "core": {},
    "site_min_size": {},  # the instance's regular site has a minimum size; see sizes below
    "large_site_per_province_exactly": {"large_site_rule": "exactly"},
    "large_site_per_province_at_most": {"large_site_rule": "at_most"},
    "large_site_per_province_at_least": {"large_site_rule": "at_least"},
    "budget_limit": {"budget": 1000},
    "mean_travel_limit": {"mean_travel_limit_minutes": 15},
    "fixings": {"keep_existing_open": True, "force_sites": "LY", "forbid_sites": "LX"},
    "elastic": {"large_site_rule": "exactly", "budget": 1000, "mean_travel_limit_minutes": 15, "force_sites": "LY"},
    "group_capacity": {"large_site_rule": "exactly"},  # instances/tiny-groups: demand groups
    "place_supply": {"large_site_rule": "exactly"},  # the allocation decision for South in instances/tiny-decision
    "fair_share": {"large_site_rule": "exactly", "fair_share_band": 0.1},  # instances/tiny-two-provinces
    "operator_choice": {"large_site_rule": "exactly"},  # instances/tiny-operators: a site and its operators
}


def tiny(folder: Path, min_size: int, existing: bool) -> Path:
    """Province P: X (10 places) and Y (20); large candidates LX, LY and a regular site RX in X."""
    return write_matrix_instance(
        folder,
        {"province": ["P"], "name": ["P"]},
        {
            "municipality": ["X", "Y"],
            "name": ["X", "Y"],
            "province": "P",
            "population": 1,
            "lat": 52,
            "lon": 5,
            "demand": [10, 20],
        },
        {
            "site": ["LX", "LY", "RX"],
            "name": ["LX", "LY", "RX"],
            "municipality": ["X", "Y", "X"],
            "province": "P",
            "kind": ["large", "large", "regular"],
            "status": ["candidate", "candidate", "existing" if existing else "candidate"],
            "min_size": [0, 0, min_size],
            "capacity": [30, 30, 15],
            "fixed_cost": [100, 120, 40],
            "cost_per_place": [2, 3, 4],
            "lat": 52,
            "lon": 5,
        },
        {
            "municipality": ["X", "X", "X", "Y", "Y"],
            "site": ["LX", "LY", "RX", "LX", "LY"],
            "minutes": [0, 30, 5, 30, 0],
        },
    )


def case_instance(case: str, tmp_path: Path):
    if case == "group_capacity":
        return load_instance(ROOT / "instances" / "tiny-groups")
    if case == "fair_share":
        return load_instance(ROOT / "instances" / "tiny-two-provinces")
    if case == "operator_choice":
        return load_instance(ROOT / "instances" / "tiny-operators")
    return load_instance(
        tiny(
            tmp_path / "tiny",
            min_size=8 if case in ("site_min_size", "elastic") else 0,
            existing=case in ("fixings", "elastic"),
        )
    )


def decision_model(overrides: dict):
    """South of tiny-decision with its plan's 80 places at LS committed."""
    instance = province_instance(load_instance(ROOT / "instances" / "tiny-decision"), ["S"])
    commitments = Commitments({("LS", "reg"): 80}, frozenset({"LS"}))
    return build_decision_model(instance, load_policy("default", overrides), commitments)


def lp_text(case: str, tmp_path: Path) -> str:
    overrides = {**BASE, **CASES[case]}
    if case == "place_supply":
        model = decision_model(overrides)
    else:
        instance = case_instance(case, tmp_path)
        keep = overrides.pop("keep_existing_open", case == "elastic")
        model = build_model(
            instance, load_policy("default", {**overrides, "keep_existing_open": keep}), elastic=case == "elastic"
        )
    path = tmp_path / f"{case}.lp"
    model.write(str(path), io_options={"symbolic_solver_labels": True})
    return path.read_text()


# Horizon families on the tiny horizon instances (their README files): instance, policy keys.
HORIZON_CASES = {
    "horizon_standby": ("tiny-horizon-standby", {"budget": 240}),
    "horizon_lifecycle": (
        "tiny-horizon-lifecycle",
        {"mean_travel_limit_minutes": 15, "discount_rate": 0.1, "large_site_rule": "exactly"},
    ),
    "horizon_band_worst": ("tiny-horizon-band", {"risk": "worst"}),
    "horizon_groups": ("tiny-horizon-groups", {"large_site_rule": "exactly"}),
    "horizon_moves": ("tiny-horizon-moves", {"move_cost": 3, "max_moves_per_period": 40}),
    # tiny-two-provinces over one year (tests/helpers.py two_province_horizon)
    "horizon_fair_share": ("two-province-horizon", {"large_site_rule": "exactly", "fair_share_band": 0.1}),
}


def horizon_model(case: str, tmp_path: Path):
    name, overrides = HORIZON_CASES[case]
    folder = two_province_horizon(tmp_path / name) if name == "two-province-horizon" else ROOT / "instances" / name
    return build_horizon_model(load_instance(folder), load_policy("default", {**BASE, **overrides}))


def horizon_lp_text(case: str, tmp_path: Path) -> str:
    path = tmp_path / f"{case}.lp"
    horizon_model(case, tmp_path).write(str(path), io_options={"symbolic_solver_labels": True})
    return path.read_text()


@pytest.mark.parametrize("case", list(CASES) + list(HORIZON_CASES))
def test_formulation_matches_the_reviewed_lp(case, tmp_path):
    text = horizon_lp_text(case, tmp_path) if case in HORIZON_CASES else lp_text(case, tmp_path)
    golden = GOLDEN / f"{case}.lp"
    if UPDATE:
        golden.write_text(text)
    assert golden.is_file(), f"no golden file {golden}; write it with ALLOCATOR_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text()


HORIZON_HEADING = "# Plans over several periods (the horizon model)"


def documented_components(horizon: bool) -> set[str]:
    """The component names of models/README.md: the Pyomo column of its symbol tables and the name column of its constraint tables, and the objective's parts.

    The static model is described before the horizon's heading, the horizon model after it.
    """
    static, _, rest = (ROOT / "models" / "README.md").read_text(encoding="utf-8").partition(HORIZON_HEADING)
    text = rest if horizon else static
    names, column = set(), None
    for line in text.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column is None:  # the header row names the column that holds components
            column = next((k for k, c in enumerate(cells) if c in ("Pyomo", "Pyomo / output column", "name")), -1)
            continue
        match = re.fullmatch(r"`([A-Za-z_]+)(\[[^\]]*\])?`.*", cells[column]) if 0 <= column < len(cells) else None
        if match:
            names.add(match.group(1))
    for block in re.finditer(r"```\nminimise (.*?)```", text, re.S):
        names |= set(re.findall(r"^\s*(?:minimise )?([a-z_]+) +=", block.group(0), re.M))
    return names


def model_components(tmp_path: Path) -> set[str]:
    names = set()
    cases = ("elastic", "large_site_per_province_exactly", "site_min_size", "group_capacity", "fair_share")
    for case in (*cases, "operator_choice"):
        instance = (
            case_instance(case, tmp_path)
            if case in ("group_capacity", "fair_share", "operator_choice")
            else load_instance(tiny(tmp_path / case, min_size=8, existing=True))
        )
        overrides = {**BASE, **CASES[case], "budget": 1000, "mean_travel_limit_minutes": 15}
        model = build_model(instance, load_policy("default", overrides), elastic=case == "elastic")
        names |= {
            c.local_name for c in model.component_objects(descend_into=False) if not c.local_name.endswith("_index")
        }
    for model in (decision_model({**BASE, "budget": 1000, "mean_travel_limit_minutes": 15}),):
        names |= {
            c.local_name for c in model.component_objects(descend_into=False) if not c.local_name.endswith("_index")
        }
    return names


def test_the_formulation_document_names_every_component(tmp_path):
    assert documented_components(horizon=False) == model_components(tmp_path)


def test_the_formulation_document_names_every_horizon_component(tmp_path):
    names = set()
    for case in HORIZON_CASES:
        model = horizon_model(case, tmp_path / case)
        names |= {
            c.local_name for c in model.component_objects(descend_into=False) if not c.local_name.endswith("_index")
        }
    assert documented_components(horizon=True) == names
