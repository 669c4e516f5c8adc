"""Where the bundled instances and policy presets live."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INSTANCE = "nl-2024"


def project_root() -> Path:
    """ALLOCATOR_HOME if set, else the checkout the package was installed from (editable install)."""
    env = os.environ.get("ALLOCATOR_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2]


def models_dir() -> Path:
    """The folder of the policy presets."""
    return project_root() / "models"


def instances_dir() -> Path:
    """The folder of the bundled instances."""
    return project_root() / "instances"


def bundled_instance(name: str = DEFAULT_INSTANCE) -> Path:
    """The folder of a bundled instance."""
    return instances_dir() / name
