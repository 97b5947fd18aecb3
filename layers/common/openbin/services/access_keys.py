"""docs/API.md §6 Access keys (master key only): create, list, delete."""

from __future__ import annotations

import json

import msgspec

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotAllowed, NotFound, OpenBinError, given
from openbin.keys import generate_key, hash_key
from openbin.models import PERMISSIONS, KeyRecord
from openbin.services import gate
from openbin.services.auth import Credentials
from openbin.storage import Storage
from openbin.storage.batch import Wanted
from openbin.storage.keys import KeyLimitReached
from openbin.validation import require_json_content_type

PERMISSIONS_SHAPE = (
    'You need to pass the permissions in the body as {"bins": {"create": true|false, '
    '"read": true|false, "update": true|false, "delete": true|false}}'
)
ACCESS_KEY_NOT_FOUND = "Access Key not found"


def parse_permissions(body: bytes) -> dict[str, bool]:
    try:
        value = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise InvalidRequest("Invalid JSON provided") from None
    bins = value.get("bins") if isinstance(value, dict) else None
    if (
        not isinstance(bins, dict)
        or set(value) != {"bins"}
        or not set(bins) <= set(PERMISSIONS)
        or not all(isinstance(v, bool) for v in bins.values())
    ):
        raise InvalidRequest(PERMISSIONS_SHAPE)
    return {p: bins.get(p, False) for p in PERMISSIONS}


class NewAccessKey(msgspec.Struct, frozen=True):
    """A key as made: the key itself, shown this once, and what is stored for it."""

    key: str
    record: KeyRecord


class AccessKeyService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def issue(self, account_id: str, name: str, permissions: dict[str, bool]) -> NewAccessKey:
        """Make an access key (the HTTP route and the CLI share this)."""
        key = generate_key(account_id)
        record = KeyRecord(
            key_hash=hash_key(key),
            account_id=account_id,
            kind="access",
            created_at=now_iso(),
            access_key_id=ids.new_id(),
            name=name,
            permissions=permissions,
        )
        limit = self.storage.settings.max_access_keys
        try:
            self.storage.keys.create_access_key(record, limit)
        except KeyLimitReached:
            raise NotAllowed(f"You can only create up to {limit} Access Keys") from None
        return NewAccessKey(key, record)

    def create(
        self,
        credentials: Credentials,
        name: str | OpenBinError,
        content_type: str | None,
        body: bytes,
    ) -> NewAccessKey:
        caller, _ = gate.open_account(self.storage, credentials)
        name = given(name)
        require_json_content_type(content_type)
        return self.issue(caller.account_id, name, parse_permissions(body))

    def list_for(self, credentials: Credentials) -> list[KeyRecord]:
        caller, _ = gate.open_account(self.storage, credentials)
        return self.storage.keys.access_keys_of(caller.account_id)

    def delete(self, credentials: Credentials, access_key_id: str) -> KeyRecord:
        """The access key that was deleted."""
        if not ids.is_id(access_key_id):
            raise InvalidRequest("Invalid Access Key Id provided")
        caller, found = gate.open_master(
            self.storage, credentials, Wanted(access_key_id=access_key_id)
        )
        alias = found.access_key
        if alias is None or alias.owner_id != caller.account_id:
            raise NotFound(ACCESS_KEY_NOT_FOUND)
        keys = self.storage.keys
        record = keys.find_access_key(alias)
        if record is None:
            raise NotFound(ACCESS_KEY_NOT_FOUND)
        gate.charge(self.storage, caller)
        if not keys.delete_access_key(record):
            raise NotFound(ACCESS_KEY_NOT_FOUND)
        return record
