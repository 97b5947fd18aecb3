"""CreateBinFunction: POST /v3/b and POST /v3/xl/b."""

from openbin.api import bins
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.post("/v3/b")
def create_bin():
    return bins.create(app)


@app.post("/v3/xl/b")
def create_xl_bin():
    return bins.create_xl(app)


lambda_handler = entry_point(app)
