from __future__ import annotations

from pathlib import Path

import pytest

from harness.traces import TraceStore


@pytest.fixture
def store(tmp_path: Path) -> TraceStore:
    return TraceStore(tmp_path / "nested" / "traces.duckdb")
