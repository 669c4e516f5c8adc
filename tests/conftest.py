"""Fixtures shared by the tests (helpers without fixtures live in helpers.py)."""

import shutil

import pandas as pd
import pytest
from helpers import INSTANCES


@pytest.fixture
def copy_instance(tmp_path):
    """Copy a bundled instance into tmp_path; returns (folder, edit) where edit(table, fn) rewrites a CSV."""

    def make(name: str):
        folder = tmp_path / name
        shutil.copytree(INSTANCES / name, folder)

        def edit(table: str, fn):
            path = folder / f"{table}.csv"
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            df = fn(df)
            df.to_csv(path, index=False)

        return folder, edit

    return make
