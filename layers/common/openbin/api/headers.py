"""Headers read into typed values for the services, which know nothing of HTTP: a value, or the
refusal that an invalid one stands for (``errors.given`` raises it at the contract's step)."""

from __future__ import annotations

from typing import overload

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from openbin.api.http import header, query
from openbin.errors import InvalidRequest
from openbin.validation import check_name, parse_bool


@overload
def flag(app: APIGatewayHttpResolver, name: str, default: bool) -> bool | InvalidRequest: ...
@overload
def flag(app: APIGatewayHttpResolver, name: str, default: None) -> bool | None | InvalidRequest: ...
def flag(
    app: APIGatewayHttpResolver, name: str, default: bool | None
) -> bool | None | InvalidRequest:
    """A true/false header (absent: ``default``)."""
    try:
        return parse_bool(name, header(app, name), default)
    except InvalidRequest as refused:
        return refused


def required_flag(app: APIGatewayHttpResolver, name: str, missing: str) -> bool | InvalidRequest:
    """A true/false header that must be sent (``missing``: the refusal's message)."""
    value = flag(app, name, None)
    return InvalidRequest(missing) if value is None else value


def meta(app: APIGatewayHttpResolver) -> bool | InvalidRequest:
    """``X-Bin-Meta`` and ``?meta=``: both must be true (or absent) to answer the metadata."""
    try:
        from_header = parse_bool("X-Bin-Meta", header(app, "X-Bin-Meta"), True)
        return parse_bool("meta", query(app, "meta"), True) and from_header
    except InvalidRequest as refused:
        return refused


def name(app: APIGatewayHttpResolver, header_name: str, thing: str) -> str | InvalidRequest:
    """A collection's, schema doc's or access key's name header (present, not blank, short)."""
    try:
        return check_name(header(app, header_name), header_name, thing)
    except InvalidRequest as refused:
        return refused
