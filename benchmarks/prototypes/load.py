"""Instances for the prototypes: nl-2024 (with or without a budget), synthetic scales, OR-Library."""

import re
from pathlib import Path

from cfl import from_model_data, from_orlib

ORLIB = Path("/work/shared/data/orlib")
CACHE = Path(__file__).resolve().parents[1] / ".cache"  # as benchmarks/run.py: synthetic-x{K}-seed1


def problem_for(name: str):
    m = re.fullmatch(r"cap([abc])-(\d+)", name)
    if m:
        return from_orlib(ORLIB / f"cap{m.group(1)}.txt", capacity=float(m.group(2)))
    if re.fullmatch(r"cap\d+", name):
        return from_orlib(ORLIB / f"{name}.txt")
    from allocator.data.load import load_instance
    from allocator.data.policy import load_policy
    from allocator.model.data import model_data

    overrides = {}
    if name.startswith("x"):
        from allocator.data.generate import generate

        scale = int(name.split("+")[0][1:])
        path = CACHE / f"synthetic-x{scale}-seed1"
        if not path.exists():
            generate(scale, 1, path)
        overrides["nearest_regular_sites"] = 25
    else:
        path = Path(__file__).resolve().parents[2] / "instances" / "nl-2024"
    if "+budget" in name:
        overrides["budget"] = float(name.split("+budget=")[1])
    inst = load_instance(path)
    pol = load_policy("default", overrides)
    p = from_model_data(model_data(inst, pol), pol, inst)
    p.name = name
    return p
