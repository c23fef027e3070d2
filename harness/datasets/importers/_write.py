"""Write a :class:`~harness.models.cases.Dataset` as readable, diff-friendly YAML.

The file is what a person would write by hand: block style, keys in the order the models declare them, fields left
at their defaults omitted, multi-line strings as literal blocks (``|``) so that a payload reads as it was written
and a changed line shows as one changed line in a diff. Loading the file with ``yaml.safe_load`` and validating it
with ``Dataset.model_validate`` gives back an equal dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.models.cases import Dataset

# No line folding: a long one-line string stays on one line, so editing it changes one line of the file.
_NO_WRAP = 1_000_000


class _Dumper(yaml.SafeDumper):
    """Safe dumper that indents block sequences under their key (the style of the repository's YAML)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        # PyYAML falls back to a quoted scalar by itself when a literal block cannot hold the text exactly
        # (trailing spaces on a line, tabs next to line breaks, control characters), so this never loses data.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dataset_data(dataset: Dataset) -> dict[str, Any]:
    """The dataset as plain data: JSON types, declaration order, defaults left out.

    ``cases`` is always written, even when empty, because a dataset without it does not validate.
    """
    data = dataset.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.setdefault("cases", [])
    return data


def dump_dataset(dataset: Dataset, header: str | None = None) -> str:
    """The YAML text of a dataset, optionally after a comment ``header`` (each of its lines becomes ``# ...``)."""
    body = yaml.dump(
        dataset_data(dataset),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_NO_WRAP,
        indent=2,
    )
    if not header:
        return body
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body


def write_dataset(dataset: Dataset, path: Path, header: str | None = None) -> Path:
    """Write a dataset to ``path`` (parent folders are created) and return the path.

    Args:
        dataset: The dataset to write.
        path: Target file, conventionally ``<root>/<dataset name>.yaml``.
        header: Optional comment put at the top of the file (where it comes from, how to regenerate it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_dataset(dataset, header), encoding="utf-8")
    return path
