"""XL bins (docs/API.md §3.7): a JSON file uploaded as multipart/form-data, read and deleted
under /v3/xl/b, at both levels (through the handlers, and over HTTP against openbin serve)."""

from __future__ import annotations

import json

import pytest

from openbin.settings import MAX_XL_BODY
from tests.contract.conftest import USERS

BOUNDARY = "openbin-test-boundary"
FORM = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (field name, file name or None, content) parts."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: application/json\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def upload(api, account, content: bytes, **headers):
    sent = {"X-Master-Key": account.key, "Content-Type": FORM}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return api.post(
        "/v3/xl/b", form(("note", None, b"ignored"), ("file", "data.json", content)), sent
    )


def usage_of(api, account) -> dict:
    return api.get("/v3/usage", {"X-Master-Key": account.key}).json()


def test_an_xl_bin_is_created_read_and_deleted(api, owner):
    content = json.dumps(USERS, indent=2).encode()
    before = usage_of(api, owner)
    reply = upload(api, owner, content, X_Bin_Name="big", X_Bin_Private="false")
    assert reply.status == 200, reply.body
    body = reply.json()
    bin_id = body["record"]
    assert body == {
        "record": bin_id,
        "metadata": {
            "id": bin_id,
            "createdAt": body["metadata"]["createdAt"],
            "private": False,
            "name": "big",
        },
    }
    after = usage_of(api, owner)
    assert after["bins"] == before["bins"] + 1
    assert after["storedBytes"] == before["storedBytes"] + len(content)

    key = {"X-Master-Key": owner.key}
    read = api.get(f"/v3/xl/b/{bin_id}", key)
    assert read.status == 200
    assert read.json()["record"] == USERS
    assert read.json()["metadata"]["id"] == bin_id
    bare = api.get(f"/v3/xl/b/{bin_id}?meta=false", key)
    assert bare.body == content  # the file exactly as uploaded
    assert api.get(f"/v3/xl/b/{bin_id}", {**key, "X-Bin-Meta": "false"}).body == content
    assert api.get(f"/v3/b/{bin_id}?meta=false", key).body == content  # a bin like any other

    gone = api.request("DELETE", f"/v3/xl/b/{bin_id}", key)
    assert gone.status == 200
    assert gone.json() == {
        "metadata": {"id": bin_id, "versionsDeleted": 0},
        "message": "Bin deleted successfully",
    }
    assert api.get(f"/v3/xl/b/{bin_id}", key).status == 404
    assert usage_of(api, owner)["storedBytes"] == before["storedBytes"]


def test_an_xl_bin_is_private_by_default_and_needs_a_key(api, owner, other):
    bin_id = upload(api, owner, b'{"a": 1}').json()["record"]
    assert api.get(f"/v3/xl/b/{bin_id}").status == 401
    foreign = api.get(f"/v3/xl/b/{bin_id}", {"X-Master-Key": other.key})
    assert (foreign.status, foreign.json()) == (
        401,
        {"message": "X-Master-Key is invalid or the bin doesn't belong to your account"},
    )
    reply = api.post("/v3/xl/b", form(("file", "a.json", b"{}")), {"Content-Type": FORM})
    assert reply.status == 401


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            "application/json",
            b'{"a": 1}',
            "You need to pass Content-Type set to multipart/form-data, with the JSON as a file",
        ),
        (FORM, b"not a form at all", "Invalid multipart/form-data body"),
        (
            FORM,
            form(("file", None, b'{"a": 1}')),
            "You need to upload the JSON as a file (a form part with a filename)",
        ),
        (FORM, form(("file", "a.json", b"{not json")), "Invalid JSON provided"),
        (FORM, form(("file", "a.json", b"   ")), "Bin cannot be blank"),
    ],
    ids=["not-multipart", "bad-multipart", "no-file-part", "not-json", "blank"],
)
def test_bad_uploads_get_400(api, owner, content_type, body, message):
    before = usage_of(api, owner)["requestsRemaining"]
    reply = api.post("/v3/xl/b", body, {"X-Master-Key": owner.key, "Content-Type": content_type})
    assert (reply.status, reply.json()) == (400, {"message": message})
    assert usage_of(api, owner)["requestsRemaining"] == before - 2  # charged, and the usage read


def test_the_xl_limit_is_the_body_aws_carries_whatever_the_plan(api, owner):
    """A free-plan account stores an XL file past its plan's record limit (100 KB), up to the
    whole body's XL limit; one byte more is refused."""
    filler = b'{"pad": "' + b"x" * 200_000 + b'"}'
    assert upload(api, owner, filler).status == 200
    overhead = len(form(("note", None, b"ignored"), ("file", "data.json", b"")))
    at_limit = b'{"p": "' + b"y" * (MAX_XL_BODY - overhead - 9) + b'"}'
    assert overhead + len(at_limit) == MAX_XL_BODY  # the whole body, exactly at the limit
    reply = upload(api, owner, at_limit)
    assert reply.status == 200, reply.body
    assert (
        api.get(f"/v3/xl/b/{reply.json()['record']}?meta=false", {"X-Master-Key": owner.key}).body
        == at_limit
    )
    over = upload(api, owner, at_limit + b" ")
    assert MAX_XL_BODY == 4_700_000
    assert (over.status, over.json()) == (
        403,
        {"message": "XL Bin cannot be larger than 4700000 bytes"},
    )
