"""``openbin serve``: the HTTP API on a local port, routes from ``template.yaml``.

Each request becomes an API Gateway HTTP API (payload 2.0) event for the function that owns
its route, exactly as on AWS. Every OPTIONS request goes to the ``$default`` route's function,
the pessimistic reading of AWS's documentation (with a ``$default`` route, API Gateway may send
preflights there rather than answer them), so a browser here gets the answer a deployed stack
gives in the worst case. Other answers get the CorsConfiguration's ``Allow-Origin`` and
``Expose-Headers``, as API Gateway adds them. ``/_openbin/admin`` lets the ``openbin`` CLI act on
the running instance from a second terminal (loopback only, with a per-run token).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from openbin.errors import OpenBinError
from openbin.storage import get_storage
from openbin_local.events import decoded_path, http_api_event
from openbin_local.runtime import FunctionRunner, IntegrationFailed
from openbin_local.template import Template

# Lambda takes at most 6 MB per synchronous invocation (API Gateway itself accepts 10 MB, but a
# larger body never reaches a function); locally such bodies get a clear 413.
MAX_BODY = 6 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # larger bodies are not read at all: the connection is closed
SHUTTING_DOWN = "The server is shutting down, please retry"
# How long a stop waits for the requests in flight (a function's own timeout is 25 s).
STOP_GRACE_SECONDS = 30.0


class BadFraming(ValueError):
    """The request's length cannot be trusted."""


def as_utf8(text: str) -> str:
    """http.server decodes the request line and header values as Latin-1; API Gateway passes
    them on as UTF-8 (``X-Bin-Name: café``). Text that is not UTF-8 is left as it was read."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _json(status: int, payload: dict | list) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(payload).encode()


# Where the CLI reaches a running server for operator actions (loopback and a per-run token).
ADMIN_PATH = "/_openbin/admin"

# An operator action: (storage, name, arguments) -> its JSON answer (openbin_cli.ops.run).
Operations = Callable[[Any, str, dict], dict]


def _no_operations(storage, name: str, args: dict) -> dict:
    raise ValueError(f"no operator actions on this server: {name}")


class App:
    def __init__(
        self,
        template: Template,
        admin_token: str,
        quiet: bool = False,
        operations: Operations = _no_operations,
    ) -> None:
        self.template = template
        self.operations = operations
        self.runner = FunctionRunner(template)
        self.admin_token = admin_token
        self.quiet = quiet
        self.stats: Callable[[], dict] | None = None  # what the admin op server.stats answers
        cors = template.cors
        self.cors_headers = {
            "Access-Control-Allow-Origin": ",".join(cors.get("AllowOrigins", ["*"])),
        }
        if cors.get("ExposeHeaders"):
            self.cors_headers["Access-Control-Expose-Headers"] = ",".join(cors["ExposeHeaders"])

    def warm(self) -> None:
        """Import every handler up front, like provisioned Lambda containers."""
        for name in self.template.functions:
            self.runner.handler(name)

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client_ip: str,
        host: str,
    ) -> tuple[int, dict, bytes]:
        try:
            url = urlsplit(target)
        except ValueError:  # e.g. an unclosed IPv6 bracket in an absolute target
            return _json(400, {"message": "Invalid request target"})
        path = decoded_path(url.path or "/")
        if path == ADMIN_PATH:
            return self.admin(method, headers, body, client_ip)
        if method == "OPTIONS":  # no route takes OPTIONS: $default's function answers
            found = self.template.default_route()
        else:
            found = self.template.route_for(method, path)
        if found is None:  # a template without a $default route
            return _json(404, {"message": "Not Found"})
        route, params = found
        event = http_api_event(
            method=method,
            raw_path=path,
            raw_query=url.query,
            headers=headers,
            body=body,
            route=route,
            path_parameters=params,
            source_ip=client_ip,
            domain=host,
        )
        return self.invoke(route.function, event)

    def invoke(self, function: str, event: dict) -> tuple[int, dict, bytes]:
        try:
            result = self.runner.invoke(function, event)
        except IntegrationFailed as failed:  # past a limit of Lambda's or API Gateway's
            print(f"openbin: {failed}", file=sys.stderr)
            return _json(failed.status, {"message": failed.message})
        except Exception as error:  # what API Gateway answers when the integration fails
            print(f"openbin: {function} raised {type(error).__name__}", file=sys.stderr)
            return _json(500, {"message": "Internal Server Error"})
        status = int(result.get("statusCode", 200))
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(str(v) for v in values)
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        headers.update(self.cors_headers)
        return status, headers, data

    def admin(
        self, method: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> tuple[int, dict, bytes]:
        token = next((v for k, v in headers if k.lower() == "x-openbin-admin-token"), "")
        loopback = client_ip.startswith("127.") or client_ip == "::1"
        if method != "POST" or not loopback:
            return _json(404, {"message": "Route not found"})
        if not hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return _json(401, {"message": "Invalid admin token"})
        try:
            request = json.loads(body)
            if request["op"] == "invoke":
                status, out_headers, data = self.invoke(request["function"], request["event"])
                return _json(
                    200,
                    {
                        "result": {
                            "statusCode": status,
                            "headers": out_headers,
                            "body": data.decode("utf-8"),
                        }
                    },
                )
            if request["op"] == "server.stats" and self.stats is not None:
                return _json(200, {"result": self.stats()})
            result = self.operations(get_storage(), request["op"], request["args"])
            return _json(200, {"result": result})
        except OpenBinError as error:
            return _json(400, {"error": error.message})
        except (KeyError, TypeError, ValueError) as error:
            return _json(400, {"error": f"bad admin request: {error}"})


class _HeaderLines:
    """The connection's reader, telling whether a header line held a bare CR: http.server's
    parser takes one for a line break, so ``X-Foo: a\rContent-Length: 7`` would smuggle a
    header in (a proxy refuses such a request, as RFC 9112 allows)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.bare_cr = False

    def readline(self, limit: int = -1) -> bytes:
        line = self._stream.readline(limit)
        if b"\r" in line.rstrip(b"\r\n") or line.endswith(b"\r") and not line.endswith(b"\r\n"):
            self.bare_cr = True
        return line

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A connection that sends nothing (an unfinished request, or idle between requests) for
    # this long is closed, so idle sockets do not hold a thread each for ever.
    timeout = float(os.environ.get("OPENBIN_IDLE_SECONDS", "60"))
    # TCP_NODELAY: the head and the body are two writes, and on a kept-alive connection Nagle's
    # algorithm held the body until the client's delayed ACK, 40 ms later, on every response.
    disable_nagle_algorithm = True
    server: LocalHTTPServer  # the server that made this handler

    def version_string(self) -> str:
        return "OpenBin"

    def _serve(self) -> None:
        with self.server.admitted() as admitted:
            if admitted:
                self._serve_admitted()
            else:  # arrived on an open connection while the server stops
                self.close_connection = True
                self._send(*_json(503, {"message": SHUTTING_DOWN}))

    def setup(self) -> None:
        super().setup()
        self.rfile = _HeaderLines(self.rfile)  # type: ignore[assignment]

    def _serve_admitted(self) -> None:
        started = time.perf_counter()
        app: App = self.server.app
        lines = self.rfile
        if isinstance(lines, _HeaderLines):
            if lines.bare_cr:
                self.close_connection = True
                self._send(*_json(400, {"message": "Bare CR in the request head"}))
                return
            lines.bare_cr = False  # from here on the body is read, not a head
        try:
            body = self._read_body()
        except BadFraming as error:
            # the request's end is unknown: answer, and never read what follows as a request
            self.close_connection = True
            self._send(*_json(400, {"message": str(error)}))
            return
        if body is None:  # answer first, then drain what the client still sends, then close
            self.close_connection = True
            self._send(*_json(413, {"message": "Request body too large"}))
            self.wfile.flush()
            self._discard(self._unread)
            return
        status, headers, data = app.handle(
            self.command,
            as_utf8(self.path),
            [(as_utf8(name), as_utf8(value)) for name, value in self.headers.items()],
            body,
            self.client_address[0],
            as_utf8(self.headers.get("Host", "localhost")),
        )
        if not self.server.may_answer():  # the final snapshot is under way without this work
            self.close_connection = True
            return
        self._send(status, headers, data)
        if not app.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            path = self.path.split("?", 1)[0]  # as sent (urlsplit refuses some targets)
            print(f"{self.command} {path} {status} {elapsed:.1f}ms", file=sys.stderr, flush=True)

    def _read_body(self) -> bytes | None:
        """The body, or None when it is over MAX_BODY (``_unread`` bytes are then left to drain
        after the 413, so a client still sending reads the answer instead of a reset)."""
        self._unread = 0
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if encodings:
            # Both, or a coding other than chunked: the request's end is ambiguous, which is
            # how requests are smuggled past a proxy (RFC 9112 §6.3). Refused, as a proxy would.
            if lengths:
                raise BadFraming("Both Transfer-Encoding and Content-Length were sent")
            if [value.strip().lower() for value in encodings] != ["chunked"]:
                raise BadFraming("Unsupported Transfer-Encoding (only chunked is accepted)")
            return self._read_chunked()
        if not lengths:
            return b""
        if len(lengths) > 1:
            raise BadFraming("Conflicting Content-Length headers")
        length = lengths.pop()
        if not (length.isascii() and length.isdigit()):
            raise BadFraming("Invalid Content-Length")
        size = int(length)
        if size > MAX_BODY:
            self._unread = size
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537).split(b";")[0].strip()
            if not line or not all(c in b"0123456789abcdefABCDEF" for c in line):
                raise BadFraming("Invalid chunked body")
            size = int(line, 16)
            if size == 0:
                self.rfile.readline(65537)
                return None if total > MAX_BODY else b"".join(chunks)
            total += size
            if total > DRAIN_LIMIT:
                raise BadFraming("Request body too large")
            data = self.rfile.read(size)
            if total <= MAX_BODY:
                chunks.append(data)
            self.rfile.readline(65537)

    def _discard(self, size: int) -> None:
        if size > DRAIN_LIMIT:
            return
        self.connection.settimeout(5)  # a client that stops sending is not waited for
        try:
            while size > 0:
                read = len(self.rfile.read(min(size, 1 << 20)))
                if not read:
                    return
                size -= read
        except OSError:
            return

    def _send(self, status: int, headers: dict, data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str):
        # Any other method goes through the routes too (API Gateway sends it to $default).
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """http.server's own refusals (a line too long, too many headers, a bad HTTP version)
        as JSON, like every other answer, on a connection that is then closed."""
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"  # so the answer has a status line and headers
        self.close_connection = True
        text = message or self.responses.get(code, ("Bad request",))[0]
        # http.server refuses a bad HTTP version with a 505: it is bad input, so a 400
        self._send(*_json(code if code < 500 else 400, {"message": text}))

    def log_message(self, format: str, *args) -> None:  # access lines are printed by _serve
        pass


class LocalHTTPServer(ThreadingHTTPServer):
    """Counts the requests in flight, so that a stop can let them finish before the final
    snapshot (``drain``): no write is answered that the snapshot does not hold."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._in_flight = 0
        self._draining = False
        self._closed = False
        self._changed = threading.Condition()

    @contextmanager
    def admitted(self):
        """Yields False once the server is draining: the request must not start."""
        with self._changed:
            if self._draining:
                admitted = False
            else:
                admitted = True
                self._in_flight += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

    def may_answer(self) -> bool:
        with self._changed:
            return not self._closed

    def drain(self, timeout: float) -> int:
        """Admit no new request, wait up to ``timeout`` seconds for those in flight, then
        close: what has not finished by then is never answered. Returns how many were cut."""
        with self._changed:
            self._draining = True
            try:
                self._changed.wait_for(lambda: self._in_flight == 0, timeout)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
                pass
            self._closed = True
            return self._in_flight
