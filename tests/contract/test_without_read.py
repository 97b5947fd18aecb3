"""An access key with ``bins.update`` but not ``bins.read`` is never sent anything of the record
it did not send itself (docs/API.md §3.9 and §3.10; issue 24, finding 1). PATCH and restore read
the record they write: a patch's answer, a schema's refusal of its result (``uniqueItems``
found a hidden value in 14 requests), its size against the plan's limit or the work budget all
tell what the record holds. So they need ``bins.read`` as well as ``bins.update``; a PUT, which
replaces the record whole with what the key sent, needs only ``bins.update``. At both levels."""

from __future__ import annotations

import pytest

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SECRET = "4821"
RECORD = {"tags": ["a"], "pin": SECRET}
NO_READ = "X-Access-Key passed does not have permission to read the bin."


@pytest.fixture
def bin_id(api, owner):
    collection = api.collection(
        owner, "pins", schema={"properties": {"tags": {"type": "array", "uniqueItems": True}}}
    )["collectionId"]
    return api.create_bin(owner, RECORD, X_Collection_Id=collection)


def send(api, key, method, path, content_type=None, body=None):
    sent = {"X-Access-Key": key}
    if content_type:
        sent["Content-Type"] = content_type
    return api.request(method, path, sent, body)


def read(api, owner, bin_id):
    return api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": owner.key}).json()


def remaining(api, owner) -> int:
    return api.op("account.show", account_id=owner.account_id)["requestsRemaining"]


GUESSING = [  # the attacker's oracle: a schema refusal exactly when the pin is a guess
    {"op": "add", "path": "/zz", "value": ["1111", SECRET]},
    {"op": "copy", "from": "/pin", "path": "/zz/-"},
    {"op": "move", "from": "/zz", "path": "/tags"},
]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [(MERGE, {}), (JSON_PATCH, []), (MERGE, {"n": 2}), (JSON_PATCH, GUESSING)],
    ids=["empty-merge", "empty-json-patch", "merge", "schema-oracle"],
)
def test_a_patch_needs_read_as_well_as_update(api, owner, bin_id, content_type, body):
    updater = api.access_key(owner, "update")
    before = remaining(api, owner)
    reply = send(api, updater, "PATCH", f"/v3/b/{bin_id}", content_type, body)
    assert (reply.status, reply.message) == (403, NO_READ)
    assert SECRET not in reply.body.decode()
    assert remaining(api, owner) == before  # refused at the permission step: not charged
    assert read(api, owner, bin_id) == RECORD


def test_a_restore_needs_read_as_well_as_update(api, owner, bin_id):
    key = {"X-Master-Key": owner.key}
    kept = api.request("PUT", f"/v3/b/{bin_id}", {**key, "X-Bin-Versioning": "true"}, {"b": 1})
    assert kept.status == 200
    updater = api.access_key(owner, "update")
    reply = send(api, updater, "POST", f"/v3/b/{bin_id}/versions/0/restore")
    assert (reply.status, reply.message) == (403, NO_READ)
    assert read(api, owner, bin_id) == {"b": 1}


def test_a_key_with_read_and_update_patches_and_restores(api, owner, bin_id):
    both = api.access_key(owner, "read", "update")
    reply = send(api, both, "PATCH", f"/v3/b/{bin_id}", MERGE, {"n": 2})
    assert (reply.status, reply.json()["record"]) == (200, {**RECORD, "n": 2})
    restored = send(api, both, "POST", f"/v3/b/{bin_id}/versions/0/restore")
    assert restored.status == 200, restored.body


def test_a_put_needs_only_update_and_answers_what_the_key_sent(api, owner, bin_id):
    updater = api.access_key(owner, "update")
    reply = send(api, updater, "PUT", f"/v3/b/{bin_id}", "application/json", {"tags": ["x"]})
    assert (reply.status, reply.json()["record"]) == (200, {"tags": ["x"]})


def test_the_key_cannot_read_the_bin(api, owner, bin_id):
    reply = send(api, api.access_key(owner, "update"), "GET", f"/v3/b/{bin_id}")
    assert (reply.status, reply.message) == (403, NO_READ)


def test_a_failing_test_never_quotes_the_record(api, owner, bin_id):
    operations = [{"op": "test", "path": "/pin", "value": "0000"}]
    reply = api.request(
        "PATCH",
        f"/v3/b/{bin_id}",
        {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH},
        operations,
    )
    assert reply.status == 409
    assert reply.message == 'JSON Patch test failed: the value at /pin is not "0000"'


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "/tags/5"},
        {"op": "add", "path": "/pin/inside", "value": 1},
        {"op": "replace", "path": "/nowhere/x", "value": 1},
        {"op": "copy", "from": "/none", "path": "/x"},
        {"op": "move", "from": "/pin/0", "path": "/x"},
    ],
    ids=["remove", "add-into-string", "replace-missing", "copy", "move"],
)
def test_no_patch_error_quotes_the_record(api, owner, bin_id, operation):
    headers = {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH}
    reply = api.request("PATCH", f"/v3/b/{bin_id}", headers, [operation])
    assert reply.status == 400, reply.body
    assert reply.message.startswith("JSON Patch cannot be applied: ")
    assert SECRET not in reply.body.decode() and "'a'" not in reply.message
