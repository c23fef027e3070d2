"""The reference support agent as an agent under test: a fresh agent per case, with the case's tool-result overrides.

A fresh agent per case means fresh circuit breakers (one case's failing tool cannot open a breaker for the next)
and, through :func:`~harness.agent.support.make_support_tools`, a fresh shop per run.

Conversations: the earlier turns of a conversation input are sent as real messages (``history=``) before the
last user message, which is the run's message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import re
from typing import Any

from pydantic import BaseModel

from harness.agent.adapters._common import inner_timeout, labelled
from harness.agent.guards import Limits
from harness.agent.redaction import Redactor
from harness.agent.reference import support_agent
from harness.agent.runtime import ModelSettings
from harness.agent.support import SUPPORT_TOOLS
from harness.agent.tools import Tool, ToolContext, render_result
from harness.agent.under_test import CaseJob
from harness.errors import ConfigError
from harness.models.cases import Dataset, Message, ToolResultOverride
from harness.models.traces import RunTrace

SUPPORT_TOOL_NAMES = frozenset(t.name for t in SUPPORT_TOOLS)
"""The five tools of the reference support agent."""


class SupportUnderTest:
    """Runs each case through a freshly built reference support agent (:func:`harness.agent.reference.support_agent`).

    The variant sets the prompt version (default ``v1``), the model (default ``mock-gpt``), temperature and
    max_tokens; the job sets the endpoint and the seed. Refunds above the approval limit stop the run
    ``awaiting_approval`` (no approval policy), as in production without a human in the loop.
    """

    name = "support"

    def __init__(
        self, *, limits: Limits | None = None, api_key: str | None = None, redactor: Redactor | None = None
    ) -> None:
        """
        Args:
            limits: guard settings (the run timeout is capped a little below the job's timeout).
            api_key: for real endpoints (``OPENAI_API_KEY`` otherwise; the scripted server needs none).
            redactor: PII redaction of the stored trace (on by default).
        """
        self.limits = limits or Limits()
        self.api_key = api_key
        self.redactor = redactor

    def tool_names(self, dataset: Dataset) -> set[str]:
        """The support tools, whatever the dataset."""
        return set(SUPPORT_TOOL_NAMES)

    async def run_case(self, job: CaseJob) -> RunTrace:
        """Run one case; the agent's own failures come back as the run's status, never as exceptions."""
        case, variant = job.case, job.variant
        unknown = sorted({o.tool for o in case.tool_results} - SUPPORT_TOOL_NAMES)
        if unknown:
            raise ConfigError(
                f"Case '{case.id}': tool_results name {', '.join(unknown)}, which the support agent does not have. "
                f"Valid tools: {', '.join(sorted(SUPPORT_TOOL_NAMES))}."
            )
        timeout = min(self.limits.run_timeout_s, inner_timeout(job.timeout_s))
        agent = support_agent(
            variant.prompt_version or "v1",
            model=ModelSettings(
                model=variant.model or "mock-gpt",
                base_url=job.base_url,
                temperature=variant.temperature,
                max_tokens=variant.max_tokens,
                seed=job.seed,
            ),
            limits=self.limits.model_copy(update={"run_timeout_s": timeout}),
            approval=None,
            trace_sink=None,
            api_key=self.api_key,
            redactor=self.redactor,
        )
        if case.tool_results:
            agent.tools = {name: with_overrides(tool, case.tool_results) for name, tool in agent.tools.items()}
        history = history_messages(case.input[:-1]) if isinstance(case.input, list) else None
        result = await agent.run_async(
            case.user_message,
            run_id=job.run_id,
            seed=job.seed,
            tags=list(case.tags),
            history=history,
            client=job.client,
        )
        return RunTrace(run=labelled(result.run, job), spans=result.spans)


def with_overrides(tool: Tool, overrides: list[ToolResultOverride]) -> Tool:
    """``tool`` with the overrides that name it applied to its rendered result (``tool`` itself when none do).

    The wrapper takes the :class:`ToolContext` (so ``Tool.takes_context`` is true) and passes it on only when the
    original takes it; it is async, and runs a sync original in a worker thread as ``Tool.invoke`` would, so run
    timeouts still fire. A :class:`~harness.agent.tools.ToolError` from the original propagates unchanged.
    """
    mine = [o for o in overrides if o.tool == tool.name]
    if not mine:
        return tool
    original, takes_context = tool.fn, tool.takes_context

    async def overridden(args: BaseModel, ctx: ToolContext) -> str:
        call_args = (args, ctx) if takes_context else (args,)
        if inspect.iscoroutinefunction(original):
            result = await original(*call_args)
        else:
            result = await asyncio.to_thread(original, *call_args)
            if inspect.isawaitable(result):
                result = await result
        text = render_result(result)
        arguments = args.model_dump(mode="json")
        for override in mine:
            if arguments_match(override.arguments, arguments):
                text = override.content if override.mode == "replace" else f"{text}\n{override.content}"
        return text

    overridden.__doc__ = original.__doc__
    return dataclasses.replace(tool, fn=overridden)


def arguments_match(patterns: dict[str, str], arguments: dict[str, Any]) -> bool:
    """Whether every named argument is present and matches its regular expression (``re.search``; non-string
    values are matched as JSON text)."""
    for name, pattern in patterns.items():
        if name not in arguments:
            return False
        value = arguments[name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if re.search(pattern, text) is None:
            return False
    return True


def history_messages(turns: list[Message]) -> list[dict[str, Any]]:
    """Earlier turns of a conversation input as chat-completions messages (text turns; tool turns of a recorded
    conversation cannot be replayed without their calls, so they are left out)."""
    return [
        {"role": m.role, "content": m.content} for m in turns if m.role in ("system", "user", "assistant") and m.content
    ]
