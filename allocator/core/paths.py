"""Where the bundled instances and policy presets live: inside the installed package, found from any folder.

The repository keeps them at the top level (models/, instances/); the package maps them to
``allocator.presets`` and ``allocator.bundled`` (pyproject.toml), so an editable install reads the
repository's files and a plain ``pip install .`` ships copies. ALLOCATOR_HOME points elsewhere
(a folder holding models/ and instances/).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

DEFAULT_INSTANCE = "nl-2024"


def _bundled(package: str, folder: str) -> Path:
    home = os.environ.get("ALLOCATOR_HOME")
    if home:
        return Path(home) / folder
    return Path(str(resources.files(package)))


def models_dir() -> Path:
    """The folder of the policy presets."""
    return _bundled("allocator.presets", "models")


def instances_dir() -> Path:
    """The folder of the bundled instances."""
    return _bundled("allocator.bundled", "instances")


def bundled_instance(name: str = DEFAULT_INSTANCE) -> Path:
    """The folder of a bundled instance."""
    return instances_dir() / name


def bundled_instances() -> list[str]:
    """The names of the bundled instances (folders with an instance.toml)."""
    return sorted(p.name for p in instances_dir().iterdir() if (p / "instance.toml").is_file())
