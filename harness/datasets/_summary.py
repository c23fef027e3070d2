"""One line of facts per dataset: what ``agenteval datasets list`` shows and ``--json`` prints."""

from __future__ import annotations

from collections import Counter

from harness.datasets._load import LoadedDataset
from harness.models._base import Record


class DatasetSummary(Record):
    """A dataset at a glance."""

    name: str
    """Dataset name, e.g. ``support/representative``."""
    path: str
    """File it was loaded from."""
    agent: str
    """Agent under test: ``support``, ``tool-calling``, ``recorded`` or ``module:function``."""
    cases: int
    """Number of cases."""
    tags: dict[str, int]
    """Number of cases per tag, most frequent first."""
    sha256: str
    """SHA-256 of the file's bytes."""
    source: str | None = None
    """Where the cases come from."""
    license: str | None = None
    """Licence of the material the cases are derived from."""


def summarize(loaded: LoadedDataset) -> DatasetSummary:
    """The summary of a loaded dataset."""
    dataset = loaded.dataset
    counts = Counter(tag for case in dataset.cases for tag in case.tags)
    # Most frequent first; ties by name, so that the output is stable.
    tags = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return DatasetSummary(
        name=dataset.name,
        path=str(loaded.path),
        agent=dataset.agent,
        cases=len(dataset.cases),
        tags=tags,
        sha256=loaded.sha256,
        source=dataset.source,
        license=dataset.license,
    )
