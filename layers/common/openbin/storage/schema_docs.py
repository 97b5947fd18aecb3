"""Schema docs: one item each, the JSON Schema as text and a revision number (validators are
cached per revision)."""

from __future__ import annotations

from openbin.models import SchemaDoc
from openbin.storage.dynamo import get_n, n, s, update_existing


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

    def list_by_owner(self, owner_id: str) -> list[SchemaDoc]:
        """An account's schema docs (a Scan: the table has no index by owner; for the
        operator's ``openbin export``, never a request's path)."""
        docs: list[SchemaDoc] = []
        kwargs: dict = {
            "TableName": self.table,
            "FilterExpression": "ownerId = :owner",
            "ExpressionAttributeValues": {":owner": s(owner_id)},
            "ConsistentRead": True,
        }
        while True:
            page = self._db.scan(**kwargs)
            docs.extend(self.from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(docs, key=lambda d: (d.created_at, d.schema_doc_id))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

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
