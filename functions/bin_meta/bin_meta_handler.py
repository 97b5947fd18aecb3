"""BinMetaFunction: a bin's versions (count, delete) and its name and privacy."""

from openbin.api import bin_meta
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/b/<bin_id>/versions/count")
def count_versions(bin_id: str):
    return bin_meta.count_versions(app, bin_id)


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
