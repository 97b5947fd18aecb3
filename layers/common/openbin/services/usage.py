"""docs/API.md §6b Usage (beyond JSONBin): where the caller's account stands."""

from __future__ import annotations

from dataclasses import dataclass

from openbin.models import Account
from openbin.services import gate
from openbin.services.auth import Credentials
from openbin.storage import Storage


@dataclass(frozen=True, slots=True)
class Usage:
    account: Account  # as it is after this request's charge
    record_size_limit: int  # bytes, by its plan


def usage_of(account: Account, storage: Storage) -> Usage:
    return Usage(account, storage.settings.record_limit(account.plan))


class UsageService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def usage(self, credentials: Credentials) -> Usage:
        _, account = gate.open_account(self.storage, credentials)
        return usage_of(account, self.storage)
