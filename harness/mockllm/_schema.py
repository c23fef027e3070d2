"""Build a JSON value that validates against a JSON schema, deterministically.

The scripted server answers ``response_format: json_schema`` requests with content that satisfies the requested
schema, filled from the scenario rule's ``json`` where it gives values. Covers what structured-output schemas use
(the subset OpenAI's strict mode accepts, and what pydantic emits): objects, arrays, scalars, enum/const,
``$ref``/``$defs``, ``anyOf``/``oneOf``/``allOf``, type lists, string formats and numeric bounds.
"""

from __future__ import annotations

import math
from typing import Any

_MAX_DEPTH = 12

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "hostname": "example.com",
}


def instance_for(schema: dict[str, Any], overlay: Any = None) -> Any:
    """A value valid for ``schema``; values from ``overlay`` win wherever it provides them."""
    value = _build(schema, schema, depth=0, name="value")
    return _merge(value, overlay) if overlay is not None else value


def _merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, item in overlay.items():
            merged[key] = _merge(base.get(key), item) if key in base else item
        return merged
    return overlay


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        return {}
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node if isinstance(node, dict) else {}


def _build(schema: Any, root: dict[str, Any], depth: int, name: str) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return _build(
            {**_resolve(schema["$ref"], root), **{k: v for k, v in schema.items() if k != "$ref"}},
            root,
            depth + 1,
            name,
        )
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and depth > 0:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            branches = schema[key]
            # Prefer a non-null branch so optional fields carry a value; fall back to null past the depth limit.
            chosen = next((b for b in branches if isinstance(b, dict) and b.get("type") != "null"), branches[0])
            if depth + 1 > _MAX_DEPTH:
                return None
            return _build(chosen, root, depth + 1, name)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                part = _resolve(part["$ref"], root) if "$ref" in part else part
                for key, value in part.items():
                    if key == "properties" and key in merged:
                        merged[key] = {**merged[key], **value}
                    elif key == "required" and key in merged:
                        merged[key] = [*merged[key], *value]
                    else:
                        merged[key] = value
        return _build(merged, root, depth + 1, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else "string")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: _build(sub, root, depth + 1, key) for key, sub in properties.items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = schema.get("maxItems")
        count = low if high is None else min(low, int(high))
        items = schema.get("items")
        if isinstance(schema.get("prefixItems"), list):
            prefix = schema["prefixItems"]
            return [_build(sub, root, depth + 1, name) for sub in prefix][: max(count, len(prefix))]
        return [_build(items, root, depth + 1, name) for _ in range(count)]
    if kind == "string":
        return _string(schema, name)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    return None


def _string(schema: dict[str, Any], name: str) -> str:
    text = _FORMATS.get(str(schema.get("format")), name)
    low = int(schema.get("minLength", 0))
    if len(text) < low:
        text = text + "x" * (low - len(text))
    high = schema.get("maxLength")
    if high is not None:
        text = text[: int(high)]
    return text


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    lower, lower_open = _bound(schema.get("minimum"), schema.get("exclusiveMinimum"), pick=max)
    upper, upper_open = _bound(schema.get("maximum"), schema.get("exclusiveMaximum"), pick=min)
    if integer:
        low = None if lower is None else (math.floor(lower) + 1 if lower_open else math.ceil(lower))
        high = None if upper is None else (math.ceil(upper) - 1 if upper_open else math.floor(upper))
        value = low if low is not None else (0 if high is None or high >= 0 else high)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            value = math.ceil(value / step) * step
        return value
    if lower is not None and upper is not None:
        return (lower + upper) / 2
    if lower is not None:
        return float(lower + 1 if lower_open else lower)
    if upper is not None:
        return float(upper - 1 if upper_open else min(0, upper))
    return 0.0


def _bound(closed: Any, open_: Any, pick: Any) -> tuple[float | None, bool]:
    """The tighter of an inclusive and an exclusive bound, and whether it is exclusive."""
    if closed is None and open_ is None:
        return None, False
    if open_ is None:
        return closed, False
    if closed is None:
        return open_, True
    tighter = pick(closed, open_)
    return tighter, tighter == open_ and tighter != closed
