"""Who is calling, and what they may do."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from openbin.errors import NotAllowed, NotAuthenticated
from openbin.keys import account_hint, hash_key, looks_like_key
from openbin.models import Account, Bin, KeyRecord
from openbin.settings import Settings
from openbin.storage import Storage
from openbin.storage.accounts import ChargeRefused

# The allowance left after this request's charge, once it has been charged (None before).
requests_remaining: ContextVar[int | None] = ContextVar("requests_remaining", default=None)

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


@dataclass(frozen=True, slots=True)
class Credentials:
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


def key_lookup(storage: Storage, credentials: Credentials) -> tuple[str, dict] | None:
    """The (table, key) to fetch for these credentials, or None when there is nothing to look up.
    A value that cannot be a key is refused without a lookup."""
    if not credentials.present:
        return None
    if not looks_like_key(credentials.key):
        raise NotAuthenticated(f"Invalid {credentials.header} provided")
    return storage.keys.table, storage.keys.key(hash_key(credentials.key))


def account_lookup(storage: Storage, credentials: Credentials) -> tuple[str, dict] | None:
    """The (table, key) of the account the credentials' key names, to read with the key
    itself: only a hint (see ``openbin.keys``), checked by ``account_snapshot``."""
    hint = account_hint(credentials.key) if credentials.present else None
    return (storage.accounts.table, storage.accounts.key(hint)) if hint else None


def account_snapshot(storage: Storage, caller: KeyRecord, item: dict | None) -> Account | None:
    """The caller's account as read with the key, if it is the caller's and could be charged
    now (not blocked, a request left); None: charge it the usual way."""
    if not item or item.get("accountId", {}).get("S") != caller.account_id:
        return None
    account = storage.accounts.from_item(item)
    if account.blocked or account.requests_remaining < 1:
        return None
    return account


def identify(credentials: Credentials, item: dict | None) -> KeyRecord | None:
    """Turn the looked-up key item into the caller; an unknown key is never ignored."""
    if not credentials.present:
        return None
    from openbin.storage.keys import KeyRepository

    record = KeyRepository.from_item(item) if item and "kind" in item else None
    if record is None or record.kind != credentials.kind:
        raise NotAuthenticated(f"Invalid {credentials.header} provided")
    return record


def require_permission(caller: KeyRecord, credentials: Credentials, action: str) -> None:
    if not caller.may(action):
        raise NotAllowed(f"{ACCESS} passed does not have permission to {PERMISSION_TEXT[action]}.")


@dataclass(frozen=True, slots=True)
class BinAction:
    """What a route does to a bin, and who may do it."""

    name: str
    permission: str | None  # the access-key permission it needs; None: master key only
    public: bool  # whether a public bin lets anyone (keyless or another account) do it

    @property
    def missing_key(self) -> str:
        if self.permission is None:
            return MASTER_REQUIRED
        return f"You need to pass {MASTER} or {ACCESS} in the header to {self.name} a private bin"


MASTER_REQUIRED = f"You need to pass {MASTER} in the header"
READ = BinAction("read", "read", public=True)
UPDATE = BinAction("update", "update", public=True)
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
    return caller.account_id


def charge(storage: Storage, account_id: str, settings: Settings) -> Account:
    """Count one request against the account's allowance."""
    try:
        account = storage.accounts.charge(account_id)
    except ChargeRefused as refused:
        if refused.account is None:
            raise NotAllowed(NO_OWNER) from None
        if refused.account.blocked:
            raise NotAllowed(BLOCKED) from None
        requests_remaining.set(0)
        raise NotAllowed(
            f"Requests exhausted. Buy additional requests at {settings.pricing_url}"
        ) from None
    requests_remaining.set(account.requests_remaining)
    return account
