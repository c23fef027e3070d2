"""Find dataset files in folders, and resolve what a user typed (a file, a folder or a dataset name) to files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.datasets._formats import SUFFIXES
from harness.datasets._load import DEFAULT_ROOT, dataset_name
from harness.datasets.errors import DatasetError


def find_datasets(paths: Sequence[str | Path] = (DEFAULT_ROOT,)) -> list[Path]:
    """Dataset files in the given files and folders (recursively), sorted and without duplicates.

    A file given by name is returned whatever its suffix (loading it says what is wrong with it). Inside folders,
    only ``.yaml``, ``.yml`` and ``.jsonl`` files count, and README files, hidden files and anything under a folder
    whose name starts with ``_`` or ``.`` (fixtures, drafts) are skipped.

    Raises:
        DatasetError: A path does not exist, or a folder holds no dataset files (every such path is listed).
    """
    found: set[Path] = set()
    problems: list[str] = []
    for item in paths:
        path = Path(item)
        if path.is_file():
            found.add(path)
        elif path.is_dir():
            files = [file for file in path.rglob("*") if _is_dataset_file(file, path)]
            if not files:
                problems.append(
                    f"{path}: no dataset files (.yaml, .yml, .jsonl) in this folder. Add one, e.g. "
                    f"{path / 'smoke.yaml'} with `cases: [{{id: hello, input: Hi}}]`."
                )
            found.update(files)
        else:
            problems.append(f"{path}: no such file or directory. Check the path.")
    if problems:
        raise DatasetError("No dataset files found." if not found else "Some paths hold no dataset files.", problems)
    return sorted(found)


def _is_dataset_file(file: Path, folder: Path) -> bool:
    if not file.is_file() or file.suffix.lower() not in SUFFIXES:
        return False
    relative = file.relative_to(folder)
    if file.name.startswith(".") or file.stem.upper() == "README":
        return False
    return not any(part.startswith(("_", ".")) for part in relative.parts[:-1])


def resolve_datasets(names_or_paths: Sequence[str | Path], root: Path = DEFAULT_ROOT) -> list[Path]:
    """Dataset files for what a user typed: file paths, folders, or names such as ``support/adversarial``.

    A name is the file's path under ``root`` without suffix; ``support/adversarial`` finds
    ``datasets/support/adversarial.yaml`` (or ``.yml``, ``.jsonl``).

    Raises:
        DatasetError: An argument is neither an existing path nor a known name (the message lists the names), a
            name matches several files, or a folder holds no dataset files.
    """
    files: list[Path] = []
    problems: list[str] = []
    for item in names_or_paths:
        path = Path(item)
        if not path.exists() and (root / path).exists() and not path.is_absolute():
            path = root / path  # a file or folder named relative to the datasets folder
        if path.exists():
            try:
                files.extend(find_datasets([path]))
            except DatasetError as exc:
                problems.extend(exc.problems)
            continue
        candidates = [root / f"{item}{suffix}" for suffix in SUFFIXES if (root / f"{item}{suffix}").is_file()]
        if len(candidates) == 1:
            files.append(candidates[0])
        elif candidates:
            problems.append(
                f"{item}: the name matches {len(candidates)} files ({', '.join(map(str, candidates))}); "
                "give the file's path, or remove one of them."
            )
        else:
            problems.append(f"{item}: no such file, folder or dataset name. {_available(root)}")
    if problems:
        raise DatasetError("Datasets not found." if len(problems) > 1 else "Dataset not found.", problems)
    unique: dict[Path, None] = dict.fromkeys(files)
    return list(unique)


def dataset_names(root: Path = DEFAULT_ROOT) -> list[str]:
    """Names of the datasets under ``root`` (from their paths), sorted."""
    if not root.is_dir():
        return []
    return sorted({dataset_name(file, root) for file in root.rglob("*") if _is_dataset_file(file, root)})


def _available(root: Path) -> str:
    names = dataset_names(root)
    if not names:
        return f"There are no datasets under {root}/."
    return f"Available datasets under {root}/: {', '.join(names)}."
