"""An account's usage log (docs/API.md §8): one line a request, written by the function that
answered it as a JSON line on its output ({"openbinUsage": {...}}). On AWS a CloudWatch Logs
subscription filter hands the lines, batched, to UsageLogWriterFunction; locally, openbin serve
hands them to the same function in the same shape. Never a key, a body or a header other than
the user agent."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from openbin.services import caller

LINE_KEY = "openbinUsage"
ID_PARAMETERS = ("binId", "collectionId", "schemaDocId", "accessKeyId")
# Where lines go: the function's output (CloudWatch Logs) unless a local runtime listens.
sink: Callable[[dict], None] | None = None


def line_for(event: dict, status: int) -> dict | None:
    """The usage line of a request just answered ``status``, or None when no account can be
    named (an unknown key, a request with none that touched no public bin)."""
    account_id = caller.charged_account.get() or caller.caller_account.get()
    if account_id is None:
        return None
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    epoch_ms = context.get("timeEpoch")
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else datetime.now(UTC)
    kind, access_key_id = caller.caller_key.get() or ("none", None)
    line = {
        "accountId": account_id,
        "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": context.get("requestId", ""),
        "method": http.get("method", ""),
        "path": event.get("rawPath", ""),
        "status": status,
        "sourceIp": http.get("sourceIp", ""),
        "userAgent": http.get("userAgent", ""),
        "keyKind": kind,
    }
    if access_key_id:
        line["accessKeyId"] = access_key_id
    for name in ID_PARAMETERS:
        value = (event.get("pathParameters") or {}).get(name)
        if value:
            line[name] = value
    return line


def record(event: dict, status: int) -> None:
    line = line_for(event, status)
    if line is None:
        return
    if sink is not None:
        sink(line)
    else:
        sys.stdout.write(json.dumps({LINE_KEY: line}, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def subscription_event(lines: list[dict]) -> dict:
    """What a CloudWatch Logs subscription delivers for these lines (the local runtime's)."""
    import base64
    import gzip

    data = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [
            {"id": str(n), "timestamp": 0, "message": json.dumps({LINE_KEY: line})}
            for n, line in enumerate(lines)
        ],
    }
    packed = gzip.compress(json.dumps(data).encode())
    return {"awslogs": {"data": base64.b64encode(packed).decode()}}


def lines_of(event: dict) -> list[dict]:
    """The usage lines in a CloudWatch Logs subscription event (other messages are skipped)."""
    import base64
    import gzip

    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if data.get("messageType") != "DATA_MESSAGE":
        return []  # CloudWatch's control message when the subscription is made
    out = []
    for log_event in data.get("logEvents", []):
        try:
            line = json.loads(log_event["message"])[LINE_KEY]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(line, dict) and isinstance(line.get("accountId"), str):
            out.append(line)
    return out
