"""A real browser as the client: headless Chromium loads a page from another origin that
creates, reads, updates and deletes a bin through ``fetch`` with ``X-Master-Key`` (so every
request is preflighted) and reads ``X-Requests-Remaining``. openbin serve sends every OPTIONS to
the $default function, so this is the answer a deployed stack gives in the worst case.

Needs Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them). Without them the
test is skipped, unless OPENBIN_REQUIRE_BROWSER is set (as CI does): then it fails.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import HttpApi

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PAGES = Path(__file__).parent / "browser"


@pytest.fixture(scope="module")
def page_origin():
    """The page's own origin: another port than the API, so the browser applies CORS."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=PAGES))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_of_another_origin_uses_the_api_with_fetch(browser, page_origin, server):
    api = HttpApi(server)
    account = api.account()
    browser.get(f"{page_origin}/client.html")
    assert browser.find_element("id", "state").text == "loaded"
    steps = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "runScenario(arguments[0], arguments[1]).then(done, (e) => done(String(e)));",
        f"{server.url}/v3",
        account.key,
    )
    assert isinstance(steps, list), steps  # a string: fetch failed (a refused preflight)
    answers = {f"{s['method']} {s['path'].split('/')[1]}": s for s in steps}
    created, retried, read, updated, version0, matches, deleted, unknown = steps
    assert (created["status"], created["body"]["record"]) == (200, {"hello": "browser"})
    assert created["body"]["metadata"]["name"] == "from a page"
    assert created["replayed"] is None
    # Idempotency-Key, If-Match (allowed), ETag and Idempotent-Replayed (exposed) work in CORS
    assert (retried["status"], retried["body"], retried["replayed"]) == (
        200,
        created["body"],
        "true",
    )
    assert (read["status"], read["body"]["record"]) == (200, {"hello": "browser"})
    assert read["etag"] == created["etag"] and read["etag"].startswith('"')
    assert (updated["status"], updated["body"]["metadata"]["version"]) == (200, 1)
    assert (version0["status"], version0["body"]) == (200, {"hello": "browser"})
    assert (matches["status"], matches["body"]["records"]) == (200, ["again"])
    assert (deleted["status"], deleted["body"]["message"]) == (200, "Bin deleted successfully")
    assert (unknown["status"], unknown["body"]) == (404, {"message": "Route not found"})
    # X-Requests-Remaining is exposed to the page: 10,000 less each request, counting down
    remaining = [int(s["remaining"]) for s in steps[:7]]
    assert remaining == [9999, *range(9999, 9993, -1)], answers  # a replay is not charged
    assert browser.find_element("id", "state").text == "done"
