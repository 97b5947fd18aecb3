"""UsageLogWriterFunction's edge: a CloudWatch Logs subscription delivery in, its usage lines
filed under each account's day (``services.usage_log``). Apart from ``api.usage_log``, which every
function imports to write its lines, so that only this function loads the storage it files to
(at init)."""

from __future__ import annotations

from openbin.api.usage_log import lines_of
from openbin.services.usage_log import file_lines
from openbin.storage import get_storage


def file_delivery(event: dict, context) -> dict:
    """UsageLogWriterFunction's entry point: file a subscription delivery's lines."""
    return {"filed": file_lines(get_storage(), lines_of(event))}
