"""Lambda's event source mappings, locally: the template's ``DynamoDB`` (a table's stream) and
``SQS`` events, polled and handed to their functions as Lambda hands them over.

- A stream is read in order, ``BatchSize`` records at a time. A function that fails, or reports
  failed records (``batchItemFailures``), gets the batch again from the first failed record, up
  to ``MaximumRetryAttempts`` times (at once here; Lambda pauses), then the batch's description
  goes to the on-failure destination (an SQS queue of the template) and the stream moves on.
- A queue's visible messages are received ``BatchSize`` at a time, each batch handed to an
  invocation of its own, up to ``CONCURRENCY`` at once (Lambda scales out the same way: one slow
  receiver never holds up the others); the ones the function did not report failed are
  deleted; the others come back when their visibility timeout ends (the function may have
  changed it), as SQS does.

``openbin serve`` polls them in a thread (``start``); handler-level tests ``pump`` them."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3

from openbin_local import streams
from openbin_local.runtime import FunctionRunner

REGION = "us-east-1"
ACCOUNT = "123456789012"
CONCURRENCY = 8  # invocations of a queue's function at once


class Mapping:
    def __init__(self, function: str, kind: str, source: str, props: dict, names: dict) -> None:
        self.function, self.kind, self.props = function, kind, props
        self.source = names.get(source, source)  # the physical table or queue
        self.batch = int(props.get("BatchSize", 100 if kind == "DynamoDB" else 10))
        self.retries = int(props.get("MaximumRetryAttempts", 10_000))
        failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        target = failure.get("Fn::GetAtt", [None])[0] if isinstance(failure, dict) else None
        self.on_failure = names.get(target) if target else None
        self._url: str | None = None

    def queue_url(self, sqs, name: str) -> str:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def mappings(template, names: dict) -> list[Mapping]:
    out = []
    for name, function in template.resources.items():
        if function.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (function["Properties"].get("Events") or {}).values():
            kind, props = event.get("Type"), event.get("Properties", {})
            if kind == "DynamoDB":
                out.append(Mapping(name, kind, props["Stream"]["Fn::GetAtt"][0], props, names))
            elif kind == "SQS":
                out.append(Mapping(name, kind, props["Queue"]["Fn::GetAtt"][0], props, names))
    return out


class EventSources:
    def __init__(
        self,
        runner: FunctionRunner,
        names: dict,
        interval: float = 0.05,
        only: tuple[str, ...] | None = None,
    ) -> None:
        """``only``: the functions whose event sources run (a test's; default every one)."""
        self.runner = runner
        self.mappings = [
            m for m in mappings(runner.template, names) if only is None or m.function in only
        ]
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sqs = None
        self._workers = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="openbin-queue")
        self._running = 0  # queue invocations in flight
        self._lock = threading.Lock()
        for mapping in self.mappings:
            if mapping.kind == "DynamoDB":
                streams.listen(mapping.source)

    @property
    def sqs(self):
        if self._sqs is None:
            self._sqs = boto3.client("sqs", region_name=REGION)
        return self._sqs

    def start(self) -> EventSources:
        self._thread = threading.Thread(target=self._loop, name="openbin-sources", daemon=True)
        self._thread.start()
        return self

    def stop(self, drain: float = 5.0) -> None:
        """Stop polling, once the streams' records already captured are handed over (for up to
        ``drain`` seconds): a change the server committed is not lost with the process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        # sends in flight are not waited for: their deliveries stay pending, queued again next
        # time the server starts
        self._workers.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + drain
        for mapping in self.mappings:
            while mapping.kind == "DynamoDB" and time.monotonic() < deadline:
                if not self._stream(mapping):
                    break
        for mapping in self.mappings:
            if mapping.kind == "DynamoDB":
                streams.stop_listening(mapping.source)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll()
            except Exception as error:  # noqa: BLE001 (a poller must outlive what it polls)
                print(f"openbin: event source: {type(error).__name__}: {error}", file=sys.stderr)
                busy = False
            if not busy:
                self._stop.wait(self.interval)

    def poll(self) -> bool:
        """One round over every mapping; whether any had work."""
        busy = False
        for mapping in self.mappings:
            if mapping.kind == "DynamoDB":
                busy = self._stream(mapping) or busy
            else:
                busy = self._queue(mapping) or busy
        return busy

    def pump(self, seconds: float = 10.0, quiet: float = 0.0) -> None:
        """Poll until nothing is left to do (and ``quiet`` seconds pass with nothing), or
        ``seconds`` pass (a test's: what the thread would do, on the test's own thread)."""
        deadline = time.monotonic() + seconds
        idle_since = None
        while time.monotonic() < deadline:
            if self.poll() or self.running():
                idle_since = None
                time.sleep(0.005)
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet:
                return
            time.sleep(self.interval)

    def running(self) -> int:
        """Queue invocations in flight."""
        with self._lock:
            return self._running

    # -- DynamoDB Streams -------------------------------------------------------------------------
    def _stream(self, mapping: Mapping) -> bool:
        records = streams.take(mapping.source, mapping.batch)
        if not records:
            return False
        for attempt in range(1 + mapping.retries):
            failed = self._invoke(mapping.function, {"Records": records}, "SequenceNumber")
            if failed is None:
                return True
            first = next(
                (i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed), 0
            )
            records = records[first:]
            if self._stop.wait(min(0.05 * (attempt + 1), 1.0)):  # a pause, as Lambda's backoff
                break
        self._give_up(mapping, records)
        return True

    def _give_up(self, mapping: Mapping, records: list[dict]) -> None:
        """What Lambda sends the on-failure destination of a stream: the batch's place."""
        if mapping.on_failure is None:
            print(
                f"openbin: {mapping.function}: {len(records)} stream records dropped",
                file=sys.stderr,
            )
            return
        description = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{mapping.function}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 1 + mapping.retries,
            },
            "DDBStreamBatchInfo": {
                "shardId": "local",
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": records[0]["eventSourceARN"],
            },
        }
        url = mapping.queue_url(self.sqs, mapping.on_failure)
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(description))

    # -- SQS --------------------------------------------------------------------------------------
    def _queue(self, mapping: Mapping) -> bool:
        with self._lock:
            free = CONCURRENCY - self._running
        if free <= 0:
            return False
        url = mapping.queue_url(self.sqs, mapping.source)
        got = self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(mapping.batch * free, 10),
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not got:
            return False
        for start in range(0, len(got), mapping.batch):
            batch = got[start : start + mapping.batch]
            with self._lock:
                self._running += 1
            try:
                self._workers.submit(self._handle, mapping, url, batch)
            except RuntimeError:  # stopping: the messages come back when they are visible
                with self._lock:
                    self._running -= 1
        return True

    def _handle(self, mapping: Mapping, url: str, got: list[dict]) -> None:
        try:
            self._deliver(mapping, url, got)
        except Exception as error:  # noqa: BLE001 (a poller must outlive what it polls)
            print(f"openbin: event source: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            with self._lock:
                self._running -= 1

    def _deliver(self, mapping: Mapping, url: str, got: list[dict]) -> None:
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{mapping.source}",
                    "awsRegion": REGION,
                }
                for m in got
            ]
        }
        failed = self._invoke(mapping.function, event, "messageId")
        for message in got:
            if failed is not None and message["MessageId"] in failed:
                continue  # back when its visibility timeout ends
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _invoke(self, function: str, event: dict, identifier: str) -> set[str] | None:
        """The identifiers of the records the function failed on (all, if it raised); None:
        none failed."""
        try:
            result = self.runner.invoke(function, event)
        except Exception as error:  # noqa: BLE001 (the function's failure: the batch again)
            print(f"openbin: {function} raised {type(error).__name__}: {error}", file=sys.stderr)
            if identifier == "SequenceNumber":
                return {r["dynamodb"]["SequenceNumber"] for r in event["Records"]}
            return {r["messageId"] for r in event["Records"]}
        failures = (result or {}).get("batchItemFailures") or []
        failed = {str(f.get("itemIdentifier")) for f in failures}
        return failed or None
