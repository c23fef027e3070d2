"""A small weather assistant: the kind of agent a team writes, evaluated by agenteval without changing its code.

``answer(question)`` runs a plain tool loop with the official openai client: the model may call ``get_weather``
and ``get_forecast`` (plain Python functions), sees their results, and answers. The only agenteval-specific line is
``@trace_tool``, which records a tool call as a span while an eval case runs and does nothing otherwise.

The client is built with ``openai.OpenAI()``, so ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` decide where it goes:
``agenteval run`` points them at its scripted model server when no endpoint is configured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from harness.agent.instrument import trace_tool

if TYPE_CHECKING:
    from harness.agent.adapters import CaseContext

SYSTEM_PROMPT = (
    "You are a weather assistant. Use the tools for facts about the weather; never guess. "
    "Answer in one or two sentences."
)
MAX_STEPS = 5

# A stand-in for a weather service: (temperature in °C, conditions, three-day outlook).
_STATIONS: dict[str, tuple[float, str, list[str]]] = {
    "Paris": (18.0, "sunny", ["sunny", "cloudy", "rain"]),
    "London": (12.0, "light rain", ["rain", "rain", "cloudy"]),
    "Tokyo": (24.0, "humid", ["humid", "thunderstorms", "sunny"]),
    "Oslo": (4.0, "snow", ["snow", "cloudy", "snow"]),
    "Cairo": (33.0, "clear", ["clear", "clear", "windy"]),
}


class UnknownCityError(LookupError):
    """The weather service has no station for the city."""


def _station(city: str) -> tuple[float, str, list[str]]:
    station = _STATIONS.get(city.strip().title())
    if station is None:
        raise UnknownCityError(f"no weather station for {city!r}")
    return station


@trace_tool
def get_weather(city: str, units: str = "celsius") -> dict[str, Any]:
    """Current weather in a city."""
    celsius, conditions, _ = _station(city)
    temperature = f"{celsius * 9 / 5 + 32:.0f}°F" if units == "fahrenheit" else f"{celsius:.0f}°C"
    return {
        "summary": f"It is {temperature} and {conditions} in {city.title()}.",
        "city": city.title(),
        "temperature": temperature,
        "conditions": conditions,
    }


@trace_tool
def get_forecast(city: str, days: int = 3) -> dict[str, Any]:
    """Forecast for the next days (at most three)."""
    _, _, outlook = _station(city)
    days = max(1, min(int(days), len(outlook)))
    return {
        "summary": f"The forecast for {city.title()}: {', '.join(outlook[:days])}.",
        "city": city.title(),
        "days": outlook[:days],
    }


TOOLS: dict[str, Callable[..., dict[str, Any]]] = {"get_weather": get_weather, "get_forecast": get_forecast}
TOOL_DEFINITIONS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Paris."},
                    "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_forecast",
            "description": "Forecast for the next days (at most three).",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Paris."},
                    "days": {"type": "integer", "minimum": 1, "maximum": 3},
                },
                "required": ["city"],
            },
        },
    },
]


def answer(question: str, ctx: CaseContext | None = None) -> str:
    """Answer a weather question, calling the tools as the model asks.

    Args:
        question: the user's question.
        ctx: passed by agenteval during an eval (the variant's model, the seed); ``None`` in production.
    """
    model = (ctx.model if ctx else None) or os.environ.get("WEATHER_MODEL", "gpt-4o-mini")
    seed = ctx.seed if ctx else None
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]
    with openai.OpenAI() as client:
        for _ in range(MAX_STEPS):
            options: dict[str, Any] = {"seed": seed} if seed is not None else {}
            reply = client.chat.completions.create(model=model, messages=messages, tools=TOOL_DEFINITIONS, **options)
            message = reply.choices[0].message
            if not message.tool_calls:
                return message.content or ""
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call.id, "content": _run_tool(call)})
    return "Sorry, I could not finish looking that up."


def _run_tool(call: Any) -> str:
    """Run one tool call; a failure goes back to the model as the tool's result, as it would in production."""
    tool = TOOLS.get(call.function.name)
    if tool is None:
        return json.dumps({"error": f"unknown tool {call.function.name}"})
    try:
        return json.dumps(tool(**json.loads(call.function.arguments or "{}")), ensure_ascii=False)
    except (UnknownCityError, TypeError, ValueError) as exc:
        return json.dumps({"error": str(exc)})


if __name__ == "__main__":
    import sys

    print(answer(" ".join(sys.argv[1:]) or "What's the weather in Paris?"))
