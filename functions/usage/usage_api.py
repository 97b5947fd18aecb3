"""UsageFunction: GET /v3/usage."""

from openbin.api import access_keys
from openbin.api.http import build_resolver, lambda_handler

app = build_resolver()


@app.get("/v3/usage")
def usage():
    return access_keys.usage(app)


handler = lambda_handler(app)
