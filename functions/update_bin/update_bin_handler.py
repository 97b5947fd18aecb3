"""UpdateBinFunction: PUT and PATCH /v3/b/{binId}, POST /v3/b/{binId}/versions/{version}/restore."""

from openbin.api import bins
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.put("/v3/b/<bin_id>")
def update_bin(bin_id: str):
    return bins.update(app, bin_id)


@app.post("/v3/b/<bin_id>/versions/<version>/restore")
def restore_version(bin_id: str, version: str):
    return bins.restore(app, bin_id, version)


@app.patch("/v3/b/<bin_id>")
def patch_bin(bin_id: str):
    return bins.patch(app, bin_id)


lambda_handler = entry_point(app)
