"""`agenteval judge calibrate`, driven through the typer app on the vendored LLMBar and PandaLM samples, and live on
labelled pairs judged by a scripted judge (recorded, then replayed offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.unit.scorers.test_calibration_live import write_project

runner = CliRunner()

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "calibration"
LLMBAR = SAMPLES / "llmbar/LLMBar/Adversarial/GPTOut/evaluators/GPT-4/Vanilla_NoRules/result.json"
PANDALM = SAMPLES / "pandalm"


def test_llmbar_json_has_the_figures_and_the_authors_statistics() -> None:
    result = runner.invoke(app, ["judge", "calibrate", "--recorded", str(LLMBAR), "--format", "llmbar", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # statistics.json: correct_False 35 / 47, correct_True 37 / 47, equal 41 / 47; no unparsed winner.
    assert report["n"] == 47
    assert report["accuracy"] == (35 + 37) / 94
    assert report["positional_agreement"] == 41 / 47
    assert report["parse_failures"] == 0
    assert isinstance(report["kappa"], float)
    published = json.loads((LLMBAR.parent / "statistics.json").read_text(encoding="utf-8"))
    assert report["llmbar_statistics"] == published


def test_pandalm_with_labels() -> None:
    labels = PANDALM / "testset-v1.json"
    args = [
        "--recorded",
        str(PANDALM / "gpt-3.5-turbo-testset-v1.json"),
        "--format",
        "pandalm",
        "--labels",
        str(labels),
    ]
    result = runner.invoke(app, ["judge", "calibrate", *args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n"], report["parse_failures"], report["positional_agreement"]) == (500, 11, None)
    assert report["labels_source"] == str(labels)
    assert report["annotators"]["annotators"] == 3
    assert {"accuracy", "kappa", "parse_failure_rate", "ties", "confusion"} <= report.keys()


def test_the_terminal_report_interprets_kappa_and_position() -> None:
    result = runner.invoke(app, ["judge", "calibrate", "--recorded", str(LLMBAR)])  # format detected
    assert result.exit_code == 0, result.output
    for words in ("accuracy", "76.6%", "positional agreement", "87.2%", "Landis & Koch", "changed with the order"):
        assert words in result.stdout, words
    pandalm = runner.invoke(app, ["judge", "calibrate", "--recorded", str(PANDALM / "pandalm-7b-testset-v1.json")])
    assert pandalm.exit_code == 0, pandalm.output
    assert "one order recorded" in pandalm.stdout
    assert "annotators' kappa" in pandalm.stdout


def test_a_bad_file_exits_2_and_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "verdicts.json"
    bad.write_text('{"not": "a list"}', encoding="utf-8")
    result = runner.invoke(app, ["judge", "calibrate", "--recorded", str(bad), "--format", "pandalm"])
    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert "expected a non-empty JSON list" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["judge", "calibrate"]).exit_code == 2
    assert runner.invoke(app, ["judge", "calibrate", "--recorded", str(LLMBAR), "--format", "mtbench"]).exit_code == 2
    missing = runner.invoke(app, ["judge", "calibrate", "--recorded", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    assert "none.json: does not exist" in missing.stderr


def test_help_explains_the_figures() -> None:
    result = runner.invoke(app, ["judge", "calibrate", "--help"])
    assert result.exit_code == 0
    for words in ("kappa", "positional agreement", "parse failures", "--recorded", "--labels", "--rubric", "--pairs"):
        assert words in result.stdout, words
    assert "scripted model server" in result.stdout


def test_live_calibration_records_then_replays_offline_to_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rubric, pairs = write_project(tmp_path)
    args = ["judge", "calibrate", "--rubric", rubric.name, "--pairs", str(pairs), "--json", "--concurrency", "2"]
    recorded = runner.invoke(app, [*args, "--record-mode", "record"])
    assert recorded.exit_code == 0, recorded.output
    report = json.loads(recorded.stdout)
    # By hand (tests/unit/scorers/test_calibration_live.py PAIRS): 4 of 10 verdicts right, 4 of 5 pairs judged the
    # same both ways, the GARBLED pair unparsed in both orders.
    assert (report["n"], report["accuracy"], report["positional_agreement"], report["parse_failures"]) == (
        5,
        0.4,
        0.8,
        2,
    )
    assert report["source"] == str(pairs)
    assert (tmp_path / "cassettes/calibration/Natural/dataset/pairwise/output_1-vs-output_2").is_dir()
    replayed = runner.invoke(app, [*args, "--record-mode", "replay"])
    assert replayed.exit_code == 0, replayed.output
    again = json.loads(replayed.stdout)
    assert {k: v for k, v in again.items() if k not in ("judge", "notes")} == {
        k: v for k, v in report.items() if k not in ("judge", "notes")
    }
    text = runner.invoke(app, [*args[:-3], "--record-mode", "replay"])
    assert text.exit_code == 0, text.output
    for words in ("test/calibration-pairwise@1 via cassettes", "accuracy", "40.0%", "positional agreement", "80.0%"):
        assert words in text.stdout, words


def test_live_usage_errors_exit_2_and_say_what_to_give(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rubric, pairs = write_project(tmp_path)
    both = runner.invoke(app, ["judge", "calibrate", "--recorded", str(LLMBAR), "--rubric", str(rubric)])
    assert both.exit_code == 2
    assert "--recorded and --rubric exclude each other" in both.stderr
    no_pairs = runner.invoke(app, ["judge", "calibrate", "--rubric", str(rubric)])
    assert no_pairs.exit_code == 2
    assert "--pairs FILE" in no_pairs.stderr
    live_only = runner.invoke(app, ["judge", "calibrate", "--recorded", str(LLMBAR), "--limit", "3"])
    assert live_only.exit_code == 2
    assert "--limit only apply with --rubric" in live_only.stderr
    pointwise = runner.invoke(app, ["judge", "calibrate", "--rubric", "pointwise.md", "--pairs", str(pairs)])
    assert pointwise.exit_code == 2
    assert "pointwise.md: rubric test/pointwise is pointwise" in pointwise.stderr
    bad_mode = runner.invoke(
        app, ["judge", "calibrate", "--rubric", "pairwise.md", "--pairs", str(pairs), "--record-mode", "sometimes"]
    )
    assert bad_mode.exit_code == 2
    assert "Unknown record mode 'sometimes'" in bad_mode.stderr
