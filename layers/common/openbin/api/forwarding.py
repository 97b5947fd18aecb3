"""A route asked for with one trailing slash (``GET /v3/b/<id>/``, ``POST /v3/b/``, as v2-era
JSONBin clients send): API Gateway routes it to $default, since no route path may end in "/".
It is answered by the function that owns the route without the slash, invoked by its live
alias with the event API Gateway would have sent it (docs/API.md §1). ``routes.json`` is the
template's routes (tools/forwarding_routes.py, run by ``make template``; a test holds it
current)."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

ROUTES = Path(__file__).with_name("routes.json")
UNAVAILABLE = "Service temporarily unavailable, please retry"
INTERNAL = "Internal server error"


@cache
def _routes() -> list[tuple[str, re.Pattern, str, str]]:
    """(method, pattern, route key, function), the most specific first, as API Gateway
    prefers literal segments over parameters."""
    table = json.loads(ROUTES.read_text())

    def specificity(route: dict) -> tuple[int, int]:
        segments = route["path"].strip("/").split("/")
        return (sum(1 for s in segments if not s.startswith("{")), len(segments))

    table.sort(key=specificity, reverse=True)
    out = []
    for route in table:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route["path"]))
        out.append(
            (
                route["method"],
                re.compile(f"^{regex}$"),
                f"{route['method']} {route['path']}",
                route["function"],
            )
        )
    return out


def target(method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    """(function, route key, path parameters) of ``path`` without its one trailing slash."""
    if not path.endswith("/") or path.endswith("//") or path == "/" or method == "OPTIONS":
        return None
    trimmed = path[:-1]
    for route_method, pattern, key, function in _routes():
        if route_method in (method, "ANY"):
            found = pattern.match(trimmed)
            if found:
                return function, key, found.groupdict()
    return None


def _answer(status: int, message: str) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps({"message": message}),
    }


def forward(event: dict) -> dict | None:
    """The owning function's answer, or None: not a route with a trailing slash."""
    context = event.get("requestContext", {})
    http = context.get("http", {})
    method, path = http.get("method", ""), event.get("rawPath", "")
    found = target(method, path)
    if found is None:
        return None
    function, key, params = found
    alias = os.environ.get(f"FORWARD_TO_{function.upper()}")
    if not alias:
        return None
    trimmed = path[:-1]
    sent = {
        **event,
        "routeKey": key,
        "rawPath": trimmed,
        "pathParameters": params,
        "requestContext": {**context, "routeKey": key, "http": {**http, "path": trimmed}},
    }
    from botocore.exceptions import BotoCoreError, ClientError

    from openbin import aws

    try:
        # as Lambda measures it: UTF-8, compact (what API Gateway would have sent fits)
        data = json.dumps(sent, ensure_ascii=False, separators=(",", ":")).encode()
        answer = aws.lambda_().invoke(
            FunctionName=alias, InvocationType="RequestResponse", Payload=data
        )
        payload = json.loads(answer["Payload"].read())
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "RequestEntityTooLargeException":
            return _answer(413, "Request Entity Too Large")
        return _answer(503, UNAVAILABLE)
    except (BotoCoreError, ValueError):
        return _answer(503, UNAVAILABLE)
    if answer.get("FunctionError") or not isinstance(payload, dict):
        return _answer(500, INTERNAL)
    return payload
