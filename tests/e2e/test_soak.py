"""Soak: 8 concurrent clients mixing create, read, update and delete against ``openbin serve``.

Bounded to fit the suite (OPENBIN_SOAK_SECONDS, default 20; `make soak` runs the full 60 s).
Afterwards: no 5xx at any point, and every acknowledged write reads back as the last
acknowledged value (each client owns its bins; one public bin is shared by all, and every
acknowledged versioned update of it is a version of its own).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest

from tests.support import HttpApi

pytestmark = pytest.mark.e2e
CLIENTS = 8
DELETED = object()


def test_soak(server):
    seconds = float(os.environ.get("OPENBIN_SOAK_SECONDS", "20"))
    api = HttpApi(server)
    account = api.account("pro", requests=10_000_000)
    key = {"X-Master-Key": account.key}
    shared = api.create_bin(account, {"writer": None, "n": 0}, X_Bin_Private="false")
    statuses: Counter = Counter()
    shared_versions: dict[int, dict] = {}
    expected: list[dict] = [{} for _ in range(CLIENTS)]
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        mine = expected[number]
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            record = {"client": number, "seq": sequence, "pad": "x" * rng.randint(0, 3000)}
            live = [b for b, v in mine.items() if v is not DELETED]
            action = rng.choices(
                ["create", "read", "update", "versioned", "delete", "shared"],
                weights=[3, 5, 3, 2, 1, 2],
            )[0]
            if action == "create" or not live:
                reply = api.post("/v3/b", record, key)
                if reply.status == 200:
                    mine[reply.json()["metadata"]["id"]] = record
            elif action == "read":
                bin_id = rng.choice(live)
                reply = api.get(f"/v3/b/{bin_id}", key)
                if reply.status == 200 and reply.json()["record"] != mine[bin_id]:
                    failures.append(f"{bin_id}: read {reply.json()['record']} != {mine[bin_id]}")
            elif action in ("update", "versioned"):
                bin_id = rng.choice(live)
                headers = {**key, "X-Bin-Versioning": "true" if action == "versioned" else "false"}
                reply = api.request("PUT", f"/v3/b/{bin_id}", headers, record)
                if reply.status == 200:
                    mine[bin_id] = record
            elif action == "delete":
                bin_id = rng.choice(live)
                reply = api.request("DELETE", f"/v3/b/{bin_id}", key)
                if reply.status == 200:
                    mine[bin_id] = DELETED
            else:
                body = {"writer": number, "n": sequence}
                reply = api.request("PUT", f"/v3/b/{shared}", {}, body)  # keyless: public
                if reply.status == 200:
                    with lock:
                        shared_versions[reply.json()["metadata"]["version"]] = body
            with lock:
                statuses[reply.status] += 1
                if reply.status >= 500:
                    failures.append(f"{action}: {reply.status} {reply.body[:200]!r}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert statuses[200] > 50 * seconds / 20, statuses  # it really ran
    assert set(statuses) == {200}, statuses
    for mine in expected:
        for bin_id, record in mine.items():
            reply = api.get(f"/v3/b/{bin_id}", key)
            if record is DELETED:
                assert reply.status == 404
            else:
                assert (reply.status, reply.json()["record"]) == (200, record)
    count = api.get(f"/v3/b/{shared}/versions/count").json()["metadata"]["versionCount"]
    assert count == len(shared_versions) and sorted(shared_versions) == list(range(1, count + 1))
    latest = api.get(f"/v3/b/{shared}").json()["record"]
    assert latest == shared_versions[count]
    for version in range(1, count):  # the update answered "version n" stored its body as n
        assert api.get(f"/v3/b/{shared}/{version}").json()["record"] == shared_versions[version]
