"""Keys at rest: only their hashes are stored, in any table."""

from __future__ import annotations

import pytest

from openbin.keys import hash_key
from openbin.services.accounts import AccountService


@pytest.mark.fresh_world  # reads every item of every table
def test_keys_table_holds_only_hashes(storage):
    service = AccountService(storage)
    account, master = service.create_account("free")
    access = service.create_access_key(account.account_id, "ci", {"read": True})
    items = storage.db.scan(TableName=storage.settings.keys_table)["Items"]
    dumped = repr(items)
    for key in (master, access.key):
        assert key not in dumped
        assert key[7:] not in dumped  # not even the random part
    by_hash = {item["keyHash"]["S"]: item for item in items}
    assert by_hash[hash_key(master)]["kind"] == {"S": "master"}
    assert by_hash[hash_key(access.key)]["kind"] == {"S": "access"}
    assert by_hash[hash_key(master)]["accountId"] == {"S": account.account_id}
    assert by_hash[hash_key(access.key)]["accountId"] == {"S": account.account_id}
    # No stored attribute in any table contains a key.
    settings = storage.settings
    tables = [
        getattr(settings, spec.name) for spec in settings.specs() if spec.name.endswith("_table")
    ]
    assert len(tables) >= 6
    for table in tables:
        stored = repr(storage.db.scan(TableName=table)["Items"])
        assert master not in stored
        assert access.key not in stored
