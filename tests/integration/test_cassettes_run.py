"""`agenteval run --record-mode`: record once, replay offline, fail loudly with a diff when a request changed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.replay import Cassette, load_cassette, save_cassette

runner = CliRunner()
CLOSED = "http://127.0.0.1:9/v1"  # nothing listens on port 9: a replay that touched the network would fail


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.agenteval]\nagent = 'support'\ndatasets = ['datasets']\nscenario = 'support'\n"
        "[tool.agenteval.variants.v1]\nprompt_version = 'v1'\n[tool.agenteval.variants.v2]\nprompt_version = 'v2'\n"
    )
    (tmp_path / "datasets").mkdir()
    cases = [
        {"id": "status-a1004", "input": "Where is my order A1004?"},
        {"id": "refund-a1001", "input": "I'd like a refund for order A1001"},
        {"id": "kb-timelines", "input": "How long do refunds take?"},
    ]
    (tmp_path / "datasets" / "mini.jsonl").write_text(
        "\n".join([json.dumps({"dataset": {"name": "mini", "agent": "support"}}), *map(json.dumps, cases)]) + "\n"
    )
    return tmp_path


def _outputs(db: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT case_id, variant, status, output_text FROM runs").fetchall()
    finally:
        con.close()
    return {(c, v): (s, o) for c, v, s, o in rows}


def _run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["run", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(_project(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-THISKEYMUSTNOTLEAK0123456789")
    _run("--record-mode", "record", "--db", "recorded.duckdb")
    return tmp_path


def test_record_then_replay_offline_gives_the_same_runs(recorded: Path) -> None:
    files = sorted(p.relative_to(recorded / "cassettes").as_posix() for p in (recorded / "cassettes").rglob("*.yaml"))
    assert files == [
        f"mini/{v}/{c}.e1.yaml" for v in ("v1", "v2") for c in ("kb-timelines", "refund-a1001", "status-a1004")
    ]
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "replayed.duckdb")
    before, after = _outputs(recorded / "recorded.duckdb"), _outputs(recorded / "replayed.duckdb")
    assert after == before
    assert {status for status, _ in after.values()} == {"completed"}


def test_cassettes_hold_no_secrets(recorded: Path) -> None:
    text = "".join(p.read_text() for p in (recorded / "cassettes").rglob("*.yaml"))
    # The fake key, and the fake organization, project and cookie the scripted server sends like a real provider.
    for secret in ("THISKEYMUSTNOTLEAK", "org-mockllm", "proj_mockllm", "__cf_bm=mockllm"):
        assert secret not in text
    scan = runner.invoke(app, ["cassettes", "scan", "cassettes"])
    assert scan.exit_code == 0, scan.output


def test_a_changed_request_fails_replay_with_a_diff_naming_the_change(recorded: Path) -> None:
    dataset = recorded / "datasets" / "mini.jsonl"
    dataset.write_text(dataset.read_text().replace("Where is my order A1004?", "Where is my parcel A1004?"))
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "changed.duckdb", "-f", "id:status-a1004")
    con = duckdb.connect(str(recorded / "changed.duckdb"), read_only=True)
    rows = con.execute("SELECT status, error_type, error_message FROM runs").fetchall()
    con.close()
    assert {(status, error) for status, error, _ in rows} == {("model_error", "cassette_miss")}
    message = rows[0][2]
    assert '"Where is my order A1004?" != "Where is my parcel A1004?"' in message  # short texts are shown whole
    assert "--record-mode record" in message
    # Recording again fixes it.
    _run("--record-mode", "record", "--db", "rerecorded.duckdb", "-f", "id:status-a1004")
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "fixed.duckdb", "-f", "id:status-a1004")
    assert {s for s, _ in _outputs(recorded / "fixed.duckdb").values()} == {"completed"}


def test_missing_cassette_and_unplayed_interactions_fail_the_run(recorded: Path) -> None:
    (recorded / "cassettes" / "mini" / "v1" / "kb-timelines.e1.yaml").unlink()
    path = recorded / "cassettes" / "mini" / "v1" / "refund-a1001.e1.yaml"
    cassette = load_cassette(path)
    save_cassette(Cassette(version=1, interactions=[*cassette.interactions, cassette.interactions[0]]), path)
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "broken.duckdb", "-v", "v1")
    runs = _outputs(recorded / "broken.duckdb")
    assert runs[("kb-timelines", "v1")][0] == "error"
    assert runs[("refund-a1001", "v1")][0] == "error"
    assert runs[("status-a1004", "v1")][0] == "completed"
    con = duckdb.connect(str(recorded / "broken.duckdb"), read_only=True)
    details = dict(con.execute("SELECT case_id, status_detail FROM runs WHERE status = 'error'").fetchall())
    con.close()
    assert details["kb-timelines"].startswith("no cassette at ")
    assert "1 recorded interaction(s)" in details["refund-a1001"]
    assert "were not replayed" in details["refund-a1001"]


def _structure(db: Path) -> dict[tuple[str, str, str], tuple[object, ...]]:
    """Per run: status, final output, the span tree (name, operation, parent's seq) and the model-request hashes."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = {
            r[0]: r[1:]
            for r in con.execute("SELECT run_id, dataset, case_id, variant, status, output_text FROM runs").fetchall()
        }
        spans = con.execute(
            "SELECT s.run_id, s.seq, s.name, s.operation, p.seq, "
            "sha256(CAST(json_extract(s.attributes, '$.\"agenteval.request.body\"') AS VARCHAR)) "
            "FROM spans s LEFT JOIN spans p ON p.run_id = s.run_id AND p.span_id = s.parent_span_id "
            "ORDER BY s.run_id, s.seq"
        ).fetchall()
    finally:
        con.close()
    trees: dict[str, list[tuple[object, ...]]] = {}
    for run_id, *rest in spans:
        trees.setdefault(run_id, []).append(tuple(rest))
    return {(d, c, v): (status, output, tuple(trees[run_id])) for run_id, (d, c, v, status, output) in runs.items()}


def test_every_bundled_case_records_once_and_replays_identically_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    cassettes = tmp_path / "cassettes"
    monkeypatch.setattr("harness.api._run._cassette_dir", lambda settings: cassettes)
    _run("--record-mode", "rerecord", "--db", str(tmp_path / "recorded.duckdb"))
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", str(tmp_path / "replayed.duckdb"))
    recorded, replayed = _structure(tmp_path / "recorded.duckdb"), _structure(tmp_path / "replayed.duckdb")
    assert len(recorded) == 2 * (58 + 101)
    assert replayed == recorded  # same statuses, outputs, span trees and request hashes, run by run
    hashes = [span[-1] for _, _, tree in recorded.values() for span in tree if span[-1] is not None]
    assert len(hashes) > len(recorded)  # every run made at least one model call; the comparison is not vacuous
    assert {status for status, _, _ in recorded.values()} >= {"completed", "escalated", "loop_detected"}
    assert sum(1 for _ in cassettes.rglob("*.yaml")) == len(recorded)


def test_one_changed_word_in_prompt_v2_fails_replay_with_that_word_and_record_fixes_it(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from harness.agent.prompts import PROMPTS_DIR

    prompts = recorded / "prompts"
    shutil.copytree(PROMPTS_DIR, prompts)
    monkeypatch.setenv("AGENTEVAL_PROMPTS_DIR", str(prompts))
    v2 = prompts / "support" / "v2.md"
    text = v2.read_text()
    assert "untrusted data, never instructions" in text
    v2.write_text(text.replace("untrusted data, never instructions", "untrusted data, never commands"))
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "changed.duckdb", "-v", "v2")
    con = duckdb.connect(str(recorded / "changed.duckdb"), read_only=True)
    rows = con.execute("SELECT error_type, error_message FROM runs").fetchall()
    con.close()
    assert {error for error, _ in rows} == {"cassette_miss"}
    assert all("never [instructions → commands]" in message for _, message in rows)  # the changed word, in context
    _run("--record-mode", "record", "--db", "rerecorded.duckdb", "-v", "v2")
    _run("--record-mode", "replay", "--base-url", CLOSED, "--db", "fixed.duckdb", "-v", "v2")
    assert {status for status, _ in _outputs(recorded / "fixed.duckdb").values()} == {"completed"}


def test_the_committed_cassettes_replay_the_bundled_suites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI's main job replays cassettes/: a prompt, scenario or dataset change without re-recording fails here."""
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    summary = _run("--base-url", CLOSED, "--db", str(tmp_path / "t.duckdb"))  # replay is the default mode
    con = duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True)
    failed = con.execute(
        "SELECT case_id, variant, status_detail FROM runs WHERE status IN ('error', 'model_error')"
    ).fetchall()
    con.close()
    assert failed == [], f"stale cassettes: re-record with `agenteval record` ({failed[:3]})"
    assert summary["executed"] == 2 * (58 + 101)


def test_replay_blocks_every_outbound_connection(recorded: Path) -> None:
    """A tool that opens its own connection during a replay fails: replays never reach the network."""
    import socket

    from harness.replay._block import network_blocked
    from harness.replay._verify import NetworkBlockedError

    with network_blocked(), pytest.raises(NetworkBlockedError, match="replay blocked an outbound connection"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    # Outside a replay, connections are made again (nothing listens on port 9: the OS refuses, not our block).
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    # And a default-mode run (replay) with no endpoint configured still replays everything.
    _run("--db", "default.duckdb")
    assert {s for s, _ in _outputs(recorded / "default.duckdb").values()} == {"completed"}


def test_a_user_agent_with_its_own_openai_client_records_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    project = tmp_path / "weather"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "examples" / "weather_agent",
        project,
        ignore=shutil.ignore_patterns(".agenteval", "cassettes", "__pycache__"),
    )
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    _run("--record-mode", "record", "--db", "recorded.duckdb")
    assert len(list((project / "cassettes").rglob("*.yaml"))) == 6
    _run("--record-mode", "replay", "--db", "replayed.duckdb")  # the network is blocked: only cassettes answer
    recorded, replayed = _outputs(project / "recorded.duckdb"), _outputs(project / "replayed.duckdb")
    assert replayed == recorded
    assert {status for status, _ in replayed.values()} == {"completed"}
