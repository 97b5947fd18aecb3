"""One delivery attempt: an HTTP POST that cannot be turned against the service's own network.

- The URL must be ``https`` (``allow_private`` — a local server's setting — also allows
  ``http``), with no user name or password in it.
- The host name is resolved once, and every address it resolves to is checked: a loopback,
  private, shared, link-local (the metadata service, 169.254.169.254), multicast, reserved or
  unspecified address — or an IPv6 address that embeds one (``::ffff:10.0.0.1``,
  ``fd00:ec2::254``) — refuses the delivery (unless ``allow_private``). The connection is
  made to the address checked, never to a second resolution (no DNS rebinding); TLS still
  verifies the certificate against the host name.
- No redirect is followed (a 3xx is a failed attempt), and at most ``READ_LIMIT`` bytes of the
  answer are read. An attempt succeeds on a 2xx within ``TIMEOUT`` seconds."""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse

import msgspec

TIMEOUT = 10.0
READ_LIMIT = 4096
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    """Never sent: the URL, or an address its host resolves to, is one the service may not
    reach (``message`` says which)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unresolved(Exception):
    """The host's name did not resolve (now): the attempt failed, and is tried again."""


HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


class Attempt(msgspec.Struct, frozen=True):
    status: int | None  # the receiver's status; None: no answer
    latency_ms: int
    error: str | None = None  # why it failed, when it did

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the service must not connect to ``address``."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None and forbidden(embedded):
            return True
    return (
        address in METADATA
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str, allow_private: bool) -> urllib.parse.SplitResult:
    """The URL, split, if a delivery may be sent to it at all (before any name is resolved)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the URL is not a valid URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise Refused("the URL must be https" if not allow_private else "the URL must be http(s)")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise Refused("the URL must name a host, without a user name or password")
    host = parts.hostname
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if len(host) > 253 or not HOST.fullmatch(host):
            raise Refused("the URL's host is not a host name or an IP address") from None
    if port == 0:
        raise Refused("the URL's port must be 1 to 65535")
    return parts


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The one address to connect to: every address the name resolves to must be allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):  # perhaps for now: a failed attempt, tried again
        raise Unresolved(f"the host {host!r} does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise Unresolved(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if forbidden(address):
                raise Refused(f"the host {host!r} resolves to an address the service may not reach")
    return str(addresses[0])


class _Pinned(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address, for the URL's host name (the ``Host``
    header, and TLS's server name and certificate check)."""

    def __init__(self, host: str, port: int, address: str, tls: bool, timeout: float) -> None:
        if tls:  # the Host header names the port only when it is not the scheme's
            self.default_port = 443
        super().__init__(host, port, timeout=timeout)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls:
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def _cut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    allow_private: bool = False,
    timeout: float = TIMEOUT,
) -> Attempt:
    """POST ``body`` to ``url`` (``Refused`` before anything is sent when it may not be)."""
    parts = check_url(url, allow_private)
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    host = parts.hostname
    assert host is not None
    started = time.monotonic()
    try:
        address = resolve(host, port, allow_private)
    except Unresolved as unresolved:
        return Attempt(None, int((time.monotonic() - started) * 1000), f"no answer: {unresolved}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _Pinned(host, port, address, tls, timeout)
    # ``timeout`` bounds each socket operation; this bounds the whole attempt: a receiver that
    # answers a byte at a time is cut off at the deadline all the same
    deadline = threading.Timer(timeout, _cut, (connection,))
    deadline.daemon = True
    deadline.start()
    try:
        sent = {
            "Content-Type": "application/json",
            "User-Agent": "OpenBin-Webhooks/1",
            **headers,
        }
        connection.request("POST", path, body=body, headers=sent)
        response = connection.getresponse()
        response.read(READ_LIMIT)  # and no more: the answer is not ours to hold
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        took = int((time.monotonic() - started) * 1000)
        return Attempt(None, took, f"no answer: {type(error).__name__}")
    finally:
        deadline.cancel()
        connection.close()
    took = int((time.monotonic() - started) * 1000)
    if took > timeout * 1000:
        return Attempt(status, took, f"answered after {timeout:.0f} s")
    if not 200 <= status < 300:
        return Attempt(status, took, f"answered {status}")
    return Attempt(status, took)
