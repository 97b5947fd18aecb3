"""API Gateway HTTP API (payload format 2.0) events, built from an HTTP request."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote

from openbin_local.template import Route, Template


def decoded_path(path: str) -> str:
    """The path as API Gateway's HTTP API hands it on: percent-decoded (as UTF-8) before the
    route is matched, in ``rawPath`` and the path parameters alike (``/v3/b/x/%C2%B2`` is
    ``/v3/b/x/²``)."""
    return unquote(path, errors="replace")


def http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route: Route,
    path_parameters: dict[str, str],
    source_ip: str = "127.0.0.1",
    domain: str = "localhost",
) -> dict:
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        value = value.strip(" \t")  # surrounding whitespace is not part of a value
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        # API Gateway passes a body as text only when it is text: a form upload (an XL bin's)
        # arrives base64-encoded, and so does anything that is not UTF-8.
        text = None
        if not merged.get("content-type", "").lower().startswith("multipart/"):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
        if text is not None:
            event["body"] = text
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def event_for(
    template: Template, method: str, path: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[str, dict]:
    """The function that owns ``method path`` (the query string may follow the path) and the
    payload 2.0 event API Gateway would send it: what the tests and the benchmark invoke."""
    raw_path, _, raw_query = path.partition("?")
    raw_path = decoded_path(raw_path)
    found = template.route_for(method, raw_path)
    assert found is not None, "the $default route answers every request"
    route, params = found
    event = http_api_event(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        body=body,
        route=route,
        path_parameters=params,
    )
    return route.function, event
