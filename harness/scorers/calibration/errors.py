"""What can go wrong when reading recorded verdicts and labels; each problem names the file and the fix."""

from __future__ import annotations

from harness.errors import FileFormatError


class CalibrationError(FileFormatError):
    """A verdicts or labels file (or the format given for it) is missing, unreadable or of the wrong shape.

    Attributes:
        problems: Every problem found, one per line, each starting with the file (and the item, when it is one).
    """
