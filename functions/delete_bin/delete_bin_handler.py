"""DeleteBinFunction: DELETE /v3/b/{binId} and /v3/xl/b/{binId}."""

from openbin.api import bins
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.delete("/v3/b/<bin_id>")
def delete_bin(bin_id: str):
    return bins.delete(app, bin_id)


@app.delete("/v3/xl/b/<bin_id>")
def delete_xl_bin(bin_id: str):
    return bins.delete(app, bin_id)


lambda_handler = entry_point(app)
