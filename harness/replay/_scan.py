"""Find secrets left in cassette files, with the line they are on and a masked excerpt.

Three passes over each file: the patterns over the raw text (exact lines, even in folded YAML strings), the YAML node
tree for headers whose value is a secret whatever it looks like (``openai-organization: my-team``), and every
``!!binary`` body decoded (gzip/zlib undone) since a pattern cannot see a key inside compressed bytes. Placeholders
(``AUTHORIZATION-XXX``, ``Bearer <redacted>``, ``sk-...XXXX``, ``***``) are not findings.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import yaml

from harness.models import Record
from harness.replay._patterns import (
    DEFAULT_PATTERNS,
    HEADER_KINDS,
    SecretPattern,
    header_secret,
    is_placeholder,
    mask,
    masked_match,
)
from harness.replay._reader import CassetteLoader
from harness.replay.errors import CassetteError

CASSETTE_SUFFIXES = (".yaml", ".yml")
"""File suffixes taken as cassettes when a directory is given."""

_BINARY_TAG = "tag:yaml.org,2002:binary"
_NEWLINE = re.compile("\n")


class Finding(Record):
    """One secret found in a cassette file."""

    path: str
    """The cassette file."""
    line: int
    """1-based line in the file (for a secret inside a compressed body: the line where the body starts)."""
    kind: str
    """``api_key``, ``bearer_token``, ``jwt``, ``credential``, ``organization``, ``project`` or ``cookie``."""
    excerpt: str
    """Where it is, with the secret masked (never printed whole): ``openai-project: proj…Aa (29 chars)``."""


def cassette_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files to check: each file as given, each directory's ``*.yaml``/``*.yml`` files recursively, sorted.

    Raises:
        CassetteError: A path does not exist.
    """
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in CASSETTE_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(f"{path}: no such file or directory. Check the path.")
    if missing:
        raise CassetteError("Some cassette paths do not exist.", missing)
    return list(dict.fromkeys(files))


def scan_cassettes(paths: Iterable[str | Path], patterns: Sequence[SecretPattern] = DEFAULT_PATTERNS) -> list[Finding]:
    """Secrets in the cassette files at ``paths`` (files, or directories searched for ``*.yaml``/``*.yml``).

    Returns:
        Findings sorted by path and line; empty when the files are clean.

    Raises:
        CassetteError: A path does not exist, or a file is not valid YAML (with the line): a file that cannot be
            parsed cannot be declared clean.
    """
    findings: list[Finding] = []
    for path in cassette_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteError(f"{path} cannot be read.", [f"{path}: {exc}"]) from None
        findings.extend(scan_text(text, path, patterns))
    return findings


def scan_text(text: str, path: str | Path, patterns: Sequence[SecretPattern] = DEFAULT_PATTERNS) -> list[Finding]:
    """Secrets in one cassette's text (see :func:`scan_cassettes`)."""
    try:
        root = yaml.compose(text, Loader=CassetteLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CassetteError(
            f"{path} is not valid YAML, so it cannot be scanned.", [f"{where}: {exc.problem}"]
        ) from None
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]
    found: dict[tuple[int, str], Finding] = {}

    def add(line: int, kind: str, excerpt: str) -> None:
        # One report per line and kind: a cookie header also matches the cookie pattern on the same line.
        found.setdefault((line, kind), Finding(path=str(path), line=line, kind=kind, excerpt=excerpt))

    for node, header in _walk(root):
        if header is not None:
            for line, kind, excerpt in _header_findings(header, node):
                add(line, kind, excerpt)
        elif node.tag == _BINARY_TAG:
            for line, kind, excerpt in _binary_findings(node, patterns):
                add(line, kind, excerpt)
    for pattern in patterns:
        for match in pattern.compiled.finditer(text):
            if not is_placeholder(match.group("secret")):
                add(bisect.bisect_right(line_starts, match.start()), pattern.kind, _one_line(masked_match(match)))
    return sorted(found.values(), key=lambda f: (f.line, f.kind))


def _walk(node: yaml.Node | None, header: str | None = None) -> Iterator[tuple[yaml.Node, str | None]]:
    """Every scalar node, with the name of the secret header it is the value of (or ``None``)."""
    if isinstance(node, yaml.ScalarNode):
        yield node, header
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, header)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value).lower() if isinstance(key, yaml.ScalarNode) else ""
            yield from _walk(value, name if name in HEADER_KINDS else None)


def _header_findings(header: str, node: yaml.Node) -> Iterator[tuple[int, str, str]]:
    found = header_secret(header, str(node.value))
    if found is None:
        return
    label, value = found
    line = node.start_mark.line + 1
    scheme, _, token = value.partition(" ")
    if not label and token and scheme.lower() in ("bearer", "basic", "token"):
        kind = "bearer_token" if scheme.lower() == "bearer" else HEADER_KINDS[header]
        yield line, kind, f"{header}: {scheme} {mask(token)}"
    else:
        yield line, HEADER_KINDS[header], f"{header}: {label}{mask(value)}"


def _binary_findings(node: yaml.Node, patterns: Sequence[SecretPattern]) -> Iterator[tuple[int, str, str]]:
    try:
        data = base64.b64decode(str(node.value), validate=False)
    except (binascii.Error, ValueError):
        return
    what = "body"
    if data.startswith(b"\x1f\x8b"):
        data, what = _inflate(data, 16 + zlib.MAX_WBITS), "gzip body"
    elif data[:1] == b"\x78":
        data, what = _inflate(data, zlib.MAX_WBITS), "deflate body"
    text = data.decode("utf-8", errors="replace")
    line = node.start_mark.line + 1
    for pattern in patterns:
        for match in pattern.compiled.finditer(text):
            if not is_placeholder(match.group("secret")):
                yield line, pattern.kind, f"in {what}: {_one_line(masked_match(match))}"


def _inflate(data: bytes, wbits: int) -> bytes:
    try:
        return zlib.decompress(data, wbits)
    except zlib.error:
        return data


def _one_line(text: str) -> str:
    return " ".join(text.split())
