"""The reference agent runtime: one agent, a tool loop, production guards, and a trace of every run.

An :class:`Agent` is model settings + a prompt version + typed tools + limits. It talks to any OpenAI-compatible
endpoint through the official ``openai`` client. Every run becomes a :class:`~harness.models.traces.RunTrace`
handed to a :class:`TraceSink` (the DuckDB trace store, usually): the run row first, with status ``started``, so a
run that never finishes stays visible; then the whole trace, PII redacted, when it ends.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai
from pydantic import BaseModel, ValidationError

from harness.agent._model import ModelCallError, call_model, make_client, record_reply, start_chat_span
from harness.agent._tool_call import ToolRunner
from harness.agent._tracing import OpenSpan, RunTracer, new_trace_id
from harness.agent.guards import ApprovalPolicy, CircuitBreakers, Limits
from harness.agent.prompts import Prompt
from harness.agent.redaction import Redactor
from harness.agent.tools import Tool
from harness.models import Record
from harness.models import semconv as sc
from harness.models.traces import RunRecord, RunStatus, RunTrace, Span


class TraceSink(Protocol):
    """Where runs are recorded. :class:`harness.traces.TraceStore` is one."""

    def begin_run(self, run: RunRecord) -> None:
        """Record that a run started (called before the first model call)."""

    def write_trace(self, trace: RunTrace) -> None:
        """Record a finished run with all its spans."""


class ModelSettings(Record):
    """Which model to call, where, and with which sampling parameters. Never holds the API key."""

    model: str = "mock-gpt"
    """Model name as the endpoint knows it."""
    base_url: str | None = None
    """OpenAI-compatible endpoint (``None``: the openai client's default, i.e. ``OPENAI_BASE_URL`` or OpenAI)."""
    temperature: float | None = None
    """Sampling temperature (provider default when unset)."""
    top_p: float | None = None
    """Nucleus sampling (provider default when unset)."""
    max_tokens: int | None = None
    """Completion-token cap per call."""
    seed: int | None = None
    """Sampling seed, for providers that honour it."""


@dataclass
class AgentResult:
    """What a run returns: its record (status, usage, output) and its trace, as stored."""

    run: RunRecord
    output: Any
    """The validated output model instance, the final text, or ``None`` when the run did not complete."""
    spans: list[Span]
    messages: list[dict[str, Any]] = field(repr=False)
    """The conversation as sent to the model (not redacted: it never leaves the process)."""

    @property
    def status(self) -> RunStatus:
        return self.run.status


@dataclass
class _RunState:
    record: RunRecord
    steps: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    security_events: int = 0
    status: RunStatus = "started"
    detail: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    output: Any = None
    output_text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def end(self, status: RunStatus, detail: str | None = None) -> None:
        self.status = status
        self.detail = detail


class Agent:
    """A single tool-using agent with guards. Build it once; call :meth:`run` (or :meth:`run_async`) per request."""

    def __init__(
        self,
        name: str,
        prompt: Prompt,
        tools: list[Tool] | None = None,
        *,
        model: ModelSettings | None = None,
        limits: Limits | None = None,
        output_type: type[BaseModel] | None = None,
        prompt_variables: dict[str, Any] | None = None,
        approval: ApprovalPolicy = None,
        allowed_tools: set[str] | None = None,
        redactor: Redactor | None = None,
        trace_sink: TraceSink | None = None,
        api_key: str | None = None,
        client_factory: Any = None,
    ) -> None:
        self.name = name
        self.prompt = prompt
        self.tools = {t.name: t for t in tools or []}
        self.model = model or ModelSettings()
        self.limits = limits or Limits()
        self.output_type = output_type
        self.prompt_variables = dict(prompt_variables or {})
        self.approval = approval
        self.allowed_tools = frozenset(self.tools if allowed_tools is None else allowed_tools)
        self.redactor = redactor if redactor is not None else Redactor()
        self.trace_sink = trace_sink
        self.breakers = CircuitBreakers(self.limits.breaker_failures, self.limits.breaker_cooldown_s)
        self._api_key = api_key
        self._client_factory = client_factory
        self._rng = random.Random()
        self.system_prompt = prompt.render(self.prompt_variables)

    # -- public ----------------------------------------------------------------------------------------------

    def run(self, message: str, **options: Any) -> AgentResult:
        """Run the agent on one user message (blocking). See :meth:`run_async` for the options."""
        return asyncio.run(self.run_async(message, **options))

    async def run_async(
        self,
        message: str,
        *,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        seed: int | None = None,
        client: openai.AsyncOpenAI | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> AgentResult:
        """Run the agent on one user message.

        Args:
            message: the user's message.
            run_id: the run's id (a new UUID by default).
            metadata: passed to tools through ``ToolContext.metadata`` and stored with the run.
            tags: stored with the run.
            seed: overrides the model settings' seed for this run.
            client: an ``openai.AsyncOpenAI`` to reuse (one is created, and closed, per run otherwise).
            history: earlier turns of the conversation (chat-completions messages), sent between the system
                prompt and ``message``.
        """
        owns_client = client is None
        active = client or self._make_client()  # before begin_run: a config error must not leave a started run
        run_id = run_id or uuid.uuid4().hex
        trace_id = new_trace_id()
        record = RunRecord(
            run_id=run_id,
            trace_id=trace_id,
            agent_name=self.name,
            prompt_name=self.prompt.name,
            prompt_version=self.prompt.version,
            prompt_sha256=self.prompt.sha256,
            model=self.model.model,
            base_url=self.model.base_url,
            start_ns=time.time_ns(),
            input=self.redactor.text(message)[0],
            tags=list(tags or []),
            metadata=dict(metadata or {}),
        )
        if self.trace_sink is not None:
            self.trace_sink.begin_run(record)
        tracer = RunTracer(run_id, trace_id)
        root = tracer.start(
            f"{sc.OP_INVOKE_AGENT} {self.name}",
            sc.OP_INVOKE_AGENT,
            attributes={
                sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.AGENT_NAME: self.name,
                sc.RUN_ID: run_id,
                sc.PROMPT_NAME: self.prompt.name,
                sc.PROMPT_VERSION: self.prompt.version,
                sc.PROMPT_SHA256: self.prompt.sha256,
                sc.REQUEST_MODEL: self.model.model,
            },
        )
        state = _RunState(record=record, metadata=dict(metadata or {}))
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            *(dict(turn) for turn in history or []),
            {"role": "user", "content": message},
        ]
        try:
            async with asyncio.timeout(self.limits.run_timeout_s):
                await self._loop(active, messages, tracer, root, state, seed)
        except TimeoutError:
            detail = f"run exceeded its {self.limits.run_timeout_s:g}s wall-clock limit"
            root.event(sc.EVENT_GUARD, guard="run_timeout", detail=detail)
            state.end("timeout", detail)
        except ModelCallError as exc:
            state.end("model_error", f"model call failed after {exc.attempts} attempt(s): {exc.error_type}")
            state.error_type, state.error_message = exc.error_type, str(exc)
        except asyncio.CancelledError:
            state.end("cancelled", "the run was cancelled")
            raise
        except Exception as exc:  # a bug in the agent or its tools' plumbing becomes an error row
            state.end("error", f"{type(exc).__name__}: {exc}")
            state.error_type, state.error_message = type(exc).__name__, str(exc)
            root.event(
                sc.EVENT_EXCEPTION,
                **{
                    "exception.type": type(exc).__name__,
                    "exception.message": str(exc),
                    "exception.stacktrace": "".join(traceback.format_exception(exc)),
                },
            )
        finally:
            if owns_client:
                await active.close()
            result = self._finish(state, tracer, root, messages)
        return result

    # -- the loop --------------------------------------------------------------------------------------------

    async def _loop(
        self,
        client: openai.AsyncOpenAI,
        messages: list[dict[str, Any]],
        tracer: RunTracer,
        root: OpenSpan,
        state: _RunState,
        seed: int | None,
    ) -> None:
        runner = ToolRunner(
            tools=self.tools,
            allowed=self.allowed_tools,
            breakers=self.breakers,
            approval=self.approval,
            loop_threshold=self.limits.loop_threshold,
            tracer=tracer,
            root=root,
            metadata=state.metadata,
        )
        repaired = False
        while True:
            if state.steps >= self.limits.max_steps:
                detail = f"reached max_steps={self.limits.max_steps} without a final answer"
                root.event(sc.EVENT_GUARD, guard="max_steps", detail=detail)
                return state.end("max_steps", detail)
            step = state.steps + 1
            request = self._request(messages, seed)
            span = start_chat_span(tracer, root, request, self.model.base_url, step)
            state.llm_calls += 1
            try:
                reply = await call_model(client, request, self.limits, span, self._rng)
            except ModelCallError as exc:
                state.retries += exc.attempts - 1
                tracer.end(span, "ERROR", str(exc))
                raise
            record_reply(span, reply)
            tracer.end(span)
            state.steps = step
            state.retries += reply.attempts - 1
            usage = reply.completion.usage
            if usage is not None:
                state.input_tokens += usage.prompt_tokens
                state.output_tokens += usage.completion_tokens
            choice = reply.completion.choices[0]
            messages.append(choice.message.model_dump(exclude_none=True, exclude={"refusal", "annotations"}))
            budget = self.limits.token_budget
            if budget is not None and state.input_tokens + state.output_tokens > budget:
                detail = f"used {state.input_tokens + state.output_tokens} tokens, over the budget of {budget}"
                root.event(sc.EVENT_GUARD, guard="token_budget", detail=detail)
                return state.end("token_budget", detail)
            calls = [c for c in choice.message.tool_calls or [] if c.type == "function"]
            if calls:
                for call in calls:
                    state.tool_calls += 1
                    outcome = await runner.run(call.id, call.function.name, call.function.arguments, step)
                    state.tool_errors += outcome.is_error
                    state.security_events += outcome.security_event
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.content})
                    if outcome.end_status is not None:
                        if outcome.pending is not None:
                            state.metadata["pending_approval"] = outcome.pending.model_dump()
                        if outcome.end_status == "escalated":
                            state.output_text = outcome.content
                        return state.end(outcome.end_status, outcome.end_detail)
                continue
            content = choice.message.content or ""
            if self.output_type is None:
                state.output, state.output_text = content, content
                return state.end("completed")
            try:
                state.output = self.output_type.model_validate_json(content)
                state.output_text = content
                return state.end("completed")
            except ValidationError as exc:
                if repaired:
                    detail = f"final answer failed validation after one repair attempt: {_errors(exc)}"
                    root.event(sc.EVENT_GUARD, guard="output_validation", detail=detail)
                    state.output_text = content
                    return state.end("invalid_output", detail)
                repaired = True
                root.event(sc.EVENT_GUARD, guard="output_repair", detail=_errors(exc))
                messages.append(
                    {
                        "role": "user",
                        "content": (
                            "Your previous answer did not match the required JSON schema: "
                            f"{_errors(exc)}. Reply again with only a JSON object that matches the schema."
                        ),
                    }
                )

    def _request(self, messages: list[dict[str, Any]], seed: int | None) -> dict[str, Any]:
        settings = self.model
        request: dict[str, Any] = {"model": settings.model, "messages": [dict(m) for m in messages]}
        if self.tools:
            request["tools"] = [t.definition() for t in self.tools.values()]
        if self.output_type is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": self.output_type.__name__, "schema": self.output_type.model_json_schema()},
            }
        for key in ("temperature", "top_p", "max_tokens"):
            value = getattr(settings, key)
            if value is not None:
                request[key] = value
        chosen_seed = seed if seed is not None else settings.seed
        if chosen_seed is not None:
            request["seed"] = chosen_seed
        return request

    def _make_client(self) -> openai.AsyncOpenAI:
        if self._client_factory is not None:
            client: openai.AsyncOpenAI = self._client_factory()
            return client
        return make_client(self.model.base_url, self._api_key, self.limits.model_timeout_s)

    # -- finishing -------------------------------------------------------------------------------------------

    def _finish(
        self, state: _RunState, tracer: RunTracer, root: OpenSpan, messages: list[dict[str, Any]]
    ) -> AgentResult:
        root.attributes[sc.RUN_STATUS] = state.status
        if state.detail:
            root.attributes[sc.RUN_STATUS_DETAIL] = state.detail
        root.attributes[sc.USAGE_INPUT_TOKENS] = state.input_tokens
        root.attributes[sc.USAGE_OUTPUT_TOKENS] = state.output_tokens
        failed = state.status not in ("completed", "escalated")
        tracer.end(root, "ERROR" if failed else "OK", state.detail if failed else None)
        output_data = state.output.model_dump(mode="json") if isinstance(state.output, BaseModel) else None
        raw = state.record.model_copy(
            update={
                "status": state.status,
                "status_detail": state.detail,
                "error_type": state.error_type,
                "error_message": state.error_message,
                "end_ns": time.time_ns(),
                "output_text": state.output_text,
                "output_data": output_data,
                "steps": state.steps,
                "llm_calls": state.llm_calls,
                "tool_calls": state.tool_calls,
                "tool_errors": state.tool_errors,
                "input_tokens": state.input_tokens,
                "output_tokens": state.output_tokens,
                "retries": state.retries,
                "security_events": state.security_events,
                "metadata": state.metadata,
            }
        )
        stored = self.redactor.trace(RunTrace(run=raw, spans=tracer.ordered()))
        run, spans = stored.run, stored.spans
        if self.trace_sink is not None:
            self.trace_sink.write_trace(RunTrace(run=run, spans=spans))
        return AgentResult(run=run, output=state.output, spans=spans, messages=messages)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])


def describe_messages(messages: list[dict[str, Any]]) -> str:
    """A compact transcript (debugging aid)."""
    return "\n".join(f"{m.get('role')}: {json.dumps(m.get('content'))[:200]}" for m in messages)
