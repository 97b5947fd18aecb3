"""docs/API.md §11: webhooks, at both levels (through the handlers, the event sources pumped on
the test's thread; over HTTP, against openbin serve, whose event sources run in a thread):
the settings routes and their refusals, and every change of a bin delivered to a receiver on
127.0.0.1 in JSONBin's shapes, signed (verified with the standardwebhooks library)."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from openbin import storage as storage_module
from openbin_local.sources import EventSources
from tests.handler.test_webhook_sending import Receiver

SHAPE = (
    'You need to pass {"url": "https://…", "events": ["create", "update", "delete"], '
    '"paused": false} in the body'
)
NOT_SET = "No webhook is set"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def settle(api, request, monkeypatch):
    """``settle(receiver, n)``: until the receiver has ``n`` deliveries (or 15 s pass)."""
    if api.level == "handler":
        monkeypatch.setenv("OPENBIN_WEBHOOK_ALLOW_PRIVATE", "1")  # openbin serve's default
        storage_module.reset()
        aws = request.getfixturevalue("aws")
        sources = EventSources(api.runner, aws.names, interval=0.01)

        def pump(receiver, n: int, seconds: float = 15) -> None:
            deadline = time.monotonic() + seconds
            while len(receiver.got) < n and time.monotonic() < deadline:
                sources.pump(seconds=1)
                time.sleep(0.01)

        yield pump
        sources.stop()
        storage_module.reset()
    else:

        def wait(receiver, n: int, seconds: float = 15) -> None:
            deadline = time.monotonic() + seconds
            while len(receiver.got) < n and time.monotonic() < deadline:
                time.sleep(0.05)

        yield wait


def put(api, owner, body, headers=JSON):
    return api.request("PUT", "/v3/w", {"X-Master-Key": owner.key, **headers}, body)


def test_settings_lifecycle(api, owner):
    key = {"X-Master-Key": owner.key}
    assert (api.get("/v3/w", key).status, api.get("/v3/w", key).message) == (404, NOT_SET)
    made = put(api, owner, {"url": "https://hooks.example.com/in", "events": ["create"]})
    assert made.status == 200, made.body
    first = made.json()
    assert first["secret"].startswith("whsec_")
    assert (first["url"], first["events"], first["paused"]) == (
        "https://hooks.example.com/in",
        ["create"],
        False,
    )
    shown = api.get("/v3/w", key).json()
    assert "secret" not in shown and shown["secretCreatedAt"] == first["secretCreatedAt"]
    again = put(api, owner, {"url": "https://hooks.example.com/other", "paused": True}).json()
    assert "secret" not in again  # the secret is kept
    assert again["events"] == ["create", "update", "delete"] and again["paused"] is True
    rotated = api.post("/v3/w/secret", None, key)
    assert rotated.status == 200
    assert rotated.json()["secret"] != first["secret"]
    assert rotated.json()["previousSecretRetiresAt"].endswith("Z")
    reset = api.request("DELETE", "/v3/w", key)
    assert (reset.status, reset.json()) == (200, {"message": "Webhook settings reset"})
    for method, path in (("GET", "/v3/w"), ("DELETE", "/v3/w"), ("POST", "/v3/w/secret")):
        gone = api.request(method, path, key)
        assert (gone.status, gone.message) == (404, NOT_SET)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"events": ["create"]}, SHAPE),
        ({"url": 5}, SHAPE),
        ({"url": "https://a.example", "extra": 1}, SHAPE),
        ({"url": "https://a.example", "paused": "no"}, SHAPE),
        ([], SHAPE),
        (
            {"url": "https://a.example", "events": []},
            "events must be one or more of create, update, delete, each once",
        ),
        (
            {"url": "https://a.example", "events": ["read"]},
            "events must be one or more of create, update, delete, each once",
        ),
        (
            {"url": "https://a.example", "events": ["create", "create"]},
            "events must be one or more of create, update, delete, each once",
        ),
        ({"url": "ftp://a.example/"}, "Invalid webhook URL: the URL must be http(s)"),
        (
            {"url": "https://user:pw@a.example/"},
            "Invalid webhook URL: the URL must name a host, without a user name or password",
        ),
        (
            {"url": "https://a.example/" + "x" * 2048},
            "The webhook URL cannot be above 2048 characters",
        ),
    ],
)
def test_settings_refusals(api, owner, body, message, settle):
    reply = put(api, owner, body)
    assert (reply.status, reply.message) == (400, message)


def test_a_body_that_is_not_json_and_the_wrong_key(api, owner):
    assert put(api, owner, b"{", JSON).message == "Invalid JSON provided"
    assert put(api, owner, b'{"url": "https://a.example"}', {}).status == 400
    reader = api.access_key(owner, "read", "create", "update", "delete")
    refused = api.get("/v3/w", {"X-Access-Key": reader})
    assert (refused.status, refused.message) == (401, "You need to pass X-Master-Key in the header")


def test_a_delivery_that_is_not_there(api, owner):
    key = {"X-Master-Key": owner.key}
    bad = api.post("/v3/w/deliveries/nope/retry", None, key)
    assert (bad.status, bad.message) == (400, "Invalid Delivery Id provided")
    missing = api.post(f"/v3/w/deliveries/{'0' * 24}/retry", None, key)
    assert (missing.status, missing.message) == (404, "Delivery not found")
    assert api.get("/v3/w/deliveries", key).json() == []


def _received(receiver, secret: str) -> list[dict]:
    """Each delivery's body, its signature verified."""
    out = []
    for _, headers, body in receiver.got:
        Webhook(secret).verify(body, headers, json_parse=False)
        out.append({"id": headers["webhook-id"], "body": body})
    return out


def test_every_change_is_delivered_in_jsonbins_shapes_and_signed(api, owner, receiver, settle):
    key = {"X-Master-Key": owner.key}
    secret = put(api, owner, {"url": receiver.url}).json()["secret"]
    record = b'{"n": 1e400, "s": "\xc3\xa9"}'
    made = api.post("/v3/b", record, {**key, **JSON, "X-Bin-Name": "hooked"})
    bin_id = made.json()["metadata"]["id"]
    settle(receiver, 1)
    versioned = {**key, **JSON, "X-Bin-Versioning": "true"}
    assert api.request("PUT", f"/v3/b/{bin_id}", versioned, {"v": 1}).status == 200
    settle(receiver, 2)
    assert api.request("PUT", f"/v3/b/{bin_id}", {**key, **JSON}, {"v": 2}).status == 200
    settle(receiver, 3)
    # the same record again is an update too (it was written: a new revision)
    assert api.request("PUT", f"/v3/b/{bin_id}", {**key, **JSON}, {"v": 2}).status == 200
    settle(receiver, 4)
    receiver.got.pop(3)
    merge = {**key, "Content-Type": "application/merge-patch+json"}
    assert api.request("PATCH", f"/v3/b/{bin_id}", merge, {"p": True}).status == 200
    settle(receiver, 4)
    renamed = api.request("PUT", f"/v3/b/{bin_id}/meta/name", {**key, "X-Bin-Name": "r"})
    assert renamed.status == 200  # sends nothing
    assert api.request("DELETE", f"/v3/b/{bin_id}", key).status == 200
    settle(receiver, 5)
    got = _received(receiver, secret)
    info = lambda kind: {"requestType": kind, "recordType": "bin"}  # noqa: E731
    assert got[0]["body"] == (
        b'{"data":' + record + b',"id":"' + bin_id.encode() + b'","private":true,'
        b'"binName":"hooked","webhookInfo":{"requestType":"create","recordType":"bin"}}'
    )
    assert [json.loads(g["body"]) for g in got[1:]] == [
        {"data": {"v": 1}, "parentId": bin_id, "version": 1, "webhookInfo": info("update")},
        {
            "data": {"v": 2},
            "parentId": bin_id,
            "version": 1,
            "versioning": False,
            "webhookInfo": info("update"),
        },
        {
            "data": {"v": 2, "p": True},
            "parentId": bin_id,
            "version": 1,
            "versioning": False,
            "webhookInfo": info("update"),
        },
        {
            "id": bin_id,
            "message": f"Bin {bin_id} is deleted successfully. 1 versions removed.",
            "webhookInfo": info("delete"),
        },
    ]
    assert len({g["id"] for g in got}) == 5
    listed = api.get("/v3/w/deliveries", key).json()
    assert [d["event"] for d in listed] == ["delete", *["update"] * 4, "create"]
    assert all(d["state"] == "delivered" and d["lastStatus"] == 200 for d in listed)
    # sent again on request: the same body and webhook-id
    again = api.post(f"/v3/w/deliveries/{listed[-1]['id']}/retry", None, key)
    assert again.status == 200 and again.json()["state"] == "pending"
    settle(receiver, 6)
    assert _received(receiver, secret)[5] == got[0]


def test_a_rotation_keeps_one_previous_secret(api, owner, receiver, settle):
    key = {"X-Master-Key": owner.key}
    first = put(api, owner, {"url": receiver.url}).json()["secret"]
    second = api.post("/v3/w/secret", None, key).json()["secret"]
    third = api.post("/v3/w/secret", None, key).json()["secret"]
    api.create_bin(owner, {"signed": "twice"})
    settle(receiver, 1)
    _, headers, body = receiver.got[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for live in (third, second):  # the new one, and the one it replaced
        Webhook(live).verify(body, headers, json_parse=False)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(first).verify(body, headers, json_parse=False)


def test_paused_and_filtered_events_send_nothing(api, owner, receiver, settle):
    key = {"X-Master-Key": owner.key}
    put(api, owner, {"url": receiver.url, "paused": True})
    bin_id = api.create_bin(owner, {"a": 1})
    put(api, owner, {"url": receiver.url, "events": ["delete"]})
    assert api.request("PUT", f"/v3/b/{bin_id}", {**key, **JSON}, {"a": 2}).status == 200
    assert api.request("DELETE", f"/v3/b/{bin_id}", key).status == 200
    settle(receiver, 1)
    settle(receiver, 2, seconds=1.5)  # nothing more comes
    assert [json.loads(body)["webhookInfo"]["requestType"] for _, _, body in receiver.got] == [
        "delete"
    ]
