"""AWS clients, created on first use and reused across invocations.

Clients come straight from botocore: boto3 would add its resource layer and s3transfer to
every cold start (about 100 ms) for nothing this code uses.

Nothing is created at import time, so moto (or a test's environment) is in place before the
first client exists; ``reset()`` drops them between tests. Nor is botocore's client machinery
imported here (about 150 ms): ``openbin.storage`` imports it, so the functions with storage load
it at init and the others (the ``$default`` route, the web console) never do.

Failure handling:
- botocore's standard retry mode backs off on throttling and transient errors, with short
  timeouts, so a request gives up well inside API Gateway's 30 s;
- ``dynamodb_once()`` never retries by itself: it is for writes that are not idempotent (the
  allowance charge), which retry only when AWS guarantees nothing was applied (throttling);
- every call first checks the invocation's deadline (``deadline``): past it, the call is not
  made and the client gets a 503 instead of a Lambda timeout.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError

if TYPE_CHECKING:
    import botocore.session

# botocore's "max_attempts" counts retries; "total_max_attempts" counts every attempt.
RETRYING: dict[str, Any] = {
    "retries": {"mode": "standard", "total_max_attempts": 3},
    "connect_timeout": 1,
    "read_timeout": 3,
    "tcp_keepalive": True,
}
ONCE: dict[str, Any] = {
    "retries": {"mode": "standard", "total_max_attempts": 1},
    "connect_timeout": 1,
    "read_timeout": 3,
}
# A synchronous invocation of another function (a route asked for with a trailing slash): once,
# waiting up to what API Gateway waits for the integration.
INVOKING: dict[str, Any] = {
    "retries": {"mode": "standard", "total_max_attempts": 1},
    "connect_timeout": 1,
    "read_timeout": 29,
}
# Seconds (time.monotonic) after which no storage call starts; None: no deadline.
deadline: ContextVar[float | None] = ContextVar("deadline", default=None)
_lock = threading.Lock()


class DeadlineExceeded(BotoCoreError):
    fmt = "The invocation is about to time out: storage call not made"


def _check_deadline(**_) -> None:
    limit = deadline.get()
    if limit is not None and time.monotonic() > limit:
        raise DeadlineExceeded()


@cache
def _session() -> botocore.session.Session:
    import botocore.session

    return botocore.session.get_session()


def _client(service: str, config: dict[str, Any]):
    from botocore.config import Config

    with _lock:  # a botocore session is not thread-safe while it creates clients
        client = _session().create_client(service, config=Config(**config))
    client.meta.events.register("before-call", _check_deadline)
    return client


@cache
def dynamodb():
    return _client("dynamodb", RETRYING)


@cache
def dynamodb_once():
    return _client("dynamodb", ONCE)


@cache
def s3():
    return _client("s3", RETRYING)


@cache
def sqs():
    return _client("sqs", RETRYING)


@cache
def lambda_():
    return _client("lambda", INVOKING)


def reset() -> None:
    _session.cache_clear()
    lambda_.cache_clear()
    sqs.cache_clear()
    dynamodb.cache_clear()
    dynamodb_once.cache_clear()
    s3.cache_clear()
