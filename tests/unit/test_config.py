from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import find_pyproject, load_settings
from harness.errors import ConfigError


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n{table}")
    nested = tmp_path / "sub" / "dir"
    nested.mkdir(parents=True)
    return nested


def test_settings_come_from_the_nearest_pyproject_with_a_table(tmp_path: Path) -> None:
    start = _project(
        tmp_path,
        "[tool.agenteval]\nagent = 'pkg:fn'\nconcurrency = 3\n[tool.agenteval.variants.fast]\nmodel = 'gpt-4o-mini'\n",
    )
    assert find_pyproject(start) == tmp_path / "pyproject.toml"
    settings = load_settings(start)
    assert (settings.agent, settings.concurrency, settings.root) == ("pkg:fn", 3, tmp_path)
    assert [v.name for v in settings.pick_variants(None)] == ["fast"]
    assert settings.variants["fast"].model == "gpt-4o-mini"


def test_environment_then_arguments_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = _project(tmp_path, "[tool.agenteval]\nconcurrency = 3\nepochs = 2\n")
    monkeypatch.setenv("AGENTEVAL_CONCURRENCY", "5")
    monkeypatch.setenv("AGENTEVAL_EPOCHS", "4")
    settings = load_settings(start, overrides={"epochs": 7, "agent": None})
    assert (settings.concurrency, settings.epochs, settings.agent) == (5, 7, "support")


def test_variants_file_and_unknown_variant(tmp_path: Path) -> None:
    start = _project(tmp_path, "[tool.agenteval]\nvariants_file = 'variants.toml'\n")
    (tmp_path / "variants.toml").write_text(
        "[variants.a]\nprompt_version = 'v1'\n[variants.b]\nprompt_version = 'v2'\n"
    )
    settings = load_settings(start)
    assert [v.prompt_version for v in settings.pick_variants(["b", "a"])] == ["v2", "v1"]
    with pytest.raises(ConfigError, match=r"Unknown variant\(s\) c .*Declared: a, b"):
        settings.pick_variants(["c"])


def test_invalid_settings_name_the_file(tmp_path: Path) -> None:
    start = _project(tmp_path, "[tool.agenteval]\nconcurrency = 0\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml\): concurrency: Input should be greater than or equal"):
        load_settings(start)


def test_defaults_without_a_pyproject(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.source == "built-in defaults"
    assert list(settings.variants) == ["v1", "v2"]
