"""What can go wrong when reading datasets; each problem says where (``file:line``), what, and how to fix it."""

from __future__ import annotations

from harness.errors import FileFormatError


class DatasetError(FileFormatError):
    """A dataset file (or a path or name given for one) is invalid.

    Attributes:
        problems: Every problem found, one per line, each starting with ``file:line`` (or ``path`` alone when the
            problem is a path that does not exist or holds no dataset files).
    """
