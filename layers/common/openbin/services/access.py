"""The first steps of every bin route, in the contract's order: ID shape → key → the bin
exists → the caller may act on it → one request is charged. One BatchGetItem fetches the bin,
the caller's key and whatever else the route needs, so this costs two sequential round trips."""

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
    wanted = [(storage.bins.bins_table, storage.bins.key(bin_id))]
    key_wanted = auth.key_lookup(storage, credentials)
    if key_wanted:
        wanted.append(key_wanted)
    wanted.extend(extra)
    found = batch_get(storage.db, wanted)
    caller = auth.identify(credentials, found[1] if key_wanted else None)
    if found[0] is None:
        raise NotFound(BIN_NOT_FOUND)
    bin = storage.bins.from_item(found[0])
    account_id = auth.authorize_bin(bin, caller, credentials, action)
    account = auth.charge(storage, account_id, storage.settings)
    return OpenedBin(bin, caller, account, found[2 if key_wanted else 1 :])


def open_master(
    storage: Storage, credentials: Credentials, extra: Sequence[tuple[str, dict]] = ()
) -> tuple[KeyRecord, list[dict | None]]:
    """Routes that take only the master key: who is calling, plus the items the route needs,
    in one BatchGetItem. The caller then checks existence and ownership, then charges."""
    if credentials.master_key is None:
        raise auth.NotAuthenticated(auth.MASTER_REQUIRED)
    found = batch_get(storage.db, [auth.key_lookup(storage, credentials), *extra])
    return auth.identify(credentials, found[0]), found[1:]
