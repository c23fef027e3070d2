"""What can go wrong when reading cassettes; each problem says where (``file:line``), what, and how to fix it."""

from __future__ import annotations

from harness.errors import FileFormatError


class CassetteError(FileFormatError):
    """A cassette file (or a path given for one) is invalid: missing, not YAML, or not a vcrpy cassette.

    Attributes:
        problems: Every problem found, one per line, each starting with ``file:line`` (or the path alone when no line
            is known, e.g. a file that does not exist).
    """
