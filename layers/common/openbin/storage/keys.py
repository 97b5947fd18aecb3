from __future__ import annotations

from botocore.exceptions import ClientError

from openbin.models import AccessKeyAlias, KeyRecord
from openbin.storage.dynamo import (
    cancellation_codes,
    flag,
    is_transaction_conflict,
    n,
    opt_s,
    query_all,
    s,
    write,
)

ALIAS = "accessKeyId#"  # items that map an access key id to its key's hash (never a hash)


class KeyLimitReached(Exception):
    pass


class KeyRepository:
    def __init__(self, client, table: str, accounts_table: str) -> None:
        self._db = client
        self.table = table
        self.accounts_table = accounts_table  # where each account counts its access keys

    @staticmethod
    def key(key_hash: str) -> dict:
        return {"keyHash": s(key_hash)}

    @classmethod
    def record_from(cls, item: dict | None) -> KeyRecord | None:
        """A key's record, or None for no item (or an alias item, which is not a key)."""
        return cls.from_item(item) if item and "kind" in item else None

    @staticmethod
    def alias_from_item(item: dict) -> AccessKeyAlias:
        return AccessKeyAlias(
            access_key_id=item["keyHash"]["S"].removeprefix(ALIAS),
            owner_id=item["owner"]["S"],
            key_hash=item["target"]["S"],
        )

    @staticmethod
    def from_item(item: dict) -> KeyRecord:
        perms = item.get("permissions", {}).get("M", {})
        return KeyRecord(
            key_hash=item["keyHash"]["S"],
            account_id=item["accountId"]["S"],
            kind=item["kind"]["S"],
            created_at=item["createdAt"]["S"],
            access_key_id=opt_s(item, "accessKeyId"),
            name=opt_s(item, "name"),
            permissions={name: value["BOOL"] for name, value in perms.items()},
        )

    def _item(self, record: KeyRecord) -> dict:
        item = {
            "keyHash": s(record.key_hash),
            "accountId": s(record.account_id),
            "kind": s(record.kind),
            "createdAt": s(record.created_at),
        }
        if record.access_key_id:
            item["accessKeyId"] = s(record.access_key_id)
        if record.name:
            item["name"] = s(record.name)
        if record.kind == "access":
            item["permissions"] = {"M": {k: flag(v) for k, v in record.permissions.items()}}
        return item

    def create_access_key(self, record: KeyRecord, limit: int) -> None:
        """Store an access key, its id alias, and count it on the account, in one transaction
        that refuses a key past ``limit`` (exact under concurrent creates)."""
        assert record.access_key_id is not None, "an access key has an id"
        try:
            write(
                self._db.transact_write_items,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": self._item(record),
                            "ConditionExpression": "attribute_not_exists(keyHash)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                "keyHash": s(ALIAS + record.access_key_id),
                                "target": s(record.key_hash),
                                "owner": s(record.account_id),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.accounts_table,
                            "Key": {"accountId": s(record.account_id)},
                            "UpdateExpression": "ADD accessKeys :one",
                            "ConditionExpression": (
                                "attribute_not_exists(accessKeys) OR accessKeys < :limit"
                            ),
                            "ExpressionAttributeValues": {":one": n(1), ":limit": n(limit)},
                        }
                    },
                ],
            )
        except ClientError as error:
            # the third item is the account's count: its condition is the limit
            codes = cancellation_codes(error)
            if is_transaction_conflict(error) and codes[2:3] == ["ConditionalCheckFailed"]:
                raise KeyLimitReached() from None
            raise

    def alias_key(self, access_key_id: str) -> dict:
        return self.key(ALIAS + access_key_id)

    def find_access_key(self, alias: AccessKeyAlias) -> KeyRecord | None:
        """The access key an alias points at (a consistent read)."""
        item = self._db.get_item(
            TableName=self.table, Key=self.key(alias.key_hash), ConsistentRead=True
        ).get("Item")
        return self.record_from(item)

    def delete_access_key(self, record: KeyRecord) -> bool:
        """Remove the key, its alias and its count; False when it was already gone."""
        assert record.access_key_id is not None, "an access key has an id"
        try:
            write(
                self._db.transact_write_items,
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.key(record.key_hash),
                            "ConditionExpression": "attribute_exists(keyHash)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self.alias_key(record.access_key_id),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.accounts_table,
                            "Key": {"accountId": s(record.account_id)},
                            "UpdateExpression": "ADD accessKeys :minus",
                            "ExpressionAttributeValues": {":minus": n(-1)},
                        }
                    },
                ],
            )
        except ClientError as error:
            if is_transaction_conflict(error) and cancellation_codes(error)[:1] == [
                "ConditionalCheckFailed"
            ]:
                return False
            raise
        return True

    def access_keys_of(self, account_id: str) -> list[KeyRecord]:
        items = query_all(
            self._db,
            TableName=self.table,
            IndexName="ByAccount",
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": s(account_id)},
        )
        keys = [self.from_item(i) for i in items if i.get("kind", {}).get("S") == "access"]
        return sorted(keys, key=lambda k: (k.created_at, k.access_key_id))

    def put(self, record: KeyRecord) -> None:
        self._db.put_item(
            TableName=self.table,
            Item=self._item(record),
            ConditionExpression="attribute_not_exists(keyHash)",
        )
