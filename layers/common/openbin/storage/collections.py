from __future__ import annotations

from botocore.exceptions import ClientError

from openbin.models import Collection, SchemaDoc
from openbin.storage.dynamo import (
    get_n,
    is_condition_failure,
    n,
    opt_s,
    query_all,
    s,
    update_existing,
)


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

    def set_schema_doc(self, collection_id: str, schema_doc_id: str | None) -> Collection | None:
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
                ReturnValues="ALL_NEW",
                **({"ExpressionAttributeValues": values} if values else {}),
            )["Attributes"]
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return self.from_item(item)


class SchemaDocRepository:
    def __init__(self, client, table: str) -> None:
        self._db = client
        self.table = table

    @staticmethod
    def key(schema_doc_id: str) -> dict:
        return {"schemaDocId": s(schema_doc_id)}

    @staticmethod
    def from_item(item: dict) -> SchemaDoc:
        return SchemaDoc(
            schema_doc_id=item["schemaDocId"]["S"],
            owner_id=item["ownerId"]["S"],
            name=item["name"]["S"],
            schema=item["schema"]["S"],
            created_at=item["createdAt"]["S"],
            revision=get_n(item, "revision"),
        )

    def get(self, schema_doc_id: str) -> SchemaDoc | None:
        item = self._db.get_item(
            TableName=self.table, Key=self.key(schema_doc_id), ConsistentRead=True
        ).get("Item")
        return self.from_item(item) if item else None

    def put(self, doc: SchemaDoc) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                "schemaDocId": s(doc.schema_doc_id),
                "ownerId": s(doc.owner_id),
                "name": s(doc.name),
                "schema": s(doc.schema),
                "createdAt": s(doc.created_at),
                "revision": n(doc.revision),
            },
        )

    def replace_schema(self, schema_doc_id: str, schema: str) -> SchemaDoc | None:
        """A new revision of the schema (validators are cached per revision)."""
        item = update_existing(
            self._db,
            self.table,
            self.key(schema_doc_id),
            "SET #schema = :schema ADD revision :one",
            {":schema": s(schema), ":one": n(1)},
            {"#schema": "schema"},
        )
        return self.from_item(item) if item else None

    def rename(self, schema_doc_id: str, name: str) -> SchemaDoc | None:
        item = update_existing(
            self._db,
            self.table,
            self.key(schema_doc_id),
            "SET #name = :name",
            {":name": s(name)},
            {"#name": "name"},
        )
        return self.from_item(item) if item else None
