"""docs/API.md §1: conventions that hold on every route."""

import re
import time

import pytest

from tests.contract.conftest import USERS

JSON_TYPE = "application/json; charset=utf-8"


def test_success_is_200_json_even_for_create(api, owner):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key})
    assert reply.status == 200
    assert reply.header("Content-Type") == JSON_TYPE


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v3/nope"),
        ("GET", "/v3"),
        ("POST", "/"),
        ("PATCH", "/v3/b"),
        ("GET", "/v3/b"),
        ("POST", "/v3/b/x"),
    ],
)
def test_unknown_route(api, method, path):
    reply = api.request(method, path)
    assert reply.status == 404
    assert reply.json() == {"message": "Route not found"}
    assert reply.header("Content-Type") == JSON_TYPE


def test_errors_are_json_messages(api):
    reply = api.get("/v3/b/not-an-id")
    assert reply.status == 400
    assert reply.header("Content-Type") == JSON_TYPE
    assert reply.json() == {"message": "Invalid Bin Id provided"}


@pytest.mark.parametrize("value", ["false", "FALSE", "False", "fAlSe"])
def test_boolean_headers_any_case_false(api, owner, value):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Bin-Private": value})
    assert reply.json()["metadata"]["private"] is False


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_boolean_headers_any_case_true(api, owner, value):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Bin-Private": value})
    assert reply.json()["metadata"]["private"] is True


@pytest.mark.parametrize("value", ["yes", "1", "0", "", "truee"])
def test_boolean_header_other_values(api, owner, value):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key, "X-Bin-Private": value})
    assert reply.status == 400
    assert reply.json() == {"message": "X-Bin-Private must be true or false"}


def test_boolean_header_on_read(api, owner, private_bin):
    reply = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key, "X-Bin-Meta": "maybe"})
    assert reply.status == 400
    assert reply.json() == {"message": "X-Bin-Meta must be true or false"}


def test_ids_encode_creation_time(api, owner):
    before = int(time.time())
    bin_id = api.create_bin(owner)
    after = int(time.time())
    assert re.fullmatch(r"[0-9a-f]{24}", bin_id)
    assert before - 1 <= int(bin_id[:8], 16) <= after + 1
    assert len({api.create_bin(owner)[8:] for _ in range(5)}) == 5


def test_created_at_is_iso_utc_with_milliseconds(api, owner):
    reply = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key})
    created = reply.json()["metadata"]["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/json;charset=UTF-8",
    ],
)
def test_content_type_json_accepted(api, owner, content_type):
    reply = api.post(
        "/v3/b", b'{"a": 1}', {"X-Master-Key": owner.key, "Content-Type": content_type}
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/xml", "application/jsonx", ""]
)
def test_content_type_required_for_a_body(api, owner, content_type):
    headers = {"X-Master-Key": owner.key}
    if content_type is not None:
        headers["Content-Type"] = content_type
    reply = api.post("/v3/b", b'{"a": 1}', headers)
    assert reply.status == 400
    assert reply.json() == {"message": "You need to pass Content-Type set to application/json"}


def test_bodiless_requests_may_carry_any_content_type(api, owner, private_bin):
    reply = api.get(
        f"/v3/b/{private_bin}", {"X-Master-Key": owner.key, "Content-Type": "text/plain"}
    )
    assert reply.status == 200


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t ", b"{}", b" { } "])
def test_blank_bodies(api, owner, body):
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json() == {"message": "Bin cannot be blank"}


@pytest.mark.parametrize(
    "body",
    [b"{", b"{'a': 1}", b'{"a": 1,}', b"[1, 2", b"NaN", b'{"a": NaN}', b"\xff\xfe{}", b'{"a":1}x'],
)
def test_invalid_json(api, owner, body):
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json() == {"message": "Invalid JSON provided"}


@pytest.mark.parametrize("body", [b"42", b'"text"', b"null", b"true", b"1.5"])
def test_top_level_must_be_object_or_array(api, owner, body):
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json() == {"message": "Bin must be a JSON object or array"}


def test_arrays_are_records(api, owner):
    reply = api.post("/v3/b", [1, {"b": 2}], {"X-Master-Key": owner.key})
    assert reply.status == 200
    assert reply.json()["record"] == [1, {"b": 2}]


def test_deep_nesting_is_refused(api, owner):
    body = b"[" * 5000 + b"]" * 5000
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json() == {"message": "JSON nesting is too deep (at most 100 levels)"}


def test_sizes_are_utf8_bytes_as_sent(api, owner):
    # 60,000 characters of "é" are 120,000 bytes: over the free plan's 102,400.
    body = ('{"t": "' + "é" * 60_000 + '"}').encode()
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 403
    assert reply.json()["message"].startswith("Free users cannot create a record over 100kb")


def test_whitespace_counts_towards_size(api, owner):
    padding = b" " * 102_400
    body = b'{"a": 1}' + padding
    reply = api.post("/v3/b", body, {"X-Master-Key": owner.key, "Content-Type": "application/json"})
    assert reply.status == 403


def test_record_round_trips_unicode(api, owner):
    record = {"名前": "Ada Lovelace", "emoji": "🚀", "escaped": '\u0000\n"', "n": 1.5e-9}
    bin_id = api.create_bin(owner, record)
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key}).json()["record"] == record


def test_cors_headers_on_responses(http_api, owner_http):
    reply = http_api.get("/v3/b/" + "0" * 24, {"Origin": "https://example.com"})
    assert reply.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", ["/v3/b", "/v3/b/" + "0" * 24, "/v3/c/x/bins", "/nowhere"])
def test_cors_preflight_allows_jsonbin_headers(api, path):
    """Answered by the $default route's function: what a browser gets on AWS when API Gateway
    sends the preflight there (and what it always gets from openbin serve)."""
    reply = api.request(
        "OPTIONS",
        path,
        {
            "Origin": "https://example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-master-key,content-type",
        },
    )
    assert (reply.status, reply.body) == (204, b"")
    assert reply.header("Access-Control-Allow-Origin") == "*"
    assert set(reply.header("Access-Control-Allow-Methods").split(",")) == {
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }
    allowed = reply.header("Access-Control-Allow-Headers").lower().split(",")
    for name in (
        "x-master-key",
        "x-access-key",
        "x-bin-private",
        "x-bin-name",
        "x-bin-meta",
        "x-json-path",
        "x-collection-id",
        "content-type",
        "if-match",
        "idempotency-key",
    ):
        assert name in allowed
    assert (
        reply.header("Access-Control-Expose-Headers")
        == "x-requests-remaining,content-disposition,etag,idempotent-replayed"
    )
    assert reply.header("Access-Control-Max-Age") == "600"


@pytest.fixture
def owner_http(http_api):
    return http_api.account()


def test_x_requests_remaining_on_authenticated_answers(api):
    account = api.account(requests=10)
    reply = api.post("/v3/b", USERS, {"X-Master-Key": account.key})
    assert reply.header("X-Requests-Remaining") == "9"
    bin_id = reply.json()["metadata"]["id"]
    reply = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key})
    assert reply.header("X-Requests-Remaining") == "8"


def test_x_requests_remaining_on_charged_errors(api):
    account = api.account(requests=10)
    bin_id = api.create_bin(account)
    reply = api.get(f"/v3/b/{bin_id}/9", {"X-Master-Key": account.key})
    assert (reply.status, reply.header("X-Requests-Remaining")) == (404, "8")
    reply = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key, "X-Bin-Meta": "maybe"})
    assert (reply.status, reply.header("X-Requests-Remaining")) == (400, "7")
    # refused before the charge: nothing to report
    reply = api.get(f"/v3/b/{bin_id}")
    assert reply.status == 401 and reply.header("X-Requests-Remaining") is None


def test_path_length_is_bounded(api):
    reply = api.get("/v3/b/" + "a" * 3000)
    assert (reply.status, reply.json()) == (414, {"message": "Request path too long"})


def test_header_size_is_bounded(api, owner):
    headers = {"X-Master-Key": owner.key, **{f"X-Padding-{n}": "p" * 1000 for n in range(20)}}
    reply = api.post("/v3/b", {"a": 1}, headers)
    assert (reply.status, reply.json()) == (431, {"message": "Request headers too large"})
    assert api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key}).status == 200
