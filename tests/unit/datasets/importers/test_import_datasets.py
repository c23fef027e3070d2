"""``harness.api.import_datasets``: what ``agenteval datasets import KIND SRC --out DIR`` calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.api import import_datasets
from harness.datasets import load_dataset
from harness.errors import ConfigError, HarnessError
from tests.unit.datasets.importers._paths import UPSTREAM


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("agentdojo", ["agentdojo/workspace.yaml", "agentdojo/banking.yaml"]),
        (
            "bfcl",
            [f"bfcl/{c}.yaml" for c in ("irrelevance", "multiple", "parallel", "parallel_multiple", "simple_python")],
        ),
        (
            "garak",
            [f"garak/{n}.yaml" for n in ("promptinject", "sysprompt-extraction", "latent-injection", "payloads")],
        ),
    ],
)
def test_each_kind_writes_loadable_datasets_and_the_license(kind: str, files: list[str], tmp_path: Path) -> None:
    paths = import_datasets(kind, UPSTREAM / kind, tmp_path)
    assert paths == [tmp_path / f for f in files]
    for path in paths:
        loaded = load_dataset(path, root=tmp_path)
        assert loaded.dataset.name == path.relative_to(tmp_path).with_suffix("").as_posix()
        assert loaded.dataset.cases
        assert path.read_text(encoding="utf-8").startswith(f"# Imported with `agenteval datasets import {kind}`")
    assert (tmp_path / kind / "LICENSE").read_bytes() == (UPSTREAM / kind / "LICENSE").read_bytes()


def test_the_parent_of_the_upstream_folders_works_too(tmp_path: Path) -> None:
    assert import_datasets("garak", UPSTREAM, tmp_path)[0] == tmp_path / "garak" / "promptinject.yaml"


def test_an_unknown_kind_says_which_kinds_exist(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"Unknown import kind 'bfc' \(did you mean 'bfcl'\?\)\. Valid kinds: agentdojo"
    ):
        import_datasets("bfc", UPSTREAM / "bfcl", tmp_path)


def test_a_missing_or_wrong_source_is_a_harness_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        import_datasets("bfcl", tmp_path / "nowhere", tmp_path)
    with pytest.raises(ConfigError, match="is not a folder"):
        import_datasets("bfcl", UPSTREAM / "bfcl" / "LICENSE", tmp_path)
    with pytest.raises(HarnessError, match=r"promptinject_attacks\.json not found"):
        import_datasets("garak", UPSTREAM / "bfcl", tmp_path)


def test_an_unreadable_upstream_file_is_a_harness_error(tmp_path: Path) -> None:
    src = tmp_path / "bfcl"
    src.mkdir()
    (src / "BFCL_v4_simple_python.json").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(HarnessError, match="cannot be read"):
        import_datasets("bfcl", src, tmp_path / "out")


def test_an_unwritable_output_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="Cannot write the imported datasets"):
        import_datasets("garak", UPSTREAM / "garak", blocker)
