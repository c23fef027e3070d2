"""Export a stored run as OTLP/JSON, for any OpenTelemetry collector.

The document is one ``ExportTraceServiceRequest`` (opentelemetry-proto ``collector/trace/v1``) in the OTLP/JSON
encoding, which differs from protobuf's canonical JSON mapping in two ways: trace and span ids are lower-case hex
(not base64), and 64-bit integers are decimal strings. Span attributes follow the OpenTelemetry semantic conventions
**v1.37.0** (``harness.models.semconv.SEMCONV_VERSION``; GenAI attributes, status Development), and the scope
carries that version's schema URL.

Attribute values map as OTLP allows only primitives and homogeneous primitive arrays: nested objects and lists
that contain objects (``gen_ai.input.messages``, request bodies) become JSON strings, as the GenAI conventions
specify for messages; ``None`` values are left out.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from harness import __version__
from harness.models import semconv as sc
from harness.models.traces import RunRecord, Span

SPAN_KIND = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
"""OTLP ``Span.SpanKind`` numbers (0 is UNSPECIFIED)."""
STATUS_CODE = {"UNSET": 0, "OK": 1, "ERROR": 2}
"""OTLP ``Status.StatusCode`` numbers."""

_INT64 = range(-(2**63), 2**63)


def to_otlp_json(run: RunRecord, spans: list[Span]) -> dict[str, Any]:
    """Build the OTLP/JSON ``ExportTraceServiceRequest`` of one run.

    Args:
        run: The run; its identity, agent, prompt and model become resource attributes.
        spans: The run's spans, in the order to export them.

    Returns:
        A JSON-serialisable dict (``json.dumps`` it to send it to ``/v1/traces``).
    """
    resource = {
        "service.name": "agenteval",
        "service.version": __version__,
        sc.RUN_ID: run.run_id,
        sc.RUN_STATUS: run.status,
        sc.AGENT_NAME: run.agent_name,
        sc.PROMPT_NAME: run.prompt_name,
        sc.PROMPT_VERSION: run.prompt_version,
        sc.PROMPT_SHA256: run.prompt_sha256,
        sc.REQUEST_MODEL: run.model,
        "agenteval.run.kind": run.kind,
        "agenteval.run.mode": run.mode,
        "agenteval.eval_run.id": run.eval_run_id,
        "agenteval.case.id": run.case_id,
        "agenteval.variant": run.variant,
        "agenteval.epoch": run.epoch,
    }
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes(resource)},
                "scopeSpans": [
                    {
                        "scope": {"name": "agenteval", "version": __version__},
                        "spans": [_span(span) for span in spans],
                        "schemaUrl": sc.SCHEMA_URL,
                    }
                ],
                "schemaUrl": sc.SCHEMA_URL,
            }
        ]
    }


def _span(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    out.update(
        name=span.name,
        kind=SPAN_KIND[span.kind],
        startTimeUnixNano=str(span.start_ns),
        endTimeUnixNano=str(span.end_ns),
        attributes=attributes(span.attributes),
        events=[
            {"timeUnixNano": str(event.time_ns), "name": event.name, "attributes": attributes(event.attributes)}
            for event in span.events
        ],
    )
    status: dict[str, Any] = {"code": STATUS_CODE[span.status_code]}
    if span.status_message:
        status["message"] = span.status_message
    out["status"] = status
    return out


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    """OTLP ``KeyValue`` list of a mapping; ``None`` values are left out (OTLP has no null)."""
    return [{"key": key, "value": any_value(value)} for key, value in values.items() if value is not None]


def any_value(value: Any) -> dict[str, Any]:
    """OTLP/JSON ``AnyValue`` of one attribute value."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)} if value in _INT64 else {"stringValue": str(value)}
    if isinstance(value, float):
        # Protobuf's JSON mapping spells non-finite doubles as strings; JSON itself has no NaN.
        return {"doubleValue": value if math.isfinite(value) else _nonfinite(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple) and _is_homogeneous_primitive(value):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    return {"stringValue": json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)}


def _is_homogeneous_primitive(items: list[Any] | tuple[Any, ...]) -> bool:
    kinds = {type(item) for item in items}
    return len(kinds) <= 1 and kinds <= {str, bool, int, float}


def _nonfinite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
