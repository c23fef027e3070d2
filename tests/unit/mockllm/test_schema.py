"""The schema-instance generator must produce values that validate: checked with pydantic's own validators."""

from __future__ import annotations

import datetime
import enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from harness.mockllm._schema import instance_for


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    street: str
    postcode: str = Field(min_length=5, max_length=5)


class Ticket(BaseModel):
    id: int = Field(ge=100, le=200)
    ratio: float = Field(gt=0.5, lt=1)
    title: str = Field(min_length=12)
    priority: Priority
    kind: Literal["bug", "question"]
    tags: list[str] = Field(min_length=2)
    address: Address
    previous: list[Address]
    note: str | None
    opened: datetime.datetime
    email: str = Field(json_schema_extra={"format": "email"})
    escalate: bool


class Node(BaseModel):
    name: str
    children: list[Node] = []
    parent: Node | None = None


@pytest.mark.parametrize("model", [Ticket, Address, Node])
def test_generated_instances_validate(model: type[BaseModel]) -> None:
    value = instance_for(model.model_json_schema())
    model.model_validate(value)  # raises if the generator got the schema wrong


def test_overlay_values_win_and_missing_fields_are_filled() -> None:
    value = instance_for(Ticket.model_json_schema(), {"title": "Printer on fire", "address": {"street": "Main"}})
    ticket = Ticket.model_validate(value)
    assert ticket.title == "Printer on fire"
    assert ticket.address.street == "Main"
    assert len(ticket.address.postcode) == 5


def test_generation_is_deterministic() -> None:
    schema = Ticket.model_json_schema()
    assert instance_for(schema) == instance_for(schema)


def test_plain_json_schema_features() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["null", "integer"], "minimum": 3},
            "b": {"const": "fixed"},
            "c": {"allOf": [{"type": "object", "properties": {"x": {"type": "string"}}}]},
            "d": {"type": "array", "items": {"type": "number"}, "maxItems": 0},
        },
    }
    assert instance_for(schema) == {"a": 3, "b": "fixed", "c": {"x": "x"}, "d": []}
