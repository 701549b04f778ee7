"""HTTP/1.1 connections: uvicorn's h11 protocol with unambiguous framing and read deadlines.

h11, as uvicorn drives it, accepts several request heads that two HTTP parsers may frame
differently (RFC 9112 §6.1, §6.3, §5.2): ``Transfer-Encoding`` together with ``Content-Length``
(h11 takes the chunked body; a proxy in front may take the other), ``Content-Length`` twice or as
a list, and a header continued on the next line (obs-fold, which h11 joins, so a
``Transfer-Encoding`` folded onto a second line became chunked). Behind a proxy that reads the
other header this is request smuggling. Each such head is answered 400 and the connection closed,
so nothing pipelined behind it is read. The check runs on the raw lines of a complete head, where
h11's reader gets them, so it holds however the head arrives; it also enforces the head-size limit,
which h11 enforces only on a head still incomplete (a head sent in one write was never measured).

Read deadlines: the request head must be complete within ``head_timeout`` seconds of the
connection (or the previous response) being ready for it, and a request body within
``body_timeout`` seconds of its head; otherwise 408 and the connection is closed (slow clients
could otherwise hold the connection slots indefinitely). Connections per client address are
capped, so the slots a slow client can hold at once are bounded too.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from h11._readers import READERS
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from isecg_kg.web.http.clients import Clients

log = logging.getLogger("isecg_kg.web.http.http11")

_HEAD_READER = READERS[(h11.CLIENT, h11.IDLE)]


class FramingError(h11.LocalProtocolError):
    """A request head the server refuses to frame (400, or 431 when too large). h11 turns it
    into a RemoteProtocolError in place; ``detail`` survives that, for the response."""

    def __init__(self, detail: str, error_status_hint: int = 400):
        super().__init__(detail, error_status_hint=error_status_hint)
        self.detail = detail


def check_head(lines: list, limit: int) -> None:
    """FramingError unless the raw lines of a request head (request line first, no line ends)
    frame its body in exactly one way and fit in ``limit`` bytes."""
    size = sum(len(line) + 2 for line in lines) + 2
    if size > limit:
        raise FramingError(f"the request line and headers are {size} bytes; the limit is "
                           f"{limit} bytes", error_status_hint=431)
    lengths = encodings = 0
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            raise FramingError("a header line is continued on the next line (obsolete line "
                               "folding); send each header on one line")
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            lengths += 1
            if not value.strip().isdigit():
                raise FramingError("Content-Length must be a single number of bytes")
        elif name == b"transfer-encoding":
            encodings += 1
    if lengths > 1:
        raise FramingError("Content-Length is given more than once")
    if lengths and encodings:
        raise FramingError("both Content-Length and Transfer-Encoding frame the body; send one")
    if encodings and lines and lines[0].endswith(b"HTTP/1.0"):
        raise FramingError("Transfer-Encoding is not defined for HTTP/1.0")


class _CheckedLines:
    """The receive buffer as h11's head reader sees it, with every complete head checked."""

    __slots__ = ("buf", "limit")

    def __init__(self, buf, limit: int):
        self.buf, self.limit = buf, limit

    def maybe_extract_lines(self):
        lines = self.buf.maybe_extract_lines()
        if lines:
            check_head(lines, self.limit)
        return lines

    def is_next_line_obviously_invalid_request_line(self) -> bool:
        return self.buf.is_next_line_obviously_invalid_request_line()


class StrictConnection(h11.Connection):
    """An h11 server connection whose head reader checks framing and size; the error that ended
    it (if any) stays in ``error`` for the response."""

    def __init__(self, head_limit: int):
        self.head_limit = head_limit
        self.error: h11.RemoteProtocolError | None = None
        super().__init__(h11.SERVER, max_incomplete_event_size=head_limit)

    def _get_io_object(self, role, event, io_dict):
        io = super()._get_io_object(role, event, io_dict)
        if io is _HEAD_READER:
            limit = self.head_limit
            return lambda buf: _HEAD_READER(_CheckedLines(buf, limit))
        return io

    def next_event(self):
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.error = exc
            raise


def protocol(head_limit: int, head_timeout: float, body_timeout: float, *,
             per_client: int | None = None, clients: Clients | None = None) -> type:
    """The uvicorn protocol class (``uvicorn.Config(http=...)``) for these limits.

    ``per_client``: connections one client (as ``clients`` tells them apart) may hold open at
    once; beyond, the new connection is answered 429 and closed before anything is read, so one
    client cannot take every connection slot. Trusted proxies, which carry many clients, are not
    capped."""
    clients = clients or Clients()
    open_from: dict[str, int] = {}  # per server process: address -> connections open

    class StrictH11Protocol(H11Protocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.conn = StrictConnection(head_limit)
            self._deadline: asyncio.TimerHandle | None = None
            self._reading: object = None  # h11.IDLE (a head) or h11.SEND_BODY (a body) or None
            self._received = False
            self._peer: str | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            peer = clients.of_connection((transport.get_extra_info("peername") or ("",))[0])
            if per_client is not None and peer is not None:
                self._peer = peer
                open_from[peer] = open_from.get(peer, 0) + 1
                if open_from[peer] > per_client:
                    log.warning("%s: over %d connections at once; refused", peer, per_client)
                    self._write_error(429, f"{peer} has {per_client} connections open; the "
                                           "server's limit per client (--max-client-connections)"
                                           " is reached", retry_after=1)
                    transport.close()
                    return
            self._follow()

        def connection_lost(self, exc) -> None:
            self._cancel()
            if self._peer is not None:
                left = open_from.get(self._peer, 1) - 1
                if left > 0:
                    open_from[self._peer] = left
                else:
                    open_from.pop(self._peer, None)
                self._peer = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._received = True
            super().data_received(data)
            self._follow()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._received = False
            self._follow()

        # a deadline for whatever the connection is reading now
        def _follow(self) -> None:
            if self.transport is None or self.transport.is_closing():
                self._cancel()
                return
            state = self.conn.their_state
            reading = state if state in (h11.IDLE, h11.SEND_BODY) else None
            if reading is self._reading:
                return
            self._cancel()
            self._reading = reading
            if reading is not None:
                seconds = head_timeout if reading is h11.IDLE else body_timeout
                self._deadline = self.loop.call_later(seconds, self._expired, reading, seconds)

        def _cancel(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._reading = None

        def _expired(self, reading, seconds: float) -> None:
            self._deadline = None
            if self.transport.is_closing() or self.conn.their_state is not reading:
                return
            what = "request head" if reading is h11.IDLE else "request body"
            client = "{}:{}".format(*self.client) if self.client else "a client"
            if reading is h11.IDLE and not self._received:  # an idle connection: just close
                self.transport.close()
                return
            log.warning("%s: the %s was not complete within %g s; connection closed", client,
                        what, seconds)
            cycle = self.cycle if reading is h11.SEND_BODY else None
            if cycle is None or not cycle.response_started:
                if cycle is not None:
                    cycle.disconnected = True  # the app sees the client gone, and sends nothing
                self._write_error(408, f"the {what} was not complete within {seconds:g} s "
                                       "(the server's read deadline)")
            self.transport.close()

        def _write_error(self, status: int, detail: str, retry_after: int | None = None) -> None:
            body = (detail + "\n").encode("utf-8", "replace")
            retry = b"retry-after: %d\r\n" % retry_after if retry_after is not None else b""
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n%sx-content-type-options: nosniff"
                b"\r\n\r\n%s" % (status, STATUS_PHRASES.get(status, b""), len(body), retry, body))

        def send_400_response(self, msg: str) -> None:
            exc = self.conn.error
            status = exc.error_status_hint if exc is not None else 400
            detail = getattr(exc, "detail", None) or (
                f"the request line and headers are larger than the limit of {head_limit} bytes"
                if status == 431 else msg)
            cycle = self.cycle
            if cycle is None or cycle.response_complete or not cycle.response_started:
                if cycle is not None and not cycle.response_complete:
                    cycle.disconnected = True  # the app sees the client gone, and sends nothing
                self._write_error(status, detail)
            self.transport.close()

    return StrictH11Protocol
