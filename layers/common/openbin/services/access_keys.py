"""docs/API.md §6 Access keys (master key only): create, list, delete."""

from __future__ import annotations

import json

import msgspec

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotAllowed, NotFound, OpenBinError, check_given, given
from openbin.keys import generate_key, hash_key
from openbin.models import PERMISSIONS, KeyRecord
from openbin.services.auth import Credentials
from openbin.services.gate import MASTER_OPENING, MasterChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage
from openbin.storage.batch import Wanted
from openbin.storage.keys import KeyLimitReached
from openbin.validation import require_json_content_type

PERMISSIONS_SHAPE = (
    'You need to pass the permissions in the body as {"bins": {"create": true|false, '
    '"read": true|false, "update": true|false, "delete": true|false}}'
)
ACCESS_KEY_NOT_FOUND = "Access Key not found"

CREATE = Pipeline("POST /v3/a", S.KEY, S.ALLOWANCE, S.HEADERS)
LIST = Pipeline("GET /v3/a", S.KEY, S.ALLOWANCE)
DELETE = Pipeline("DELETE /v3/a/{accessKeyId}", *MASTER_OPENING)


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
        checks = MasterChecks(self.storage, credentials)
        permissions: list[dict[str, bool]] = []

        def check_headers() -> None:
            check_given(name)
            require_json_content_type(content_type)
            permissions.append(parse_permissions(body))

        checks.add(S.HEADERS, check_headers)
        return CREATE.run(
            checks, lambda: self.issue(checks.caller.account_id, given(name), permissions[0])
        )

    def list_for(self, credentials: Credentials) -> list[KeyRecord]:
        checks = MasterChecks(self.storage, credentials)
        return LIST.run(checks, lambda: self.storage.keys.access_keys_of(checks.caller.account_id))

    def delete(self, credentials: Credentials, access_key_id: str) -> KeyRecord:
        """The access key that was deleted."""
        readable = access_key_id if ids.is_id(access_key_id) else None
        checks = MasterChecks(self.storage, credentials, Wanted(access_key_id=readable))
        found: list[KeyRecord] = []

        def check_id() -> None:
            if not ids.is_id(access_key_id):
                raise InvalidRequest("Invalid Access Key Id provided")

        def check_resource() -> None:
            alias = checks.found.access_key
            if alias is None or alias.owner_id != checks.caller.account_id:
                raise NotFound(ACCESS_KEY_NOT_FOUND)
            record = self.storage.keys.find_access_key(alias)
            if record is None:
                raise NotFound(ACCESS_KEY_NOT_FOUND)
            found.append(record)

        checks.add(S.ID, check_id)
        checks.add(S.RESOURCE, check_resource)
        return DELETE.run(checks, lambda: self._delete(found[0]))

    def _delete(self, record: KeyRecord) -> KeyRecord:
        if not self.storage.keys.delete_access_key(record):
            raise NotFound(ACCESS_KEY_NOT_FOUND)
        return record
