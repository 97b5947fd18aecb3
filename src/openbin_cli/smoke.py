"""``openbin smoke``: the end-to-end check an operator runs right after a deploy.

It talks to the API over HTTP only, as a client would: a CORS preflight from a foreign origin,
then one bin through create, the reads, a versioned update, an error and an unknown route, and
its deletion. One line a check; the bin it creates is deleted whatever happens. It never raises:
an unreachable URL or a wrong key is a failed check with its reason.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

ORIGIN = "https://smoke.openbin.invalid"
BIN_ID = re.compile(r"[0-9a-f]{24}")
FIRST = {"openbin-smoke": True, "nested": {"n": [1, 2, 3]}, "text": "héllo ✓"}
SECOND = {"openbin-smoke": True, "nested": {"n": [4, 5, 6]}, "text": "updated"}
MISSING_KEY = "You need to pass X-Master-Key or X-Access-Key in the header to read a private bin"


class CheckFailed(Exception):
    pass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise CheckFailed(f"HTTP {self.status}, not JSON: {self.body[:120]!r}") from None

    def describe(self) -> str:
        try:
            message = json.loads(self.body).get("message")
        except (ValueError, AttributeError):
            message = None
        return f"HTTP {self.status}" + (f" {message}" if message else "")


@dataclass
class Result:
    name: str
    ok: bool | None  # None: skipped (an earlier check it needs failed)
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark}  {self.name:<22} {self.detail}"


class Smoke:
    def __init__(self, base_url: str, master_key: str, timeout: float = 15.0) -> None:
        self.base = base_url.rstrip("/")
        self.key = master_key
        self.timeout = timeout
        self.results: list[Result] = []
        self.bin_id: str | None = None

    # -- HTTP ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, headers=None, body=None, raw=None, url=None) -> Reply:
        data = raw
        sent = dict(headers or {})
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (the operator's own API URL)
            url or self.base + path, data=data, headers=sent, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Reply(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, _lower(error.headers), error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CheckFailed(f"cannot reach {self.base}{path}: {reason}") from None

    def keyed(self, method: str, path: str, headers=None, body=None, raw=None) -> Reply:
        return self.request(method, path, {"X-Master-Key": self.key, **(headers or {})}, body, raw)

    # -- checks --------------------------------------------------------------------------------
    def check(self, name: str, run: Callable[[], str], needs_bin: bool = False) -> bool:
        if needs_bin and self.bin_id is None:
            self.results.append(Result(name, None, "no bin was created"))
            return False
        started = time.monotonic()
        try:
            detail = run()
        except CheckFailed as failure:
            self.results.append(Result(name, False, str(failure)))
            return False
        except Exception as error:  # noqa: BLE001 (a check never ends the run with a traceback)
            self.results.append(Result(name, False, f"{type(error).__name__}: {error}"))
            return False
        took = (time.monotonic() - started) * 1000
        self.results.append(Result(name, True, f"{detail} ({took:.0f} ms)"))
        return True

    def run(self) -> list[Result]:
        self.check("CORS preflight", self.preflight)
        self.check("create", self.create)
        for name, step in (
            ("read", self.read),
            ("read /latest", self.read_latest),
            ("read version 0", self.read_version),
            ("read /b/<id>/", self.read_trailing_slash),
            ("read X-JSON-Path", self.read_json_path),
            ("update (versioned)", self.update),
            ("read ?meta=false", self.read_bare),
            ("error shape", self.error_shape),
        ):
            self.check(name, step, needs_bin=True)
        self.check("unknown route", self.unknown_route)
        self.check("delete", self.delete, needs_bin=True)
        self.check("XL bin", self.xl_bin)
        self.check("idempotent create", self.idempotent_create)
        self.check("webhook settings", self.webhook_settings)
        self.check("web console", self.web_console)
        self.check("usage log", self.usage_log)
        return self.results

    def xl_bin(self) -> str:
        boundary = "openbin-smoke-boundary"
        form = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="smoke.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
            '{"smoke": "xl"}\r\n'
            f"--{boundary}--\r\n"
        ).encode()
        form_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        made = _expect(self.keyed("POST", "/xl/b", form_type, raw=form), 200)
        xl_id = made.get("record")
        if not isinstance(xl_id, str) or made.get("metadata", {}).get("id") != xl_id:
            raise CheckFailed(f"unexpected answer {json.dumps(made)[:200]}")
        read = self.keyed("GET", f"/xl/b/{xl_id}?meta=false")
        if (read.status, read.body) != (200, b'{"smoke": "xl"}'):
            raise CheckFailed(f"reading it back got {read.describe()}")
        _expect(self.keyed("DELETE", f"/xl/b/{xl_id}"), 200)
        return "uploaded as a form, read back as sent, deleted"

    def webhook_settings(self) -> str:
        """The webhook routes, their tables and function (paused: nothing is ever sent). An
        account whose webhook is set is left as it is."""
        existing = self.keyed("GET", "/w")
        if existing.status == 200:
            return "the account's webhook is set: read, left as it is"
        if existing.status != 404:
            raise CheckFailed(f"reading the webhook got {existing.describe()}")
        settings = {"url": "https://example.com/openbin-smoke", "paused": True}
        made = _expect(self.keyed("PUT", "/w", {}, settings), 200)
        try:
            if not str(made.get("secret", "")).startswith("whsec_"):
                raise CheckFailed("the first PUT /v3/w showed no signing secret")
            read = _expect(self.keyed("GET", "/w"), 200)
            if read.get("paused") is not True or "secret" in read:
                raise CheckFailed(f"GET /v3/w answered {json.dumps(read)[:200]}")
            listed = self.keyed("GET", "/w/deliveries")
            if listed.status != 200 or not isinstance(listed.json(), list):
                raise CheckFailed(f"GET /v3/w/deliveries answered {listed.describe()}")
        finally:
            self.keyed("DELETE", "/w")
        return "set (paused), read without its secret, deliveries listed, reset"

    def web_console(self) -> str:
        """The console's page is served from the API's root, under its Content-Security-Policy,
        and its script beside it."""
        root = self.base.removesuffix("/v3")
        page = self.request("GET", "/", url=root + "/")
        if page.status != 200 or not page.headers.get("content-type", "").startswith("text/html"):
            raise CheckFailed(f"the console's page got {page.describe()}")
        if "default-src 'none'" not in page.headers.get("content-security-policy", ""):
            raise CheckFailed("the console's page has no Content-Security-Policy")
        script = self.request("GET", "/", url=root + "/console/app.js")
        if script.status != 200:
            raise CheckFailed(f"the console's script got {script.describe()}")
        return f"{root}/ served, with its policy and script"

    def idempotent_create(self) -> str:
        """A retry with the same Idempotency-Key gets the first answer (the key's table, its
        IAM and its TTL attribute are deployed), a different body under it a 422."""
        import uuid

        key = {"Idempotency-Key": f"openbin-smoke-{uuid.uuid4()}"}
        first = _expect(self.keyed("POST", "/b", key, FIRST), 200)
        made = first.get("metadata", {}).get("id", "")
        try:
            again = self.keyed("POST", "/b", key, FIRST)
            if again.status != 200 or again.json() != first:
                raise CheckFailed(f"the retry got {again.describe()}, not the first answer")
            if again.headers.get("idempotent-replayed") != "true":
                raise CheckFailed("the retry's answer has no Idempotent-Replayed: true")
            other = self.keyed("POST", "/b", key, SECOND)
            if other.status != 422:
                raise CheckFailed(f"another body under the key got {other.describe()}, not 422")
        finally:
            if BIN_ID.fullmatch(str(made)):
                self.keyed("DELETE", f"/b/{made}")
        return "a retry answered as the first, another body refused"

    def usage_log(self, wait: float = 60.0) -> str:
        """The checks above are in today's log (a subscription files them a few seconds late)."""
        today = datetime.now(UTC).strftime("%d-%m-%Y")
        deadline = time.monotonic() + wait
        while True:
            reply = self.keyed("GET", "/l")
            if reply.status == 200 and today in reply.json().get("logs", []):
                break
            if reply.status not in (200, 404):
                raise CheckFailed(reply.describe())
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"no usage log for {today} after {wait:.0f} s: check the subscription "
                    "filters and UsageLogWriterFunction's errors"
                )
            time.sleep(1)
        day = self.keyed("GET", f"/l/{today}")
        if day.status != 200 or day.headers.get("content-type") != "application/zip":
            raise CheckFailed(f"today's log got {day.describe()}")
        return f"{today}: a zip of {len(day.body)} bytes"

    def preflight(self) -> str:
        reply = self.request(
            "OPTIONS",
            "/b/" + "0" * 24,
            {
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "x-master-key,content-type",
            },
        )
        origin = reply.headers.get("access-control-allow-origin")
        methods = reply.headers.get("access-control-allow-methods", "").upper().split(",")
        allowed = reply.headers.get("access-control-allow-headers", "").lower().split(",")
        problems = []
        if reply.status not in (200, 204):
            problems.append(reply.describe())
        if origin not in ("*", ORIGIN):
            problems.append(f"Access-Control-Allow-Origin {origin!r}")
        if "PUT" not in methods and "*" not in methods:
            problems.append("PUT not allowed")
        if "x-master-key" not in [h.strip() for h in allowed] and "*" not in allowed:
            problems.append("X-Master-Key not allowed")
        if problems:
            raise CheckFailed("a browser would refuse the API: " + "; ".join(problems))
        return f"HTTP {reply.status}, origin {origin}"

    def create(self) -> str:
        reply = self.keyed("POST", "/b", {"X-Bin-Name": "openbin-smoke"}, FIRST)
        body = _expect(reply, 200)
        bin_id = body.get("metadata", {}).get("id", "")
        if not BIN_ID.fullmatch(str(bin_id)) or body.get("record") != FIRST:
            raise CheckFailed(f"unexpected answer {reply.body[:200]!r}")
        self.bin_id = bin_id
        left = reply.headers.get("x-requests-remaining")
        if left is None:
            raise CheckFailed("no X-Requests-Remaining header")
        return f"bin {bin_id}, {left} requests left"

    def read(self) -> str:
        return self._read_record(f"/b/{self.bin_id}", FIRST)

    def read_latest(self) -> str:
        return self._read_record(f"/b/{self.bin_id}/latest", FIRST)

    def read_version(self) -> str:
        body = _expect(self.keyed("GET", f"/b/{self.bin_id}/0"), 200)
        if body.get("record") != FIRST or body.get("metadata", {}).get("version") != 0:
            raise CheckFailed(f"version 0 is {body!r}")
        return "version 0 as created"

    def read_trailing_slash(self) -> str:
        """``/b/<id>/`` (a v2-era client's path): the $default function forwards it to the read
        function (its alias and its lambda:InvokeFunction grant are deployed)."""
        return self._read_record(f"/b/{self.bin_id}/", FIRST)

    def read_json_path(self) -> str:
        reply = self.keyed("GET", f"/b/{self.bin_id}", {"X-JSON-Path": "$.nested.n[1]"})
        records = _expect(reply, 200).get("records")
        if records != [2]:
            raise CheckFailed(f"$.nested.n[1] matched {records!r}, not [2]")
        return "$.nested.n[1] → [2]"

    def update(self) -> str:
        reply = self.keyed("PUT", f"/b/{self.bin_id}", {"X-Bin-Versioning": "true"}, SECOND)
        version = _expect(reply, 200).get("metadata", {}).get("version")
        if version != 1:
            raise CheckFailed(f"the update made version {version!r}, not 1")
        return "version 1"

    def read_bare(self) -> str:
        reply = self.keyed("GET", f"/b/{self.bin_id}?meta=false")
        if _expect(reply, 200) != SECOND:
            raise CheckFailed(f"the bare record is {reply.body[:200]!r}")
        return "the updated record, bare"

    def error_shape(self) -> str:
        reply = self.request("GET", f"/b/{self.bin_id}")  # no key, private bin
        if (reply.status, reply.json()) != (401, {"message": MISSING_KEY}):
            raise CheckFailed(f"a keyless read of a private bin got {reply.body[:200]!r}")
        return '401 {"message": ...}'

    def unknown_route(self) -> str:
        reply = self.keyed("GET", "/openbin-smoke-no-such-route")
        if (reply.status, reply.json()) != (404, {"message": "Route not found"}):
            raise CheckFailed(f"an unknown route got {reply.body[:200]!r}")
        return "404 Route not found"

    def delete(self) -> str:
        reply = self.keyed("DELETE", f"/b/{self.bin_id}")
        body = _expect(reply, 200)
        if body.get("message") != "Bin deleted successfully":
            raise CheckFailed(f"unexpected answer {reply.body[:200]!r}")
        self.bin_id = None
        gone = self.keyed("GET", f"/b/{body['metadata']['id']}")
        if gone.status != 404:
            raise CheckFailed(f"the deleted bin still answers {gone.describe()}")
        return "deleted, and gone"

    def _read_record(self, path: str, expected: object) -> str:
        body = _expect(self.keyed("GET", path), 200)
        if body.get("record") != expected or body.get("metadata", {}).get("id") != self.bin_id:
            raise CheckFailed(f"unexpected answer {json.dumps(body)[:200]}")
        return "the record as created"


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _expect(reply: Reply, status: int) -> dict:
    if reply.status != status:
        raise CheckFailed(reply.describe())
    body = reply.json()
    if not isinstance(body, dict):
        raise CheckFailed(f"HTTP {reply.status}, not a JSON object: {reply.body[:120]!r}")
    return body


def run(base_url: str, master_key: str, print_line=print) -> bool:
    """Run every check, print a line each and a summary; True when all passed."""
    print_line(f"openbin smoke: {base_url.rstrip('/')}")
    smoke = Smoke(base_url, master_key)
    results = smoke.run()
    for result in results:
        print_line(result.line())
    if smoke.bin_id is not None:  # the delete check failed: try once more, quietly
        try:
            smoke.keyed("DELETE", f"/b/{smoke.bin_id}")
        except CheckFailed:
            pass
    failed = [r.name for r in results if r.ok is False]
    skipped = [r.name for r in results if r.ok is None]
    summary = f"{len(results) - len(failed) - len(skipped)} of {len(results)} checks passed"
    if failed:
        summary += f"; failed: {', '.join(failed)}"
    if skipped:
        summary += f"; {len(skipped)} skipped"
    print_line(summary)
    return not failed and not skipped
