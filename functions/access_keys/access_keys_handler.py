"""AccessKeysFunction: /v3/a routes."""

from openbin.api import access_keys
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.post("/v3/a")
def create_access_key():
    return access_keys.create(app)


@app.get("/v3/a")
def list_access_keys():
    return access_keys.list_keys(app)


@app.delete("/v3/a/<access_key_id>")
def delete_access_key(access_key_id: str):
    return access_keys.delete(app, access_key_id)


lambda_handler = entry_point(app)
