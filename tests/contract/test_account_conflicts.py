"""One account's parallel writers (issue 25): every create, update and delete also updates the
account's item in its transaction, and on AWS overlapping transactions are cancelled
(TransactionConflict). Under the emulated conflicts (openbin_cli.conflicts), 50 parallel writers
of one account, mixed, all succeed, and the allowance and the counts are exact. Both levels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin_cli import conflicts

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
