"""ReadBinFunction: GET /v3/b/{binId}, /v3/b/{binId}/latest, /v3/b/{binId}/{version} and
/v3/xl/b/{binId}."""

from openbin.api import bins
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/b/<bin_id>")
def read_bin(bin_id: str):
    return bins.read(app, bin_id)


@app.get("/v3/b/<bin_id>/<version>")
def read_bin_version(bin_id: str, version: str):
    return bins.read(app, bin_id, version)


@app.get("/v3/xl/b/<bin_id>")
def read_xl_bin(bin_id: str):
    return bins.read(app, bin_id)


lambda_handler = entry_point(app)
