from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

import harness
from harness.models import semconv as sc
from harness.traces import to_otlp_json
from harness.traces.otlp import any_value
from tests.otlp import parse_otlp_json
from tests.unit.traces.factories import make_trace


def _attrs(pb: Any) -> dict[str, AnyValue]:
    return {kv.key: kv.value for kv in pb.attributes}


def test_export_parses_as_an_otlp_request_with_the_same_ids_kinds_and_times() -> None:
    trace = make_trace("r1")
    doc = to_otlp_json(trace.run, trace.spans)
    raw_spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert all(len(s["traceId"]) == 32 and s["traceId"] == s["traceId"].lower() for s in raw_spans)
    assert all(isinstance(s["startTimeUnixNano"], str) for s in raw_spans)
    assert "parentSpanId" not in raw_spans[0]

    request = parse_otlp_json(doc)
    [resource_spans] = request.resource_spans
    resource = _attrs(resource_spans.resource)
    assert resource["service.name"].string_value == "agenteval"
    assert resource[sc.RUN_ID].string_value == "r1"
    assert resource[sc.PROMPT_VERSION].string_value == "v2"
    [scope_spans] = resource_spans.scope_spans
    assert (scope_spans.scope.name, scope_spans.scope.version) == ("agenteval", harness.__version__)
    assert scope_spans.schema_url == sc.SCHEMA_URL
    assert len(scope_spans.spans) == len(trace.spans)
    for pb, span in zip(scope_spans.spans, trace.spans, strict=True):
        assert pb.trace_id == bytes.fromhex(span.trace_id)
        assert pb.span_id == bytes.fromhex(span.span_id)
        assert pb.parent_span_id == (bytes.fromhex(span.parent_span_id) if span.parent_span_id else b"")
        assert (pb.start_time_unix_nano, pb.end_time_unix_nano) == (span.start_ns, span.end_ns)
        assert pb.name == span.name
    kinds = [pb.kind for pb in scope_spans.spans]
    assert kinds == [
        PbSpan.SPAN_KIND_INTERNAL,
        PbSpan.SPAN_KIND_CLIENT,
        PbSpan.SPAN_KIND_INTERNAL,
        PbSpan.SPAN_KIND_INTERNAL,
        PbSpan.SPAN_KIND_CLIENT,
    ]
    assert scope_spans.spans[3].status.code == Status.STATUS_CODE_ERROR
    assert scope_spans.spans[3].status.message == "refund service unavailable (503)"
    assert scope_spans.spans[1].status.code == Status.STATUS_CODE_UNSET


def test_attribute_values_use_the_otlp_shapes() -> None:
    trace = make_trace("r1")
    request = parse_otlp_json(to_otlp_json(trace.run, trace.spans))
    chat = request.resource_spans[0].scope_spans[0].spans[1]
    attrs = _attrs(chat)
    assert attrs[sc.USAGE_INPUT_TOKENS].int_value == 120
    assert attrs[sc.REQUEST_TEMPERATURE].double_value == 0.2
    assert attrs[sc.REQUEST_STREAM].WhichOneof("value") == "bool_value"
    assert [v.string_value for v in attrs[sc.RESPONSE_FINISH_REASONS].array_value.values] == ["tool_calls"]
    # Nested values travel as JSON strings and decode back to what the span held.
    messages = json.loads(attrs[sc.INPUT_MESSAGES].string_value)
    assert messages == trace.spans[1].attributes[sc.INPUT_MESSAGES]
    assert json.loads(attrs[sc.REQUEST_BODY].string_value)["max_tokens"] == 512
    [retry] = chat.events
    assert retry.name == sc.EVENT_RETRY
    assert retry.time_unix_nano == trace.spans[1].events[0].time_ns
    assert _attrs(retry)[sc.HTTP_STATUS].int_value == 429


def test_any_value_edge_cases() -> None:
    assert any_value(True) == {"boolValue": True}
    assert any_value(2**70) == {"stringValue": str(2**70)}  # beyond int64
    assert any_value(float("nan")) == {"doubleValue": "NaN"}
    assert any_value([1, 2]) == {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": "2"}]}}
    assert any_value([1, "a"]) == {"stringValue": '[1,"a"]'}  # mixed lists are not valid OTLP arrays
    assert any_value({"a": [1]}) == {"stringValue": '{"a":[1]}'}
    assert any_value(b"\x00\x01") == {"bytesValue": "AAE="}
    parsed = json_format.Parse(json.dumps(any_value(float("inf"))), AnyValue())
    assert parsed.double_value == float("inf")


def test_the_module_names_the_semconv_version_it_follows() -> None:
    import harness.traces.otlp as otlp

    assert otlp.__doc__ is not None
    assert f"v{sc.SEMCONV_VERSION}" in otlp.__doc__
