"""boto3 clients, created on first use and reused across invocations.

Nothing is created at import time, so moto (or a test's environment) is in place before the
first client exists; ``reset()`` drops them between tests.
"""

from __future__ import annotations

import threading
from functools import cache

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; the bounds keep a request well inside API
# Gateway's 30 s integration timeout.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)
_lock = threading.Lock()


@cache
def dynamodb():
    with _lock:  # boto3's default session is not thread-safe while it creates clients
        return boto3.client("dynamodb", config=CLIENT_CONFIG)


@cache
def s3():
    with _lock:
        return boto3.client("s3", config=CLIENT_CONFIG)


def reset() -> None:
    dynamodb.cache_clear()
    s3.cache_clear()
