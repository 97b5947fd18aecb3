"""UsageFunction: GET /v3/usage."""

from openbin.api import usage as api
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/usage")
def usage():
    return api.usage(app)


lambda_handler = entry_point(app)
