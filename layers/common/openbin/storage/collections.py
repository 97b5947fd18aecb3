from __future__ import annotations

from openbin.models import Collection, SchemaDoc
from openbin.storage.dynamo import get_n, n, opt_s, s


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
