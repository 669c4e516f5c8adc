"""Load an instance from a folder of CSV files or from an Excel workbook."""

from __future__ import annotations

from pathlib import Path

from .instance import Instance, is_workbook, load_folder_instance
from .workbook import load_workbook_instance


def load_instance(path: str | Path) -> Instance:
    """Read and validate the instance folder (or .xlsx workbook) at ``path``; raise InstanceError listing every problem."""
    root = Path(path)
    if is_workbook(root):
        return load_workbook_instance(root)
    return load_folder_instance(root)
