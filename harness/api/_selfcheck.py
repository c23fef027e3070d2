"""Self-check of a fresh install."""

from __future__ import annotations

from harness.mockllm import MockLLMServer
from harness.mockllm.selfcheck import SelfCheckReport, run_selfcheck


def selfcheck(scenario: str | None = None) -> SelfCheckReport:
    """Start the scripted model server in the background and check it with the official openai client."""
    with MockLLMServer(scenario) as server:
        return run_selfcheck(server)
