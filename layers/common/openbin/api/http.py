"""What every function shares at the HTTP edge: the resolver, the one map from domain errors
to HTTP answers, header and body access, and JSON responses.

Nothing here logs keys or record bodies: only route, status and the error's kind.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from openbin import aws
from openbin.api import usage_log
from openbin.errors import (
    UNAVAILABLE,
    Conflict,
    InvalidRequest,
    KeyReused,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    OpenBinError,
    PreconditionFailed,
    Unavailable,
    UnsupportedMediaType,
)
from openbin.observability import CORRELATION_ID, logger, metrics
from openbin.services.caller import caller_account, caller_key, charged_account, requests_remaining

if TYPE_CHECKING:
    from collections.abc import Callable

    from openbin.services.auth import Credentials
from openbin.validation import COMPACT, to_json

JSON = "application/json; charset=utf-8"
ROUTE_NOT_FOUND = "Route not found"
INTERNAL = "Internal server error"
DEADLINE_MARGIN = 2.0  # seconds
MAX_PATH_BYTES = 2048
MAX_HEADER_BYTES = 16 * 1024  # all names and values together
HTTP_WHITESPACE = " \t"  # RFC 9110 OWS


def _raw_answer(status: int, message: str) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON},
        "body": json.dumps({"message": message}, separators=COMPACT),
    }


def oversized(event: dict) -> dict | None:
    """Refuse a too-long path or too-large headers before anything parses them."""
    path = event.get("rawPath") or event.get("path") or ""
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return _raw_answer(414, "Request path too long")
    headers = event.get("headers") or {}
    size = sum(len(str(k)) + len(str(v)) for k, v in headers.items())
    if size > MAX_HEADER_BYTES:
        return _raw_answer(431, "Request headers too large")
    return None


# The one place where a domain error becomes an HTTP status.
STATUS_BY_ERROR: tuple[tuple[type[OpenBinError], int], ...] = (
    (InvalidRequest, 400),
    (NotAuthenticated, 401),
    (NotAllowed, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (UnsupportedMediaType, 415),
    (KeyReused, 422),
    (Unavailable, 503),
)


def status_of(error: OpenBinError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def count_error(status: int) -> None:
    name = "ClientErrors" if status < 500 else "ServerErrors"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def json_response(status: int, body: str | dict | list, headers: dict | None = None) -> Response:
    text = body if isinstance(body, str) else to_json(body)
    return Response(status_code=status, content_type=JSON, body=text, headers=headers or {})


def _remaining_header(remaining: int | None) -> dict | None:
    return {"X-Requests-Remaining": str(remaining)} if remaining is not None else None


def ok(body: str | dict | list, headers: dict | None = None) -> Response:
    """A 200 answer, with what the caller's account has left when the request was charged to
    a recognised key (``requests_remaining``: the one channel the allowance travels by)."""
    sent = {**(headers or {}), **(_remaining_header(requests_remaining.get()) or {})}
    return json_response(200, body, sent)


def not_modified(headers: dict) -> Response:
    """304: what the client holds is current (no body); charged like the read it answers."""
    sent = {**headers, **(_remaining_header(requests_remaining.get()) or {})}
    return Response(status_code=304, content_type=None, body="", headers=sent)


def file_response(data: bytes, content_type: str, filename: str) -> Response:
    """A 200 file download (sent base64-encoded to API Gateway, which decodes it)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    headers.update(_remaining_header(requests_remaining.get()) or {})
    return Response(status_code=200, content_type=content_type, body=data, headers=headers)


def error_response(status: int, message: str, **extra: object) -> Response:
    """``{"message": ...}``; an answer to a recognised key says what its account has left,
    whether or not this request was charged (read now if it was not; never after a failure of
    our own, when storage may be what failed)."""
    remaining = requests_remaining.get()
    if remaining is None and status < 500 and caller_account.get() is not None:
        from openbin.services import auth
        from openbin.storage import get_storage

        remaining = auth.current_remaining(get_storage())
    return json_response(status, {"message": message, **extra}, _remaining_header(remaining))


def preflight() -> Response:
    """The answer to an OPTIONS request, from the CORS settings (the template's
    CorsConfiguration). API Gateway answers preflights itself when it can; when its $default
    route catches them instead, this is what a browser gets."""
    from openbin.settings import get_settings

    return Response(status_code=204, body="", headers=get_settings().preflight_headers())


def build_resolver(answer_preflights: bool = False) -> APIGatewayHttpResolver:
    """A function's resolver; ``answer_preflights``: an OPTIONS request no route takes gets the
    CORS preflight answer (the $default route's function) instead of a 404."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(OpenBinError)
    def _domain_error(error: OpenBinError) -> Response:
        status = status_of(error)
        logger.info("request refused", extra={"status": status, "error": type(error).__name__})
        count_error(status)
        return error_response(status, error.message, **error.extra)

    @app.exception_handler([ClientError, BotoCoreError])
    def _storage_error(error: Exception) -> Response:
        code = (
            error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
        )
        logger.warning("storage failure", extra={"error": type(error).__name__, "code": code})
        metrics.add_metric(name="StorageFailures", unit=MetricUnit.Count, value=1)
        count_error(503)
        return error_response(503, UNAVAILABLE)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        count_error(500)
        return error_response(500, INTERNAL)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        if answer_preflights and app.current_event.http_method == "OPTIONS":
            return preflight()
        count_error(404)
        return error_response(404, ROUTE_NOT_FOUND)

    return app


def entry_point(app: APIGatewayHttpResolver, before: Callable[[dict], dict | None] | None = None):
    """The Lambda entry point (``lambda_handler``) for a function's resolver; ``before``: an
    answer given instead of the resolver's when it returns one (the $default function's
    forwarding of a route with a trailing slash, which the owning function logs and counts)."""

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True, correlation_id_path=CORRELATION_ID)
    def handler(event: dict, context) -> dict:
        # With metrics disabled (locally) Powertools never clears what was added, and would
        # force-publish every 100 values: start each invocation from an empty set.
        metrics.clear_metrics()
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        # These are this invocation's only: reset when it ends, whatever happens.
        charged = requests_remaining.set(None)
        caller = caller_account.set(None)
        key = caller_key.set(None)
        charged_to = charged_account.set(None)
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        limit = None
        if remaining_ms is not None:  # stop calling storage 2 s before Lambda would time out
            limit = time.monotonic() + remaining_ms() / 1000 - DEADLINE_MARGIN
        until = aws.deadline.set(limit)
        try:
            refused = oversized(event)
            if refused is not None:
                return refused
            forwarded = before(event) if before is not None else None
            if forwarded is not None:
                return forwarded
            answer = app.resolve(event, context)
            usage_log.record(event, answer.get("statusCode", 0))
            return answer
        except Exception:  # a malformed event, before any route runs: still a JSON answer
            logger.exception("could not resolve event")
            return _raw_answer(500, INTERNAL)
        finally:
            aws.deadline.reset(until)
            requests_remaining.reset(charged)
            caller_account.reset(caller)
            caller_key.reset(key)
            charged_account.reset(charged_to)

    return handler


# -- request access ----------------------------------------------------------------------------
def header(app: APIGatewayHttpResolver, name: str) -> str | None:
    """A request header, case-insensitively (payload 2.0 already lower-cases names), without
    surrounding whitespace (not part of a header value in HTTP; API Gateway strips it too)."""
    # The event's own dict: Powertools' ``headers`` builds a case-insensitive copy on every
    # access (seven a request, ~0.1 ms of a create's own time).
    headers = app.current_event.raw_event.get("headers") or {}
    value = headers.get(name.lower())
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name.lower():
                value = candidate
                break
    return value.strip(HTTP_WHITESPACE) if value is not None else None


def query(app: APIGatewayHttpResolver, name: str) -> str | None:
    return (app.current_event.query_string_parameters or {}).get(name)


def credentials(app: APIGatewayHttpResolver) -> Credentials:
    from openbin.services.auth import Credentials  # loaded already where there is storage

    return Credentials(
        master_key=header(app, "X-Master-Key"), access_key=header(app, "X-Access-Key")
    )


def body_bytes(app: APIGatewayHttpResolver) -> bytes:
    """The body exactly as sent (sizes are counted on these bytes)."""
    event = app.current_event
    body = event.body
    if body is None:
        return b""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            raise InvalidRequest("Invalid JSON provided") from None
    return body.encode("utf-8", "surrogateescape")
