"""Failed evals explain themselves: the case, the failing scores, a compact trace and the replay command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.api import EvalResult


def fail_unless_passed(result: EvalResult) -> None:
    """Fail the test with :meth:`EvalResult.explain` (no Python traceback: the trace is the evidence)."""
    if not result.passed:
        pytest.fail(result.explain(), pytrace=False)
