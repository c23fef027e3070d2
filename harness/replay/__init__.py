"""Cassettes: recorded model traffic, read in any dialect, written atomically, scrubbed, scanned and verified.

A cassette is a vcrpy YAML file of HTTP interactions. :func:`load_cassette` reads stock vcrpy files (string or gzip
``!!binary`` bodies) and pydantic-ai's ``parsed_body`` dialect into one normalised :class:`Cassette`;
:func:`save_cassette` writes what vcrpy loads, atomically. :class:`Scrubber` removes secrets (also as vcrpy hooks),
:func:`scan_cassettes` finds the ones left, :func:`verify_cassettes` replays every model call through the openai client
with the network blocked, and :class:`CassetteIndex` matches a live request in constant time.
"""

from harness.replay._http import canonical_json
from harness.replay._match import CassetteIndex, body_fingerprint, json_body_matcher, request_key
from harness.replay._patterns import DEFAULT_PATTERNS, PLACEHOLDER, SecretPattern, is_placeholder, mask
from harness.replay._persister import AtomicFilesystemPersister, to_vcrpy_interactions
from harness.replay._reader import LOADER_NAME, load_cassette, parse_cassette
from harness.replay._records import Cassette, Interaction, RecordedRequest, RecordedResponse
from harness.replay._scan import Finding, cassette_files, scan_cassettes
from harness.replay._scrub import (
    ScrubbedFile,
    Scrubber,
    ScrubConfig,
    before_record_request,
    before_record_response,
    scrub_cassette_files,
    scrub_interaction,
)
from harness.replay._verify import MATCH_ON, NetworkBlockedError, VerifyResult, verify_cassette, verify_cassettes
from harness.replay._writer import atomic_write_text, dump_cassette, save_cassette, to_vcrpy_dict
from harness.replay.errors import CassetteError

__all__ = [
    "DEFAULT_PATTERNS",
    "LOADER_NAME",
    "MATCH_ON",
    "PLACEHOLDER",
    "AtomicFilesystemPersister",
    "Cassette",
    "CassetteError",
    "CassetteIndex",
    "Finding",
    "Interaction",
    "NetworkBlockedError",
    "RecordedRequest",
    "RecordedResponse",
    "ScrubConfig",
    "ScrubbedFile",
    "Scrubber",
    "SecretPattern",
    "VerifyResult",
    "atomic_write_text",
    "before_record_request",
    "before_record_response",
    "body_fingerprint",
    "canonical_json",
    "cassette_files",
    "dump_cassette",
    "is_placeholder",
    "json_body_matcher",
    "load_cassette",
    "mask",
    "parse_cassette",
    "request_key",
    "save_cassette",
    "scan_cassettes",
    "scrub_cassette_files",
    "scrub_interaction",
    "to_vcrpy_dict",
    "to_vcrpy_interactions",
    "verify_cassette",
    "verify_cassettes",
]
