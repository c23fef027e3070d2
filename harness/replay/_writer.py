"""Write a cassette as stock vcrpy YAML, atomically.

The file is what vcrpy itself writes (``version: 1``, ``interactions: [{request: {method, uri, body, headers},
response: {status: {code, message}, headers, body: {string}}}]``), so vcrpy loads it with its default persister and
serializer. JSON request bodies are stored as canonical JSON (sorted keys, compact) so re-recording the same request
gives the same text; bodies are stored decoded (no gzip ``!!binary``), multi-line bodies (SSE streams) as YAML
literal blocks, so a cassette reads and diffs as text.

vcrpy's own persister writes with ``open("w")``: a crash or a second xdist worker leaves a truncated file, which vcrpy
then treats as missing and silently re-records. Here the text goes to a temporary file in the same directory, is
fsynced and renamed over the target (``os.replace`` is atomic on POSIX and Windows): readers see the old file or the
new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from harness.replay._http import canonical_json, with_content_length
from harness.replay._records import Cassette, Interaction

try:
    from yaml import CSafeDumper as _SafeDumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]

_NEW_FILE_MODE = 0o644


class _CassetteDumper(_SafeDumper):
    """Safe dumper (plain types only, like vcrpy's loader accepts) writing multi-line strings as literal blocks."""


def _represent_str(dumper: _CassetteDumper, value: str) -> yaml.Node:
    # The emitter falls back to a quoted style by itself when a literal block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CassetteDumper.add_representer(str, _represent_str)


def to_vcrpy_dict(cassette: Cassette) -> dict[str, Any]:
    """The cassette as the plain data vcrpy serialises (``{"version": 1, "interactions": [...]}``)."""
    return {"version": 1, "interactions": [_interaction(item) for item in cassette.interactions]}


def dump_cassette(cassette: Cassette) -> str:
    """The cassette as vcrpy-compatible YAML text."""
    return yaml.dump(to_vcrpy_dict(cassette), Dumper=_CassetteDumper, allow_unicode=True, sort_keys=True)


def save_cassette(cassette: Cassette, path: str | Path) -> None:
    """Write ``cassette`` to ``path`` as vcrpy YAML, atomically (see the module docstring).

    Args:
        cassette: What to write. Scrub it first (:class:`~harness.replay.Scrubber`) if it holds live traffic.
        path: The target file; its directory is created if needed.
    """
    atomic_write_text(Path(path), dump_cassette(cassette))


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so that a crash at any point leaves the old file or the new one.

    Temporary file in the same directory (a rename across file systems is a copy), fsync of the data before the
    rename, fsync of the directory after it (so the rename itself survives a power cut). An existing file keeps
    its permission bits.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; its rename is durable on its own terms
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _interaction(interaction: Interaction) -> dict[str, Any]:
    request, response = interaction.request, interaction.response
    body: bytes | None = request.body
    headers = request.headers
    if request.json is not None:
        body = canonical_json(request.json).encode("utf-8")
        headers = with_content_length(headers, body)
    return {
        "request": {
            "method": request.method,
            "uri": request.uri,
            "body": _text_or_bytes(body),
            "headers": {name: list(values) for name, values in headers.items()},
        },
        "response": {
            "status": {"code": response.status, "message": response.message or _reason(response.status)},
            "headers": {name: list(values) for name, values in response.headers.items()},
            "body": {"string": _text_or_bytes(response.body) or ""},
        },
    }


def _text_or_bytes(body: bytes | None) -> str | bytes | None:
    """Text when the body is UTF-8 (vcrpy encodes it back on load), else bytes, which YAML writes as ``!!binary``."""
    if body is None:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
