"""CreateBinFunction: POST /v3/b."""

from openbin.api import bins
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.post("/v3/b")
def create_bin():
    return bins.create(app)


lambda_handler = entry_point(app)
