"""Who is calling, and what they may do."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from openbin import keys
from openbin.errors import NotAllowed, NotAuthenticated
from openbin.keys import hash_key, looks_like_key
from openbin.models import Account, Bin, KeyRecord
from openbin.services.caller import caller_account as caller_account
from openbin.services.caller import caller_key as caller_key
from openbin.services.caller import charged_account as charged_account
from openbin.services.caller import requests_remaining as requests_remaining
from openbin.settings import Settings
from openbin.storage import FAILURES, Storage
from openbin.storage.accounts import ChargeRefused

MASTER = "X-Master-Key"
ACCESS = "X-Access-Key"
BLOCKED = "Account blocked. Contact the administrator"
NO_OWNER = "Bin not associated to any user account"
# The verb each action uses in messages ("to read a private bin", "to read the bin.").
PERMISSION_TEXT = {
    "create": "create a bin",
    "read": "read the bin",
    "update": "update the bin",
    "delete": "delete the bin",
}


class Credentials(msgspec.Struct, frozen=True):
    """The key a request carried (the master key wins when both are sent)."""

    master_key: str | None = None
    access_key: str | None = None

    @property
    def present(self) -> bool:
        return self.master_key is not None or self.access_key is not None

    @property
    def header(self) -> str:
        return MASTER if self.master_key is not None else ACCESS

    @property
    def kind(self) -> str:
        return "master" if self.master_key is not None else "access"

    @property
    def key(self) -> str | None:
        return self.master_key if self.master_key is not None else self.access_key

    def sent(self) -> Iterator[tuple[str, str, str]]:
        """(header, kind, key) of each key sent, the master key first."""
        if self.master_key is not None:
            yield MASTER, "master", self.master_key
        if self.access_key is not None:
            yield ACCESS, "access", self.access_key


def key_hashes(credentials: Credentials) -> tuple[str, ...]:
    """The hash of each key the request carries (none, one, or both: a key that matches
    nothing is never ignored, even beside a valid one). A value that cannot be a key is
    refused without a lookup."""
    hashes = []
    for header, _, key in credentials.sent():
        if not looks_like_key(key):
            raise NotAuthenticated(f"Invalid {header} provided")
        hashes.append(hash_key(key))
    return tuple(hashes)


def account_hint(credentials: Credentials) -> str | None:
    """The account the credentials' key names: only a hint (see ``openbin.keys``), read with
    the key and trusted only when the key's own record names the same account."""
    key = credentials.key
    return keys.account_hint(key) if key is not None else None


def account_snapshot(caller: KeyRecord, account: Account | None) -> Account | None:
    """The caller's account as read with the key, if it is the caller's and could be charged
    now (not blocked, a request left); None: charge it the usual way."""
    if account is None or account.account_id != caller.account_id:
        return None
    if account.blocked or account.requests_remaining < 1:
        return None
    return account


def identify(credentials: Credentials, records: list[KeyRecord | None]) -> KeyRecord | None:
    """Turn the key records read for ``key_hashes`` into the caller (the master key's, when
    both were sent); any key that matches nothing is a 401."""
    caller = None
    for (header, kind, _), record in zip(credentials.sent(), records, strict=True):
        if record is None or record.kind != kind:
            raise NotAuthenticated(f"Invalid {header} provided")
        caller = caller or record
    if caller is not None:
        caller_account.set(caller.account_id)
        caller_key.set((caller.kind, caller.access_key_id))
    return caller


def current_remaining(storage: Storage) -> int | None:
    """The recognised caller's allowance, for an answer given before any charge (a 404, a
    401 on another account's bin): read on that error path only. None when there is no
    recognised caller or storage does not answer."""
    account_id = caller_account.get()
    if account_id is None:
        return None
    try:
        account = storage.accounts.get(account_id)
    except FAILURES:
        return None
    return account.requests_remaining if account else None


def require_permission(caller: KeyRecord, credentials: Credentials, action: str) -> None:
    if not caller.may(action):
        raise NotAllowed(f"{ACCESS} passed does not have permission to {PERMISSION_TEXT[action]}.")


class BinAction(msgspec.Struct, frozen=True):
    """What a route does to a bin, and who may do it."""

    name: str
    permission: str | None  # the access-key permission it needs; None: master key only
    public: bool  # whether a public bin lets anyone (keyless or another account) do it
    also: str | None = None  # a second permission it needs (a PATCH reads what it updates)

    @property
    def missing_key(self) -> str:
        if self.permission is None:
            return MASTER_REQUIRED
        return f"You need to pass {MASTER} or {ACCESS} in the header to {self.name} a private bin"


MASTER_REQUIRED = f"You need to pass {MASTER} in the header"
READ = BinAction("read", "read", public=True)
UPDATE = BinAction("update", "update", public=True)
# PATCH and restore read the record they write (a patch's result, a schema's refusal of it, or
# its size tell what the record holds): an access key needs read as well as update.
UPDATE_FROM_RECORD = BinAction("update", "update", public=True, also="read")
DELETE = BinAction("delete", "delete", public=False)
COUNT_VERSIONS = BinAction("count versions", None, public=True)
MANAGE = BinAction("manage", None, public=False)  # delete versions, change name or privacy


def require_master_key(credentials: Credentials) -> None:
    """Routes other than 3.1–3.4 take only the master key (checked before any lookup)."""
    if credentials.access_key is not None and credentials.master_key is None:
        raise NotAuthenticated(MASTER_REQUIRED)


def authorize_bin(
    bin: Bin, caller: KeyRecord | None, credentials: Credentials, action: BinAction
) -> str:
    """Check that the caller may do ``action`` to this bin; returns the account to charge."""
    if bin.owner_id is None:
        raise NotAllowed(NO_OWNER)
    public_access = action.public and not bin.private
    if caller is None:
        if public_access:
            return bin.owner_id
        raise NotAuthenticated(action.missing_key)
    if caller.account_id != bin.owner_id and not public_access:
        raise NotAuthenticated(
            f"{credentials.header} is invalid or the bin doesn't belong to your account"
        )
    if action.permission is not None:
        require_permission(caller, credentials, action.permission)
    if action.also is not None:
        require_permission(caller, credentials, action.also)
    return caller.account_id


def require_open(owner: Account | None) -> None:
    """A bin acted on by another account's key: its owner must exist and not be blocked (a
    blocked account's public bins are closed to everyone, as they are to keyless requests)."""
    if owner is None:
        raise NotAllowed(NO_OWNER)
    if owner.blocked:
        raise NotAllowed(BLOCKED)


def charge(storage: Storage, account_id: str, settings: Settings, shown: bool = True) -> Account:
    """Count one request against the account's allowance. ``shown``: the caller may see what
    is left (False for a keyless request charged to a public bin's owner)."""
    charged_account.set(account_id)
    try:
        account = storage.accounts.charge(account_id)
    except ChargeRefused as refused:
        if refused.account is None:
            raise NotAllowed(NO_OWNER) from None
        if shown:
            requests_remaining.set(refused.account.requests_remaining)
        if refused.account.blocked:
            raise NotAllowed(BLOCKED) from None
        raise NotAllowed(
            f"Requests exhausted. Buy additional requests at {settings.pricing_url}"
        ) from None
    if shown:
        requests_remaining.set(account.requests_remaining)
    return account
