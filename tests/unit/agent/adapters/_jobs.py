"""Case jobs for the adapter tests, as the runner would build them."""

from __future__ import annotations

from typing import Any

from harness.agent.under_test import CaseJob
from harness.models.cases import Case, Variant


def job_for(
    case: Case | dict[str, Any], *, run_id: str = "run-1", base_url: str | None = None, **variant: Any
) -> CaseJob:
    """A job for one case, as the runner would build it."""
    return CaseJob(
        case=case if isinstance(case, Case) else Case.model_validate(case),
        variant=Variant(name=variant.pop("name", "default"), **variant),
        run_id=run_id,
        epoch=1,
        seed=7,
        base_url=base_url,
        timeout_s=30,
    )
