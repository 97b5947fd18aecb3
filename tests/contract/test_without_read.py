"""An access key with ``bins.update`` but not ``bins.read`` is never sent record content that
it did not send itself (docs/API.md §3.9 and §3.10; issue 24, finding 1): PATCH and restore
answer the metadata without the record, a JSON Patch ``test`` needs ``read``, no error quotes
the record, and a schema refusal names the path and the rule, never the value. At both
levels."""

from __future__ import annotations

import json

import pytest

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SECRET = "s3cr3t-value-only-readers-see"
RECORD = {"secret": SECRET, "n": 1, "nested": {"deep": SECRET}}
NO_READ = "X-Access-Key passed does not have permission to read the bin."


@pytest.fixture
def bin_id(api, owner):
    return api.create_bin(owner, RECORD)


@pytest.fixture
def updater(api, owner):
    return api.access_key(owner, "update")


def send(api, key, method, path, content_type=None, body=None, **headers):
    sent = {"X-Access-Key": key}
    if content_type:
        sent["Content-Type"] = content_type
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return api.request(method, path, sent, body)


def read(api, owner, bin_id, version="latest"):
    return api.get(f"/v3/b/{bin_id}/{version}?meta=false", {"X-Master-Key": owner.key}).json()


def test_the_key_cannot_read_the_bin(api, bin_id, updater):
    reply = send(api, updater, "GET", f"/v3/b/{bin_id}")
    assert (reply.status, reply.message) == (403, NO_READ)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (MERGE, {}, RECORD),
        (JSON_PATCH, [], RECORD),
        (MERGE, {"n": 2}, {**RECORD, "n": 2}),
        (JSON_PATCH, [{"op": "copy", "from": "/secret", "path": "/copied"}], None),
    ],
    ids=["empty-merge", "empty-json-patch", "merge", "copy"],
)
def test_a_patch_answers_the_metadata_without_the_record(
    api, owner, bin_id, updater, content_type, body, expected
):
    reply = send(api, updater, "PATCH", f"/v3/b/{bin_id}", content_type, body)
    assert reply.status == 200, reply.body
    assert reply.json() == {"metadata": {"parentId": bin_id, "private": True}}
    assert SECRET not in reply.body.decode()
    assert reply.header("ETag")
    if expected is None:
        expected = {**RECORD, "copied": SECRET}
    assert read(api, owner, bin_id) == expected  # the patch was applied


def test_the_master_key_still_gets_the_record(api, owner, bin_id):
    reply = api.request(
        "PATCH", f"/v3/b/{bin_id}", {"X-Master-Key": owner.key, "Content-Type": MERGE}, {}
    )
    assert reply.json()["record"] == RECORD


def test_a_json_patch_test_needs_read_and_changes_nothing(api, owner, bin_id, updater):
    for guess in (SECRET, "wrong"):  # neither a right nor a wrong guess is answered
        operations = [
            {"op": "test", "path": "/secret", "value": guess},
            {"op": "replace", "path": "/n", "value": 5},
        ]
        reply = send(api, updater, "PATCH", f"/v3/b/{bin_id}", JSON_PATCH, operations)
        assert (reply.status, reply.message) == (403, NO_READ)
    assert read(api, owner, bin_id) == RECORD


def test_a_failing_test_never_quotes_the_record(api, owner, bin_id):
    operations = [{"op": "test", "path": "/nested", "value": {"deep": "other"}}]
    reply = api.request(
        "PATCH",
        f"/v3/b/{bin_id}",
        {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH},
        operations,
    )
    assert reply.status == 409
    assert reply.message == 'JSON Patch test failed: the value at /nested is not {"deep":"other"}'


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "/nested/missing"},
        {"op": "add", "path": "/secret/inside", "value": 1},
        {"op": "replace", "path": "/nested/deep/x", "value": 1},
        {"op": "copy", "from": "/nested/none", "path": "/x"},
        {"op": "move", "from": "/secret/0", "path": "/x"},
    ],
    ids=["remove", "add-into-string", "replace-through-string", "copy", "move"],
)
def test_no_patch_error_quotes_the_record(api, bin_id, updater, operation):
    reply = send(api, updater, "PATCH", f"/v3/b/{bin_id}", JSON_PATCH, [operation])
    assert reply.status == 400, reply.body
    assert reply.message.startswith("JSON Patch cannot be applied: ")
    assert SECRET not in reply.body.decode()
    assert "deep" not in reply.message  # no part of the record either


def test_a_restore_answers_the_metadata_without_the_record(api, owner, bin_id, updater):
    kept = api.request(
        "PUT",
        f"/v3/b/{bin_id}",
        {"X-Master-Key": owner.key, "X-Bin-Versioning": "true"},
        {"replaced": True},
    )
    assert kept.status == 200
    reply = send(api, updater, "POST", f"/v3/b/{bin_id}/versions/0/restore")
    assert reply.status == 200, reply.body
    assert reply.json() == {"metadata": {"parentId": bin_id, "private": True, "version": 2}}
    assert SECRET not in reply.body.decode()
    assert read(api, owner, bin_id) == RECORD


def test_a_put_still_answers_what_the_key_sent(api, bin_id, updater):
    reply = send(api, updater, "PUT", f"/v3/b/{bin_id}", "application/json", {"mine": 1})
    assert (reply.status, reply.json()["record"]) == (200, {"mine": 1})


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}}


@pytest.fixture
def schema_bin(api, owner):
    collection = api.collection(owner, "checked", schema=SCHEMA)["collectionId"]
    return api.create_bin(owner, RECORD, X_Collection_Id=collection)


def test_a_schema_refusal_of_a_patch_quotes_no_value(api, owner, schema_bin, updater):
    operations = [{"op": "copy", "from": "/secret", "path": "/n"}]
    reply = send(api, updater, "PATCH", f"/v3/b/{schema_bin}", JSON_PATCH, operations)
    assert reply.status == 400
    assert reply.message == (
        "Schema Doc Validation Mismatch: $.n: does not match the schema's 'type'"
    )
    assert SECRET not in reply.body.decode()
    assert read(api, owner, schema_bin) == RECORD
    # the master key reads the record: its refusal quotes the value, as a PUT's does
    mastered = api.request(
        "PATCH",
        f"/v3/b/{schema_bin}",
        {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH},
        operations,
    )
    assert mastered.status == 400
    assert SECRET in mastered.message


def test_a_schema_refusal_of_a_restore_quotes_no_value(api, owner, updater):
    collection = api.collection(owner, "later", schema=None)["collectionId"]
    bin_id = api.create_bin(owner, {"n": SECRET}, X_Collection_Id=collection)
    key = {"X-Master-Key": owner.key}
    fixed = api.request("PUT", f"/v3/b/{bin_id}", {**key, "X-Bin-Versioning": "true"}, {"n": 1})
    assert fixed.status == 200
    schema = api.post(
        "/v3/s",
        SCHEMA,
        {**key, "X-Schema-Doc-Name": "ints", "Content-Type": "application/json"},
    )
    assert schema.status == 200, schema.body
    schema_id = schema.json()["metadata"]["id"]
    attached = api.request(
        "PUT", f"/v3/c/{collection}/schemadoc/add", {**key, "X-Schema-Doc-Id": schema_id}
    )
    assert attached.status == 200, attached.body
    reply = send(api, updater, "POST", f"/v3/b/{bin_id}/versions/0/restore")
    assert reply.status == 400
    assert SECRET not in reply.body.decode()
    assert json.loads(reply.body)["message"].endswith("does not match the schema's 'type'")
