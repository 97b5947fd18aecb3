from __future__ import annotations

from openbin.models import KeyRecord
from openbin.storage.dynamo import flag, opt_s, s


class KeyRepository:
    def __init__(self, client, table: str) -> None:
        self._db = client
        self._table = table

    @property
    def table(self) -> str:
        return self._table

    @staticmethod
    def key(key_hash: str) -> dict:
        return {"keyHash": s(key_hash)}

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

    def put(self, record: KeyRecord) -> None:
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
        self._db.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(keyHash)"
        )
