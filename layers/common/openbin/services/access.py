"""The first steps of every bin route, in the contract's order: ID shape → key → the bin
exists → the caller may act on it → one request is charged. One BatchGetItem fetches the bin,
the caller's key(s) and whatever else the route needs, so this costs two sequential round trips
(three when another account's key acts on a public bin: its owner must not be blocked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from openbin import ids
from openbin.errors import InvalidRequest, NotFound
from openbin.models import Account, Bin, KeyRecord
from openbin.services import auth
from openbin.services.auth import BinAction, Credentials
from openbin.storage import Storage
from openbin.storage.dynamo import batch_get

INVALID_BIN_ID = "Invalid Bin Id provided"
BIN_NOT_FOUND = "Bin not found or it doesn't belong to your account"


@dataclass(slots=True)
class OpenedBin:
    bin: Bin
    caller: KeyRecord | None
    account: Account  # the account charged for this request, as it is after the charge
    extra: list[dict | None] = field(default_factory=list)
    owner: Account | None = None  # the bin's owner, when read (another account's key)

    @property
    def remaining(self) -> int | None:
        """The allowance to show the caller: none for a keyless request (it was charged to
        the bin's owner, whose allowance is not the reader's business)."""
        return self.account.requests_remaining if self.caller is not None else None

    @property
    def by_owner_master_key(self) -> bool:
        return (
            self.caller is not None
            and self.caller.kind == "master"
            and self.caller.account_id == self.bin.owner_id
        )


def open_bin(
    storage: Storage,
    credentials: Credentials,
    bin_id: str,
    action: BinAction,
    extra: Sequence[tuple[str, dict]] = (),
) -> OpenedBin:
    if not ids.is_id(bin_id):
        raise InvalidRequest(INVALID_BIN_ID)
    if action.permission is None:
        auth.require_master_key(credentials)
    keys_wanted = auth.key_lookups(storage, credentials)
    found = batch_get(
        storage.db, [(storage.bins.bins_table, storage.bins.key(bin_id)), *keys_wanted, *extra]
    )
    caller = auth.identify(credentials, found[1 : 1 + len(keys_wanted)])
    if found[0] is None:
        raise NotFound(BIN_NOT_FOUND)
    bin = storage.bins.from_item(found[0])
    account_id = auth.authorize_bin(bin, caller, credentials, action)
    owner = None
    if account_id != bin.owner_id:  # another account's key on a public bin
        owner = storage.accounts.get(bin.owner_id)
        auth.require_open(owner)
    account = auth.charge(storage, account_id, storage.settings, shown=caller is not None)
    return OpenedBin(bin, caller, account, found[1 + len(keys_wanted) :], owner)


def open_master(
    storage: Storage, credentials: Credentials, extra: Sequence[tuple[str, dict]] = ()
) -> tuple[KeyRecord, list[dict | None]]:
    """Routes that take only the master key: who is calling, plus the items the route needs,
    in one BatchGetItem. The caller then checks existence and ownership, then charges."""
    if credentials.master_key is None:
        raise auth.NotAuthenticated(auth.MASTER_REQUIRED)
    keys_wanted = auth.key_lookups(storage, credentials)
    found = batch_get(storage.db, [*keys_wanted, *extra])
    caller = auth.identify(credentials, found[: len(keys_wanted)])
    return caller, found[len(keys_wanted) :]
