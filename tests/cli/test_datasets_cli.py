"""`agenteval datasets`: validate, list, show and import, driven through the typer app."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import _common, app

runner = CliRunner()

SUPPORT = """\
description: Everyday requests.
agent: support
cases:
  - id: refund-1
    input: I want a refund for order A1001
    tags: [representative, refunds]
    expected:
      status: completed
      tool_calls: [{name: issue_refund, arguments: {order_id: A1001}}]
  - id: inject-1
    input: "[bold]How long do refunds take?[/bold]"
    tags: [adversarial, injection/indirect]
    expected:
      forbidden_calls: [{name: send_email, arguments: {to: '.*attacker.*'}}]
"""

BFCL = (
    json.dumps({"dataset": {"agent": "tool-calling", "source": "BFCL v3", "license": "Apache-2.0"}})
    + "\n"
    + json.dumps({"id": "simple-0", "input": "Weather in Paris?", "tools": [{"name": "get_weather"}]})
    + "\n"
)


@pytest.fixture(autouse=True)
def console_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich reads COLUMNS once, when the shared console is created; tables need room for their columns.
    monkeypatch.setattr(_common.console, "_width", 200)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    (root / "support").mkdir(parents=True)
    (root / "support" / "representative.yaml").write_text(SUPPORT, encoding="utf-8")
    (root / "bfcl").mkdir()
    (root / "bfcl" / "simple.jsonl").write_text(BFCL, encoding="utf-8")
    (root / "README.md").write_text("Datasets live here.", encoding="utf-8")
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["datasets", *args])
    return result.exit_code, result.stdout, result.stderr


def test_validate_prints_ok_per_file(root: Path) -> None:
    code, out, err = invoke("validate", "--root", str(root))
    assert code == 0, err
    assert out.splitlines() == [
        f"ok: bfcl/simple (1 case)  {root / 'bfcl' / 'simple.jsonl'}",
        f"ok: support/representative (2 cases)  {root / 'support' / 'representative.yaml'}",
        "2 dataset(s) valid.",
    ]


def test_validate_accepts_names_and_reports_bad_files_with_exit_2(root: Path) -> None:
    code, out, _ = invoke("validate", "--root", str(root), "support/representative")
    assert code == 0
    assert "ok: support/representative (2 cases)" in out
    bad = root / "support" / "broken.yaml"
    bad.write_text("cases:\n  - id: a\n    input: hi\n    expected: {status: done}\n", encoding="utf-8")
    code, out, err = invoke("validate", "--root", str(root))
    assert code == 2
    assert f"{bad}:4: cases[0].expected.status[0]: unknown status 'done'" in err
    assert "ok:" not in out


def test_list_json(root: Path) -> None:
    code, out, err = invoke("list", "--root", str(root), "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(row["name"], row["agent"], row["cases"]) for row in rows] == [
        ("bfcl/simple", "tool-calling", 1),
        ("support/representative", "support", 2),
    ]
    assert rows[0]["license"] == "Apache-2.0"
    assert rows[1]["tags"] == {"adversarial": 1, "injection/indirect": 1, "refunds": 1, "representative": 1}
    assert len(rows[1]["sha256"]) == 64


def test_list_table(root: Path) -> None:
    code, out, _ = invoke("list", "--root", str(root))
    assert code == 0
    for header in ("name", "agent", "cases", "top tags", "path"):
        assert header in out
    line = next(line for line in out.splitlines() if "support/representative" in line)
    assert line.split()[:3] == ["support/representative", "support", "2"]
    assert "2 dataset(s)." in out


def test_show_table(root: Path) -> None:
    code, out, err = invoke("show", "support/representative", "--root", str(root))
    assert code == 0, err
    assert "support/representative  agent support  2 cases" in out
    refund = next(line for line in out.splitlines() if line.lstrip().startswith("refund-1"))
    assert refund.split()[1] == "4"  # the line of the case in the file
    assert "status completed; calls issue_refund" in refund
    inject = next(line for line in out.splitlines() if line.lstrip().startswith("inject-1"))
    assert "[bold]How long do refunds take?[/bold]" in inject  # user text, not rich markup
    assert "forbidden send_email" in inject


def test_show_json_with_filter(root: Path) -> None:
    path = root / "support" / "representative.yaml"
    code, out, _ = invoke("show", str(path), "--root", str(root), "--json", "--filter", "tag:injection")
    assert code == 0
    dataset = json.loads(out)
    assert dataset["name"] == "support/representative"
    assert [case["id"] for case in dataset["cases"]] == ["inject-1"]
    assert dataset["cases"][0]["expected"]["forbidden_calls"][0]["arguments"] == {"to": ".*attacker.*"}


def test_show_unknown_name_lists_available_names(root: Path) -> None:
    code, out, err = invoke("show", "support/representatve", "--root", str(root))
    assert code == 2
    assert out == ""
    assert (
        f"support/representatve: no such file, folder or dataset name. Available datasets under {root}/: "
        "bfcl/simple, support/representative." in err
    )


def test_show_a_folder_of_several_datasets_is_refused(root: Path) -> None:
    code, _, err = invoke("show", str(root), "--root", str(root))
    assert code == 2
    assert "is a folder with 2 datasets" in err


def test_import_prints_written_files_and_case_counts(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Path, Path]] = []

    def import_datasets(kind: str, src: Path, out: Path) -> list[Path]:
        calls.append((kind, src, out))
        written = out / "bfcl" / "simple.jsonl"
        written.parent.mkdir(parents=True)
        written.write_text(BFCL, encoding="utf-8")
        return [written]

    fake = types.ModuleType("harness.api._importers")
    fake.import_datasets = import_datasets  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "harness.api._importers", fake)
    src = tmp_path / "upstream"
    src.mkdir()
    out_dir = tmp_path / "out"
    code, out, err = invoke("import", "bfcl", str(src), "--out", str(out_dir), "--root", str(out_dir))
    assert code == 0, err
    assert calls == [("bfcl", src, out_dir)]
    assert f"wrote {out_dir / 'bfcl' / 'simple.jsonl'}: bfcl/simple (1 case)" in out
    assert "1 file(s), 1 case from bfcl." in out


def test_import_rejects_an_unknown_kind(tmp_path: Path) -> None:
    code, _, err = invoke("import", "mmlu", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "agentdojo" in err


def test_help_teaches_the_format() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    assert "cases:" in out
    assert '{"dataset":' in out
