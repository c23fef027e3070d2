"""One tool call requested by the model: allow-list, loop detection, validation, breaker, approval, execution.

Whatever goes wrong here goes back to the model as a tool message (or ends the run with a guard's status); nothing
raises up the stack.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import traceback
from dataclasses import dataclass
from typing import Any

import pydantic

from harness.agent._tracing import OpenSpan, RunTracer
from harness.agent.guards import ApprovalPolicy, ApprovalRequest, CircuitBreakers, PendingApproval
from harness.agent.tools import Tool, ToolContext, ToolError
from harness.models import semconv as sc
from harness.models.traces import RunStatus


@dataclass
class ToolOutcome:
    """What a tool call produced: the tool message for the model, and possibly the end of the run."""

    content: str
    outcome: str
    end_status: RunStatus | None = None
    end_detail: str | None = None
    pending: PendingApproval | None = None
    security_event: bool = False

    @property
    def is_error(self) -> bool:
        return self.outcome != "ok"


@dataclass
class ToolRunner:
    """Executes the model's tool calls for one run under the agent's guards."""

    tools: dict[str, Tool]
    allowed: frozenset[str]
    breakers: CircuitBreakers
    approval: ApprovalPolicy
    loop_threshold: int
    tracer: RunTracer
    root: OpenSpan
    metadata: dict[str, Any]

    def __post_init__(self) -> None:
        self._seen: dict[str, int] = {}

    async def run(self, call_id: str, name: str, raw_arguments: str, step: int) -> ToolOutcome:
        """Handle one call; always returns, never raises."""
        span = self.tracer.start(
            f"{sc.OP_EXECUTE_TOOL} {name}",
            sc.OP_EXECUTE_TOOL,
            parent=self.root,
            attributes={
                sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                sc.TOOL_NAME: name,
                sc.TOOL_CALL_ID: call_id,
                sc.TOOL_TYPE: "function",
                sc.TOOL_CALL_ARGUMENTS: raw_arguments,
                sc.STEP: step,
            },
        )
        try:
            outcome = await self._run(span, call_id, name, raw_arguments)
        except Exception as exc:  # a bug in the guards themselves must not lose the run
            outcome = ToolOutcome(f"Error: internal error while running {name}: {exc}", "error")
            span.event(sc.EVENT_EXCEPTION, **_exception_attributes(exc))
        span.attributes[sc.TOOL_OUTCOME] = outcome.outcome
        span.attributes[sc.TOOL_CALL_RESULT] = outcome.content
        if outcome.is_error:
            span.attributes[sc.ERROR_TYPE] = outcome.outcome
        self.tracer.end(span, "ERROR" if outcome.is_error else "OK", outcome.content if outcome.is_error else None)
        return outcome

    async def _run(self, span: OpenSpan, call_id: str, name: str, raw_arguments: str) -> ToolOutcome:
        tool = self.tools.get(name)
        if tool is None or name not in self.allowed:
            available = ", ".join(sorted(self.allowed)) or "none"
            detail = f"the model called '{name}', which this agent was not given"
            self.root.event(sc.EVENT_SECURITY, kind="unauthorized_tool", tool=name, detail=detail)
            return ToolOutcome(
                f"Error: tool '{name}' is not available. Available tools: {available}.",
                "unknown_tool",
                security_event=True,
            )
        span.attributes[sc.TOOL_DESCRIPTION] = tool.description
        span.attributes[sc.TOOL_SIDE_EFFECTS] = tool.side_effects

        canonical = _canonical(raw_arguments)
        loop_key = f"{name}\x00{canonical}"
        self._seen[loop_key] = self._seen.get(loop_key, 0) + 1
        if self._seen[loop_key] >= self.loop_threshold:
            detail = f"{name} called {self._seen[loop_key]} times with the same arguments {canonical}"
            self.root.event(sc.EVENT_GUARD, guard="loop_detection", detail=detail)
            return ToolOutcome("Error: not executed: repeated identical call.", "denied", "loop_detected", detail)

        try:
            data = json.loads(raw_arguments or "{}")
            args = tool.args_model.model_validate(data)
        except ValueError as exc:
            reason = _validation_message(exc)
            return ToolOutcome(
                f"Error: invalid arguments for {name}: {reason}. Call it again with valid arguments.",
                "invalid_arguments",
            )

        breaker = self.breakers.get(name)
        if not breaker.allow():
            detail = f"circuit breaker of {name} is open after {breaker.failures} consecutive failures"
            self.root.event(sc.EVENT_GUARD, guard="circuit_breaker", detail=detail)
            return ToolOutcome(f"Error: {name} is temporarily unavailable.", "circuit_open", "circuit_open", detail)

        if tool.needs_approval(args):
            span.attributes[sc.TOOL_REQUIRES_APPROVAL] = True
            decision = await self._decide(ApprovalRequest(self.tracer.run_id, name, call_id, args))
            if decision is None:
                pending = PendingApproval(tool=name, tool_call_id=call_id, arguments=args.model_dump(mode="json"))
                detail = f"{name} needs approval; no approval policy was given"
                self.root.event(sc.EVENT_GUARD, guard="approval_gate", detail=detail)
                return ToolOutcome(
                    "Waiting for human approval.", "awaiting_approval", "awaiting_approval", detail, pending=pending
                )
            if not decision:
                return ToolOutcome(f"Error: {name} was denied by the approval policy. Do not retry it.", "denied")

        key = None
        if tool.side_effects:
            key = hashlib.sha256(f"{self.tracer.run_id}:{name}:{canonical}".encode()).hexdigest()[:32]
            span.attributes[sc.TOOL_IDEMPOTENCY_KEY] = key
        context = ToolContext(
            run_id=self.tracer.run_id,
            trace_id=self.tracer.trace_id,
            tool_call_id=call_id,
            idempotency_key=key,
            metadata=self.metadata,
        )
        try:
            content = await tool.invoke(args, context)
        except ToolError as exc:
            return self._failed(span, breaker, name, f"Error: {exc}", exc)
        except Exception as exc:
            return self._failed(span, breaker, name, f"Error: {name} failed: {type(exc).__name__}: {exc}", exc)
        breaker.record_success()
        if tool.ends_run is not None:
            return ToolOutcome(content, "ok", tool.ends_run, f"{name} ended the run")
        return ToolOutcome(content, "ok")

    def _failed(self, span: OpenSpan, breaker: Any, name: str, content: str, exc: Exception) -> ToolOutcome:
        span.event(sc.EVENT_EXCEPTION, **_exception_attributes(exc))
        if breaker.record_failure():
            detail = f"{name} failed {breaker.failures} times in a row; its circuit breaker opened"
            self.root.event(sc.EVENT_GUARD, guard="circuit_breaker", detail=detail, state="open")
            content += " This tool is now unavailable; do not call it again."
        return ToolOutcome(content, "error")

    async def _decide(self, request: ApprovalRequest) -> bool | None:
        policy = self.approval
        if policy is None:
            return None
        if policy == "approve":
            return True
        if policy == "deny":
            return False
        verdict = policy(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return bool(verdict)


def _canonical(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw or "{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return raw


def _validation_message(exc: ValueError) -> str:
    if isinstance(exc, pydantic.ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
    return f"not valid JSON ({exc})"


def _exception_attributes(exc: BaseException) -> dict[str, Any]:
    return {
        "exception.type": type(exc).__name__,
        "exception.message": str(exc),
        "exception.stacktrace": "".join(traceback.format_exception(exc)),
    }
