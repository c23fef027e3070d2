"""`agenteval judge calibrate`, driven through the typer app on the vendored LLMBar and PandaLM samples."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

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
    for words in ("kappa", "positional agreement", "parse failures", "--recorded", "--labels"):
        assert words in result.stdout, words
