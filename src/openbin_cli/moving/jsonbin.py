"""A JSONBin v3 API as a source (JSONBin.io itself, or another OpenBin: the wire is the same),
walked with the master key as its documented routes allow: collections, each collection's bins
and the uncategorized ones (10 a page, after a cursor bin), each bin's version count and every
version. Every call counts against the source's allowance, so calls are paced (``rate`` a
second), retried a few times with growing pauses when the source is busy or failing (429, 5xx,
no answer), and stopped cleanly (``SourceStopped``) when the allowance is used up."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

PAGE = 10
BAD_GATEWAY = range(500, 600)
MAX_ANSWER = 16 * 1024 * 1024  # bytes of one answer read at most (an XL record is 4.7 MB)
MAX_VERSIONS = 100_000  # a version count beyond it is not a bin's


class SourceError(Exception):
    """The source cannot be imported from as asked (wrong key, not a JSONBin API)."""


class SourceStopped(Exception):
    """The source stopped answering for now (allowance used up, or failing): resumable.
    ``answered``: it did answer (a refusal), as opposed to no answer at all."""

    def __init__(self, message: str, answered: bool = True) -> None:
        super().__init__(message)
        self.answered = answered


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes

    @property
    def message(self) -> str:
        try:
            value = json.loads(self.body)
        except ValueError:
            return self.body[:120].decode("utf-8", "replace")
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
        return self.body[:120].decode("utf-8", "replace")


class Listed(msgspec.Struct, frozen=True):
    """A bin as a listing (or its own metadata) shows it."""

    bin_id: str
    private: bool
    created_at: str
    name: str | None
    collection_id: str | None


def record_text(body: bytes) -> bytes:
    """The bytes of the ``record`` member of a read's answer, exactly as the source sent them
    (``{"record": <record>, "metadata": {...}}``, members in any order)."""
    text = body.decode("utf-8")
    decoder = json.JSONDecoder()
    at = _skip(text, 0)
    if text[at : at + 1] != "{":
        raise ValueError("not an object")
    at = _skip(text, at + 1)
    while text[at : at + 1] == '"':
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] != ":":
            raise ValueError("no colon")
        start = _skip(text, at + 1)
        _, end = decoder.raw_decode(text, start)
        if key == "record":
            return text[start:end].encode("utf-8")
        at = _skip(text, end)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
    raise ValueError("no record member")


def _bounded(response) -> bytes:
    """An answer's body, or a refusal past MAX_ANSWER bytes (never read whole)."""
    body = response.read(MAX_ANSWER + 1)
    if len(body) > MAX_ANSWER:
        return b'{"message": "the answer is larger than any a JSONBin API gives"}'
    return body


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


class JsonBinSource:
    def __init__(
        self,
        base_url: str,
        master_key: str,
        rate: float = 4.0,
        retries: int = 4,
        pause: float = 1.0,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")) or not base_url.rstrip("/").endswith(
            "/v3"
        ):
            raise SourceError(f"--from must be an http(s) URL ending in /v3, not {base_url!r}")
        self.base = base_url.rstrip("/")
        self.key = master_key
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.retries, self.pause = retries, pause
        self.requests = 0
        self.on_request = on_request
        self._last = 0.0
        self.has_history = True  # the history route (OpenBin's): per-version times

    # -- the wire ------------------------------------------------------------------------------
    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        for attempt in range(self.retries + 1):
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
            answer = self._send(path, headers or {})
            if answer is not None:
                self.requests += 1
                if self.on_request:
                    self.on_request()
                if answer.status == 403 and "exhausted" in answer.message.lower():
                    raise SourceStopped(f"the source's allowance is used up: {answer.message}")
                if answer.status != 429 and answer.status not in BAD_GATEWAY:
                    return answer
            if attempt < self.retries:
                time.sleep(self.pause * 2**attempt)
        what = f"answered {answer.status} {answer.message}" if answer else "did not answer"
        raise SourceStopped(
            f"the source {what} to GET {path}, {self.retries + 1} times",
            answered=answer is not None,
        )

    def _send(self, path: str, headers: dict[str, str]) -> Answer | None:
        try:
            request = urllib.request.Request(  # noqa: S310 (checked: http or https)
                self.base + path,
                headers={"X-Master-Key": self.key, "User-Agent": "openbin-import", **headers},
            )
        except ValueError as error:
            raise SourceError(f"--from is not a usable URL: {error}") from None
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return Answer(response.status, _bounded(response))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _bounded(error))
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError):
            return None

    def json(self, path: str, headers: dict[str, str] | None = None) -> Any:
        answer = self.get(path, headers)
        if answer.status != 200:
            raise LookupError(f"{answer.status} {answer.message}")
        return json.loads(answer.body)

    # -- what it holds ---------------------------------------------------------------------------
    def collections(self) -> list[dict]:
        """``GET /v3/c``; also the check that the URL and key are a JSONBin API's."""
        try:
            answer = self.get("/c")
        except SourceStopped as stopped:
            if stopped.answered:  # used up, or failing for now: the next run goes on
                raise
            raise SourceError(f"{self.base} cannot be read: {stopped}") from None
        if answer.status in (401, 403):
            raise SourceError(f"the source refused the master key: {answer.message}")
        try:
            value = json.loads(answer.body) if answer.status == 200 else None
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(
            isinstance(c, dict) and isinstance(c.get("record"), str) for c in value
        ):
            raise SourceError(
                f"{self.base} does not answer as a JSONBin v3 API (GET /v3/c: "
                f"{answer.status} {answer.message[:80]!r})"
            )
        return value

    def schema_doc(self, schema_doc_id: str) -> dict | None:
        answer = self.get(f"/s/{schema_doc_id}")
        if answer.status != 200:
            return None
        meta = json.loads(answer.body).get("metadata", {})
        return {
            "id": schema_doc_id,
            "name": meta.get("name") or schema_doc_id,
            "createdAt": meta.get("createdAt"),
            "schema": record_text(answer.body).decode("utf-8"),
        }

    def bins(self, collection_id: str | None) -> Iterator[Listed]:
        """Every bin of a collection (None: the uncategorized ones), oldest first."""
        listed = collection_id or "uncategorized"
        last: str | None = None
        seen: set[str] = set()
        while True:
            path = f"/c/{listed}/bins" + (f"/{last}" if last else "")
            try:
                page = self.json(path, {"X-Sort-Order": "ascending"})
            except (LookupError, ValueError) as error:  # an import that missed bins is no import
                raise SourceStopped(f"the source answered {error} to GET {path}") from None
            if not isinstance(page, list) or not all(
                isinstance(row, dict) and isinstance(row.get("record"), str) for row in page
            ):
                raise SourceStopped(f"the source's answer to GET {path} is not a listing")
            for row in page:
                meta = row.get("snippetMeta") or {}
                yield Listed(
                    row["record"],
                    bool(row.get("private", True)),
                    row.get("createdAt"),
                    meta.get("name"),
                    collection_id,
                )
            if len(page) < PAGE:
                return
            last = page[-1]["record"]
            if last in seen:
                raise SourceStopped(f"the source's listing of {listed} goes round in a circle")
            seen.add(last)

    def listed(self, bin_id: str) -> Listed:
        """A bin no listing reaches (``--bin``), as its latest version's metadata shows it."""
        value = self.json(f"/b/{bin_id}/latest")
        meta = value.get("metadata", {})
        return Listed(
            bin_id,
            bool(meta.get("private", True)),
            meta.get("createdAt"),
            meta.get("name"),
            meta.get("collectionId"),
        )

    def versions(self, bin: Listed) -> list[tuple[bytes, str]]:
        """Every version's record and the time its number was made, oldest first."""
        count = self.json(f"/b/{bin.bin_id}/versions/count")["metadata"]["versionCount"]
        if not isinstance(count, int) or not 0 <= count <= MAX_VERSIONS:
            raise LookupError(f"a version count of {count!r}")
        made = self._history(bin, count) if self.has_history else {}
        out = []
        for number in range(count + 1):
            answer = self.get(f"/b/{bin.bin_id}/{number}")
            if answer.status != 200:
                raise LookupError(f"version {number}: {answer.status} {answer.message}")
            meta = json.loads(answer.body).get("metadata", {})
            at = made.get(number) or meta.get("createdAt") or bin.created_at
            out.append((record_text(answer.body), bin.created_at if number == 0 else at))
        return out

    def _history(self, bin: Listed, count: int) -> dict[int, str]:
        """The time each version's number was made, from the history route where the source
        has one (OpenBin, docs/API.md §3.10); JSONBin has not: none, and never asked again."""
        made: dict[int, str] = {}
        before: int | None = None
        while True:
            path = f"/b/{bin.bin_id}/versions" + (f"/{before}" if before is not None else "")
            answer = self.get(path)
            try:
                page = json.loads(answer.body) if answer.status == 200 else None
            except ValueError:
                page = None
            if not isinstance(page, list) or not all(
                isinstance(v, dict) and "version" in v for v in page
            ):
                self.has_history = False
                return {}
            made.update({v["version"]: v["createdAt"] for v in page})
            if not page or page[-1]["version"] == 0 or len(made) > count:
                return made
            before = page[-1]["version"]
