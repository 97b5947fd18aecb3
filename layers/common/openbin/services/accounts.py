"""Operator actions on accounts and keys (used by the ``openbin`` CLI and by tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openbin import ids
from openbin.clock import now_iso
from openbin.errors import InvalidRequest, NotFound
from openbin.keys import generate_key, hash_key
from openbin.models import PERMISSIONS, PLANS, Account, Collection, KeyRecord, SchemaDoc
from openbin.storage import Storage

if TYPE_CHECKING:
    from openbin.services.access_keys import NewAccessKey


class AccountService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.settings = storage.settings

    def create_account(
        self, plan: str = "free", requests: int | None = None
    ) -> tuple[Account, str]:
        """A new account and its master key (shown only now; only its hash is stored)."""
        self._check_plan(plan)
        if requests is not None and requests < 0:
            raise InvalidRequest("requests must be zero or more")
        account = Account(
            account_id=ids.new_id(),
            plan=plan,
            requests_remaining=self.settings.plan_requests(plan) if requests is None else requests,
            created_at=now_iso(),
        )
        self.storage.accounts.create(account)
        master = generate_key(account.account_id)
        self.storage.keys.put(
            KeyRecord(
                key_hash=hash_key(master),
                account_id=account.account_id,
                kind="master",
                created_at=account.created_at,
            )
        )
        return account, master

    def get(self, account_id: str) -> Account:
        account = self.storage.accounts.get(account_id) if ids.is_id(account_id) else None
        if account is None:
            raise NotFound("Account not found")
        return account

    def set_plan(self, account_id: str, plan: str) -> Account:
        self._check_plan(plan)
        return self._found(self.storage.accounts.set_plan(account_id, plan))

    def add_requests(self, account_id: str, count: int) -> Account:
        if count <= 0:
            raise InvalidRequest("The number of requests to add must be positive")
        return self._found(self.storage.accounts.add_requests(account_id, count))

    def set_blocked(self, account_id: str, blocked: bool) -> Account:
        return self._found(self.storage.accounts.set_blocked(account_id, blocked))

    def create_access_key(
        self, account_id: str, name: str, permissions: dict[str, bool]
    ) -> NewAccessKey:
        from openbin.services.access_keys import AccessKeyService

        self.get(account_id)  # ``name`` was checked by the operator's command
        unknown = set(permissions) - set(PERMISSIONS)
        if unknown:
            raise InvalidRequest(f"Unknown permissions: {', '.join(sorted(unknown))}")
        return AccessKeyService(self.storage).issue(
            account_id, name, {p: bool(permissions.get(p)) for p in PERMISSIONS}
        )

    # Collections and schema docs get their HTTP routes in a later release; until then the
    # CLI-free way to make them is this service (tests use it).
    def create_collection(
        self, account_id: str, name: str, schema_doc_id: str | None = None
    ) -> Collection:
        collection = Collection(ids.new_id(), account_id, name, now_iso(), schema_doc_id)
        self.storage.collections.put(collection)
        return collection

    def create_schema_doc(self, account_id: str, name: str, schema_json: str) -> SchemaDoc:
        doc = SchemaDoc(ids.new_id(), account_id, name, schema_json, now_iso())
        self.storage.schema_docs.put(doc)
        return doc

    @staticmethod
    def _check_plan(plan: str) -> None:
        if plan not in PLANS:
            raise InvalidRequest(f"Unknown plan {plan!r}: choose one of {', '.join(PLANS)}")

    @staticmethod
    def _found(account: Account | None) -> Account:
        if account is None:
            raise NotFound("Account not found")
        return account
