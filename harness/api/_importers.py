"""Importing upstream benchmarks as datasets: what ``agenteval datasets import KIND SRC --out DIR`` calls."""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Callable
from pathlib import Path

from harness.datasets.importers import import_agentdojo, import_bfcl, import_garak, write_dataset
from harness.errors import ConfigError
from harness.models.cases import Dataset

IMPORTERS: dict[str, Callable[[Path], list[Dataset]]] = {
    "agentdojo": import_agentdojo,
    "bfcl": import_bfcl,
    "garak": import_garak,
}
"""Upstream kinds and their importers (see ``harness.datasets.importers``)."""

IMPORT_KINDS = tuple(IMPORTERS)
"""What ``kind`` may be."""


def import_datasets(kind: str, src: Path, out: Path) -> list[Path]:
    """Import an upstream benchmark folder as dataset files under ``out``.

    Datasets are written to ``out/<dataset name>.yaml`` (e.g. ``out/bfcl/simple_python.yaml``), so that their
    names match their paths when ``out`` is the datasets folder; the upstream ``LICENSE`` is copied to
    ``out/<kind>/LICENSE``. Existing files with the same names are overwritten.

    Args:
        kind: ``agentdojo``, ``bfcl`` or ``garak``.
        src: The upstream folder (as in ``shared/data/<kind>``), or a folder holding it as ``<kind>/``.
        out: Folder to write to (created when missing).

    Returns:
        The dataset files written, in import order.

    Raises:
        ConfigError: Unknown ``kind``; ``src`` missing, not a folder, or without the upstream files; ``out`` not
            writable.
        FileFormatError: An upstream file is unreadable or malformed (with ``file:line``).
    """
    importer = IMPORTERS.get(kind)
    if importer is None:
        close = difflib.get_close_matches(kind, IMPORT_KINDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"Unknown import kind {kind!r}{hint}. Valid kinds: {', '.join(IMPORT_KINDS)}.")
    src, out = Path(src), Path(out)
    if not src.exists():
        raise ConfigError(
            f"{src} does not exist. Give the folder of the upstream {kind} data, e.g. shared/data/{kind}."
        )
    if not src.is_dir():
        raise ConfigError(f"{src} is not a folder. Give the folder of the upstream {kind} data, not a single file.")
    if (src / kind).is_dir():
        src = src / kind  # the parent of all upstream folders (shared/data) works too
    datasets = importer(src)
    try:
        paths = [
            write_dataset(dataset, out / f"{dataset.name}.yaml", header=_header(kind, dataset)) for dataset in datasets
        ]
        if (src / "LICENSE").is_file():
            (out / kind).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / "LICENSE", out / kind / "LICENSE")
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the imported datasets to {out}: {exc}. Choose a writable --out folder."
        ) from None
    return paths


def _header(kind: str, dataset: Dataset) -> str:
    return (
        f"Imported with `agenteval datasets import {kind}` from {dataset.source}.\n"
        f"License: {dataset.license} (upstream LICENSE copied to {kind}/LICENSE). Re-import rather than edit by hand."
    )
