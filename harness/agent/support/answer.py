"""The support agent's final answer: what the model must return as JSON when it stops calling tools."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Resolution = Literal["answered", "refunded", "escalated", "declined", "needs_info"]


class SupportReply(BaseModel):
    """The final answer to the customer, with how the request was resolved."""

    # Every field required and no extras: the schema also satisfies OpenAI's strict structured-output mode.
    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: str = Field(description="The message to the customer, in plain text.")
    resolution: Resolution = Field(
        description=(
            "How the request ended: answered (a question answered, nothing changed), refunded (a refund was issued), "
            "escalated (handed to a human), declined (refused: outside policy or not allowed), "
            "needs_info (the customer must provide something first, e.g. a valid order number)."
        )
    )
    order_id: str | None = Field(description="The order this is about (e.g. A1001), or null when there is none.")
