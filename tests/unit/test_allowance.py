"""The request allowance: an atomic conditional charge, exact under concurrency."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from openbin import ids
from openbin.services.accounts import AccountService
from openbin.storage.accounts import ChargeRefused

EXHAUSTED = "Requests exhausted. Buy additional requests at https://jsonbin.io/pricing"


def charge_concurrently(storage, account_id: str, attempts: int, workers: int = 20) -> Counter:
    def attempt(_):
        try:
            return storage.accounts.charge(account_id).requests_remaining
        except ChargeRefused as refused:
            return ("refused", refused.account.requests_remaining, refused.account.blocked)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return Counter(pool.map(attempt, range(attempts)))


def test_charge_takes_one_request(storage):
    account, _ = AccountService(storage).create_account("free", requests=3)
    assert storage.accounts.charge(account.account_id).requests_remaining == 2
    assert storage.accounts.get(account.account_id).requests_remaining == 2


def test_concurrent_charges_succeed_exactly_allowance_times(storage):
    account, _ = AccountService(storage).create_account("free", requests=7)
    outcomes = charge_concurrently(storage, account.account_id, attempts=20)
    # Every success saw a distinct remaining count: 6, 5, ..., 0.
    assert outcomes == Counter(
        {6: 1, 5: 1, 4: 1, 3: 1, 2: 1, 1: 1, 0: 1, ("refused", 0, False): 13}
    )
    assert storage.accounts.get(account.account_id).requests_remaining == 0


def test_exhausted_account_stays_at_zero(storage):
    account, _ = AccountService(storage).create_account("free", requests=0)
    with pytest.raises(ChargeRefused) as caught:
        storage.accounts.charge(account.account_id)
    assert caught.value.account.requests_remaining == 0
    assert caught.value.account.blocked is False
    assert storage.accounts.get(account.account_id).requests_remaining == 0


def test_blocked_account_is_refused_and_not_charged(storage):
    service = AccountService(storage)
    account, _ = service.create_account("free", requests=5)
    service.set_blocked(account.account_id, True)
    outcomes = charge_concurrently(storage, account.account_id, attempts=6, workers=6)
    assert outcomes == Counter({("refused", 5, True): 6})
    assert storage.accounts.get(account.account_id).requests_remaining == 5
    service.set_blocked(account.account_id, False)
    assert storage.accounts.charge(account.account_id).requests_remaining == 4


def test_missing_account_is_refused(storage):
    with pytest.raises(ChargeRefused) as caught:
        storage.accounts.charge(ids.new_id())
    assert caught.value.account is None


def test_added_requests_are_charged_exactly(storage):
    service = AccountService(storage)
    account, _ = service.create_account("pro", requests=0)
    assert service.add_requests(account.account_id, 4).requests_remaining == 4
    outcomes = charge_concurrently(storage, account.account_id, attempts=10, workers=10)
    assert outcomes == Counter({3: 1, 2: 1, 1: 1, 0: 1, ("refused", 0, False): 6})


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
