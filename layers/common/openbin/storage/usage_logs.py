"""Usage logs: one S3 object per batch of an account's request lines of one day, under
``logs/<account id>/<YYYY-MM-DD>/`` in the records bucket (a lifecycle rule expires them)."""

from __future__ import annotations

import uuid
from datetime import date

from openbin.storage.objects import ObjectStore

PREFIX = "logs/"


class UsageLogStore(ObjectStore):
    @staticmethod
    def _folder(account_id: str, day: date | None = None) -> str:
        return f"{PREFIX}{account_id}/" + (f"{day.isoformat()}/" if day else "")

    def append(self, account_id: str, day: date, lines: bytes) -> None:
        """File a batch of JSON lines (each ending with a newline) under the account's day."""
        key = f"{self._folder(account_id, day)}{uuid.uuid4().hex}.jsonl"
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=lines, ContentType="application/x-ndjson"
        )

    def days(self, account_id: str) -> list[date]:
        """The days the account has lines for, in any order."""
        found: list[date] = []
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._folder(account_id), Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"].rstrip("/").rsplit("/", 1)[-1]
                try:
                    found.append(date.fromisoformat(name))
                except ValueError:
                    continue
        return found

    def lines(self, account_id: str, day: date) -> list[bytes]:
        """Every line filed for the account's day (in the order of their batches' files). A
        busy day has a file per delivery, hundreds of them: they are fetched ``FETCHERS`` at a
        time (one after another, 1,000 files took longer than API Gateway waits)."""
        keys: list[str] = []
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._folder(account_id, day)
        )
        for page in pages:
            keys += [listed["Key"] for listed in page.get("Contents", [])]
        out: list[bytes] = []
        for body in _in_parallel(self._fetch, keys):
            out += [line for line in body.split(b"\n") if line]
        return out

    def _fetch(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()


FETCHERS = 16


def _in_parallel(fetch, keys: list[str]) -> list[bytes]:
    """``fetch`` of every key, in order, on up to FETCHERS threads, each in a copy of the
    caller's context (the invocation's deadline, and whatever else it carries)."""
    if len(keys) <= 1:
        return [fetch(key) for key in keys]
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    contexts = [copy_context() for _ in keys]
    with ThreadPoolExecutor(max_workers=min(FETCHERS, len(keys))) as pool:
        runs = zip(contexts, keys, strict=True)
        return list(pool.map(lambda pair: pair[0].run(fetch, pair[1]), runs))
