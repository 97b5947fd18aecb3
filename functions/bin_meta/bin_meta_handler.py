"""BinMetaFunction: a bin's versions (list, count, delete) and its name and privacy."""

from openbin.api import bin_meta
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/b/<bin_id>/versions")
def list_versions(bin_id: str):
    return bin_meta.list_versions(app, bin_id)


@app.get("/v3/b/<bin_id>/versions/count")
def count_versions(bin_id: str):
    return bin_meta.count_versions(app, bin_id)


# After /versions/count: the resolver takes the first route that matches, in this order.
@app.get("/v3/b/<bin_id>/versions/<before>")
def list_versions_before(bin_id: str, before: str):
    return bin_meta.list_versions(app, bin_id, before)


@app.delete("/v3/b/<bin_id>/versions")
def delete_versions(bin_id: str):
    return bin_meta.delete_versions(app, bin_id)


@app.put("/v3/b/<bin_id>/meta/name")
def rename_bin(bin_id: str):
    return bin_meta.rename(app, bin_id)


@app.put("/v3/b/<bin_id>/meta/privacy")
def set_bin_privacy(bin_id: str):
    return bin_meta.set_privacy(app, bin_id)


lambda_handler = entry_point(app)
