"""CollectionsFunction: /v3/c routes."""

from openbin.api import collections as api
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.post("/v3/c")
def create_collection():
    return api.create_collection(app)


@app.get("/v3/c")
def list_collections():
    return api.list_collections(app)


@app.put("/v3/c/<collection_id>/meta/name")
def rename_collection(collection_id: str):
    return api.rename_collection(app, collection_id)


@app.get("/v3/c/<collection_id>/bins")
def collection_bins(collection_id: str):
    return api.collection_bins(app, collection_id)


@app.get("/v3/c/<collection_id>/bins/<last_bin_id>")
def collection_bins_after(collection_id: str, last_bin_id: str):
    return api.collection_bins(app, collection_id, last_bin_id)


@app.put("/v3/c/<collection_id>/schemadoc/add")
def attach_schema_doc(collection_id: str):
    return api.attach_schema_doc(app, collection_id)


@app.put("/v3/c/<collection_id>/schemadoc/remove")
def detach_schema_doc(collection_id: str):
    return api.detach_schema_doc(app, collection_id)


lambda_handler = entry_point(app)
