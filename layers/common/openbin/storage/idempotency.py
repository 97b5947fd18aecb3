"""What an idempotent create answered, kept under its Idempotency-Key (docs/API.md §3.11).

One item per (account, key): ``idemKey`` is ``<accountId>#<sha256 of the key>`` (a fixed-size
item key whatever the client sends, scoped to the account), holding the request's fingerprint
and the bin as first created. It is written in the create's own transaction (see
``BinRepository.create``), so a key names a bin exactly when that bin was made, and two
concurrent creates with one key cannot both succeed. ``expiresAt`` (epoch seconds) is the
table's TTL attribute; DynamoDB deletes expired items within days, not at once, so an expired
item still present is treated as absent, and may be written over.
"""

from __future__ import annotations

import hashlib

from openbin import clock
from openbin.models import Bin, RecordRef, RememberedCreate
from openbin.storage.dynamo import flag, get_n, n, opt_s, s


class AlreadyCreated(Exception):
    """The create's transaction was refused because its Idempotency-Key is already taken (by a
    concurrent create that won): nothing was written or charged; read the key's item."""


class IdempotencyRepository:
    def __init__(self, client, table: str) -> None:
        self._db = client
        self.table = table

    @staticmethod
    def key(account_id: str, idempotency_key: str) -> dict:
        digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
        return {"idemKey": s(f"{account_id}#{digest}")}

    @staticmethod
    def from_item(item: dict) -> RememberedCreate | None:
        """The remembered create, or None once it has expired (TTL deletes items late)."""
        expires_at = get_n(item, "expiresAt")
        if expires_at <= clock.epoch():
            return None
        account_id = item["idemKey"]["S"].partition("#")[0]
        bin = Bin(
            bin_id=item["binId"]["S"],
            owner_id=account_id,
            private=item["private"]["BOOL"],
            created_at=item["createdAt"]["S"],
            latest_version=0,
            record=RecordRef(size=get_n(item, "size")),
            revision=item["rev"]["S"],
            name=opt_s(item, "name"),
            collection_id=opt_s(item, "collectionId"),
        )
        return RememberedCreate(
            idempotency_key="",  # never stored: the item is found by its hash
            request_hash=item["requestHash"]["S"],
            bin=bin,
            expires_at=expires_at,
        )

    def get(self, account_id: str, idempotency_key: str) -> RememberedCreate | None:
        item = self._db.get_item(
            TableName=self.table, Key=self.key(account_id, idempotency_key), ConsistentRead=True
        ).get("Item")
        return self.from_item(item) if item else None

    def put_item(self, remembered: RememberedCreate) -> dict:
        """The transaction item that takes the key, unless a live item holds it already."""
        bin = remembered.bin
        assert bin.owner_id is not None, "an idempotent create has an account"
        item = {
            **self.key(bin.owner_id, remembered.idempotency_key),
            "requestHash": s(remembered.request_hash),
            "binId": s(bin.bin_id),
            "private": flag(bin.private),
            "createdAt": s(bin.created_at),
            "rev": s(bin.revision),
            "size": n(bin.record.size),
            "expiresAt": n(remembered.expires_at),
        }
        if bin.name is not None:
            item["name"] = s(bin.name)
        if bin.collection_id:
            item["collectionId"] = s(bin.collection_id)
        return {
            "Put": {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(idemKey) OR expiresAt <= :now",
                "ExpressionAttributeValues": {":now": n(clock.epoch())},
            }
        }
