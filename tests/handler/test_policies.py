"""Least privilege, checked by use: every AWS call the functions make, recorded through the real
handlers, is allowed by the function's own policy in template.yaml."""

from __future__ import annotations

from datetime import UTC, datetime

from openbin.clock import now_iso
from openbin.keys import generate_key, hash_key
from openbin.models import KeyRecord
from openbin.storage import batch
from tests.infrastructure.test_settings_template import as_list, getatt_name, statements
from tests.support import Reply

TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def allowed(template, function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's statements allow; the resource is a logical id,
    suffixed with /index/* or /records/* where the ARN says so."""
    out = set()
    for statement in statements(template.resources[function]):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                name = getatt_name(resource)
                if isinstance(resource, dict) and "Fn::Sub" in resource:
                    name += resource["Fn::Sub"].split("}", 1)[1]
                out.add((action, name))
    return out


def is_allowed(call: tuple[str, str], grants: set[tuple[str, str]]) -> bool:
    action, resource = call
    for granted_action, granted in grants:
        if granted_action != action:
            continue
        if granted == resource:
            return True
        if granted.endswith("/*") and resource.startswith(granted[:-1]):
            return True
    return False


def test_policies_allow_every_call_the_functions_make(
    template, handler_api, aws, storage, monkeypatch
):
    from botocore.client import BaseClient

    recorder = CallRecorder(aws)
    make_api_call = BaseClient._make_api_call
    functions_running = []

    def record(client, operation, params):  # every call of every client the functions use
        if functions_running:
            recorder(client, operation, params)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)

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

    steps = [
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
        ("RouteNotFoundFunction", lambda: handler_api.get("/v3/nothing")),
        ("ConsoleFunction", lambda: handler_api.get("/")),
    ]
    seen: dict[str, set[str]] = {}
    for function, step in steps:
        if function not in template.functions:
            continue  # a route this template does not have (yet)
        recorder.calls.clear()
        handler_api.invocations.clear()
        functions_running.append(function)
        reply = step()
        functions_running.clear()
        assert reply.status == (404 if function == "RouteNotFoundFunction" else 200), reply.body
        assert handler_api.invocations == [function]
        grants = allowed(template, function)
        refused = [call for call in recorder.calls if not is_allowed(call, grants)]
        assert refused == [], function
        seen.setdefault(function, set()).update(f"{a} {r.split('/')[0]}" for a, r in recorder.calls)
    assert {"CreateBinFunction", "ReadBinFunction", "RouteNotFoundFunction"} <= set(seen)
    assert seen["RouteNotFoundFunction"] == set()  # touches no storage
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
    if "UpdateBinFunction" in seen:
        assert {"dynamodb:PutItem VersionsTable", "s3:DeleteObject RecordsBucket"} <= seen[
            "UpdateBinFunction"
        ]
    if "DeleteBinFunction" in seen:
        assert {"dynamodb:DeleteItem BinsTable", "s3:DeleteObject RecordsBucket"} <= seen[
            "DeleteBinFunction"
        ]


class CallRecorder:
    """Every DynamoDB and S3 call, as the (action, resource) pairs IAM would check."""

    def __init__(self, aws) -> None:
        self.by_name = {local: logical for logical, local in aws.names.items()}
        self.calls: list[tuple[str, str]] = []

    def table(self, name: str, index: str | None = None) -> str:
        return self.by_name[name] + (f"/index/{index}" if index else "")

    def __call__(self, client, op, params):
        service = client.meta.service_model.endpoint_prefix
        if service == "s3":
            bucket = self.by_name[params["Bucket"]]
            if op == "DeleteObjects":
                for obj in params["Delete"]["Objects"]:
                    self.calls.append(("s3:DeleteObject", f"{bucket}/{obj['Key']}"))
            elif op == "ListObjectsV2":
                self.calls.append(("s3:ListBucket", bucket))
            else:
                self.calls.append((f"s3:{op}", f"{bucket}/{params['Key']}"))
            return
        if op == "TransactWriteItems":
            for item in params["TransactItems"]:
                for part, body in item.items():
                    self.calls.append(
                        (f"dynamodb:{TRANSACT_PARTS[part]}", self.table(body["TableName"]))
                    )
        elif op in ("BatchGetItem", "BatchWriteItem"):
            for table, request in params["RequestItems"].items():
                if op == "BatchGetItem":
                    self.calls.append(("dynamodb:BatchGetItem", self.table(table)))
                else:
                    for write in request:
                        action = "PutItem" if "PutRequest" in write else "DeleteItem"
                        self.calls.append((f"dynamodb:{action}", self.table(table)))
        else:
            self.calls.append(
                (f"dynamodb:{op}", self.table(params["TableName"], params.get("IndexName")))
            )
