"""Webhooks: an account's settings (one item: URL, events, paused, signing secrets) and its
deliveries, kept 7 days: one small item each (the event, attempts, state), updated at every
attempt, and its body in an item of its own (``~body#<id>``, after every delivery ID in the
table's order), or as an object under ``webhooks/`` when too large for an item, written once;
and the queue that carries a delivery to the sender (a message naming it)."""

from __future__ import annotations

import json

from openbin.models import Delivery, WebhookSecret, WebhookSettings
from openbin.storage.dynamo import b, flag, get_n, n, opt_s, s
from openbin.storage.records import compress, decompress

INLINE_BODY = 300_000  # compressed bytes a body item holds (DynamoDB's items: 400 KB)
BODY = "~body#"  # a body item's deliveryId prefix: "~" sorts after every hex ID
KEPT_DAYS = 7


def _made(client_or_factory):
    """A client, or a function making one on first use."""
    if callable(client_or_factory) and not hasattr(client_or_factory, "meta"):
        return client_or_factory()
    return client_or_factory


class WebhookRepository:
    def __init__(
        self,
        client,
        settings_table: str,
        deliveries_table: str,
        s3,
        bucket: str,
        sqs,
        queue: str,
    ) -> None:
        """``s3`` and ``sqs``: clients, or functions making them on first use."""
        self._db, self._s3_client, self._sqs_client = client, s3, sqs
        self.table, self.deliveries_table = settings_table, deliveries_table
        self._bucket, self._queue = bucket, queue
        self._queue_url: str | None = None

    def _s3(self):
        self._s3_client = _made(self._s3_client)
        return self._s3_client

    def _sqs(self):
        self._sqs_client = _made(self._sqs_client)
        return self._sqs_client

    # -- settings -----------------------------------------------------------------------------
    def get(self, account_id: str) -> WebhookSettings | None:
        item = self._db.get_item(
            TableName=self.table, Key={"accountId": s(account_id)}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return WebhookSettings(
            account_id=account_id,
            url=item["url"]["S"],
            events=tuple(v["S"] for v in item["events"]["L"]),
            paused=item["paused"]["BOOL"],
            secrets=tuple(
                WebhookSecret(
                    key=m["M"]["key"]["S"],
                    created_at=m["M"]["createdAt"]["S"],
                    retires_at=get_n(m["M"], "retiresAt") or None,
                )
                for m in item["secrets"]["L"]
            ),
            updated_at=item["updatedAt"]["S"],
        )

    def put(self, settings: WebhookSettings) -> None:
        secrets = [
            {
                "M": {
                    "key": s(secret.key),
                    "createdAt": s(secret.created_at),
                    **({"retiresAt": n(secret.retires_at)} if secret.retires_at else {}),
                }
            }
            for secret in settings.secrets
        ]
        self._db.put_item(
            TableName=self.table,
            Item={
                "accountId": s(settings.account_id),
                "url": s(settings.url),
                "events": {"L": [s(e) for e in settings.events]},
                "paused": flag(settings.paused),
                "secrets": {"L": secrets},
                "updatedAt": s(settings.updated_at),
            },
        )

    def delete(self, account_id: str) -> bool:
        """Whether there was one."""
        old = self._db.delete_item(
            TableName=self.table, Key={"accountId": s(account_id)}, ReturnValues="ALL_OLD"
        ).get("Attributes")
        return bool(old)

    # -- deliveries -------------------------------------------------------------------------------
    def _key(self, account_id: str, delivery_id: str) -> dict:
        return {"accountId": s(account_id), "deliveryId": s(delivery_id)}

    def add_delivery(self, delivery: Delivery, body: bytes) -> bool:
        """Keep a new delivery and its body; False: it was made already (a retried batch)."""
        packed = compress(body)
        holder = {
            **self._key(delivery.account_id, BODY + delivery.delivery_id),
            "expiresAt": n(delivery.expires_at),
        }
        if len(packed) <= INLINE_BODY:
            holder["body"] = b(packed)
        else:
            key = f"webhooks/{delivery.account_id}/{delivery.delivery_id}.json.zst"
            self._s3().put_object(Bucket=self._bucket, Key=key, Body=packed)
            holder["bodyKey"] = s(key)
        # the body first: a delivery item never names a body that is not there
        self._db.put_item(TableName=self.deliveries_table, Item=holder)
        item = {
            **self._key(delivery.account_id, delivery.delivery_id),
            "event": s(delivery.event),
            "binId": s(delivery.bin_id),
            "createdAt": s(delivery.created_at),
            "state": s(delivery.state),
            "attempts": n(delivery.attempts),
            "expiresAt": n(delivery.expires_at),
        }
        from botocore.exceptions import ClientError

        try:
            self._db.put_item(
                TableName=self.deliveries_table,
                Item=item,
                ConditionExpression="attribute_not_exists(deliveryId)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def _delivery(item: dict) -> Delivery:
        return Delivery(
            account_id=item["accountId"]["S"],
            delivery_id=item["deliveryId"]["S"],
            event=item["event"]["S"],
            bin_id=item["binId"]["S"],
            created_at=item["createdAt"]["S"],
            state=item["state"]["S"],
            attempts=get_n(item, "attempts"),
            expires_at=get_n(item, "expiresAt"),
            last_status=get_n(item, "lastStatus") or None,
            last_latency_ms=get_n(item, "lastLatencyMs", -1) if "lastLatencyMs" in item else None,
            last_error=opt_s(item, "lastError"),
            next_attempt_at=opt_s(item, "nextAttemptAt"),
        )

    def get_delivery(
        self, account_id: str, delivery_id: str, body: bool = True
    ) -> tuple[Delivery, bytes] | None:
        """The delivery, and its body (``body`` False: not loaded, ``b""``)."""
        item = self._db.get_item(
            TableName=self.deliveries_table,
            Key=self._key(account_id, delivery_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        if not body:
            return self._delivery(item), b""
        holder = self._db.get_item(
            TableName=self.deliveries_table,
            Key=self._key(account_id, BODY + delivery_id),
            ConsistentRead=True,
        ).get("Item")
        if not holder:  # expired with its delivery's: nothing left to send
            return None
        if "body" in holder:
            packed = holder["body"]["B"]
        else:
            got = self._s3().get_object(Bucket=self._bucket, Key=holder["bodyKey"]["S"])
            packed = got["Body"].read()
        return self._delivery(item), decompress(packed)

    def recent(self, account_id: str, limit: int = 50) -> list[Delivery]:
        """The account's latest deliveries, newest first (IDs start with their second)."""
        items = self._db.query(
            TableName=self.deliveries_table,
            KeyConditionExpression="accountId = :a AND deliveryId < :bodies",
            ExpressionAttributeValues={":a": s(account_id), ":bodies": s(BODY)},
            ProjectionExpression=(
                "accountId, deliveryId, event, binId, createdAt, #state, attempts, expiresAt, "
                "lastStatus, lastLatencyMs, lastError, nextAttemptAt"
            ),
            ExpressionAttributeNames={"#state": "state"},
            ScanIndexForward=False,
            Limit=limit,
        ).get("Items", [])
        return [self._delivery(item) for item in items]

    def pending(self) -> list[tuple[str, str]]:
        """(account, delivery) of every delivery still to be sent (a Scan: for a local server
        starting again, whose queue did not outlive it; never a request's path)."""
        found: list[tuple[str, str]] = []
        kwargs: dict = {
            "TableName": self.deliveries_table,
            "FilterExpression": "#state = :pending",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":pending": s("pending")},
            "ProjectionExpression": "accountId, deliveryId",
        }
        while True:
            page = self._db.scan(**kwargs)
            found += [(i["accountId"]["S"], i["deliveryId"]["S"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record_attempt(self, delivery: Delivery) -> None:
        """The delivery's state after an attempt (or a retry asked for)."""
        values = {
            ":state": s(delivery.state),
            ":attempts": n(delivery.attempts),
        }
        sets = ["#state = :state", "attempts = :attempts"]
        removes = []
        for name, attr, value in (
            ("lastStatus", ":status", n(delivery.last_status) if delivery.last_status else None),
            (
                "lastLatencyMs",
                ":latency",
                n(delivery.last_latency_ms) if delivery.last_latency_ms is not None else None,
            ),
            ("lastError", ":error", s(delivery.last_error) if delivery.last_error else None),
            (
                "nextAttemptAt",
                ":next",
                s(delivery.next_attempt_at) if delivery.next_attempt_at else None,
            ),
        ):
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = {attr}")
                values[attr] = value
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        from botocore.exceptions import ClientError

        try:
            self._db.update_item(
                TableName=self.deliveries_table,
                Key=self._key(delivery.account_id, delivery.delivery_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(deliveryId)",  # not one TTL removed
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    # -- the queue ------------------------------------------------------------------------
    def queue_url(self) -> str:
        if self._queue_url is None:
            if self._queue.startswith("https://"):
                self._queue_url = self._queue
            else:  # a name (locally)
                self._queue_url = self._sqs().get_queue_url(QueueName=self._queue)["QueueUrl"]
        return self._queue_url

    def enqueue(self, account_id: str, delivery_id: str, delay: int = 0) -> None:
        self._sqs().send_message(
            QueueUrl=self.queue_url(),
            MessageBody=json.dumps({"accountId": account_id, "deliveryId": delivery_id}),
            DelaySeconds=delay,
        )

    def pause(self, receipt_handle: str, seconds: int) -> None:
        """Keep the message out of sight for ``seconds``: the next attempt comes after them."""
        self._sqs().change_message_visibility(
            QueueUrl=self.queue_url(), ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
