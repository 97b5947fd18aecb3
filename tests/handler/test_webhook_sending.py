"""One webhook delivery attempt (openbin.webhooks.sending), on real sockets: a receiver on
127.0.0.1 when private addresses are allowed (a local server's setting), and every address the
service must not reach refused before anything is sent, names that resolve to one included; no
redirect followed; a failing, slow or silent receiver is a failed attempt."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from openbin.webhooks import bodies, sending

BIN = "6b1752aacecd509601608a93"


# -- sending -----------------------------------------------------------------------------------
class Receiver:
    """An HTTP server on 127.0.0.1 that records what it gets and answers as told."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict, bytes]] = []
        self.answered: dict[str, bool] = {}  # webhook-id -> answered 2xx in time
        self.status, self.pause, self.answer = 200, 0.0, b"ok"
        self.location: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.got.append((self.path, dict(self.headers), data))
                pause, status = outer.pause, outer.status
                time.sleep(pause)
                if 200 <= status < 300 and pause < sending.TIMEOUT:
                    outer.answered[self.headers.get("webhook-id", "")] = True
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", str(len(outer.answer)))
                self.end_headers()
                try:
                    self.wfile.write(outer.answer)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def test_a_delivery_reaches_a_local_receiver_when_private_addresses_are_allowed(receiver):
    body = bodies.delete(BIN, 0)
    attempt = sending.post(receiver.url, body, {"webhook-id": "m1"}, allow_private=True)
    assert attempt.delivered and attempt.status == 200 and attempt.latency_ms >= 0
    [(path, headers, data)] = receiver.got
    assert (path, data) == ("/hook?x=1", body)
    assert headers["Content-Type"] == "application/json" and headers["webhook-id"] == "m1"
    assert headers["Host"] == receiver.url.split("/")[2]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # a name that resolves to a loopback address
        "https://10.1.2.3/hook",
        "https://192.168.0.1/hook",
        "https://100.64.0.1/hook",  # shared address space
        "https://169.254.169.254/latest/meta-data/",  # the metadata service
        "https://[fd00:ec2::254]/",  # its IPv6 address
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",  # IPv4-mapped
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://[2002:0a00:0001::]/",  # 6to4 of 10.0.0.1
    ],
)
def test_private_and_metadata_addresses_are_refused_before_anything_is_sent(url):
    with pytest.raises(sending.Refused, match="may not reach"):
        sending.post(url, b"{}", {})


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", "must be https"),
        ("ftp://example.com/hook", "must be https"),
        ("https://user:pass@example.com/hook", "without a user name"),
        ("https:///hook", "must name a host"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "not a host name"),
        ("https://%31%32%37.0.0.1/", "not a host name"),
    ],
)
def test_urls_that_are_not_https_to_a_host_are_refused(url, reason):
    with pytest.raises(sending.Refused, match=reason):
        sending.post(url, b"{}", {})


def test_a_name_that_does_not_resolve_is_a_failed_attempt_not_a_refusal():
    attempt = sending.post("https://no-such-host.invalid/", b"{}", {})
    assert not attempt.delivered and attempt.status is None
    assert attempt.error == "no answer: the host 'no-such-host.invalid' does not resolve"


def test_a_redirect_is_not_followed(receiver):
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    attempt = sending.post(receiver.url, b"{}", {}, allow_private=True)
    assert not attempt.delivered and attempt.status == 302 and attempt.error == "answered 302"
    assert len(receiver.got) == 1


def test_a_failing_or_slow_receiver_is_a_failed_attempt(receiver):
    receiver.status = 500
    failed = sending.post(receiver.url, b"{}", {}, allow_private=True)
    assert (failed.delivered, failed.status, failed.error) == (False, 500, "answered 500")
    receiver.status, receiver.pause = 200, 1.0
    slow = sending.post(receiver.url, b"{}", {}, allow_private=True, timeout=0.3)
    assert not slow.delivered and slow.status is None and slow.error.startswith("no answer")


def test_only_the_first_few_kb_of_an_answer_are_read(receiver):
    receiver.answer = b"x" * 5_000_000
    started = time.monotonic()
    attempt = sending.post(receiver.url, b"{}", {}, allow_private=True)
    assert attempt.delivered
    assert time.monotonic() - started < 5


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline():
    import socket as sockets

    listener = sockets.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def drip():
        conn, _ = listener.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100:
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    attempt = sending.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True, timeout=1)
    assert not attempt.delivered
    assert time.monotonic() - started < 3  # each byte came within the socket's timeout
    listener.close()


def test_nothing_listening_is_a_failed_attempt():
    attempt = sending.post("http://127.0.0.1:9/", b"{}", {}, allow_private=True, timeout=1)
    assert not attempt.delivered and attempt.status is None
