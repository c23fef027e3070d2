"""Typed tools: a Python function whose first parameter is a pydantic model of its arguments.

The model's JSON schema is what the LLM sees; arguments are validated before the function runs. Raise
:class:`ToolError` for an expected failure (its message goes back to the model); any other exception is reported to
the model as a tool failure too, never up the stack. Example::

    class RefundArgs(BaseModel):
        order_id: str = Field(description="Order to refund, e.g. A1001")
        amount: float = Field(gt=0)

    @tool(side_effects=True, requires_approval=lambda args: args.amount > 100)
    def issue_refund(args: RefundArgs, ctx: ToolContext) -> dict[str, Any]:
        \"\"\"Refund an order (partially or fully).\"\"\"
        return shop.refund(args.order_id, args.amount, idempotency_key=ctx.idempotency_key)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from harness.models.traces import RunStatus


class ToolError(Exception):
    """An expected tool failure; the message is shown to the model as the tool's result."""


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the call it serves."""

    run_id: str
    """The agent run making the call."""
    trace_id: str
    """W3C trace id of the run."""
    tool_call_id: str
    """The model's id for this call."""
    idempotency_key: str | None
    """For tools with side effects: stable for the same run, tool and arguments, so a retried call is not applied
    twice by a backend that honours it."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Whatever the caller passed to the run (e.g. the customer's id)."""


ApprovalRule = bool | Callable[[Any], bool]


@dataclass(frozen=True)
class Tool:
    """A tool the agent can call."""

    name: str
    """Name the model uses."""
    description: str
    """What the tool does (the model reads this)."""
    args_model: type[BaseModel]
    """Pydantic model of the arguments; its JSON schema is sent to the model."""
    fn: Callable[..., Any]
    """The implementation: ``fn(args)`` or ``fn(args, ctx)``, sync or async."""
    side_effects: bool = False
    """Whether calling it changes the world (refunds, e-mails): such calls get an idempotency key."""
    requires_approval: ApprovalRule = False
    """``True``, or a predicate on the validated arguments: matching calls run only if the approval policy allows."""
    ends_run: RunStatus | None = None
    """When a call succeeds, end the run with this status (e.g. ``escalated`` for a hand-off to a human)."""

    @property
    def takes_context(self) -> bool:
        """Whether ``fn`` accepts a second parameter for the :class:`ToolContext`."""
        return len(inspect.signature(self.fn).parameters) >= 2

    def definition(self) -> dict[str, Any]:
        """The ``tools`` entry sent to the model."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.args_model.model_json_schema(),
            },
        }

    def needs_approval(self, args: BaseModel) -> bool:
        """Whether this call (with these validated arguments) is gated by the approval policy."""
        rule = self.requires_approval
        return bool(rule(args)) if callable(rule) else bool(rule)

    async def invoke(self, args: BaseModel, ctx: ToolContext) -> str:
        """Run the tool and render its result as the text the model will read."""
        call_args = (args, ctx) if self.takes_context else (args,)
        if inspect.iscoroutinefunction(self.fn):
            result = await self.fn(*call_args)
        else:
            # Sync tools run in a worker thread so that run timeouts still fire while they block.
            result = await asyncio.to_thread(self.fn, *call_args)
            if inspect.isawaitable(result):
                result = await result
        return render_result(result)


def render_result(result: Any) -> str:
    """Text the model sees for a tool's return value: strings as-is, models and data as JSON."""
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    return json.dumps(result, ensure_ascii=False, default=str)


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    side_effects: bool = False,
    requires_approval: ApprovalRule = False,
    ends_run: RunStatus | None = None,
) -> Any:
    """Make a :class:`Tool` from a function whose first parameter is annotated with a pydantic model.

    Usable bare (``@tool``) or with options (``@tool(side_effects=True)``). The description defaults to the
    function's docstring.
    """

    def build(function: Callable[..., Any]) -> Tool:
        hints = typing.get_type_hints(function)
        params = list(inspect.signature(function).parameters)
        if not params:
            raise TypeError(f"tool {function.__name__}: the first parameter must be a pydantic model of the arguments")
        args_model = hints.get(params[0])
        if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
            raise TypeError(
                f"tool {function.__name__}: annotate the first parameter with a pydantic model, not {args_model!r}"
            )
        return Tool(
            name=name or function.__name__,
            description=(description or inspect.getdoc(function) or function.__name__).strip(),
            args_model=args_model,
            fn=function,
            side_effects=side_effects,
            requires_approval=requires_approval,
            ends_run=ends_run,
        )

    return build(fn) if fn is not None else build
