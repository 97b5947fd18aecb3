"""PATCH /v3/b/<id> (docs/API.md §3.9, beyond JSONBin): JSON Merge Patch (RFC 7396) and JSON
Patch (RFC 6902) with PUT's rules, at both levels, concurrent patches included."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
UNSUPPORTED = "You need to pass Content-Type set to application/merge-patch+json (RFC 7396) or application/json-patch+json (RFC 6902)"  # noqa: E501
RECORD = {"name": "Ada", "tags": ["a", "b"], "address": {"city": "London", "zip": "N1"}, "n": 0}


@pytest.fixture
def bin_id(api, owner):
    return api.create_bin(owner, RECORD)


def patch(api, owner, bin_id, content_type, body, **headers):
    sent = {"X-Master-Key": owner.key, "Content-Type": content_type}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return api.request("PATCH", f"/v3/b/{bin_id}", sent, body)


def latest(api, owner, bin_id):
    return api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": owner.key}).json()


def test_merge_patch(api, owner, bin_id):
    reply = patch(api, owner, bin_id, MERGE, {"name": "Grace", "address": {"zip": None}, "x": [1]})
    assert reply.status == 200
    expected = {
        "name": "Grace",
        "tags": ["a", "b"],
        "address": {"city": "London"},
        "n": 0,
        "x": [1],
    }
    assert reply.json() == {"record": expected, "metadata": {"parentId": bin_id, "private": True}}
    assert latest(api, owner, bin_id) == expected
    assert reply.header("ETag") == api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key}).header(
        "ETag"
    )


def test_json_patch_all_six_operations(api, owner, bin_id):
    operations = [
        {"op": "add", "path": "/tags/-", "value": "c"},
        {"op": "remove", "path": "/address/zip"},
        {"op": "replace", "path": "/name", "value": "Grace"},
        {"op": "move", "from": "/n", "path": "/count"},
        {"op": "copy", "from": "/address/city", "path": "/city"},
        {"op": "test", "path": "/city", "value": "London"},
    ]
    reply = patch(api, owner, bin_id, JSON_PATCH, operations, X_Bin_Versioning="true")
    assert reply.status == 200, reply.body
    assert reply.json()["metadata"]["version"] == 1
    assert latest(api, owner, bin_id) == {
        "name": "Grace",
        "tags": ["a", "b", "c"],
        "address": {"city": "London"},
        "count": 0,
        "city": "London",
    }
    version_0 = api.get(f"/v3/b/{bin_id}/0?meta=false", {"X-Master-Key": owner.key}).json()
    assert version_0 == RECORD  # versioned like a PUT


def test_a_failing_test_operation_is_409_and_changes_nothing(api, owner, bin_id):
    operations = [
        {"op": "replace", "path": "/name", "value": "Grace"},
        {"op": "test", "path": "/n", "value": 1},
    ]
    reply = patch(api, owner, bin_id, JSON_PATCH, operations)
    assert (reply.status, reply.json()) == (
        409,
        {"message": "JSON Patch test failed: the value at /n is not 1"},
    )
    assert latest(api, owner, bin_id) == RECORD


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ([{"op": "remove", "path": "/missing"}], "JSON Patch cannot be applied: "),
        (
            [{"op": "replace", "path": "/address/nowhere/deeper", "value": 1}],
            "JSON Patch cannot be applied: ",
        ),
        ([{"op": "jump", "path": "/n"}], "Invalid JSON Patch document: "),
        ([{"path": "/n"}], "Invalid JSON Patch document: "),
        ({"op": "add"}, "Invalid JSON Patch document: "),
        (b"{not json", "Invalid JSON provided"),
    ],
    ids=["remove-missing", "deep-missing", "unknown-op", "no-op", "not-an-array", "not-json"],
)
def test_bad_json_patches_are_400_and_change_nothing(api, owner, bin_id, body, start):
    reply = patch(api, owner, bin_id, JSON_PATCH, body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(start)
    assert latest(api, owner, bin_id) == RECORD


def test_the_result_is_checked_like_a_put_body(api, owner, bin_id):
    blank = patch(api, owner, bin_id, JSON_PATCH, [{"op": "replace", "path": "", "value": {}}])
    assert (blank.status, blank.json()) == (400, {"message": "Bin cannot be blank"})
    scalar = patch(api, owner, bin_id, MERGE, 42)
    assert (scalar.status, scalar.json()) == (
        400,
        {"message": "Bin must be a JSON object or array"},
    )
    big = patch(api, owner, bin_id, MERGE, {"pad": "x" * 110_000})
    assert big.status == 403  # the free plan's record limit, on the patched record
    assert latest(api, owner, bin_id) == RECORD


def test_other_content_types_are_415(api, owner, bin_id):
    for content_type in ("application/json", None):
        headers = {"X-Master-Key": owner.key}
        if content_type:
            headers["Content-Type"] = content_type
        reply = api.request("PATCH", f"/v3/b/{bin_id}", headers, b'{"n": 1}')
        assert (reply.status, reply.json()) == (
            415,
            {"message": UNSUPPORTED},
        )


def test_patch_takes_puts_keys_and_if_match(api, owner, other, bin_id):
    assert patch(api, other, bin_id, MERGE, {"n": 1}).status == 401
    reader = api.access_key(owner, "read")
    denied = api.request(
        "PATCH", f"/v3/b/{bin_id}", {"X-Access-Key": reader, "Content-Type": MERGE}, {"n": 1}
    )
    assert denied.status == 403
    updater = api.access_key(owner, "read", "update")  # a patch reads what it writes
    allowed = api.request(
        "PATCH", f"/v3/b/{bin_id}", {"X-Access-Key": updater, "Content-Type": MERGE}, {"n": 1}
    )
    assert allowed.status == 200
    stale = patch(api, owner, bin_id, MERGE, {"n": 2}, If_Match='"stale"')
    assert stale.status == 412
    assert latest(api, owner, bin_id)["n"] == 1


def test_concurrent_patches_never_lose_a_write(api, owner, bin_id):
    """8 clients each add their own member at once: every member is there after."""

    def add(n: int):
        return patch(api, owner, bin_id, JSON_PATCH, [{"op": "add", "path": f"/w{n}", "value": n}])

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [reply.status for reply in pool.map(add, range(8))]
    assert statuses == [200] * 8
    record = latest(api, owner, bin_id)
    assert {f"w{n}" for n in range(8)} <= set(record)


def test_a_record_kept_in_s3_is_patched_too(api, owner):
    """A record too large to be inline (over 16 KB compressed) is read from S3 to be patched."""
    import secrets

    big = {"blob": secrets.token_hex(30_000)}
    bin_id = api.create_bin(owner, big)
    reply = patch(api, owner, bin_id, MERGE, {"added": True})
    assert reply.status == 200
    assert latest(api, owner, bin_id) == {**big, "added": True}
