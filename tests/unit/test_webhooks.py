"""The webhook delivery's parts (openbin.webhooks): JSONBin's bodies, Standard Webhooks
signatures (verified with the specification's own library), the retry schedule. Sending, on
real sockets: tests/handler/test_webhook_sending.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from openbin.webhooks import bodies, schedule, signing

RECORD = b'{"n": 1e400, "price": 2.50,  "s": "\xc3\xa9"}'
BIN = "6b1752aacecd509601608a93"


# -- bodies ------------------------------------------------------------------------------------
def test_create_body_is_jsonbins_with_the_record_as_stored():
    body = bodies.create(BIN, RECORD, private=True, name="orders", collection_id="c" * 24)
    assert body.startswith(b'{"data":' + RECORD + b",")
    parsed = json.loads(body)
    assert parsed == {
        "data": {"n": float("inf"), "price": 2.5, "s": "é"},
        "id": BIN,
        "collectionID": "c" * 24,
        "private": True,
        "binName": "orders",
        "webhookInfo": {"requestType": "create", "recordType": "bin"},
    }
    public = json.loads(bodies.create(BIN, b"[]", private=False, name=None, collection_id=None))
    assert public == {
        "data": [],
        "id": BIN,
        "webhookInfo": {"requestType": "create", "recordType": "bin"},
    }


def test_update_and_delete_bodies_are_jsonbins():
    versioned = json.loads(bodies.update(BIN, b'{"a":1}', version=3, versioned=True))
    assert versioned == {
        "data": {"a": 1},
        "parentId": BIN,
        "version": 3,
        "webhookInfo": {"requestType": "update", "recordType": "bin"},
    }
    in_place = json.loads(bodies.update(BIN, b'{"a":1}', version=3, versioned=False))
    assert in_place["versioning"] is False and in_place["version"] == 3
    assert json.loads(bodies.delete(BIN, 4)) == {
        "id": BIN,
        "message": f"Bin {BIN} is deleted successfully. 4 versions removed.",
        "webhookInfo": {"requestType": "delete", "recordType": "bin"},
    }


# -- signing -----------------------------------------------------------------------------------
def test_signatures_verify_with_the_standard_webhooks_library():
    old, new = signing.new_secret(), signing.new_secret()
    assert old.startswith("whsec_") and old != new
    body = bodies.update(BIN, RECORD, 1, True)
    headers = signing.headers("msg_1", body, [new, old])
    assert headers["webhook-id"] == "msg_1"
    for key in (new, old):  # a receiver that knows either secret accepts it (rotation)
        assert Webhook(key).verify(body, headers, json_parse=False) is None
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)
    stale = signing.headers("msg_1", body, [new], now=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(new).verify(body, stale)


# -- schedule ----------------------------------------------------------------------------------
def test_the_schedule_is_standard_webhooks_with_jitter_and_lasts_a_day():
    assert schedule.attempts() == 8
    assert sum(schedule.SCHEDULE) > 24 * 3600
    for failures, base in enumerate(schedule.SCHEDULE, start=1):
        pauses = {schedule.pause_after(failures) for _ in range(20)}
        assert all(p is not None and 0.9 * base <= p <= 1.1 * base for p in pauses)
        assert len(pauses) > 1  # jittered
    assert schedule.pause_after(len(schedule.SCHEDULE) + 1) is None
    assert schedule.pause_after(0) is None
