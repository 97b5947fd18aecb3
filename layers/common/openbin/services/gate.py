"""The request gate: the first steps of every route, in the contract's order. ID shape → key →
the resource exists → the caller may act on it → one request is charged. One read
(``Storage.read``) fetches the caller's key(s) with whatever the route needs, so a bin route
costs two sequential round trips (three when another account's key acts on a public bin: its
owner must not be blocked).

A write route may defer the charge (``defer_charge``): the caller's account is read with the key
and the bin, and the request is charged in the write's own transaction, so an update is two
sequential round trips too. Any refusal after the allowance check charges the request on its own
first (``DeferredCharge.settle``), so what is charged and which error wins are as if the charge
had come first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import msgspec

from openbin import ids
from openbin.errors import InvalidRequest, NotAuthenticated, NotFound, OpenBinError
from openbin.models import Account, Bin, KeyRecord, Version
from openbin.services import auth
from openbin.services.auth import BinAction, Credentials
from openbin.storage import Storage
from openbin.storage.batch import NOTHING, Found, Wanted
from openbin.storage.bins import Charge

INVALID_BIN_ID = "Invalid Bin Id provided"
BIN_NOT_FOUND = "Bin not found or it doesn't belong to your account"


class DeferredCharge(msgspec.Struct):
    """A request not charged yet: its account as read with the key (not blocked, a request
    left), to be charged in the write's transaction, or on its own before any refusal."""

    storage: Storage
    account: Account
    settled: bool = False

    def in_transaction(self) -> Charge | None:
        """What the next write should charge (None: the request is charged already)."""
        return None if self.settled else Charge(plan=self.account.plan)

    def charged_with_write(self) -> None:
        """The write's transaction charged it: the allowance as read, less this request (exact
        unless other requests of the account were charged in between)."""
        self.settled = True
        auth.requests_remaining.set(self.account.requests_remaining - 1)

    def settle(self) -> Account:
        """Charge it on its own now (a refusal, or the account changed since it was read):
        refused as any charge is when nothing is left or the account is blocked."""
        if not self.settled:
            self.settled = True
            self.account = auth.charge(self.storage, self.account.account_id, self.storage.settings)
        return self.account


class OpenedBin(msgspec.Struct):
    bin: Bin
    caller: KeyRecord | None
    account: Account  # the account charged for this request, as it is after the charge
    version: Version | None = None  # the version the route asked for, read with the bin
    owner: Account | None = None  # the bin's owner, when read (another account's key)
    deferred: DeferredCharge | None = None  # not charged yet: charge it with the write

    @property
    def by_owner_master_key(self) -> bool:
        return (
            self.caller is not None
            and self.caller.kind == "master"
            and self.caller.account_id == self.bin.owner_id
        )

    @property
    def owner_plan(self) -> str:
        """The plan whose limits apply to a write: the bin owner's."""
        return (self.owner or self.account).plan


def open_bin(
    storage: Storage,
    credentials: Credentials,
    bin_id: str,
    action: BinAction,
    version: int | None = None,
    defer_charge: bool = False,
) -> OpenedBin:
    """Check the request's key against the bin and charge it; with ``defer_charge``, when the
    caller's key names its account and acts on its own bin, charge it later (``deferred``)."""
    if not ids.is_id(bin_id):
        raise InvalidRequest(INVALID_BIN_ID)
    if action.permission is None:
        auth.require_master_key(credentials)
    hint = auth.account_hint(credentials) if defer_charge else None
    found = storage.read(
        Wanted(
            key_hashes=auth.key_hashes(credentials),
            account_id=hint,
            bin_id=bin_id,
            version=version,
        )
    )
    caller = auth.identify(credentials, found.keys)
    if found.bin is None:
        raise NotFound(BIN_NOT_FOUND)
    account_id = auth.authorize_bin(found.bin, caller, credentials, action)
    if caller is not None and account_id == found.bin.owner_id:
        snapshot = auth.account_snapshot(caller, found.account)
        if snapshot is not None:  # the owner's own key, its account read with it
            auth.charged_account.set(account_id)
            deferred = DeferredCharge(storage, snapshot)
            return OpenedBin(found.bin, caller, snapshot, found.version, deferred=deferred)
    owner = None
    if account_id != found.bin.owner_id:  # another account's key on a public bin
        assert found.bin.owner_id is not None  # authorize_bin refuses a bin with no owner
        owner = storage.accounts.get(found.bin.owner_id)
        auth.require_open(owner)
    account = auth.charge(storage, account_id, storage.settings, shown=caller is not None)
    return OpenedBin(found.bin, caller, account, found.version, owner)


def open_master(storage: Storage, credentials: Credentials, wanted: Wanted = NOTHING):
    """Routes that take only the master key: who is calling, and what else the route reads,
    in one round trip. The route then checks existence and ownership, then charges."""
    if credentials.master_key is None:
        raise NotAuthenticated(auth.MASTER_REQUIRED)
    found: Found = storage.read(
        Wanted(
            key_hashes=auth.key_hashes(credentials),
            bin_id=wanted.bin_id,
            collection_id=wanted.collection_id,
            schema_doc_id=wanted.schema_doc_id,
            access_key_id=wanted.access_key_id,
        )
    )
    caller = auth.identify(credentials, found.keys)
    assert caller is not None  # a master key was sent, and identify refuses unknown keys
    return caller, found


def open_account(storage: Storage, credentials: Credentials) -> tuple[KeyRecord, Account]:
    """A master-key route on the caller's own account: identified, then charged."""
    caller, _ = open_master(storage, credentials)
    return caller, auth.charge(storage, caller.account_id, storage.settings)


def charge(storage: Storage, caller: KeyRecord) -> Account:
    """Charge the caller's account for this request (after the route's own checks)."""
    return auth.charge(storage, caller.account_id, storage.settings)


@contextmanager
def refusals_charged(opened: OpenedBin) -> Iterator[None]:
    """A refusal after the allowance check is charged first, as if the charge had come first
    (the charge's own refusal wins: nothing left, or blocked)."""
    try:
        yield
    except OpenBinError:
        if opened.deferred is not None:
            opened.deferred.settle()
        raise
