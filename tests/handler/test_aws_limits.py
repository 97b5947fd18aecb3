"""Lambda's and API Gateway's limits, enforced by the local runtime (openbin_local.runtime), and
what OpenBin does so that nothing it accepts hits them (issue 25): a response is counted as
Lambda counts it (the handler's answer as JSON, the body escaped into a string), an event too,
and an invocation past the integration's or the function's timeout answers what API Gateway
answers. A read that races a write never answers 5xx."""

from __future__ import annotations

import json

import pytest

from openbin.clock import now_iso
from openbin.models import Bin
from openbin_local import runtime

pytestmark = pytest.mark.timeout(120)
INTERNAL = {"message": "Internal Server Error"}
QUOTE = '"'  # in a record's JSON text \" (2 bytes); in a Lambda answer, a string, \\\" (4)
WIDE = "\u00e9"  # two bytes of UTF-8, and as many in a Lambda answer (python3.12+: unescaped)


def stored_directly(storage, owner_id: str, text: str) -> str:
    """A bin whose record was stored before the write-time check existed (or by the CLI)."""
    from openbin import ids

    bin_id = ids.new_id()
    record = storage.records.save(bin_id, text.encode(), as_object=True)
    bin = Bin(
        bin_id=bin_id,
        owner_id=owner_id,
        private=True,
        created_at=now_iso(),
        latest_version=0,
        record=record,
        revision=ids.new_revision(),
    )
    storage.bins.create(bin)
    return bin_id


@pytest.mark.fresh_world  # a 4.4 MB object of its own
def test_a_response_past_lambdas_limit_is_a_500_as_on_aws(handler_api, storage):
    """4.4 MB of JSON that escapes to 8.8 MB: Lambda refuses the answer, API Gateway says 500."""
    account = handler_api.account(plan="pro")
    text = json.dumps({"s": QUOTE * 2_200_000})
    bin_id = stored_directly(storage, account.account_id, text)
    reply = handler_api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (500, INTERNAL)


def test_nothing_accepted_is_unreadable(handler_api):
    """So a record that could not be read back is refused when it is written."""
    account = handler_api.account(plan="pro")
    record = json.dumps({"s": QUOTE * 2_200_000}).encode()
    form = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.json"\r\n\r\n'
        + record
        + b"\r\n--b--\r\n"
    )
    headers = {"X-Master-Key": account.key, "Content-Type": "multipart/form-data; boundary=b"}
    reply = handler_api.post("/v3/xl/b", form, headers)
    assert reply.status == 403
    assert reply.message.startswith(
        "Record too large to be read back: as a JSON answer it would take "
    )
    # the largest XL uploads of plain ASCII or of two-byte characters still go in and come out
    wide = json.dumps({"s": WIDE * 2_300_000}, ensure_ascii=False).encode()
    made = handler_api.post("/v3/xl/b", form.replace(record, wide), headers)
    assert made.status == 200, made.body
    plain = json.dumps({"s": "a" * 4_600_000}).encode()
    form = form.replace(record, plain)
    made = handler_api.post("/v3/xl/b", form, headers)
    assert made.status == 200, made.body
    read = handler_api.get(f"/v3/xl/b/{made.json()['record']}?meta=false", headers)
    assert (read.status, len(read.body)) == (200, len(plain))


def test_a_jsonpath_answer_past_the_limit_is_a_clear_400(handler_api):
    account = handler_api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    record = json.dumps([QUOTE * 250_000]).encode()  # 500 KB of JSON, 1 MB in an answer
    bin_id = handler_api.create_bin(account, record, Content_Type="application/json")
    whole = handler_api.get(f"/v3/b/{bin_id}", key)
    assert whole.status == 200
    twice = handler_api.get(f"/v3/b/{bin_id}", {**key, "X-JSON-Path": "$[0,0,0,0,0,0,0]"})
    assert twice.status == 400
    assert twice.message.startswith("X-JSON-Path answer too large to send: as JSON it would take")


def test_an_event_past_lambdas_limit_is_a_413(handler_api):
    account = handler_api.account(plan="pro")
    body = json.dumps({"s": "x" * 6_300_000}).encode()
    reply = handler_api.post("/v3/b", body, {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})


def test_past_the_integration_timeout_api_gateway_answers_503(handler_api, monkeypatch):
    account = handler_api.account()
    monkeypatch.setattr(runtime, "INTEGRATION_TIMEOUT", 0.0)
    reply = handler_api.get("/v3/usage", {"X-Master-Key": account.key})
    assert (reply.status, reply.json()) == (503, {"message": "Service Unavailable"})


def test_past_the_functions_own_timeout_api_gateway_answers_500(handler_api, template):
    account = handler_api.account()
    function = template.resources["UsageFunction"]["Properties"]
    saved = function.get("Timeout")
    function["Timeout"] = 0
    try:
        reply = handler_api.get("/v3/usage", {"X-Master-Key": account.key})
    finally:
        if saved is None:
            del function["Timeout"]
        else:
            function["Timeout"] = saved
    assert (reply.status, reply.json()) == (500, INTERNAL)


def test_a_jsonpath_answer_of_a_huge_number_repeated_is_refused_before_it_is_built(handler_api):
    """Numbers counted 8 bytes each: 120 copies of a 1,000,000-digit number built 126 MB of
    JSON before the refusal (1.4 GB at the largest plan limit: out of memory on Lambda)."""
    import resource
    import time

    account = handler_api.account(plan="pro")
    key = {"X-Master-Key": account.key}
    record = b"[" + b"7" * 1_000_000 + b"]"
    made = handler_api.post("/v3/b", record, {**key, "Content-Type": "application/json"})
    bin_id = json.loads(made.body, parse_int=str)["metadata"]["id"]
    query = "$[" + ",".join(["0"] * 120) + "]"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    reply = handler_api.get(f"/v3/b/{bin_id}", {**key, "X-JSON-Path": query})
    assert (reply.status, reply.message) == (400, "Invalid X-JSON-Path expression passed")
    assert time.monotonic() - started < 2
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown < 60, f"peak memory grew by {grown:.0f} MB"
