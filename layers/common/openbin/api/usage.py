"""The usage route (docs/API.md §7, beyond JSONBin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openbin.services.usage import Usage, UsageLogDay, UsageService, log_day_name
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


# The columns of a usage log file, in order (docs/API.md §8).
LOG_COLUMNS = (
    "time",
    "method",
    "path",
    "status",
    "binId",
    "collectionId",
    "schemaDocId",
    "accessKeyId",
    "keyKind",
    "sourceIp",
    "userAgent",
    "requestId",
)


def log_days(app: APIGatewayHttpResolver) -> Response:
    from openbin.api.http import credentials, ok

    days = UsageService(get_storage()).log_days(credentials(app))
    return ok({"logs": [log_day_name(day) for day in days]})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A cell a spreadsheet would run as a formula (OWASP's CSV injection: text starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, e.g. a client's User-Agent) gets a
    leading ``'``, so it shows as the text it is (docs/API.md, usage logs)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def log_zip(log: UsageLogDay) -> tuple[str, bytes]:
    """The day's file name and a zip of one CSV of its lines, oldest first."""
    import csv
    import io
    import json
    import zipfile

    rows = sorted((json.loads(line) for line in log.lines), key=lambda r: str(r.get("time")))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(column, "")) for column in LOG_COLUMNS])
    name = log_day_name(log.day)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.csv", text.getvalue())
    return f"{name}.zip", packed.getvalue()


def log_file(app: APIGatewayHttpResolver, day: str) -> Response:
    from openbin.api.http import credentials, file_response

    name, data = log_zip(UsageService(get_storage()).log_day(credentials(app), day))
    return file_response(data, "application/zip", name)
