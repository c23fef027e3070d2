"""Pydantic records that cross a boundary (files, DuckDB, ``--json`` output).

Every record is frozen, rejects unknown fields, and documents each field with a docstring.
"""

from harness.models._base import Record, check_regex

__all__ = ["Record", "check_regex"]
