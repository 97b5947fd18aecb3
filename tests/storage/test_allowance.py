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
