"""Production guards: limits, retries policy, circuit breakers, approval policies.

Each guard that ends a run gives it its own status (see :data:`harness.models.traces.RunStatus`) and leaves an
``agenteval.guard`` event on the run's root span saying which guard fired and why.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from harness.models import Record


class Limits(Record):
    """The guards' settings. Defaults suit a support agent on a hosted model."""

    max_steps: int = Field(default=10, ge=1)
    """Model calls per run; one more ends the run ``max_steps``."""
    token_budget: int | None = Field(default=50_000, ge=1)
    """Input plus output tokens per run (from the provider's ``usage``); exceeding it ends the run ``token_budget``."""
    model_timeout_s: float = Field(default=60.0, gt=0)
    """Wall-clock limit of one model-call attempt (timeouts are retried)."""
    run_timeout_s: float = Field(default=300.0, gt=0)
    """Wall-clock limit of the whole run; ends it ``timeout``."""
    max_retries: int = Field(default=3, ge=0)
    """Retries of a model call after 429, 5xx, timeouts, dropped connections and unreadable responses."""
    backoff_initial_s: float = Field(default=0.5, ge=0)
    """First backoff delay; doubles per retry, with jitter."""
    backoff_max_s: float = Field(default=8.0, ge=0)
    """Longest backoff delay."""
    retry_after_max_s: float = Field(default=60.0, ge=0)
    """A ``Retry-After`` longer than this is not honoured: the call fails instead of stalling the run."""
    breaker_failures: int = Field(default=3, ge=1)
    """Consecutive failures of one tool that open its circuit breaker."""
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    """Time after which an open breaker lets one trial call through (half-open)."""
    loop_threshold: int = Field(default=3, ge=2)
    """The same tool called with the same arguments this many times in a run ends it ``loop_detected``."""


BreakerState = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    """Per-tool breaker: opens after N consecutive failures, half-opens after a cooldown to try one call."""

    failure_threshold: int
    cooldown_s: float
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = "closed"
    failures: int = 0
    opened_at: float = 0.0

    def allow(self) -> bool:
        """Whether a call may go through now (moving open → half-open once the cooldown has passed)."""
        if self.state == "open" and self.clock() - self.opened_at >= self.cooldown_s:
            self.state = "half_open"
        return self.state != "open"

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        self.state = "closed"
        self.failures = 0

    def record_failure(self) -> bool:
        """A call failed; return True if this failure opened the breaker."""
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.failure_threshold:
            opened = self.state != "open"
            self.state = "open"
            self.opened_at = self.clock()
            return opened
        return False


@dataclass
class CircuitBreakers:
    """The breakers of an agent's tools. Owned by the agent, so they persist across its runs like a service's."""

    failure_threshold: int = 3
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    by_tool: dict[str, CircuitBreaker] = field(default_factory=dict)

    def get(self, tool: str) -> CircuitBreaker:
        """The breaker for ``tool`` (created closed on first use)."""
        breaker = self.by_tool.get(tool)
        if breaker is None:
            breaker = CircuitBreaker(self.failure_threshold, self.cooldown_s, self.clock)
            self.by_tool[tool] = breaker
        return breaker


@dataclass(frozen=True)
class ApprovalRequest:
    """A gated tool call waiting for a decision."""

    run_id: str
    tool: str
    tool_call_id: str
    arguments: BaseModel


ApprovalCallback = Callable[[ApprovalRequest], bool | Awaitable[bool]]
ApprovalPolicy = Literal["deny", "approve"] | ApprovalCallback | None
"""``None``: a gated call ends the run ``awaiting_approval`` without running; ``"deny"``: the call is refused and the
model is told so; ``"approve"``: it runs; a callback decides per call (sync or async)."""


class PendingApproval(Record):
    """The call a run stopped at when it ended ``awaiting_approval`` (stored in the run's metadata)."""

    tool: str
    """Tool that needs approval."""
    tool_call_id: str
    """The model's call id."""
    arguments: dict[str, Any]
    """Validated arguments."""
