"""The usage route (docs/API.md §6b, beyond JSONBin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openbin.services.usage import Usage, UsageService
from openbin.storage import get_storage

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response


def usage_json(usage: Usage) -> dict:
    account = usage.account
    return {
        "plan": account.plan,
        "requestsRemaining": account.requests_remaining,
        "recordSizeLimit": usage.record_size_limit,
        "bins": account.bins,
        "storedBytes": account.stored_bytes,
    }


def usage(app: APIGatewayHttpResolver) -> Response:
    # Imported here: the operator's CLI shows accounts with usage_json, without the HTTP edge.
    from openbin.api.http import credentials, ok

    return ok(usage_json(UsageService(get_storage()).usage(credentials(app))))
