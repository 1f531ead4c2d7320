"""The self-inspection's test data changed: ``copy_logs`` (the quarter's data itself is ``quarter_data``, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def copy_logs(tmp_path: Path, quarter_data: Any) -> Callable[[Callable[[pd.DataFrame], pd.DataFrame]], list[Path]]:
    """The logs with the last month's frame changed by a function (a changed population)."""
    def change(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> list[Path]:
        out = [*quarter_data.logs[:-1]]
        frame = pd.read_csv(quarter_data.logs[-1], dtype=str, keep_default_na=False)
        path = tmp_path / quarter_data.logs[-1].name
        edit(frame).to_csv(path, index=False)
        return [*out, path]
    return change
