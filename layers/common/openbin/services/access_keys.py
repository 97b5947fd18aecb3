"""§6 Access keys (master key only) and §6b usage."""

from __future__ import annotations

import json

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotAllowed, NotFound
from openbin.keys import generate_key, hash_key
from openbin.models import PERMISSIONS, Account, KeyRecord
from openbin.services import auth
from openbin.services.access import open_master
from openbin.services.auth import Credentials
from openbin.storage import Storage
from openbin.storage.keys import KeyLimitReached
from openbin.validation import require_json_content_type

PERMISSIONS_SHAPE = (
    'You need to pass the permissions in the body as {"bins": {"create": true|false, '
    '"read": true|false, "update": true|false, "delete": true|false}}'
)


def check_key_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidRequest("You need to pass X-Key-Name header to set a name for the Access Key")
    if len(name) > 32:
        raise InvalidRequest("Name of the Access Key cannot be above 32 characters")
    return name


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


def key_permissions(record: KeyRecord) -> dict:
    return {"bins": {p: bool(record.permissions.get(p)) for p in PERMISSIONS}}


def usage(account: Account, storage: Storage) -> dict:
    return {
        "plan": account.plan,
        "requestsRemaining": account.requests_remaining,
        "recordSizeLimit": storage.settings.record_limit(account.plan),
        "bins": account.bins,
        "storedBytes": account.stored_bytes,
    }


class AccessKeyService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def issue(
        self, account_id: str, name: str, permissions: dict[str, bool]
    ) -> tuple[str, KeyRecord]:
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
            self.storage.keys.create_access_key(record, self.storage.settings.accounts_table, limit)
        except KeyLimitReached:
            raise NotAllowed(f"You can only create up to {limit} Access Keys") from None
        return key, record

    def create(
        self, credentials: Credentials, name: str | None, content_type: str | None, body: bytes
    ) -> tuple[dict, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        name = check_key_name(name)
        require_json_content_type(content_type)
        permissions = parse_permissions(body)
        key, record = self.issue(caller.account_id, name, permissions)
        answer = {
            "accessKey": key,
            "accessKeyId": record.access_key_id,
            "keyPermissions": key_permissions(record),
            "metadata": {"name": record.name, "createdAt": record.created_at},
        }
        return answer, account.requests_remaining

    def list(self, credentials: Credentials) -> tuple[list, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        listing = [
            {
                "accessKeyId": record.access_key_id,
                "keyPermissions": key_permissions(record),
                "metadata": {"name": record.name, "createdAt": record.created_at},
            }
            for record in self.storage.keys.access_keys_of(caller.account_id)
        ]
        return listing, account.requests_remaining

    def delete(self, credentials: Credentials, access_key_id: str) -> tuple[dict, int]:
        if not ids.is_id(access_key_id):
            raise InvalidRequest("Invalid Access Key Id provided")
        keys = self.storage.keys
        caller, found = open_master(
            self.storage, credentials, [(keys.table, keys.alias_key(access_key_id))]
        )
        alias = found[0]
        if not alias or alias["owner"]["S"] != caller.account_id:
            raise NotFound("Access Key not found")
        record = keys.find_access_key(alias)
        if record is None:
            raise NotFound("Access Key not found")
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        if not keys.delete_access_key(record, self.storage.settings.accounts_table):
            raise NotFound("Access Key not found")
        answer = {
            "metadata": {"id": access_key_id, "name": record.name},
            "message": "Access Key deleted successfully",
        }
        return answer, account.requests_remaining

    def usage(self, credentials: Credentials) -> tuple[dict, int]:
        caller, _ = open_master(self.storage, credentials)
        account = auth.charge(self.storage, caller.account_id, self.storage.settings)
        return usage(account, self.storage), account.requests_remaining
