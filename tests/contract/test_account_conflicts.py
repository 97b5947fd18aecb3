"""One account's parallel writers (issue 25): every create, update and delete also updates the
account's item in its transaction, and on AWS overlapping transactions are cancelled
(TransactionConflict). Under the emulated conflicts (openbin_local.conflicts), 50 parallel writers
of one account, mixed, all succeed, and the allowance and the counts are exact. Both levels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin_local import conflicts

pytestmark = pytest.mark.timeout(120)


def state(api, account) -> tuple[int, int]:
    shown = api.op("account.show", account_id=account.account_id)
    return shown["requestsRemaining"], shown.get("bins", 0)


@pytest.mark.parametrize("round_", range(2))
def test_fifty_parallel_writers_of_one_account(api, round_):
    account = api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    existing = [api.create_bin(account, {"n": n}) for n in range(25)]
    before = state(api, account)
    collisions = sum(conflicts.COLLISIONS.values())

    def create(n):
        return api.post("/v3/b", {"new": n}, key)

    def update(n):
        versioned = {"X-Bin-Versioning": "true" if n % 2 else "false"}
        return api.request("PUT", f"/v3/b/{existing[n]}", {**key, **versioned}, {"u": n})

    def patch(n):
        headers = {**key, "Content-Type": "application/merge-patch+json"}
        return api.request("PATCH", f"/v3/b/{existing[n]}", headers, {"p": n})

    def delete(n):
        return api.request("DELETE", f"/v3/b/{existing[n]}", key)

    work = (
        [(create, n) for n in range(20)]
        + [(update, n) for n in range(0, 10)]
        + [(patch, n) for n in range(10, 15)]
        + [(delete, n) for n in range(15, 25)]
        + [(create, n) for n in range(20, 25)]
    )
    assert len(work) == 50
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(lambda job: job[0](job[1]), work))
    statuses = [reply.status for reply in replies]
    assert statuses == [200] * 50, [r.body for r in replies if r.status != 200]
    after = state(api, account)
    assert after == (before[0] - 50, before[1] + 25 - 10)
    if api.level == "handler":  # the emulator runs in this process: the collisions happened
        assert sum(conflicts.COLLISIONS.values()) > collisions


def test_renames_privacy_and_moves_beside_writes_of_the_bin(api):
    """A rename, a privacy change or a move into a collection is one UpdateItem of the bin: a
    write of the bin in flight made it fail with TransactionConflictException (503, and after a
    move the record was written but the collection unchanged). It is sent again."""
    account = api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    bin_id = api.create_bin(account, {"n": 0})
    collections = [api.collection(account, f"c{n}")["collectionId"] for n in range(2)]

    def put(n):
        return api.request("PUT", f"/v3/b/{bin_id}", key, {"n": n})

    def rename(n):
        return api.request("PUT", f"/v3/b/{bin_id}/meta/name", {**key, "X-Bin-Name": f"b{n}"})

    def privacy(n):
        headers = {**key, "X-Bin-Private": "true" if n % 2 else "false"}
        return api.request("PUT", f"/v3/b/{bin_id}/meta/privacy", headers)

    def move(n):
        headers = {**key, "X-Collection-Id": collections[n % 2]}
        return api.request("PUT", f"/v3/b/{bin_id}", headers, {"moved": n})

    work = [(put, n) for n in range(24)] + [(rename, n) for n in range(8)]
    work += [(privacy, n) for n in range(8)] + [(move, n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda job: job[0](job[1]), work))
    assert [r.status for r in replies] == [200] * len(work), [
        r.body for r in replies if r.status != 200
    ]
