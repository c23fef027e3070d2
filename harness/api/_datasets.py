"""Datasets: what ``agenteval datasets`` calls (validate, list, show).

``harness.datasets`` knows files and cases but not agents; here, where both are visible, the tool names that a
support dataset's expectations use are checked against the support agent's tools.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.datasets import (
    DEFAULT_ROOT,
    DatasetError,
    DatasetSummary,
    LoadedDataset,
    check_tools,
    load_dataset,
    resolve_datasets,
    summarize,
)


def validate_datasets(
    paths: Sequence[str | Path] = (DEFAULT_ROOT,), *, root: Path = DEFAULT_ROOT
) -> list[DatasetSummary]:
    """Load and check every dataset in ``paths`` (files, folders or dataset names).

    Besides the file format, the cases of ``support`` datasets may name only the support agent's tools in
    ``expected.tool_calls``, ``expected.forbidden_calls`` and ``tool_results``.

    Args:
        paths: Dataset files, folders (searched recursively) or names such as ``support/adversarial``.
        root: The datasets folder that names and default dataset names are relative to.

    Returns:
        One summary per valid file, in path order.

    Raises:
        DatasetError: Listing every problem of every file (and every path that holds no dataset).
    """
    summaries: list[DatasetSummary] = []
    problems: list[str] = []
    invalid = 0
    for loaded, error in _load_each(paths, root):
        if error is not None:
            invalid += 1
            problems.extend(error.problems)
            continue
        assert loaded is not None
        tool_problems = agent_tool_problems(loaded)
        if tool_problems:
            invalid += 1
            problems.extend(tool_problems)
            continue
        summaries.append(summarize(loaded))
    if problems:
        total = invalid + len(summaries)
        raise DatasetError(f"{invalid} of {total} dataset file(s) invalid ({len(problems)} problem(s)).", problems)
    return summaries


def list_datasets(paths: Sequence[str | Path] = (DEFAULT_ROOT,), *, root: Path = DEFAULT_ROOT) -> list[DatasetSummary]:
    """Summaries of the datasets in ``paths`` (name, agent, cases, tags, file, SHA-256).

    Raises:
        DatasetError: A path holds no datasets, or a file is invalid (every problem of every file is listed).
    """
    summaries: list[DatasetSummary] = []
    problems: list[str] = []
    for loaded, error in _load_each(paths, root):
        if error is not None:
            problems.extend(error.problems)
        elif loaded is not None:
            summaries.append(summarize(loaded))
    if problems:
        raise DatasetError("Some datasets cannot be read; `agenteval datasets validate` checks them.", problems)
    return summaries


def show_dataset(name_or_path: str | Path, *, root: Path = DEFAULT_ROOT) -> LoadedDataset:
    """One dataset, by name (``support/adversarial``) or file path.

    Raises:
        DatasetError: The name or path is unknown (the message lists the available names), names a folder with
            several datasets, or the file is invalid.
    """
    files = resolve_datasets([name_or_path], root)
    if len(files) != 1:
        listed = ", ".join(str(file) for file in files)
        raise DatasetError(
            f"{name_or_path} holds {len(files)} datasets.",
            [f"{name_or_path}: is a folder with {len(files)} datasets ({listed}); give one of them."],
        )
    return load_dataset(files[0], root=root)


def agent_tool_problems(loaded: LoadedDataset) -> list[str]:
    """Problems for tool names that the dataset's agent does not have (only built-in agents with fixed tools)."""
    if loaded.dataset.agent != "support":
        return []
    # Imported here: the agent package (openai, jinja2) is only needed when a support dataset is checked.
    from harness.agent.support import SUPPORT_TOOLS

    return check_tools(loaded, {tool.name for tool in SUPPORT_TOOLS})


def _load_each(paths: Sequence[str | Path], root: Path) -> list[tuple[LoadedDataset | None, DatasetError | None]]:
    """Each dataset file of each path, loaded, or the error that path or file gave."""
    results: list[tuple[LoadedDataset | None, DatasetError | None]] = []
    seen: set[Path] = set()
    for item in paths:
        try:
            files = resolve_datasets([item], root)
        except DatasetError as exc:
            results.append((None, exc))
            continue
        for file in files:
            if file.resolve() in seen:
                continue  # a file given both alone and inside its folder is checked once
            seen.add(file.resolve())
            try:
                results.append((load_dataset(file, root=root), None))
            except DatasetError as exc:
                results.append((None, exc))
    return results
