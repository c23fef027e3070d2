"""A model as the agent under test: offer it a case's tools, record the calls it makes (BFCL-style datasets).

One model call per case, with the case's input messages and its ``tools`` as OpenAI function definitions. The
calls the model returns are recorded, not executed: the trace is the root span and one ``chat`` span whose output
messages carry the ``tool_call`` parts; ``output_data`` is ``{"tool_calls": [{"name", "arguments"}]}``.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from harness.agent._model import ModelCallError, call_model, make_client, record_reply, start_chat_span
from harness.agent.adapters._common import (
    Outcome,
    finish_run,
    inner_timeout,
    input_messages,
    start_run,
)
from harness.agent.guards import Limits
from harness.agent.redaction import Redactor
from harness.agent.under_test import CaseJob
from harness.models.cases import Dataset, ToolSpec
from harness.models.traces import RunTrace

# What OpenAI accepts as a function name; BFCL names such as ``math.factorial`` are sent with ``_`` instead.
_VALID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolCallingUnderTest:
    """Records which of the offered tools a model calls, and with which arguments."""

    name = "tool-calling"

    def __init__(
        self, *, limits: Limits | None = None, api_key: str | None = None, redactor: Redactor | None = None
    ) -> None:
        """
        Args:
            limits: retries and the per-attempt timeout of the model call (the reference runtime's guards).
            api_key: for real endpoints (``OPENAI_API_KEY`` otherwise; the scripted server needs none).
            redactor: PII redaction of the stored trace (on by default).
        """
        self.limits = limits or Limits()
        self.api_key = api_key
        self.redactor = redactor if redactor is not None else Redactor()
        self._rng = random.Random()

    def tool_names(self, dataset: Dataset) -> set[str]:
        """Every tool offered by any case of the dataset."""
        return {tool.name for case in dataset.cases for tool in case.tools}

    async def run_case(self, job: CaseJob) -> RunTrace:
        """Make the model call; an API failure (after retries) is a ``model_error`` run, never an exception."""
        case, variant = job.case, job.variant
        model = variant.model or "mock-gpt"
        sent_names = wire_names(case.tools)
        request: dict[str, Any] = {"model": model, "messages": input_messages(case)}
        if case.tools:
            request["tools"] = [definition(tool, sent_names[tool.name]) for tool in case.tools]
        for key in ("temperature", "max_tokens"):
            if getattr(variant, key) is not None:
                request[key] = getattr(variant, key)
        if job.seed is not None:
            request["seed"] = job.seed
        names = {sent: name for name, sent in sent_names.items()}  # sent name -> the case's
        client = job.client or make_client(job.base_url, self.api_key, self.limits.model_timeout_s)
        run = start_run(job, self.name, model, variant.prompt_version)
        span = start_chat_span(run.tracer, run.root, request, job.base_url, 1)
        deadline = inner_timeout(job.timeout_s)
        try:
            async with asyncio.timeout(deadline):
                reply = await call_model(client, request, self.limits, span, self._rng)
        except ModelCallError as exc:
            run.tracer.end(span, "ERROR", str(exc))
            detail = f"model call failed after {exc.attempts} attempt(s): {exc.error_type}"
            return finish_run(job, run, Outcome("model_error", detail, exc.error_type, str(exc)), self.redactor)
        except TimeoutError:
            detail = f"the model did not answer within {deadline:g}s (retries included)"
            run.tracer.end(span, "ERROR", detail)
            return finish_run(job, run, Outcome("timeout", detail), self.redactor)
        finally:
            if client is not job.client:
                await client.close()
        record_reply(span, reply)
        run.tracer.end(span)
        message = reply.completion.choices[0].message
        calls = [
            {
                "name": names.get(c.function.name, c.function.name),
                "arguments": _arguments(c.function.arguments),
            }
            for c in message.tool_calls or []
            if c.type == "function"
        ]
        text = message.content or json.dumps(calls, ensure_ascii=False)
        outcome = Outcome("completed", output_text=text, output_data={"tool_calls": calls})
        trace = finish_run(job, run, outcome, self.redactor)
        # Calls requested, none executed: the run's tool_calls counts them (there are no execute_tool spans).
        return trace.model_copy(update={"run": trace.run.model_copy(update={"tool_calls": len(calls)})})


def wire_names(tools: list[ToolSpec]) -> dict[str, str]:
    """Each tool's name as sent to the model: unchanged when OpenAI accepts it, else with ``_`` for other characters
    (and a numeric suffix if that collides)."""
    sent: dict[str, str] = {}
    used = {t.name for t in tools if _VALID_NAME.match(t.name)}
    for tool in tools:
        if _VALID_NAME.match(tool.name):
            sent[tool.name] = tool.name
            continue
        base = re.sub(r"[^A-Za-z0-9_-]", "_", tool.name)[:60] or "tool"
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        sent[tool.name] = candidate
    return sent


def definition(tool: ToolSpec, sent_name: str) -> dict[str, Any]:
    """The OpenAI ``tools`` entry for a :class:`ToolSpec`."""
    function: dict[str, Any] = {"name": sent_name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _arguments(raw: str) -> Any:
    """The call's arguments as JSON; text that is not JSON is kept as it came (a scorer will flag it)."""
    try:
        return json.loads(raw or "{}")
    except ValueError:
        return raw
