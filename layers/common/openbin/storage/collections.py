"""Collections: one item each, and the ByOwner index that lists an account's."""

from __future__ import annotations

import msgspec
import msgspec.structs
from botocore.exceptions import ClientError

from openbin.models import Collection
from openbin.storage.dynamo import (
    is_condition_failure,
    opt_s,
    query_all,
    s,
    update_existing,
)


class SchemaDocChanged(msgspec.Struct, frozen=True):
    collection: Collection  # as it is now
    previous: str | None  # the schema doc it had before


class CollectionRepository:
    def __init__(self, client, table: str) -> None:
        self._db = client
        self.table = table

    @staticmethod
    def key(collection_id: str) -> dict:
        return {"collectionId": s(collection_id)}

    @staticmethod
    def from_item(item: dict) -> Collection:
        return Collection(
            collection_id=item["collectionId"]["S"],
            owner_id=item["ownerId"]["S"],
            name=item["name"]["S"],
            created_at=item["createdAt"]["S"],
            schema_doc_id=opt_s(item, "schemaDocId"),
        )

    def get(self, collection_id: str) -> Collection | None:
        item = self._db.get_item(
            TableName=self.table, Key=self.key(collection_id), ConsistentRead=True
        ).get("Item")
        return self.from_item(item) if item else None

    def put(self, collection: Collection) -> None:
        item = {
            "collectionId": s(collection.collection_id),
            "ownerId": s(collection.owner_id),
            "name": s(collection.name),
            "createdAt": s(collection.created_at),
        }
        if collection.schema_doc_id:
            item["schemaDocId"] = s(collection.schema_doc_id)
        self._db.put_item(TableName=self.table, Item=item)

    def list_by_owner(self, owner_id: str) -> list[Collection]:
        items = query_all(
            self._db,
            TableName=self.table,
            IndexName="ByOwner",
            KeyConditionExpression="ownerId = :o",
            ExpressionAttributeValues={":o": s(owner_id)},
        )
        return [self.from_item(item) for item in items]

    def rename(self, collection_id: str, name: str) -> Collection | None:
        item = update_existing(
            self._db,
            self.table,
            self.key(collection_id),
            "SET #name = :name",
            {":name": s(name)},
            {"#name": "name"},
        )
        return self.from_item(item) if item else None

    def set_schema_doc(
        self, collection_id: str, schema_doc_id: str | None
    ) -> SchemaDocChanged | None:
        """Attach a schema doc (None: detach it); None when there is no such collection."""
        if schema_doc_id:
            expression, values = "SET schemaDocId = :sid", {":sid": s(schema_doc_id)}
        else:
            expression, values = "REMOVE schemaDocId", {}
        try:
            item = self._db.update_item(
                TableName=self.table,
                Key=self.key(collection_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(collectionId)",
                ReturnValues="ALL_OLD",
                **({"ExpressionAttributeValues": values} if values else {}),
            )["Attributes"]
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        before = self.from_item(item)
        after = msgspec.structs.replace(before, schema_doc_id=schema_doc_id or None)
        return SchemaDocChanged(after, before.schema_doc_id)
