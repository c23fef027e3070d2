"""Datasets: YAML and JSONL files -> validated cases, with ``file:line`` in every error.

A YAML dataset is a mapping with optional ``name``, ``description``, ``agent``, ``source``, ``license`` and a list of
``cases``; a JSONL dataset is one case per line after an optional ``{"dataset": {...}}`` first line. Names default to
the file's path under ``datasets/`` without suffix (``support/representative``).
"""

from harness.datasets._discovery import dataset_names, find_datasets, resolve_datasets
from harness.datasets._filters import FILTER_HELP, filter_cases
from harness.datasets._formats import SUFFIXES
from harness.datasets._load import DEFAULT_ROOT, LoadedDataset, check_tools, dataset_name, load_dataset
from harness.datasets._summary import DatasetSummary, summarize
from harness.datasets.errors import DatasetError

__all__ = [
    "DEFAULT_ROOT",
    "FILTER_HELP",
    "SUFFIXES",
    "DatasetError",
    "DatasetSummary",
    "LoadedDataset",
    "check_tools",
    "dataset_name",
    "dataset_names",
    "filter_cases",
    "find_datasets",
    "load_dataset",
    "resolve_datasets",
    "summarize",
]
