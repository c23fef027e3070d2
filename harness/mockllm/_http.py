"""A small HTTP/1.1 server on asyncio streams, with byte-level control for fault injection.

Why not an ASGI server: faults such as "close the connection without answering" and "send half the body, then
close" need the socket, which ASGI hides; and two routes do not need a framework. What clients send is handled:
keep-alive, pipelining, ``Content-Length`` and chunked request bodies, ``Expect: 100-continue``; responses are
``Content-Length`` bodies or chunked server-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from harness.mockllm._engine import HttpRequest, MockEngine, Planned

_MAX_HEAD = 64 * 1024
_MAX_BODY = 32 * 1024 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

RequestLog = Callable[[HttpRequest, Planned], None]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HttpServer:
    """Serves a :class:`MockEngine` over HTTP/1.1; the engine may be swapped while serving."""

    def __init__(self, engine: MockEngine, on_request: RequestLog | None = None) -> None:
        self.engine = engine
        self.on_request = on_request
        self._connections: set[asyncio.Task[None]] = set()

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve requests on one connection until the client closes it or a fault drops it."""
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # asyncio sets TCP_NODELAY only for sockets created with proto=IPPROTO_TCP, which socket.create_server
            # does not do. Without it, Nagle holds each small SSE write until the client's delayed ACK (~40 ms)
            # on kept-alive connections: measured 23 streams/s on one connection instead of ~1,500.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    request, keep_alive = await self._read_request(reader, writer)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except _BadRequest as exc:
                    await self._write_plain(writer, exc.status, str(exc))
                    return
                if request is None:
                    return
                planned = self.engine.handle(request)
                if self.on_request is not None:
                    self.on_request(request, planned)
                if planned.delay > 0:
                    await asyncio.sleep(planned.delay)
                if planned.action == "drop":
                    writer.transport.abort()
                    return
                if not await self._send(writer, planned, keep_alive):
                    return
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def close_connections(self) -> None:
        """Cancel every open connection (used at shutdown; stalled ``timeout`` faults would otherwise linger)."""
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[HttpRequest | None, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise _BadRequest(431, "request head too large") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial.strip():
                return None, False
            raise
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, f"malformed request line {lines[0][:80]!r}")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(400, f"malformed header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(reader)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise _BadRequest(400, "invalid Content-Length") from None
            if length > _MAX_BODY:
                raise _BadRequest(413, "request body too large")
            body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        return HttpRequest(method=method.upper(), path=path, headers=headers, body=body), keep_alive

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "invalid chunk size") from None
            if size == 0:
                # Skip trailers up to the blank line.
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
            if len(body) > _MAX_BODY:
                raise _BadRequest(413, "request body too large")

    @staticmethod
    def _head(planned: Planned, keep_alive: bool, length: int | None) -> bytes:
        lines = [f"HTTP/1.1 {planned.status} {_REASONS.get(planned.status, 'Status')}"]
        lines.extend(f"{name}: {value}" for name, value in planned.headers)
        if length is None:
            lines.append("transfer-encoding: chunked")
        else:
            lines.append(f"content-length: {length}")
        lines.append("connection: keep-alive" if keep_alive else "connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(self, writer: asyncio.StreamWriter, planned: Planned, keep_alive: bool) -> bool:
        """Write the planned response; return False when the connection must end (truncation)."""
        if planned.chunks is None:
            if planned.action == "truncate":
                writer.write(self._head(planned, False, len(planned.body)) + planned.body[: len(planned.body) // 2])
                await writer.drain()
                writer.transport.abort()
                return False
            writer.write(self._head(planned, keep_alive, len(planned.body)) + planned.body)
            await writer.drain()
            return True
        chunks = planned.chunks
        cut = len(chunks) // 2 if planned.action == "truncate" else None
        head = self._head(planned, keep_alive if cut is None else False, None)
        if cut is None and planned.chunk_delay <= 0:
            # Nothing to pace: one write for the whole stream.
            writer.write(head + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in chunks) + b"0\r\n\r\n")
            await writer.drain()
            return True
        writer.write(head)
        for number, event in enumerate(chunks):
            if cut is not None and number >= cut:
                await writer.drain()
                writer.transport.abort()
                return False
            if planned.chunk_delay > 0 and number:
                await writer.drain()
                await asyncio.sleep(planned.chunk_delay)
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    async def _write_plain(writer: asyncio.StreamWriter, status: int, message: str) -> None:
        body = message.encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\ncontent-type: text/plain\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode() + body)
            await writer.drain()
