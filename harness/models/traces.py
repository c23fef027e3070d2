"""Trace records: runs and spans, the contract between the agent runtime, the trace store and every reader.

A run is one OTel trace. Spans are the lossless core: W3C hex ids, int64 nanosecond times, every attribute kept.
Typed tables in the store (``llm_calls``, ``tool_calls``, ``messages``) are projections computed from span
attributes named in :mod:`harness.models.semconv`, so a trace imported from elsewhere projects the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from harness.models import semconv as sc
from harness.models._base import Record
from harness.models.chat import as_arguments

SpanKind = Literal["INTERNAL", "CLIENT", "SERVER", "PRODUCER", "CONSUMER"]
StatusCode = Literal["UNSET", "OK", "ERROR"]
RunStatus = Literal[
    "started",
    "completed",
    "escalated",
    "awaiting_approval",
    "max_steps",
    "token_budget",
    "timeout",
    "loop_detected",
    "circuit_open",
    "invalid_output",
    "model_error",
    "error",
    "cancelled",
]
RUN_STATUSES: tuple[str, ...] = RunStatus.__args__  # type: ignore[attr-defined]
"""Every run status, in documentation order."""

FINISHED_OK: frozenset[str] = frozenset({"completed", "escalated"})
"""Statuses in which the agent finished its job (escalating to a human is a legitimate outcome)."""


class SpanEvent(Record):
    """Something that happened at a point in time within a span (a retry, a guard firing, a security event)."""

    name: str
    """Event name, e.g. ``agenteval.retry`` or ``agenteval.security``."""
    time_ns: int
    """Unix time in nanoseconds."""
    attributes: dict[str, Any] = {}
    """Event attributes (JSON values)."""


class Span(Record):
    """One OpenTelemetry span."""

    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    """W3C trace id, 32 lower-case hex digits."""
    span_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    """W3C span id, 16 lower-case hex digits."""
    parent_span_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    """Parent span id; ``None`` for the root span of a run."""
    run_id: str
    """The run this span belongs to."""
    seq: int
    """Order of the span within its run (start order): a stable key for diffs between runs."""
    name: str
    """Span name, e.g. ``chat mock-gpt`` or ``execute_tool lookup_order``."""
    kind: SpanKind = "INTERNAL"
    """OpenTelemetry span kind: model calls are CLIENT, the agent and its tools INTERNAL."""
    operation: str
    """``gen_ai.operation.name``: ``invoke_agent``, ``chat``, ``execute_tool``, or a custom operation."""
    start_ns: int
    """Start, Unix time in nanoseconds."""
    end_ns: int
    """End, Unix time in nanoseconds."""
    status_code: StatusCode = "UNSET"
    """OpenTelemetry status code."""
    status_message: str | None = None
    """Why the span failed, when it did."""
    attributes: dict[str, Any] = {}
    """All attributes, as emitted (values may be nested JSON; OTLP export turns nested values into JSON strings)."""
    events: list[SpanEvent] = []
    """Events within the span."""


class RunRecord(Record):
    """One agent run: the ``runs`` row. Written first with status ``started``, then replaced when the run ends."""

    run_id: str
    """Unique run id (a UUID4 in hex); what ``agenteval traces show`` and ``agenteval replay`` take."""
    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    """W3C trace id shared by all spans of the run."""
    kind: Literal["agent_run", "eval_case", "replay"] = "agent_run"
    """Why the run happened: a single agent run, a case of an eval run, or a replay."""
    agent_name: str
    """Name of the agent (``gen_ai.agent.name``)."""
    prompt_name: str | None = None
    """Prompt family, e.g. ``support``."""
    prompt_version: str | None = None
    """Prompt version, e.g. ``v2``."""
    prompt_sha256: str | None = None
    """SHA-256 of the prompt template file's content: tells two edits of one version apart."""
    model: str
    """Requested model."""
    base_url: str | None = None
    """Endpoint the model was called at (no credentials)."""
    status: RunStatus = "started"
    """How the run ended (``started`` while it runs, or if it never finished)."""
    status_detail: str | None = None
    """One line on why the run ended that way, e.g. which guard fired."""
    error_type: str | None = None
    """Exception or error code when the run failed."""
    error_message: str | None = None
    """Error message when the run failed."""
    start_ns: int
    """Start, Unix time in nanoseconds."""
    end_ns: int | None = None
    """End, Unix time in nanoseconds; ``None`` while running."""
    input: str
    """The user's message (after PII redaction)."""
    output_text: str | None = None
    """The final answer as text (JSON text for structured answers)."""
    output_data: Any = None
    """The final structured answer, when the agent has an output type."""
    steps: int = 0
    """Model calls that were answered (each may be followed by tool calls)."""
    llm_calls: int = 0
    """Model calls made, retries not counted."""
    tool_calls: int = 0
    """Tool calls requested by the model (executed or refused)."""
    tool_errors: int = 0
    """Tool calls that failed (invalid arguments, exceptions, refusals)."""
    input_tokens: int = 0
    """Prompt tokens over all model calls, from the provider's ``usage``."""
    output_tokens: int = 0
    """Completion tokens over all model calls."""
    retries: int = 0
    """Model-call attempts beyond the first, over the run."""
    security_events: int = 0
    """Refused calls to tools the agent was not given, and similar events."""
    mode: Literal["live", "record", "replay"] = "live"
    """Whether model calls went to the provider, were recorded, or were replayed."""
    tags: list[str] = []
    """Free-form tags."""
    metadata: dict[str, Any] = {}
    """Anything else worth keeping with the run."""
    eval_run_id: str | None = None
    """The eval run this run belongs to (set by the runner)."""
    case_id: str | None = None
    """Dataset case id (set by the runner)."""
    variant: str | None = None
    """Variant name (set by the runner)."""
    epoch: int | None = None
    """Epoch number (set by the runner)."""
    dataset: str | None = None
    """Dataset of the case (set by the runner)."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def duration_ms(self) -> float | None:
        """Wall-clock duration in milliseconds, once finished."""
        return None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6


def cost_usd(
    model: str, input_tokens: int, output_tokens: int, prices: Mapping[str, tuple[float, float]]
) -> float | None:
    """Cost in USD of these tokens at ``prices`` (USD per million input and output tokens, by model), unrounded;
    ``None`` when the model has no price."""
    price = prices.get(model)
    if price is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1e6


class RunTrace(Record):
    """A finished run with all its spans: what the runtime hands to a trace sink."""

    run: RunRecord
    """The run row."""
    spans: list[Span]
    """Every span, root first, in ``seq`` order."""

    def requested_tool_calls(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """``(name, arguments, call id)`` of every tool call the model asked for, in order: the ``tool_call`` parts
        of the chat spans' output messages (what the agent decided, whether or not the tool then ran)."""
        calls: list[tuple[str, dict[str, Any], str | None]] = []
        for span in sorted(self.spans, key=lambda s: s.seq):
            if span.operation != sc.OP_CHAT:
                continue
            for message in span.attributes.get(sc.OUTPUT_MESSAGES) or []:
                for part in message.get("parts", []) if isinstance(message, dict) else []:
                    if isinstance(part, dict) and part.get("type") == "tool_call":
                        call_id = part.get("id")
                        calls.append(
                            (
                                str(part.get("name")),
                                as_arguments(part.get("arguments")),
                                None if call_id is None else str(call_id),
                            )
                        )
        return calls
