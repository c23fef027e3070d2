"""Load one dataset file into a validated :class:`~harness.models.cases.Dataset`, with every problem at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.datasets._formats import JSONL_SUFFIXES, parse_jsonl_dataset, parse_yaml_dataset, read_text
from harness.datasets._validate import tool_line_key, tool_refs, unknown_tool_problem, validate_cases, validate_header
from harness.datasets.errors import DatasetError
from harness.models._base import Record
from harness.models.cases import Dataset

DEFAULT_ROOT = Path("datasets")
"""Where datasets live; names are paths under it without suffix (``support/representative``)."""


class LoadedDataset(Record):
    """A validated dataset and where it came from: enough to point later messages at ``file:line``."""

    dataset: Dataset
    """The dataset, with its name defaulted from the path when the file gives none."""
    path: Path
    """The file it was loaded from, as given."""
    sha256: str
    """SHA-256 (hex) of the file's bytes: an eval run records it to tell later whether the dataset changed."""
    case_lines: dict[str, int]
    """1-based line where each case starts, by case id."""
    tool_lines: dict[str, int] = {}
    """1-based line of each tool name that a case's expectations or overrides use, keyed ``CASE_ID#where``
    (``where`` as in ``expected.tool_calls[0].name``); see :func:`check_tools`."""

    def line_of(self, case_id: str) -> int | None:
        """The line where a case starts, if the case exists."""
        return self.case_lines.get(case_id)

    def where(self, case_id: str) -> str:
        """``file:line`` of a case (just ``file`` for an unknown id), for messages about it."""
        line = self.case_lines.get(case_id)
        return f"{self.path}:{line}" if line is not None else str(self.path)


def dataset_name(path: Path, root: Path = DEFAULT_ROOT) -> str:
    """Default name of a dataset file: its path under ``root`` without suffix, else its stem.

    ``datasets/support/representative.yaml`` -> ``support/representative``; ``/tmp/x.jsonl`` -> ``x``.
    """
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return path.stem
    return relative.with_suffix("").as_posix()


def load_dataset(path: str | Path, *, root: Path = DEFAULT_ROOT) -> LoadedDataset:
    """Read, parse and validate one dataset file (.yaml, .yml or .jsonl).

    Args:
        path: The file.
        root: The datasets folder that default names are relative to.

    Returns:
        The dataset with its file's SHA-256 and the line of each case.

    Raises:
        DatasetError: Listing every problem of the file, each as ``file:line: where: what. fix``.
    """
    path = Path(path)
    data, text = read_text(path)
    is_jsonl = path.suffix.lower() in JSONL_SUFFIXES
    raw = parse_jsonl_dataset(path, text) if is_jsonl else parse_yaml_dataset(path, text)
    header, header_problems = validate_header(raw, dataset_name(path, root))
    cases, case_lines, tool_lines, case_problems = validate_cases(raw)
    problems = [*raw.problems, *header_problems, *case_problems]
    # Every problem has a line: list them in file order, as an editor would.
    problems.sort(key=lambda problem: _line_of(problem, path))
    if problems or header is None:
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        raise DatasetError(f"{path} is not a valid dataset ({count}).", problems)
    dataset = header.model_copy(update={"cases": cases})
    return LoadedDataset(
        dataset=dataset,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        case_lines=case_lines,
        tool_lines=tool_lines,
    )


def check_tools(loaded: LoadedDataset, tool_names: set[str]) -> list[str]:
    """Problems for tool names that the cases' expectations and overrides use but the agent does not have.

    A case that brings its own ``tools`` may also name those. The loader already checks cases with their own tools
    against them; this adds the agent's tools, which only the caller knows (``harness.datasets`` does not import
    agents).

    Args:
        loaded: A loaded dataset.
        tool_names: The tools of the agent under test.

    Returns:
        One ``file:line: where: unknown tool ...`` problem per unknown name; empty when all are known.
    """
    problems: list[str] = []
    is_jsonl = loaded.path.suffix.lower() in JSONL_SUFFIXES
    for index, case in enumerate(loaded.dataset.cases):
        valid = tool_names | {tool.name for tool in case.tools}
        for ref in tool_refs(case):
            if ref.name in valid:
                continue
            line = loaded.tool_lines.get(tool_line_key(case.id, ref.where), loaded.case_lines.get(case.id))
            where = ref.where if is_jsonl else f"cases[{index}].{ref.where}"
            location = f"{loaded.path}:{line}" if line is not None else str(loaded.path)
            whose = f"Tools of the '{loaded.dataset.agent}' agent" + (" and this case" if case.tools else "")
            problems.append(unknown_tool_problem(location, where, ref.name, valid, whose))
    return problems


def _line_of(problem: str, path: Path) -> int:
    head = problem[len(str(path)) + 1 :].split(":", 1)[0]
    return int(head) if head.isdigit() else 0
