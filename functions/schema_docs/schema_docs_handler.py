"""SchemaDocsFunction: /v3/s routes."""

from openbin.api import schema_docs as api
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.post("/v3/s")
def create_schema_doc():
    return api.create_schema_doc(app)


@app.get("/v3/s/<schema_doc_id>")
def get_schema_doc(schema_doc_id: str):
    return api.get_schema_doc(app, schema_doc_id)


@app.put("/v3/s/<schema_doc_id>")
def replace_schema_doc(schema_doc_id: str):
    return api.replace_schema_doc(app, schema_doc_id)


@app.put("/v3/s/<schema_doc_id>/meta/name")
def rename_schema_doc(schema_doc_id: str):
    return api.rename_schema_doc(app, schema_doc_id)


lambda_handler = entry_point(app)
