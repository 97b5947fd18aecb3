"""A pro-sized record (900 KB, in S3) through the real handlers, byte for byte."""

from __future__ import annotations

import json

from tests.seed import realistic_record


def test_pro_record_through_the_handlers(handler_api, storage):
    account = handler_api.account(plan="pro")
    record = realistic_record(900_000, seed=11)
    made = handler_api.post("/v3/b", record, {"X-Master-Key": account.key})
    assert made.status == 200
    bin_id = made.json()["metadata"]["id"]
    assert storage.bins.get(bin_id).record.s3_key is not None
    read = handler_api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert read.status == 200
    assert read.json() == record
    assert read.body == json.dumps(record).encode()
