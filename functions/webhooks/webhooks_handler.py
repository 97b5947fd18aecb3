"""WebhooksFunction: /v3/w routes."""

from openbin.api import webhooks
from openbin.api.http import build_resolver, entry_point

app = build_resolver()


@app.get("/v3/w")
def get_webhook():
    return webhooks.get(app)


@app.put("/v3/w")
def put_webhook():
    return webhooks.put(app)


@app.delete("/v3/w")
def reset_webhook():
    return webhooks.reset(app)


@app.post("/v3/w/secret")
def rotate_secret():
    return webhooks.rotate(app)


@app.get("/v3/w/deliveries")
def list_deliveries():
    return webhooks.deliveries(app)


@app.post("/v3/w/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str):
    return webhooks.retry(app, delivery_id)


lambda_handler = entry_point(app)
