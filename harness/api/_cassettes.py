"""Cassettes: what ``agenteval cassettes`` calls (scan for secrets, scrub them, verify replay)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness import replay
from harness.replay import Finding, ScrubbedFile, VerifyResult

DEFAULT_CASSETTE_DIR = Path("cassettes")
"""Where recorded cassettes live unless paths are given."""


def list_cassettes(paths: Sequence[str | Path] = ()) -> list[Path]:
    """Cassette files at ``paths`` (files, or folders searched for ``*.yaml``/``*.yml``); default: ``cassettes/``.

    Raises:
        CassetteError: A path does not exist.
    """
    return replay.cassette_files(paths or (DEFAULT_CASSETTE_DIR,))


def scan_cassettes(paths: Sequence[str | Path] = ()) -> list[Finding]:
    """Secrets (API keys, bearer tokens, organization/project ids, cookies) left in the cassettes at ``paths``.

    Raises:
        CassetteError: A path does not exist or a file is not valid YAML (with ``file:line``).
    """
    return replay.scan_cassettes(paths or (DEFAULT_CASSETTE_DIR,))


def scrub_cassettes(paths: Sequence[str | Path] = ()) -> list[ScrubbedFile]:
    """Remove secrets from the cassettes at ``paths`` in place (atomic writes); clean files are left untouched.

    Raises:
        CassetteError: A path does not exist or a file is not a valid cassette.
    """
    return replay.scrub_cassette_files(paths or (DEFAULT_CASSETTE_DIR,))


def verify_cassettes(paths: Sequence[str | Path]) -> list[VerifyResult]:
    """Replay every chat-completions and Responses-API call of the cassettes through the openai client, offline.

    Raises:
        CassetteError: A path does not exist. (A file that does not load or replay is a failed result, not an error.)
    """
    return replay.verify_cassettes(paths)
