"""Parse agenteval's OTLP/JSON export with the reference protobuf classes (test helper)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def parse_otlp_json(doc: dict[str, Any]) -> ExportTraceServiceRequest:
    """Parse OTLP/JSON with protobuf's reference mapping.

    OTLP/JSON spells ids as hex where protobuf's canonical JSON expects base64 (collectors convert them the same
    way), so the ids are re-encoded first; everything else goes to the parser as exported.
    """
    doc = copy.deepcopy(doc)
    for resource_spans in doc["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.Parse(json.dumps(doc), ExportTraceServiceRequest())
