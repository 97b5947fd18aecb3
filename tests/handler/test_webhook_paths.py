"""The webhook delivery's other paths, on the emulated storage: a delivery that is gone or done,
a refused receiver, a schedule spent, a batch handed over again, a storage failure mid-batch, an
unreadable queue message; and the $default function's forwarding when the invoke fails."""

from __future__ import annotations

import io
import json

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from openbin import storage as storage_module
from openbin.api import forwarding, webhook_events
from openbin.clock import now_iso
from openbin.models import Delivery, WebhookSecret, WebhookSettings
from openbin.services import webhook_delivery
from tests.handler.test_webhook_sending import Receiver

ACCOUNT = "6b1700000000000000000001"


def hooked(storage, url: str, paused: bool = False) -> None:
    storage.webhooks.put(
        WebhookSettings(
            ACCOUNT,
            url,
            ("create", "update", "delete"),
            paused,
            (WebhookSecret("whsec_" + "A" * 44, now_iso()),),
            now_iso(),
        )
    )


def delivery(delivery_id: str, state: str = "pending", attempts: int = 0) -> Delivery:
    return Delivery(ACCOUNT, delivery_id, "delete", "b" * 24, now_iso(), state, attempts, 2**31)


@pytest.fixture
def store(aws, monkeypatch):
    monkeypatch.setenv("OPENBIN_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("OPENBIN_WEBHOOK_SCHEDULE", "1")
    storage_module.reset()
    yield storage_module.get_storage()
    storage_module.reset()


def test_a_delivery_gone_or_done_is_not_sent(store):
    assert webhook_delivery.send(store, ACCOUNT, "0" * 24).done
    store.webhooks.add_delivery(delivery("1" * 24, state="delivered"), b"{}")
    assert webhook_delivery.send(store, ACCOUNT, "1" * 24).done


def test_a_spent_schedule_makes_it_dead_and_a_refusal_at_once(store):
    receiver = Receiver()
    receiver.status = 500
    try:
        hooked(store, receiver.url)
        store.webhooks.add_delivery(delivery("2" * 24), b'{"id": 1}')
        first = webhook_delivery.send(store, ACCOUNT, "2" * 24)
        assert (first.done, first.pause) == (False, 1)
        assert webhook_delivery.send(store, ACCOUNT, "2" * 24).done  # the schedule had one pause
        dead, _ = store.webhooks.get_delivery(ACCOUNT, "2" * 24)
        assert (dead.state, dead.attempts, dead.last_status) == ("dead", 2, 500)
        hooked(store, "ftp://nowhere.example/")
        store.webhooks.add_delivery(delivery("3" * 24), b"{}")
        assert webhook_delivery.send(store, ACCOUNT, "3" * 24).done
        refused, _ = store.webhooks.get_delivery(ACCOUNT, "3" * 24)
        assert refused.state == "dead" and refused.last_error.startswith("refused: ")
        assert (ACCOUNT, "3" * 24) not in store.webhooks.pending()
    finally:
        receiver.close()


def _record(sequence: str, bin_id: str = "c" * 24) -> dict:
    image = {
        "binId": {"S": bin_id},
        "ownerId": {"S": ACCOUNT},
        "private": {"BOOL": True},
        "createdAt": {"S": now_iso()},
        "latestVersion": {"N": "0"},
        "rev": {"S": "r1"},
        "size": {"N": "2"},
        "rec": {"B": "KLUv/SACEQAAe30="},
    }
    return {
        "eventID": f"event-{sequence}",
        "eventName": "REMOVE",
        "dynamodb": {
            "ApproximateCreationDateTime": 1.7e9,
            "OldImage": image,
            "SequenceNumber": sequence,
        },
    }


def test_a_batch_stops_at_its_first_failure_and_a_batch_again_queues_nothing_twice(
    store, monkeypatch
):
    hooked(store, "http://127.0.0.1:9/")
    queued: list[str] = []
    monkeypatch.setattr(
        type(store.webhooks), "enqueue", lambda self, a, d, delay=0: queued.append(d)
    )
    assert webhook_delivery.dispatch(store, [_record("1")]) == []
    assert webhook_delivery.dispatch(store, [_record("1")]) == []  # handed over again
    assert len(queued) == 2  # not tried yet: queued again, the same delivery
    made = queued[0]
    store.webhooks.record_attempt(delivery(made, attempts=1))
    webhook_delivery.dispatch(store, [_record("1")])
    assert len(queued) == 2  # tried already: not queued again
    real_get = type(store.webhooks).get

    def failing(self, account_id):
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem")

    monkeypatch.setattr(type(store.webhooks), "get", failing)
    assert webhook_delivery.dispatch(store, [_record("2", "d" * 24), _record("3", "e" * 24)]) == [
        "2"
    ]
    monkeypatch.setattr(type(store.webhooks), "get", real_get)


def test_the_senders_edge_drops_an_unreadable_message_and_keeps_a_failed_one(store, monkeypatch):
    unreadable = {"messageId": "m1", "receiptHandle": "h1", "body": "not json"}
    assert webhook_events.send_batch({"Records": [unreadable]}, None) == {"batchItemFailures": []}

    def failing(storage, account_id, delivery_id):
        raise ClientError({"Error": {"Code": "InternalError"}}, "GetItem")

    monkeypatch.setattr(webhook_delivery, "send", failing)
    named = {
        "messageId": "m2",
        "receiptHandle": "h2",
        "body": json.dumps({"accountId": ACCOUNT, "deliveryId": "4" * 24}),
    }
    assert webhook_events.send_batch({"Records": [named]}, None) == {
        "batchItemFailures": [{"itemIdentifier": "m2"}]
    }


class FakeLambda:
    def __init__(self, answer=None, error: str | None = None) -> None:
        self.answer, self.error = answer, error

    def invoke(self, **_):
        if self.error:
            raise ClientError({"Error": {"Code": self.error}}, "Invoke")
        data = json.dumps(self.answer).encode()
        return {
            "StatusCode": 200,
            **(self.extra if hasattr(self, "extra") else {}),
            "Payload": StreamingBody(io.BytesIO(data), len(data)),
        }


@pytest.mark.parametrize(
    ("fake", "status"),
    [
        (FakeLambda(error="RequestEntityTooLargeException"), 413),
        (FakeLambda(error="TooManyRequestsException"), 503),
        (FakeLambda(answer="not an answer"), 500),
    ],
)
def test_forwarding_answers_when_the_invoke_fails(monkeypatch, fake, status):
    from openbin import aws

    monkeypatch.setattr(aws, "lambda_", lambda: fake)
    monkeypatch.setenv("FORWARD_TO_READBINFUNCTION", "arn:aws:lambda:us-east-1:1:function:R:live")
    event = {"rawPath": f"/v3/b/{'a' * 24}/", "requestContext": {"http": {"method": "GET"}}}
    assert forwarding.forward(event)["statusCode"] == status
    monkeypatch.delenv("FORWARD_TO_READBINFUNCTION")
    assert forwarding.forward(event) is None  # no alias to forward to: the 404 of $default


def test_lambdas_invoke_is_served_locally_for_each_invocation_type(handler_api):
    """The local Invoke (openbin_local.runtime): a dry run runs nothing (204), an asynchronous
    one is queued (202) and runs, a synchronous one answers; an unknown function is refused."""
    import time

    import boto3

    from openbin_local.runtime import LOCAL_FUNCTION_ARN

    client = boto3.client("lambda", region_name="us-east-1")
    arn = LOCAL_FUNCTION_ARN.format(name="UsageLogWriterFunction")
    event = {"awslogs": {"data": ""}}
    assert (
        client.invoke(FunctionName=arn, InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204
    )
    queued = client.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps(event))
    assert queued["StatusCode"] == 202
    time.sleep(0.2)
    from openbin_local.events import event_for

    function, sent = event_for(handler_api.template, "GET", "/v3/nothing", [], b"")
    route = LOCAL_FUNCTION_ARN.format(name=function)
    answer = client.invoke(FunctionName=route, Payload=json.dumps(sent))
    assert json.loads(answer["Payload"].read())["statusCode"] == 404
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.invoke(FunctionName=LOCAL_FUNCTION_ARN.format(name="Nope"), Payload=b"{}")
