"""What replaying from a cassette costs per model call: loading the file, then finding each request in it.

Generates a cassette of N interactions shaped like an agent's traffic (system prompt, tool schemas, a growing
conversation with tool calls and results, about one streamed answer in ten), writes it with the harness's writer,
then measures, best of R runs:

1. load: ``load_cassette`` (YAML parse + normalisation) with libyaml's ``CSafeLoader`` and with the pure-Python
   ``SafeLoader``; the raw YAML parse alone for both;
2. match: every request, re-serialised the way an SDK would (other key order, other separators), looked up by
   - ``CassetteIndex`` (hash of method, host, path, query and canonical JSON body; built once),
   - a linear scan comparing parsed JSON bodies (what any first-unplayed-match loop does),
   - vcrpy's own ``Cassette.play_response`` with the JSON body matcher (linear, parses both bodies per candidate).

Target for the replay path: at most 2 ms per model call for load + match together. Run from the project root:

    .venv/bin/python benchmarks/cassette_load.py [--interactions 200] [--repeat 5] [--json FILE]

A benchmark, not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import harness.replay._reader as reader
from harness.replay import (
    Cassette,
    CassetteIndex,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    json_body_matcher,
    load_cassette,
    save_cassette,
    to_vcrpy_interactions,
)

URI = "https://api.openai.com/v1/chat/completions"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name.replace('_', ' ').capitalize()} for the customer. " * 3,
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "Order number, e.g. A1001."}},
                "required": ["order_id"],
                "additionalProperties": False,
            },
        },
    }
    for name in ("lookup_order", "issue_refund", "check_inventory", "send_email", "escalate_to_human", "track_parcel")
]
SYSTEM = "You are the support agent of an online shop. " * 30  # ~1.4 kB


def make_cassette(count: int, seed: int = 1) -> Cassette:
    """An agent conversation: each call sends the history so far (the last 24 messages), one answer in ten streams."""
    rng = random.Random(seed)
    history: list[dict[str, Any]] = [{"role": "user", "content": "Where is my order A1001? It is late again."}]
    interactions = []
    for step in range(count):
        stream = step % 10 == 9
        messages = [{"role": "system", "content": SYSTEM}, *history[-24:]]
        body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": messages, "tools": TOOLS, "temperature": 0}
        body["stream"] = stream
        request_bytes = json.dumps(body).encode()
        call_id = f"call_{rng.getrandbits(64):016x}"
        if stream:
            words = [f"word{rng.randrange(1000)}" for _ in range(60)]
            chunks = [
                {
                    "id": f"chatcmpl-{step}",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}],
                }
                for w in words
            ]
            chunks.append(
                {
                    "id": f"chatcmpl-{step}",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
            )
            response_bytes = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
            response_headers = {"content-type": ["text/event-stream; charset=utf-8"]}
            response_json = None
            history.append({"role": "assistant", "content": " ".join(words)})
        else:
            arguments = json.dumps({"order_id": f"A{1000 + step}"})
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "lookup_order", "arguments": arguments}}
                ],
            }
            response_json = {
                "id": f"chatcmpl-{step}",
                "object": "chat.completion",
                "created": 1_750_000_000 + step,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 900 + step, "completion_tokens": 20, "total_tokens": 920 + step},
            }
            response_bytes = json.dumps(response_json, indent=2).encode()
            response_headers = {"content-type": ["application/json"]}
            history += [
                message,
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": json.dumps(
                        {
                            "status": "shipped",
                            "eta_days": rng.randrange(1, 9),
                            "carrier": "DHL",
                            "events": ["picked", "sorted", "in transit"],
                        }
                    ),
                },
            ]
        interactions.append(
            Interaction(
                request=RecordedRequest("POST", URI, {"content-type": ["application/json"]}, request_bytes, body),
                response=RecordedResponse(200, response_headers, response_bytes, response_json, stream, "OK"),
            )
        )
    return Cassette(version=1, interactions=interactions)


class PurePythonLoader(yaml.SafeLoader):
    """The same loader as the harness's, without libyaml."""


for _tag, _constructor in reader.CassetteLoader.yaml_constructors.items():
    if _tag is not None and "python/" in _tag:
        PurePythonLoader.add_constructor(_tag, _constructor)


def best(repeat: int, fn: Callable[[], Any]) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sdk_bodies(cassette: Cassette) -> list[bytes]:
    """Request bodies as an SDK would send them again: other key order, compact separators."""
    return [
        json.dumps(dict(reversed(list((i.request.json or {}).items()))), separators=(",", ":")).encode()
        for i in cassette.interactions
    ]


def linear_scan(cassette: Cassette, bodies: list[bytes]) -> None:
    played = [False] * len(cassette.interactions)
    for body in bodies:
        wanted = json.loads(body)
        for position, interaction in enumerate(cassette.interactions):
            request = interaction.request
            if played[position] or request.method != "POST" or request.path != "/v1/chat/completions":
                continue
            if json.loads(request.body or b"null") == wanted:
                played[position] = True
                break
        else:
            raise AssertionError("request not found")


def vcrpy_scan(cassette: Cassette, bodies: list[bytes]) -> None:
    from vcr.cassette import Cassette as VcrCassette
    from vcr.request import Request

    vcr_cassette = VcrCassette("<memory>", record_mode="none", match_on=("method", "path", "json_body"))
    vcr_cassette._match_on = [vcr_cassette_matcher("method"), vcr_cassette_matcher("path"), json_body_matcher]
    for request, response in zip(*to_vcrpy_interactions(cassette), strict=True):
        vcr_cassette.append(request, response)
    for body in bodies:
        vcr_cassette.play_response(Request("POST", URI, body, {"content-type": "application/json"}))


def vcr_cassette_matcher(name: str) -> Callable[[Any, Any], None]:
    from vcr import matchers

    matcher: Callable[[Any, Any], None] = getattr(matchers, name)
    return matcher


def index_lookup(cassette: Cassette, bodies: list[bytes]) -> None:
    index = CassetteIndex(cassette.interactions)
    for body in bodies:
        if index.match("POST", URI, body) is None:
            raise AssertionError("request not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=200, help="interactions in the generated cassette")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the best is kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    n = args.interactions

    cassette = make_cassette(n)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        save_cassette(cassette, path)
        size = path.stat().st_size
        text = path.read_text()
        loaded = load_cassette(path)
        assert len(loaded.interactions) == n
        bodies = sdk_bodies(loaded)

        c_parse = best(args.repeat, lambda: yaml.load(text, Loader=reader.CassetteLoader))
        py_parse = best(max(1, args.repeat // 2), lambda: yaml.load(text, Loader=PurePythonLoader))
        c_load = best(args.repeat, lambda: load_cassette(path))
        original = reader.CassetteLoader
        reader.CassetteLoader = PurePythonLoader  # type: ignore[misc, assignment]
        try:
            py_load = best(max(1, args.repeat // 2), lambda: load_cassette(path))
        finally:
            reader.CassetteLoader = original  # type: ignore[misc]

        indexed = best(args.repeat, lambda: index_lookup(loaded, bodies))
        linear = best(args.repeat, lambda: linear_scan(loaded, bodies))
        # Requests in recorded order find their interaction first in a linear scan; concurrent agents or a
        # changed request do not: reversed order is the scan's real cost (n/2 comparisons on average).
        linear_reversed = best(args.repeat, lambda: linear_scan(loaded, bodies[::-1]))
        vcrpy = best(max(1, args.repeat // 2), lambda: vcrpy_scan(loaded, bodies))

    def per(seconds: float) -> float:
        return float(seconds * 1000 / n)

    figures = {
        "interactions": n,
        "file_bytes": size,
        "load_ms_per_interaction": {"CSafeLoader": per(c_load), "SafeLoader": per(py_load)},
        "yaml_parse_ms_per_interaction": {"CSafeLoader": per(c_parse), "SafeLoader": per(py_parse)},
        "match_ms_per_request": {
            "index": per(indexed),
            "linear_scan_in_order": per(linear),
            "linear_scan_reversed": per(linear_reversed),
            "vcrpy_play_response": per(vcrpy),
        },
        "per_model_call_ms": {"CSafeLoader+index": per(c_load + indexed), "CSafeLoader+vcrpy": per(c_load + vcrpy)},
        "target_ms": 2.0,
    }
    print(f"cassette: {n} interactions, {size / 1e6:.2f} MB")
    print(f"{'load (parse + normalise)':<34}{'CSafeLoader':>14}{'SafeLoader':>14}   ms per interaction")
    print(f"{'':<34}{per(c_load):>14.3f}{per(py_load):>14.3f}   ({py_load / c_load:.0f}x)")
    print(f"{'  of which YAML parse':<34}{per(c_parse):>14.3f}{per(py_parse):>14.3f}")
    print(f"{'match one request':<34}{'ms per request':>14}")
    rows = (
        ("CassetteIndex (incl. building it)", indexed),
        ("linear scan, in recorded order", linear),
        ("linear scan, reversed order", linear_reversed),
        ("vcrpy play_response + json_body", vcrpy),
    )
    for name, seconds in rows:
        print(f"  {name:<32}{per(seconds):>14.4f}")
    total = per(c_load + indexed)
    print(
        f"per model call (CSafeLoader load + index): {total:.3f} ms; target <= 2 ms: {'ok' if total <= 2 else 'MISSED'}"
    )
    print(f"per model call (CSafeLoader load + vcrpy matching): {per(c_load + vcrpy):.3f} ms")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
