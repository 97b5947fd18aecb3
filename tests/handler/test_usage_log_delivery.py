"""Usage-log lines on their way, as AWS runs it (issue 25): CloudWatch Logs invokes the writer
asynchronously, Lambda retries a failed invocation twice and then sends the event to the
on-failure destination (the UsageLogFailures queue), and a busy day (100,000 lines in 200
deliveries) is downloaded within Lambda's response limit and API Gateway's 30 s."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from openbin.api import usage_log
from openbin.storage.usage_logs import UsageLogStore
from openbin_local.runtime import LogSubscriptions

pytestmark = pytest.mark.timeout(300)


def lines_for(account_id: str, count: int, day: datetime) -> list[dict]:
    stamp = day.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        {
            "accountId": account_id,
            "time": stamp,
            "requestId": str(uuid.uuid4()),
            "method": "GET",
            "path": "/v3/b/6b1735270de0318c72aafcf9",
            "status": 200,
            "sourceIp": "203.0.113.9",
            "userAgent": "python-requests/2.32",
            "keyKind": "master",
            "binId": "6b1735270de0318c72aafcf9",
        }
        for _ in range(count)
    ]


def queued(aws) -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=aws.names["UsageLogFailures"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def test_a_failing_delivery_is_retried_twice_then_queued(handler_api, aws, monkeypatch):
    account = handler_api.account()
    queued(aws)  # nothing left from before
    attempts = []

    def broken(self, account_id, day, lines):
        attempts.append(account_id)
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(UsageLogStore, "append", broken)
    subscriptions = LogSubscriptions(handler_api.runner, delay=None)
    subscriptions._deliver(
        "UsageLogWriterFunction", lines_for(account.account_id, 3, datetime.now(UTC))
    )
    assert len(attempts) == 3  # the invocation and Lambda's two retries
    (failure,) = queued(aws)
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert usage_log.lines_of(failure["requestPayload"])[0]["accountId"] == account.account_id


def test_a_delivery_that_succeeds_on_a_retry_is_not_queued(handler_api, aws, monkeypatch):
    account = handler_api.account()
    queued(aws)
    original = UsageLogStore.append
    attempts = []

    def flaky(self, account_id, day, lines):
        attempts.append(account_id)
        if len(attempts) == 1:
            raise RuntimeError("a blip")
        return original(self, account_id, day, lines)

    monkeypatch.setattr(UsageLogStore, "append", flaky)
    subscriptions = LogSubscriptions(handler_api.runner, delay=None)
    subscriptions._deliver(
        "UsageLogWriterFunction", lines_for(account.account_id, 3, datetime.now(UTC))
    )
    assert len(attempts) == 2 and queued(aws) == []


def test_an_event_past_256_kb_is_delivered_in_parts(handler_api, aws):
    """Lambda refuses an asynchronous event over 256 KB: the runtime splits a large batch."""
    account = handler_api.account()
    subscriptions = LogSubscriptions(handler_api.runner, delay=None)
    many = lines_for(account.account_id, 20_000, datetime.now(UTC))
    for line in many:
        line["requestId"] = uuid.uuid4().hex * 4  # little to compress
    subscriptions._deliver("UsageLogWriterFunction", many)
    assert queued(aws) == []
    day = datetime.now(UTC).date()
    assert len(
        UsageLogStore(aws.s3, aws.names["RecordsBucket"]).lines(account.account_id, day)
    ) == (20_000)


@pytest.mark.fresh_world  # 200 objects of its own
def test_a_day_of_100000_lines_is_downloaded_within_the_limits(handler_api, aws):
    account = handler_api.account()
    now = datetime.now(UTC)
    subscriptions = LogSubscriptions(handler_api.runner, delay=None)
    for _ in range(200):
        subscriptions._deliver("UsageLogWriterFunction", lines_for(account.account_id, 500, now))
    started = time.monotonic()
    reply = handler_api.get(f"/v3/l/{now:%d-%m-%Y}", {"X-Master-Key": account.key})
    elapsed = time.monotonic() - started
    assert reply.status == 200, reply.body  # the runtime enforced 6,291,556 bytes and 30 s
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(reply.body)) as archive:
        (name,) = archive.namelist()
        rows = archive.read(name).decode().splitlines()
    assert len(rows) == 100_001  # the header and every line
    print(f"100,000 lines in 200 files: {elapsed:.2f} s, zip {len(reply.body)} bytes")
