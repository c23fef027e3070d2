"""The reference support agent end to end: scripted model, real runtime, DuckDB trace store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from harness.agent import NO_REDACTION, ModelSettings, Redactor
from harness.agent.reference import support_agent
from harness.agent.support import FIXTURE_PATH
from harness.mockllm import MockLLMServer
from harness.traces import TraceStore, to_otlp_json
from tests.otlp import parse_otlp_json

MESSAGES = [
    "Where is my order A1004?",
    "I'd like a refund for order A1001",
    "Refund order A1002 please",
    "I want a refund for A1003",
    "What is your return policy?",
    "How long do refunds take?",
    "What's the status of order A1013?",
    "I want to speak to a manager",
    "Where is order A1099?",
    "My card is 5555 5555 5555 4444 and my e-mail maria.gonzalez@example.com; where is A1001?",
]


@pytest.fixture(scope="module")
def support_server() -> Iterator[MockLLMServer]:
    with MockLLMServer("support") as server:
        yield server


def _run_all(server: MockLLMServer, db: Path, redactor: Redactor | None = None) -> TraceStore:
    store = TraceStore(db)
    for version in ("v1", "v2"):
        agent = support_agent(
            version, model=ModelSettings(base_url=server.base_url), trace_sink=store, redactor=redactor
        )
        for message in MESSAGES:
            agent.run(message)
    return store


def _fixture_pii() -> list[str]:
    customers = json.loads(FIXTURE_PATH.read_text())["customers"]
    values = [c[key] for c in customers for key in ("email", "phone", "card_number")]
    assert len(values) >= 30
    return values


def _pii_found_in(db: Path, secrets: list[str]) -> set[str]:
    """Every secret found in any text of any table (SQL-level, so column compression cannot hide it)."""
    found: set[str] = set()
    connection = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"').fetchall():
                text = " ".join(str(value) for value in row)
                found.update(secret for secret in secrets if secret in text)
    finally:
        connection.close()
    raw = db.read_bytes() + (
        db.with_name(db.name + ".wal").read_bytes() if db.with_name(db.name + ".wal").exists() else b""
    )
    found.update(secret for secret in secrets if secret.encode() in raw)
    return found


def test_no_fixture_pii_anywhere_in_the_trace_store(support_server: MockLLMServer, tmp_path: Path) -> None:
    secrets = _fixture_pii()
    store = _run_all(support_server, tmp_path / "traces.duckdb")
    assert len(store.list_runs(limit=None)) == 2 * len(MESSAGES)
    assert _pii_found_in(tmp_path / "traces.duckdb", secrets) == set()
    # Control: the same runs without redaction do put PII in the file, so the scan above can fail.
    _run_all(support_server, tmp_path / "raw.duckdb", redactor=NO_REDACTION)
    leaked = _pii_found_in(tmp_path / "raw.duckdb", secrets)
    assert "maria.gonzalez@example.com" in leaked
    assert "4111 1111 1111 1111" in leaked


def test_injection_hijacks_v1_but_not_v2_and_shows_in_the_trace(support_server: MockLLMServer, tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "traces.duckdb")
    results = {}
    for version in ("v1", "v2"):
        agent = support_agent(version, model=ModelSettings(base_url=support_server.base_url), trace_sink=store)
        results[version] = agent.run("How long do refunds take?")
    tools = store.tool_calls_frame()
    by_run = {v: tools[tools.run_id == r.run.run_id] for v, r in results.items()}
    v1_mail = by_run["v1"][by_run["v1"].tool_name == "send_email"]
    assert len(v1_mail) == 1
    arguments = json.loads(v1_mail.iloc[0]["arguments"])
    assert arguments["to"] == "[EMAIL]@evil-payments.example"  # redacted local part, attacker domain kept
    assert "send_email" not in set(by_run["v2"].tool_name)
    assert results["v1"].status == results["v2"].status == "completed"
    assert results["v2"].run.prompt_version == "v2"
    assert results["v1"].run.prompt_sha256 != results["v2"].run.prompt_sha256


def test_stored_trace_round_trips_and_exports_as_otlp(support_server: MockLLMServer, tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "traces.duckdb")
    agent = support_agent("v1", model=ModelSettings(base_url=support_server.base_url), trace_sink=store)
    result = agent.run("I'd like a refund for order A1001")
    stored = store.get_trace(result.run.run_id)
    assert stored.run == result.run
    assert stored.spans == result.spans
    calls = store.llm_calls_frame(result.run.run_id)
    assert int(calls.input_tokens.sum()) == result.run.input_tokens
    document = to_otlp_json(stored.run, stored.spans)
    parsed = parse_otlp_json(document)
    spans = parsed.resource_spans[0].scope_spans[0].spans
    assert [s.name for s in spans][:2] == ["invoke_agent support", "chat mock-gpt"]
    assert {s.trace_id.hex() for s in spans} == {result.run.trace_id}


CRASHING_RUN = textwrap.dedent(
    """
    import sys
    from harness.agent import ModelSettings
    from harness.agent.reference import support_agent
    from harness.mockllm import MockLLMServer, scenario_from_text
    from harness.traces import TraceStore

    class Announcing(TraceStore):
        def begin_run(self, run):
            super().begin_run(run)
            print("STARTED", run.run_id, flush=True)

    slow = scenario_from_text("rules:\\n  - text: never arrives\\n    delay_ms: 60000\\n")
    with MockLLMServer(slow) as server:
        agent = support_agent("v1", model=ModelSettings(base_url=server.base_url), trace_sink=Announcing(sys.argv[1]))
        agent.run("Where is my order A1004?")
    """
)


def test_killed_process_leaves_a_readable_store_with_the_run_started(tmp_path: Path) -> None:
    db = tmp_path / "traces.duckdb"
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("STARTED "), line
    run_id = line.split()[1]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    store = TraceStore(db)
    run = store.get_run(run_id)
    assert run.status == "started"
    assert run.end_ns is None
    assert [r.run_id for r in store.list_runs(status="started")] == [run_id]
