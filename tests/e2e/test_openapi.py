"""docs/openapi.yaml against a running ``openbin serve``, with schemathesis.

Every operation of the OpenAPI document (one test each, ``test_openapi_<operationId>``) is
exercised with generated requests (schemathesis' coverage phase: boundary and invalid values of
every parameter, then its fuzzing phase, positive and negative), all carrying the master key of
a pro account with a large allowance. Checks:

- no 5xx (``not_a_server_error``);
- the status code is one the operation documents, with the documented content type, body
  schema and ``X-Requests-Remaining`` header;
- a bin read with meta on answers ``{"record"|"records", "metadata"}``, never the bare record
  (the document can only say "one of three shapes");
- no error answer leaks a traceback or a source path.

Generated IDs almost never name anything, so the test points a share of the cases (chosen from
the generated value itself, so a failure replays and shrinks) at real resources: a private bin in
a collection whose schema doc rejects most records (schema mismatch answers), a public bin with
versions, a fresh bin for the destructive routes, a playground collection and schema doc, and an
existing access key. Bounded: about a thousand requests, each with a 30 s timeout; no
hypothesis deadline (schemathesis sets none); derandomized, so every run sends the same cases.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.parse
import zlib
from collections.abc import MutableMapping

import jsonschema
import pytest
import schemathesis
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import ROOT, HttpApi

pytestmark = pytest.mark.e2e

SPEC = ROOT / "docs" / "openapi.yaml"
MAX_EXAMPLES = 10  # fuzzing examples per operation (the coverage phase adds its own cases)

schema = schemathesis.openapi.from_path(SPEC)
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    deterministic=True,  # derandomized: the same cases on every run
    database="none",  # nothing written under .hypothesis/
    with_security_parameters=False,  # the master key is sent on every request (below)
)
# Methods a path does not document are sent too (they must get a JSON 404 "Route not found").
# schemathesis' default set also has TRACE and QUERY: they found the bug that
# test_malformed_http_gets_a_json_answer (below) keeps visible, so they are left to it.
schema.config.phases.coverage.unexpected_methods = {
    "get",
    "put",
    "post",
    "delete",
    "patch",
    "options",
}

CHECKS_FROM_SCHEMATHESIS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# -- the document's own schemas, for the checks schemathesis cannot express ----------------------
DOC = yaml.safe_load(SPEC.read_text())
DOC_URI = "urn:openbin:openapi"
REGISTRY = Registry().with_resource(DOC_URI, Resource.from_contents(DOC, DRAFT202012))


def component(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=REGISTRY
    )


WITH_METADATA = component("BinWithMetadata")
MATCHES_WITH_METADATA = component("MatchesWithMetadata")
READ_OPERATIONS = {"readBin", "readBinLatest", "readBinVersion"}
LEAKS = re.compile(r'Traceback \(most recent call last\)|File "[^"]+\.py"|/site-packages/')


def _sent_false(value) -> bool:
    return isinstance(value, str) and value.strip().lower() == "false"


def read_shape(ctx, response, case) -> None:
    """With meta on, a bin read is ``{"record", "metadata"}`` (or ``{"records", ...}`` with
    X-JSON-Path); with meta off and X-JSON-Path, the bare array of matches."""
    if case.operation.definition.raw.get("operationId") not in READ_OPERATIONS:
        return
    if response.status_code != 200:
        return
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    meta_off = _sent_false(headers.get("x-bin-meta")) or _sent_false((case.query or {}).get("meta"))
    body = json.loads(response.content)
    json_path = "x-json-path" in headers
    if not meta_off:
        validator = MATCHES_WITH_METADATA if json_path else WITH_METADATA
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"read with meta on: {errors[0].message}"
    elif json_path:
        assert isinstance(body, list), "meta off with X-JSON-Path: the bare array of matches"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(text for item in value.values() for text in _strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def no_leak(ctx, response, case) -> None:
    """No error answer carries a traceback or a source path (searched in the decoded text)."""
    if response.status_code == 200:
        return  # a record is the client's own data
    try:
        texts = _strings(json.loads(response.content))
    except ValueError:
        texts = [response.content.decode("utf-8", "replace")]
    leaked = [text for text in texts if LEAKS.search(text)]
    assert not leaked, f"the answer leaks internals: {leaked[0][:300]!r}"


CHECKS = [*CHECKS_FROM_SCHEMATHESIS, read_shape, no_leak]


# -- real resources -------------------------------------------------------------------------------
STRICT_SCHEMA = {
    "type": "object",
    "required": ["openbin"],
    "properties": {"openbin": {"type": "string", "maxLength": 16}},
}


class Resources:
    """Real resources of one account, and the choice of which to aim a case at."""

    def __init__(self, api: HttpApi) -> None:
        self.api = api
        created = api.op("account.create", plan="pro", requests=10_000_000)
        self.key = created["masterKey"]
        self.headers = {"X-Master-Key": self.key}
        strict = self._ok("POST", "/v3/s", {"X-Schema-Doc-Name": "strict"}, STRICT_SCHEMA)
        self.strict_schema = strict["metadata"]["id"]
        self.play_schema = self._ok(
            "POST", "/v3/s", {"X-Schema-Doc-Name": "play"}, {"type": "object"}
        )["metadata"]["id"]
        self.strict_collection = self._ok("POST", "/v3/c", {"X-Collection-Name": "strict"})[
            "record"
        ]
        self._ok(
            "PUT",
            f"/v3/c/{self.strict_collection}/schemadoc/add",
            {"X-Schema-Doc-Id": self.strict_schema},
        )
        self.play_collection = self._ok("POST", "/v3/c", {"X-Collection-Name": "play"})["record"]
        self.private_bin = self.new_bin(private=True, collection=self.strict_collection)
        self.public_bin = self.new_bin(private=False)

    def _ok(self, method: str, path: str, headers: dict, body=None) -> dict | list:
        reply = self.api.request(method, path, {**self.headers, **headers}, body)
        assert reply.status == 200, (method, path, reply.status, reply.body)
        return reply.json()

    def new_bin(self, private: bool, collection: str | None = None, versions: int = 2) -> str:
        headers = {"X-Bin-Private": str(private).lower(), "X-Bin-Name": "fuzz"}
        if collection:
            headers["X-Collection-Id"] = collection
        bin_id = self._ok("POST", "/v3/b", headers, {"openbin": "v0"})["metadata"]["id"]
        for n in range(1, versions + 1):
            self._ok("PUT", f"/v3/b/{bin_id}", {"X-Bin-Versioning": "true"}, {"openbin": f"v{n}"})
        return bin_id

    def access_key_id(self) -> str | None:
        """An existing access key (deleting it frees a slot), else a new one."""
        listed = self._ok("GET", "/v3/a", {})
        if listed:
            return listed[0]["accessKeyId"]
        reply = self.api.request(
            "POST",
            "/v3/a",
            {**self.headers, "X-Key-Name": "fuzz"},
            {"bins": {"read": True}},
        )
        return reply.json()["accessKeyId"] if reply.status == 200 else None

    # Each choice depends only on the generated value: a failing case replays identically.
    @staticmethod
    def pick(value, choices: int) -> int:
        return zlib.crc32(repr(value).encode("utf-8", "backslashreplace")) % choices

    def aim(self, case) -> None:
        operation_id = case.operation.definition.raw.get("operationId", "")
        destructive = operation_id in {"deleteBin", "deleteXlBin", "deleteBinVersions"}
        params = case.path_parameters if isinstance(case.path_parameters, MutableMapping) else {}
        headers = case.headers if isinstance(case.headers, MutableMapping) else None
        for name, value in list(params.items()):
            choice = self.pick(value, 4)
            if choice == 0:
                continue  # keep the generated value
            if name == "binId":
                if destructive or choice == 3:
                    params[name] = self.new_bin(private=choice != 1)
                else:
                    params[name] = self.private_bin if choice == 1 else self.public_bin
            elif name == "version":
                params[name] = ("0", "2", "latest")[choice - 1]
            elif name == "lastBinId":
                params[name] = self.private_bin if choice == 1 else self.public_bin
            elif name == "collectionId":
                if operation_id.startswith("listCollectionBins") and choice == 3:
                    params[name] = "uncategorized"
                elif operation_id in {"attachSchemaDoc", "detachSchemaDoc"}:
                    params[name] = self.play_collection  # the strict one keeps its schema
                else:
                    params[name] = (self.strict_collection, self.play_collection)[choice % 2]
            elif name == "schemaDocId":
                params[name] = self.play_schema  # the strict schema is never replaced
            elif name == "accessKeyId":
                key_id = self.access_key_id()
                if key_id:
                    params[name] = key_id
        if headers is not None:
            for name in list(headers):
                lowered = name.lower()
                choice = self.pick(headers[name], 3)
                if choice == 0:
                    continue
                if lowered == "x-collection-id":
                    headers[name] = (self.strict_collection, self.play_collection)[choice - 1]
                elif lowered == "x-schema-doc-id":
                    headers[name] = (self.play_schema, self.strict_schema)[choice - 1]


@pytest.fixture(scope="module")
def resources(server) -> Resources:
    return Resources(HttpApi(server))


# -- the run --------------------------------------------------------------------------------------
def _contract_test():
    def test(case, server, resources):
        resources.aim(case)
        case.call_and_validate(
            base_url=server.url, headers=resources.headers, checks=CHECKS, timeout=30
        )

    return test


# One test function per operation, each named after its operationId. One ``@schema.parametrize()``
# over the whole document would do, but its items all get the same pytest node ID under
# pytest 9 (``test_x[GET /v3/b]`` is reported as ``test_x``), and pytest-xdist, which the suite
# runs under (``make test``), then runs only one of them.
OPERATION_IDS = [
    result.ok().definition.raw["operationId"] for result in schema.get_all_operations()
]
for _operation_id in OPERATION_IDS:
    globals()[f"test_openapi_{_operation_id}"] = schema.include(
        operation_id=_operation_id
    ).parametrize()(_contract_test())


def test_every_operation_has_its_test():
    assert len(OPERATION_IDS) == len(set(OPERATION_IDS)) == 42
    assert all(f"test_openapi_{name}" in globals() for name in OPERATION_IDS)


def test_document_is_valid_openapi_31():
    from openapi_spec_validator import validate

    assert DOC["openapi"].startswith("3.1")
    validate(DOC)


def test_document_covers_every_route_of_the_template(template):
    """Each HttpApi route of template.yaml is documented, and nothing else is."""
    routes = {
        (route.method.lower(), re.sub(r"\{[^}]+\}", "{}", route.path))
        for route in template.routes
        if route.path != "$default"
    }
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in DOC["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    # /v3/b/{id}/latest is documented on its own; the template serves it as /v3/b/{id}/{version}.
    documented.discard(("get", "/v3/b/{}/latest"))
    assert documented == routes


# -- what schemathesis found beyond the document: http.server's own error pages -------------------
def _raw_exchange(server, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Send bytes as they are; returns (status line, headers, body)."""
    parts = urllib.parse.urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def _request_line(method: bytes, target: bytes = b"/v3/b", version: bytes = b"HTTP/1.1") -> bytes:
    return method + b" " + target + b" " + version + b"\r\n"


CLOSE = b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
MALFORMED = {
    "TRACE": _request_line(b"TRACE") + CLOSE,
    "QUERY": _request_line(b"QUERY") + CLOSE,
    "CONNECT": _request_line(b"CONNECT") + CLOSE,
    "PROPFIND": _request_line(b"PROPFIND") + CLOSE,
    "header-line-over-64KiB": _request_line(b"GET") + b"X-Bin-Name: " + b"a" * 70_000 + b"\r\n" + CLOSE,
    "over-100-headers": _request_line(b"GET") + b"".join(b"X-H%d: 1\r\n" % i for i in range(120)) + CLOSE,
    "request-line-over-64KiB": _request_line(b"GET", b"/v3/b/" + b"a" * 70_000) + CLOSE,
    "http-version-3.0": _request_line(b"GET", version=b"HTTP/3.0") + CLOSE,
}  # fmt: skip


@pytest.mark.parametrize("request_bytes", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_http_gets_a_json_answer(server, request_bytes):
    status_line, headers, body = _raw_exchange(server, request_bytes)
    assert status_line.startswith(b"HTTP/1."), f"no status line: {status_line[:60]!r}"
    status = int(status_line.split()[1])
    assert status < 500, status_line
    assert headers.get("content-type") == "application/json; charset=utf-8", status_line
    assert isinstance(json.loads(body).get("message"), str)
