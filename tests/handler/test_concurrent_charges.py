"""Exact allowances through the handlers: concurrent reads take exactly the allowance, keyless
public reads charge the owner."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

EXHAUSTED = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"


def test_concurrent_reads_through_the_handlers(handler_api):
    account = handler_api.account(requests=1)
    bin_id = handler_api.create_bin(account, {"shared": True})  # takes the one request
    assert (
        handler_api.op("account.add-requests", account_id=account.account_id, count=5)[
            "requestsRemaining"
        ]
        == 5
    )
    headers = {"X-Master-Key": account.key}

    def read(_):
        reply = handler_api.get(f"/v3/b/{bin_id}", headers)
        body = reply.json()
        if reply.status == 200:
            assert body["record"] == {"shared": True}
            return 200, reply.header("X-Requests-Remaining")
        return reply.status, body["message"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(read, range(12)))
    assert outcomes == Counter(
        {
            (200, "4"): 1,
            (200, "3"): 1,
            (200, "2"): 1,
            (200, "1"): 1,
            (200, "0"): 1,
            (403, EXHAUSTED): 7,
        }
    )
    shown = handler_api.op("account.show", account_id=account.account_id)
    assert shown["requestsRemaining"] == 0


def test_concurrent_keyless_public_reads_charge_the_owner(handler_api):
    account = handler_api.account(requests=4)
    bin_id = handler_api.create_bin(account, [1, 2, 3], X_Bin_Private="false")

    def read(_):
        reply = handler_api.get(f"/v3/b/{bin_id}?meta=false")
        return reply.status, reply.body if reply.status == 200 else reply.message

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(read, range(8)))
    assert outcomes == Counter({(200, b"[1, 2, 3]"): 3, (403, EXHAUSTED): 5})
