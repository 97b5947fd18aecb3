"""JSONPath reads through the real handlers: bounded answers, and lone surrogates still answered as
UTF-8 JSON."""

from __future__ import annotations

import json
import time

from tests.unit.test_jsonpath import INVALID, assert_within_safety_bound, chain


def test_matches_cannot_amplify_a_small_record(handler_api):
    account = handler_api.account()
    record = chain(100, "a" * 10_000)
    bin_id = handler_api.create_bin(account, record)
    started = time.perf_counter()
    reply = handler_api.get(
        f"/v3/b/{bin_id}", {"X-Master-Key": account.key, "X-JSON-Path": "$..*..*"}
    )
    elapsed = time.perf_counter() - started
    # Unbounded, the answer would be ~49 MB: over Lambda's 6 MB response limit.
    assert len(reply.body) < 6 * 1024 * 1024
    assert (reply.status, reply.json()) == (400, {"message": INVALID})
    assert_within_safety_bound(elapsed)
    single = handler_api.get(
        f"/v3/b/{bin_id}", {"X-Master-Key": account.key, "X-JSON-Path": "$..p"}
    )
    assert (single.status, single.json()["records"]) == (200, ["a" * 10_000])


def strict_json(data: bytes):
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def test_matches_with_lone_surrogates_are_utf8_json(handler_api):
    account = handler_api.account()
    made = handler_api.post(
        "/v3/b",
        '["\\ud800", {"s": "\\udfff"}]',
        {"X-Master-Key": account.key, "Content-Type": "application/json"},
    )
    assert made.status == 200
    bin_id = made.json()["metadata"]["id"]
    plain = handler_api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert (plain.status, plain.body) == (200, b'["\\ud800", {"s": "\\udfff"}]')
    reply = handler_api.get(
        f"/v3/b/{bin_id}", {"X-Master-Key": account.key, "X-JSON-Path": "$[1].s"}
    )
    assert reply.status == 200
    assert strict_json(reply.body)["records"] == ["\udfff"]
