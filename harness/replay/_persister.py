"""A vcrpy persister that reads every cassette dialect and writes atomically.

Register it on the recorder's ``vcr.VCR`` (``my_vcr.register_persister(AtomicFilesystemPersister)``). vcrpy is
imported only when vcrpy calls in, so importing :mod:`harness.replay` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.replay._reader import cassette_from_data, parse_cassette
from harness.replay._records import Cassette
from harness.replay._writer import atomic_write_text, dump_cassette
from harness.replay.errors import CassetteError


class AtomicFilesystemPersister:
    """vcrpy's persister protocol (``load_cassette``/``save_cassette``) over :func:`~harness.replay.load_cassette`
    and the atomic writer.

    Differences from vcrpy's ``FilesystemPersister``, on purpose:

    - loading accepts every dialect :func:`~harness.replay.load_cassette` does (pydantic-ai ``parsed_body``, gzip
      ``!!binary``) and hands vcrpy decoded bodies;
    - saving never leaves a truncated file;
    - a malformed cassette raises :class:`~harness.replay.CassetteError` instead of vcrpy's ``CassetteDecodeError``,
      which vcrpy swallows and answers by treating the file as empty and re-recording over it (vcrpy #501): a broken
      cassette must stop the run, not be overwritten.
    """

    @classmethod
    def load_cassette(cls, cassette_path: str | Path, serializer: Any) -> tuple[list[Any], list[dict[str, Any]]]:
        """Read a cassette for vcrpy: ``(requests, responses)``.

        Raises:
            vcr.persisters.filesystem.CassetteNotFoundError: No file, or an empty one (vcrpy then records it).
            CassetteError: The file is not a valid cassette.
        """
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteError(f"{path} is not UTF-8 text.", [f"{path}: {exc}. Re-record the cassette."]) from None
        if not text.strip():
            raise CassetteNotFoundError()
        if not _is_yaml(serializer):
            requests, responses, *_ = deserialize(text, serializer)
            return requests, responses
        return to_vcrpy_interactions(parse_cassette(text, path))

    @classmethod
    def save_cassette(cls, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        """Write vcrpy's ``{"requests": [...], "responses": [...]}`` atomically.

        YAML goes through :func:`~harness.replay.dump_cassette`, so recorded cassettes look like every other one
        the harness writes (canonical JSON request bodies, decoded bodies, streams as literal blocks) and
        re-recording an unchanged request gives an unchanged file. Other serializers, and cassettes with vcrpy
        metadata (which :class:`~harness.replay.Cassette` does not hold), are written by vcrpy's serializer.
        """
        from vcr.serialize import serialize

        path = Path(cassette_path)
        if not _is_yaml(serializer) or cassette_dict.get("metadata"):
            atomic_write_text(path, serialize(cassette_dict, serializer))
            return
        pairs = zip(cassette_dict["requests"], cassette_dict["responses"], strict=True)
        data = {"version": 1, "interactions": [{"request": r._to_dict(), "response": s} for r, s in pairs]}
        atomic_write_text(path, dump_cassette(cassette_from_data(data, path)))


def to_vcrpy_interactions(cassette: Cassette) -> tuple[list[Any], list[dict[str, Any]]]:
    """The cassette as vcrpy's in-memory form: ``vcr.request.Request`` objects and response dicts."""
    from vcr.request import Request

    requests = []
    responses = []
    for interaction in cassette.interactions:
        request, response = interaction.request, interaction.response
        headers = {name: list(values) for name, values in request.headers.items()}
        requests.append(Request(request.method, request.uri, request.body, headers))
        responses.append(
            {
                "status": {"code": response.status, "message": response.message},
                "headers": {name: list(values) for name, values in response.headers.items()},
                "body": {"string": response.body},
            }
        )
    return requests, responses


def _is_yaml(serializer: Any) -> bool:
    # vcrpy passes its serializer module (vcr.serializers.yamlserializer) or a registered object.
    name = getattr(serializer, "__name__", type(serializer).__name__)
    return "yaml" in name.lower()
