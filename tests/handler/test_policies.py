"""Least privilege, proved by the enforced runtime (openbin_local.iam): every AWS call a function
makes is checked against its own policy in template.yaml, in every test. Here a scenario that
drives every route's storage paths shows that every grant of the template is needed by some call
that no other grant covers (so taking any one away fails that call with AccessDenied), and that
taking one away does fail its route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbin.clock import now_iso
from openbin.keys import generate_key, hash_key
from openbin.models import KeyRecord
from openbin.storage import batch
from openbin_local import iam
from tests.support import Reply

JSON = {"Content-Type": "application/json"}


def scenario(handler_api, storage, monkeypatch, names: dict):
    """(function, step) pairs: a request through each route's storage paths, in order."""
    account = handler_api.account(plan="pro")
    collection = handler_api.collection(account, schema={"type": "object"})
    big = {"rows": [{"n": i, "text": f"row {i} " + "x" * (i % 97)} for i in range(6000)]}
    key = {"X-Master-Key": account.key}
    made = {}

    def create():
        reply = handler_api.post(
            "/v3/b", big, {**key, "X-Collection-Id": collection["collectionId"]}
        )
        made["id"] = reply.json()["metadata"]["id"]
        return reply

    def create_xl():
        form = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.json"\r\n\r\n'
            b'{"xl": true}\r\n--b--\r\n'
        )
        headers = {**key, "Content-Type": "multipart/form-data; boundary=b"}
        reply = handler_api.post("/v3/xl/b", form, headers)
        made["xl"] = reply.json()["record"]
        return reply

    made["reader"] = handler_api.access_key(account, "read")
    legacy = generate_key()  # a key without its account in it: reads the key's create again
    storage.keys.put(KeyRecord(hash_key(legacy), account.account_id, "master", now_iso()))

    def idempotent(master: str):
        return lambda: handler_api.post(
            "/v3/b", {"once": 1}, {"X-Master-Key": master, "Idempotency-Key": "policy"}
        )

    def lose_the_key_race():
        """A create whose key a concurrent one took between its read and its write: it reads
        the winner's answer (GetItem)."""
        real_read = batch.read

        def miss(storage, wanted):
            found = real_read(storage, wanted)
            found.remembered = None
            return found

        with monkeypatch.context() as patched:
            patched.setattr(batch, "read", miss)
            patched.setattr(type(storage), "read", lambda self, wanted: batch.read(self, wanted))
            reply = idempotent(account.key)()
        assert reply.header("Idempotent-Replayed") == "true"
        return reply

    def file_usage_lines():
        """What the CloudWatch Logs subscription does on AWS: the writer gets the lines."""
        handler_api.settle()
        handler_api.invocations[:] = ["UsageLogWriterFunction"]
        return Reply(200, {}, b"")

    return [
        ("CreateBinFunction", create),
        ("CreateBinFunction", idempotent(account.key)),  # takes the key
        ("CreateBinFunction", idempotent(account.key)),  # a replay
        ("CreateBinFunction", idempotent(legacy)),  # a replay, reading the key's account
        ("CreateBinFunction", lose_the_key_race),
        ("ReadBinFunction", lambda: handler_api.get(f"/v3/b/{made['id']}", key)),
        (
            "UpdateBinFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}", {**key, "X-Bin-Versioning": "true"}, big
            ),
        ),
        (
            "UpdateBinFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}", {**key, "X-Bin-Versioning": "false"}, {"small": 1}
            ),
        ),
        (
            "UpdateBinFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}", {**key, "X-Bin-Versioning": "true"}, big
            ),
        ),
        (
            "ReadBinFunction",
            lambda: handler_api.get(
                f"/v3/b/{made['id']}/latest", {**key, "X-JSON-Path": "$.rows[0]"}
            ),
        ),
        ("ReadBinFunction", lambda: handler_api.get(f"/v3/b/{made['id']}/0", key)),
        ("ReadBinFunction", lambda: handler_api.get(f"/v3/b/{made['id']}/1", key)),
        ("BinMetaFunction", lambda: handler_api.get(f"/v3/b/{made['id']}/versions/count", key)),
        (
            "BinMetaFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}/meta/name", {**key, "X-Bin-Name": "renamed"}
            ),
        ),
        (
            "BinMetaFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}/meta/privacy", {**key, "X-Bin-Private": "false"}
            ),
        ),
        (
            "BinMetaFunction",
            lambda: handler_api.request(
                "DELETE", f"/v3/b/{made['id']}/versions", {**key, "X-Preserve-Latest": "true"}
            ),
        ),
        (
            "UpdateBinFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}", {**key, "X-Bin-Versioning": "true"}, big
            ),
        ),
        (
            "BinMetaFunction",
            lambda: handler_api.request("DELETE", f"/v3/b/{made['id']}/versions", key),
        ),
        (
            "UpdateBinFunction",
            lambda: handler_api.request(
                "PUT", f"/v3/b/{made['id']}", {**key, "X-Bin-Versioning": "true"}, big
            ),
        ),
        ("BinMetaFunction", lambda: handler_api.get(f"/v3/b/{made['id']}/versions", key)),
        (
            "UpdateBinFunction",  # reads version 0 with the key, and its record from S3
            lambda: handler_api.request("POST", f"/v3/b/{made['id']}/versions/0/restore", key),
        ),
        (
            "UpdateBinFunction",  # reads the record it patches (from S3: it is large)
            lambda: handler_api.request(
                "PATCH",
                f"/v3/b/{made['id']}",
                {**key, "Content-Type": "application/merge-patch+json"},
                {"patched": True},
            ),
        ),
        (
            "CollectionsFunction",
            lambda: handler_api.get(f"/v3/c/{collection['collectionId']}/bins/{made['id']}", key),
        ),
        ("DeleteBinFunction", lambda: handler_api.request("DELETE", f"/v3/b/{made['id']}", key)),
        ("CreateBinFunction", create_xl),
        ("ReadBinFunction", lambda: handler_api.get(f"/v3/xl/b/{made['xl']}", key)),
        ("DeleteBinFunction", lambda: handler_api.request("DELETE", f"/v3/xl/b/{made['xl']}", key)),
        ("UsageLogWriterFunction", file_usage_lines),
        ("UsageFunction", lambda: handler_api.get("/v3/l", key)),
        ("UsageFunction", lambda: handler_api.get(f"/v3/l/{datetime.now(UTC):%d-%m-%Y}", key)),
        *master_key_routes(handler_api, account, made),
        ("UsageFunction", orphaned_key_refused(handler_api, storage)),
        ("WebhooksFunction", orphaned_key_refused(handler_api, storage, "/v3/w")),
        *refusals_with_a_recognised_key(handler_api, account, made),
        ("RouteNotFoundFunction", lambda: handler_api.get("/v3/nothing")),
        *trailing_slashes(handler_api, account, collection),
        *webhooks(handler_api, monkeypatch, names),
        ("ConsoleFunction", lambda: handler_api.get("/")),
    ]


def webhooks(api, monkeypatch, names: dict) -> list:
    """Webhook settings, a change dispatched (a record too large for the delivery's item: its
    body an object), an attempt refused then tried again, a delivery sent again on request."""
    import random

    from openbin import storage as storage_module
    from openbin_local import sources
    from tests.handler.test_webhook_sending import Receiver

    monkeypatch.setenv("OPENBIN_WEBHOOK_ALLOW_PRIVATE", "1")
    storage_module.reset()
    account = api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    receiver = Receiver()
    receiver.status = 500
    dispatching = sources.EventSources(api.runner, names, only=("WebhookDispatcherFunction",))
    sending = sources.EventSources(api.runner, names, only=("WebhookSenderFunction",))
    made: dict = {}
    noise = random.Random(7)
    large = {"noise": "".join(noise.choice("0123456789abcdef") for _ in range(900_000))}

    def pumped(function: str, source) -> Reply:
        source.pump(seconds=5)
        api.invocations[:] = [function]
        return Reply(200, {}, b"")

    def created():
        reply = api.post("/v3/b", large, key)
        made["bin"] = reply.json()["metadata"]["id"]
        return reply

    def delivered():
        listed = api.get("/v3/w/deliveries", key)
        made["delivery"] = listed.json()[0]["id"]
        return listed

    def finish():
        dispatching.stop()
        sending.stop()
        receiver.close()
        return api.request("DELETE", "/v3/w", key)

    return [
        (
            "WebhooksFunction",
            lambda: api.request("PUT", "/v3/w", {**key, **JSON}, {"url": receiver.url}),
        ),
        ("WebhooksFunction", lambda: api.get("/v3/w", key)),
        ("WebhooksFunction", lambda: api.post("/v3/w/secret", None, key)),
        ("CreateBinFunction", created),
        # replaced before the change is read: the create's record is a noncurrent version
        (
            "UpdateBinFunction",
            lambda: api.request("PUT", f"/v3/b/{made['bin']}", {**key, **JSON}, large),
        ),
        ("WebhookDispatcherFunction", lambda: pumped("WebhookDispatcherFunction", dispatching)),
        ("WebhookSenderFunction", lambda: pumped("WebhookSenderFunction", sending)),
        ("WebhooksFunction", delivered),
        (
            "WebhooksFunction",
            lambda: api.post(f"/v3/w/deliveries/{made['delivery']}/retry", None, key),
        ),
        ("WebhooksFunction", finish),
    ]


def trailing_slashes(api, account, collection) -> list:
    """A route asked for with one trailing slash: the $default function invokes the function
    that owns the route (lambda:InvokeFunction on its alias), once for each."""
    key = {"X-Master-Key": account.key}
    nowhere = "0" * 24

    def forwarded(status: int, call):
        def step():
            reply = call()
            assert reply.status == status, reply.body
            return Reply(404, {}, b"")  # the step's function is RouteNotFoundFunction

        return step

    json_type = {**key, "Content-Type": "application/json"}
    return [
        ("RouteNotFoundFunction", forwarded(200, lambda: api.post("/v3/b/", {"a": 1}, key))),
        ("RouteNotFoundFunction", forwarded(404, lambda: api.get(f"/v3/b/{nowhere}/", key))),
        (
            "RouteNotFoundFunction",
            forwarded(404, lambda: api.request("PUT", f"/v3/b/{nowhere}/", json_type, {"a": 1})),
        ),
        (
            "RouteNotFoundFunction",
            forwarded(404, lambda: api.request("DELETE", f"/v3/b/{nowhere}/", key)),
        ),
        (
            "RouteNotFoundFunction",
            forwarded(404, lambda: api.get(f"/v3/b/{nowhere}/versions/count/", key)),
        ),
        (
            "RouteNotFoundFunction",
            forwarded(200, lambda: api.get(f"/v3/c/{collection['collectionId']}/bins/", key)),
        ),
        ("RouteNotFoundFunction", forwarded(404, lambda: api.get(f"/v3/s/{nowhere}/", key))),
        ("RouteNotFoundFunction", forwarded(200, lambda: api.get("/v3/a/", key))),
        ("RouteNotFoundFunction", forwarded(200, lambda: api.get("/v3/usage/", key))),
        ("RouteNotFoundFunction", forwarded(404, lambda: api.get("/v3/w/", key))),
    ]


def orphaned_key_refused(api, storage, path: str = "/v3/usage"):
    """A key whose account item is gone (imported data): the charge is refused, and the answer
    looks for what the account has left (GetItem)."""
    from openbin import ids

    orphan = generate_key()
    storage.keys.put(KeyRecord(hash_key(orphan), ids.new_id(), "master", now_iso()))

    def step():
        reply = api.get(path, {"X-Master-Key": orphan})
        assert (reply.status, reply.message) == (403, "Bin not associated to any user account")
        return Reply(200, {}, b"")

    return step


def master_key_routes(api, account, made: dict) -> list:
    """Collections, schema docs, access keys and usage: each route once."""
    key = {"X-Master-Key": account.key}
    json_type = {"Content-Type": "application/json"}

    def remember(name: str, reply, path=("record",)):
        value = reply.json()
        for part in path:
            value = value[part]
        made[name] = value
        return reply

    return [
        (
            "CollectionsFunction",
            lambda: remember("c", api.post("/v3/c", None, {**key, "X-Collection-Name": "c"})),
        ),
        ("CollectionsFunction", lambda: api.get("/v3/c", key)),
        (
            "CollectionsFunction",
            lambda: api.request(
                "PUT", f"/v3/c/{made['c']}/meta/name", {**key, "X-Collection-Name": "d"}
            ),
        ),
        ("CollectionsFunction", lambda: api.get(f"/v3/c/{made['c']}/bins", key)),
        ("CollectionsFunction", lambda: api.get("/v3/c/uncategorized/bins", key)),
        (
            "SchemaDocsFunction",
            lambda: remember(
                "s",
                api.post(
                    "/v3/s", {"type": "object"}, {**key, **json_type, "X-Schema-Doc-Name": "s"}
                ),
                ("metadata", "id"),
            ),
        ),
        ("SchemaDocsFunction", lambda: api.get(f"/v3/s/{made['s']}", key)),
        (
            "SchemaDocsFunction",
            lambda: api.request(
                "PUT", f"/v3/s/{made['s']}", {**key, **json_type}, {"type": "object", "title": "t"}
            ),
        ),
        (
            "SchemaDocsFunction",
            lambda: api.request(
                "PUT", f"/v3/s/{made['s']}/meta/name", {**key, "X-Schema-Doc-Name": "t"}
            ),
        ),
        (
            "CollectionsFunction",
            lambda: api.request(
                "PUT", f"/v3/c/{made['c']}/schemadoc/add", {**key, "X-Schema-Doc-Id": made["s"]}
            ),
        ),
        (
            "CreateBinFunction",
            lambda: api.post("/v3/b", {"in": "c"}, {**key, "X-Collection-Id": made["c"]}),
        ),
        (
            "CollectionsFunction",
            lambda: api.request("PUT", f"/v3/c/{made['c']}/schemadoc/remove", key),
        ),
        (
            "AccessKeysFunction",
            lambda: remember(
                "a",
                api.post(
                    "/v3/a", {"bins": {"read": True}}, {**key, **json_type, "X-Key-Name": "k"}
                ),
                ("accessKeyId",),
            ),
        ),
        ("AccessKeysFunction", lambda: api.get("/v3/a", key)),
        ("AccessKeysFunction", lambda: api.request("DELETE", f"/v3/a/{made['a']}", key)),
        ("UsageFunction", lambda: api.get("/v3/usage", key)),
    ]


def refusals_with_a_recognised_key(api, account, made: dict) -> list:
    """Refusals before any charge still say what the key's account has left: each function
    reads the account (X-Requests-Remaining on a 404 or a permission refused)."""
    key = {"X-Master-Key": account.key}
    nowhere = "000000000000000000000000"

    def refused(status: int, call):
        def step():
            reply = call()
            assert reply.status == status, reply.body
            assert reply.header("X-Requests-Remaining") is not None
            return Reply(200, {}, b"")

        return step

    return [
        ("ReadBinFunction", refused(404, lambda: api.get(f"/v3/b/{nowhere}", key))),
        (
            "UpdateBinFunction",
            refused(404, lambda: api.request("PUT", f"/v3/b/{nowhere}", key, {"a": 1})),
        ),
        ("DeleteBinFunction", refused(404, lambda: api.request("DELETE", f"/v3/b/{nowhere}", key))),
        ("BinMetaFunction", refused(404, lambda: api.get(f"/v3/b/{nowhere}/versions/count", key))),
        ("CollectionsFunction", refused(404, lambda: api.get(f"/v3/c/{nowhere}/bins", key))),
        ("SchemaDocsFunction", refused(404, lambda: api.get(f"/v3/s/{nowhere}", key))),
        (
            "AccessKeysFunction",
            refused(404, lambda: api.request("DELETE", f"/v3/a/{nowhere}", key)),
        ),
        (
            "CreateBinFunction",
            refused(403, lambda: api.post("/v3/b", {"a": 1}, {"X-Access-Key": made["reader"]})),
        ),
        ("UsageFunction", refused(404, lambda: api.get("/v3/l/01-01-2001", key))),
    ]


def run(scenario_steps, template, handler_api) -> dict[str, set[str]]:
    """Run the steps; every one must succeed under the enforced policies. (action, logical
    resource) of each call, by function."""
    seen: dict[str, set[str]] = {}
    enforced = iam.policies()
    assert enforced is not None
    for function, step in scenario_steps:
        if function not in template.functions:
            continue  # a route this template does not have (yet)
        handler_api.invocations.clear()
        enforced.recorded = set()
        try:
            reply = step()
        finally:
            calls, enforced.recorded = enforced.recorded, None
        assert reply.status == (404 if function == "RouteNotFoundFunction" else 200), reply.body
        assert handler_api.invocations == [function]
        seen.setdefault(function, set()).update(
            f"{action} {resource.split('/')[0]}"
            for caller, action, resource, _ in calls
            if caller == function  # not the calls of a function it invoked
        )
        RECORDED.update(calls)
    return seen


RECORDED: set[tuple[str, str, str, str | None]] = set()


def test_every_call_of_every_route_is_allowed(template, handler_api, aws, storage, monkeypatch):
    seen = run(scenario(handler_api, storage, monkeypatch, aws.names), template, handler_api)
    assert {"CreateBinFunction", "ReadBinFunction", "RouteNotFoundFunction"} <= set(seen)
    # touches no storage: it only forwards a route with a trailing slash to its function
    owners = {r.function for r in template.routes if r.path.startswith("/v3/")}
    assert seen["RouteNotFoundFunction"] == {f"lambda:InvokeFunction {f}.Alias" for f in owners}
    assert seen["ConsoleFunction"] == set()  # static files: the page calls the API itself
    assert {
        "s3:PutObject RecordsBucket",
        "dynamodb:PutItem BinsTable",
        "dynamodb:PutItem IdempotencyTable",
        "dynamodb:BatchGetItem IdempotencyTable",
        "dynamodb:GetItem IdempotencyTable",
    } <= seen["CreateBinFunction"]
    assert "s3:GetObject RecordsBucket" in seen["ReadBinFunction"]
    assert "s3:GetObject RecordsBucket" in seen["UpdateBinFunction"]  # a PATCH of a large record
    assert seen["UsageLogWriterFunction"] == {"s3:PutObject RecordsBucket"}
    assert {"s3:ListBucket RecordsBucket", "s3:GetObject RecordsBucket"} <= seen["UsageFunction"]
    assert {"dynamodb:PutItem VersionsTable", "s3:DeleteObject RecordsBucket"} <= seen[
        "UpdateBinFunction"
    ]
    assert {"dynamodb:DeleteItem BinsTable", "s3:DeleteObject RecordsBucket"} <= seen[
        "DeleteBinFunction"
    ]


def test_every_grant_is_needed_by_a_call_no_other_grant_covers(
    template, handler_api, aws, storage, monkeypatch
):
    """Taking any one grant away makes a call of the scenario fail with AccessDenied: each is
    the only grant of its function that covers some call the function makes. Grants the
    scenario cannot reach here are named, with why, in ``UNREACHED``."""
    RECORDED.clear()
    run(scenario(handler_api, storage, monkeypatch, aws.names), template, handler_api)
    enforced = iam.policies()
    assert enforced is not None
    needed = enforced.sole_grants(RECORDED)
    unneeded = [
        f"{function}: {grant.action} on {grant.resource}"
        for function, grants in enforced.grants.items()
        for grant in grants
        if grant not in needed.get(function, set())
        and (function, grant.action, grant.resource) not in UNREACHED
    ]
    assert unneeded == [], "\n".join(unneeded)


# Grants the scenario does not reach (a writer that lost a race reads the state again), with the
# tests that do reach them under the same enforcement (a refusal there fails those tests).
RACES = "tests/handler/test_races.py; tests/contract/test_update.py, test_history.py"
UNREACHED: dict[tuple[str, str, str], str] = {
    ("BinMetaFunction", "dynamodb:GetItem", "BinsTable"): RACES,
    ("DeleteBinFunction", "dynamodb:GetItem", "BinsTable"): RACES,
    ("UpdateBinFunction", "dynamodb:GetItem", "BinsTable"): RACES,
    ("UpdateBinFunction", "dynamodb:GetItem", "VersionsTable"): RACES,
    ("ReadBinFunction", "dynamodb:GetItem", "BinsTable"): RACES,
    ("ReadBinFunction", "dynamodb:GetItem", "VersionsTable"): RACES,
    ("CreateBinFunction", "s3:DeleteObject", "RecordsBucket/records/*"): (
        "a refused create removes the object it stored: tests/handler/test_faults.py"
    ),
}


@pytest.mark.access_denied
def test_a_grant_taken_away_fails_its_route(template, handler_api, aws):
    """The issue's finding: the read function could not read the caller's account (a public
    bin read with another account's key, whose owner must not be blocked): 503 on AWS."""
    enforced = iam.policies()
    assert enforced is not None
    grant = next(
        g
        for g in enforced.grants["ReadBinFunction"]
        if g.action == "dynamodb:GetItem" and g.resource == "AccountsTable"
    )
    owner, reader = handler_api.account(), handler_api.account()
    bin_id = handler_api.create_bin(owner, {"a": 1}, X_Bin_Private="false")
    assert handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": reader.key}).status == 200
    before = len(enforced.denials)
    enforced.removed.add(("ReadBinFunction", grant))
    try:
        reply = handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": reader.key})
    finally:
        enforced.removed.discard(("ReadBinFunction", grant))
    assert reply.status == 503
    assert enforced.denials[before:] == [("ReadBinFunction", "dynamodb:GetItem", "AccountsTable")]


@pytest.mark.access_denied
def test_a_missing_object_is_403_without_list_bucket(template, handler_api, aws, storage):
    """S3 tells a caller that may not list the bucket nothing about which keys exist: a
    missing key answers AccessDenied (403), not NoSuchKey. The usage function may list."""
    from botocore.exceptions import ClientError

    from openbin.models import RecordRef
    from openbin_local.runtime import invoking

    missing = RecordRef(size=1, s3_key="records/000000000000000000000000/missing.json.zst")
    enforced = iam.policies()
    assert enforced is not None
    # the usage function's s3:ListBucket holds only for the prefix logs/*: a GetObject has no
    # prefix, so it is refused too; a grant of the whole bucket is what makes it a 404
    whole_bucket = iam.Grant("s3:ListBucket", "RecordsBucket")
    for function, granted, code in (
        ("ReadBinFunction", False, "AccessDenied"),
        ("UsageFunction", False, "AccessDenied"),
        ("ReadBinFunction", True, "NoSuchKey"),
    ):
        if granted:
            enforced.grants[function].append(whole_bucket)
        token = invoking.set(function)
        try:
            with pytest.raises(ClientError) as raised:
                storage.records.load(missing)
        finally:
            invoking.reset(token)
            if granted:
                enforced.grants[function].remove(whole_bucket)
        assert raised.value.response["Error"]["Code"] == code


@pytest.mark.access_denied
def test_each_kind_of_call_is_checked(template, aws, storage):
    """A transaction is checked part by part, a batch table by table, a Query on its index."""
    from botocore.exceptions import ClientError

    from openbin_local.runtime import invoking

    db, names = storage.db, aws.names
    token = invoking.set("ReadBinFunction")  # may not write bins, nor query an index
    try:
        for call in (
            lambda: db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": names["AccountsTable"],
                            "Key": {"accountId": {"S": "x"}},
                            "UpdateExpression": "SET a = :a",
                            "ExpressionAttributeValues": {":a": {"S": "b"}},
                        }
                    },
                    {"Put": {"TableName": names["BinsTable"], "Item": {"binId": {"S": "x"}}}},
                ]
            ),
            lambda: db.batch_write_item(
                RequestItems={
                    names["BinsTable"]: [{"DeleteRequest": {"Key": {"binId": {"S": "x"}}}}]
                }
            ),
            lambda: db.query(
                TableName=names["BinsTable"],
                IndexName="ByOwnerCollection",
                KeyConditionExpression="c = :c",
                ExpressionAttributeValues={":c": {"S": "x"}},
            ),
        ):
            with pytest.raises(ClientError) as raised:
                call()
            assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
            assert "is not authorized to perform: dynamodb:" in str(raised.value)
    finally:
        invoking.reset(token)


@pytest.mark.access_denied
def test_a_deny_statement_wins_and_not_action_is_refused(template, aws, storage):
    """An explicit Deny refuses what an Allow grants, as in IAM; a deleted object version is
    s3:DeleteObjectVersion, not s3:DeleteObject."""
    from botocore.exceptions import ClientError

    from openbin_local.runtime import invoking

    enforced = iam.policies()
    assert enforced is not None
    deny = iam.Grant("s3:GetObject", "RecordsBucket/records/*", deny=True)
    enforced.grants["ReadBinFunction"].append(deny)
    token = invoking.set("ReadBinFunction")
    try:
        with pytest.raises(ClientError) as raised:
            storage.records._s3.get_object(Bucket=aws.names["RecordsBucket"], Key="records/x")
        assert raised.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        invoking.reset(token)
        enforced.grants["ReadBinFunction"].remove(deny)
    requested = list(
        enforced.requested(
            "s3",
            "DeleteObjects",
            {
                "Bucket": aws.names["RecordsBucket"],
                "Delete": {
                    "Objects": [{"Key": "records/a", "VersionId": "v1"}, {"Key": "records/b"}]
                },
            },
        )
    )
    assert [action for action, _ in requested] == ["s3:DeleteObjectVersion", "s3:DeleteObject"]
    bad = {
        "Resources": {
            "F": {
                "Properties": {
                    "Policies": [
                        {"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}
                    ]
                }
            }
        }
    }
    with pytest.raises(ValueError, match="NotAction"):
        iam.grants_of(type("T", (), {"resources": bad["Resources"]})(), "F")
