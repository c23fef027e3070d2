"""The openai patch is removed after every adapter test (outside runs it is a pass-through, but tests stay clean)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.agent import instrument


@pytest.fixture(autouse=True)
def _no_patch_left() -> Iterator[None]:
    yield
    instrument.uninstall()
