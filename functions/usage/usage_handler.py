"""UsageFunction: GET /v3/usage, and the usage logs: GET /v3/l and GET /v3/l/{day}."""

from openbin.api import usage as api
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/usage")
def usage():
    return api.usage(app)


@app.get("/v3/l")
def usage_log_days():
    return api.log_days(app)


@app.get("/v3/l/<day>")
def usage_log_file(day: str):
    return api.log_file(app, day)


lambda_handler = entry_point(app)
