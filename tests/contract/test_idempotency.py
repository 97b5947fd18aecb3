"""Idempotent creates (docs/API.md §3.11, beyond JSONBin): POST /v3/b (and /v3/xl/b) with an
Idempotency-Key answers a retry of the same request with the first answer, uncharged; the same
key for a different request is a 422; keys belong to an account. At both levels, under
concurrency too."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contract.conftest import PRICING, USERS
from tests.contract.test_xl_bins import FORM, form

REUSED = "Idempotency-Key was already used for a different request: send the same body and X-Bin-* headers, or a new key"  # noqa: E501 (quoted whole in docs/API.md)
KEY_REUSED = {"message": REUSED}
KEY_INVALID = {"message": "Idempotency-Key must be 1 to 255 printable ASCII characters"}


def remaining(reply) -> int:
    return int(reply.header("X-Requests-Remaining"))


def account_state(api, account) -> tuple[int, int]:
    """(requests left, bins held), as the operator sees them."""
    shown = api.op("account.show", account_id=account.account_id)
    return shown["requestsRemaining"], shown.get("bins", 0)


def create(api, account, body, key: str | None, **headers):
    sent = {"X-Master-Key": account.key}
    if key is not None:
        sent["Idempotency-Key"] = key
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return api.post("/v3/b", body, sent)


def test_a_retry_gets_the_first_answer_uncharged(api, owner):
    key = str(uuid.uuid4())
    first = create(api, owner, USERS, key, X_Bin_Name="people", X_Bin_Private="false")
    assert first.status == 200
    assert first.header("Idempotent-Replayed") is None
    before = account_state(api, owner)
    again = create(api, owner, USERS, key, X_Bin_Name="people", X_Bin_Private="false")
    assert again.status == 200
    assert again.json() == first.json()  # the same bin: id, createdAt, name, privacy, record
    assert list(again.json()) == ["record", "metadata"]
    assert again.header("Idempotent-Replayed") == "true"
    assert again.header("ETag") == first.header("ETag")
    assert remaining(again) == remaining(first)  # not charged again
    assert account_state(api, owner) == before  # and no second bin
    bin_id = first.json()["metadata"]["id"]
    read = api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key})
    assert read.json()["record"] == USERS


def test_the_same_key_for_a_different_request_is_refused_and_charged(api, owner):
    key = "order-42"
    first = create(api, owner, USERS, key)
    assert first.status == 200
    for body, headers in (
        ({"other": True}, {}),  # another body
        (USERS, {"X_Bin_Name": "renamed"}),  # the same body, another header
        (USERS, {"X_Bin_Private": "false"}),
    ):
        before = account_state(api, owner)
        reply = create(api, owner, body, key, **headers)
        assert (reply.status, reply.json()) == (422, KEY_REUSED)
        assert account_state(api, owner) == (before[0] - 1, before[1])  # charged, nothing made
        assert remaining(reply) == before[0] - 1
    assert create(api, owner, USERS, key).json() == first.json()  # the first still answers


def test_keys_belong_to_an_account(api, owner, other):
    mine = create(api, owner, USERS, "shared-key")
    theirs = create(api, other, USERS, "shared-key")
    assert mine.status == theirs.status == 200
    assert mine.json()["metadata"]["id"] != theirs.json()["metadata"]["id"]
    assert theirs.header("Idempotent-Replayed") is None


def test_any_key_of_the_account_with_create_permission_replays(api, owner):
    first = create(api, owner, USERS, "from-master")
    creator = api.access_key(owner, "create")
    sent = {"X-Access-Key": creator, "Idempotency-Key": "from-master"}
    again = api.post("/v3/b", USERS, sent)
    assert again.status == 200 and again.json() == first.json()
    reader = api.access_key(owner, "read")  # permission is checked before any replay
    refused = api.post("/v3/b", USERS, {"X-Access-Key": reader, "Idempotency-Key": "from-master"})
    assert refused.status == 403


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "naïve"])
def test_an_invalid_key_is_refused_with_the_headers(api, owner, key):
    before = account_state(api, owner)
    reply = create(api, owner, USERS, key)
    assert (reply.status, reply.json()) == (400, KEY_INVALID)
    assert account_state(api, owner) == (before[0] - 1, before[1])  # after the allowance check


def test_keys_of_1_and_255_printable_characters_work(api, owner):
    for key in ("x", "~" * 255, "a key with spaces & symbols !#$%"):
        first = create(api, owner, USERS, key)
        assert first.status == 200
        assert create(api, owner, USERS, key).json() == first.json()


def test_a_refused_create_takes_no_key(api, owner):
    refused = create(api, owner, b"{not json", "retry-me", Content_Type="application/json")
    assert refused.status == 400
    made = create(api, owner, USERS, "retry-me")  # the fixed request: created, not a 422
    assert made.status == 200 and made.header("Idempotent-Replayed") is None


def test_a_replay_still_answers_after_the_bin_is_deleted(api, owner):
    first = create(api, owner, USERS, "deleted-later")
    bin_id = first.json()["metadata"]["id"]
    api.request("DELETE", f"/v3/b/{bin_id}", {"X-Master-Key": owner.key})
    again = create(api, owner, USERS, "deleted-later")
    assert again.json() == first.json()  # what the first request did, as it answered then
    assert api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key}).status == 404


def test_a_replay_needs_no_request_left_but_a_blocked_account_is_refused(api):
    account = api.account(requests=2)
    first = create(api, account, USERS, "last-one")
    create(api, account, {"b": 2}, None)  # the last request
    exhausted = create(api, account, {"c": 3}, None)
    assert (exhausted.status, exhausted.message) == (403, PRICING)
    again = create(api, account, USERS, "last-one")
    assert again.status == 200 and again.json() == first.json()
    assert remaining(again) == 0
    reused = create(api, account, {"d": 4}, "last-one")  # a refusal is charged: none left
    assert (reused.status, reused.message) == (403, PRICING)
    api.op("account.block", account_id=account.account_id)
    blocked = create(api, account, USERS, "last-one")
    assert blocked.status == 403
    assert blocked.message == "Account blocked. Contact the administrator"


def test_parallel_retries_make_one_bin_and_are_charged_once(api, owner):
    before = account_state(api, owner)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: create(api, owner, USERS, "parallel"), range(8)))
    assert [r.status for r in replies] == [200] * 8
    assert len({r.body for r in replies}) == 1  # one answer, eight times
    assert sum(r.header("Idempotent-Replayed") is None for r in replies) == 1
    assert account_state(api, owner) == (before[0] - 1, before[1] + 1)


def test_parallel_different_requests_under_one_key_make_one_bin(api, owner):
    before = account_state(api, owner)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda n: create(api, owner, {"n": n}, "contended"), range(8)))
    made = [r for r in replies if r.status == 200]
    assert len(made) == 1
    assert all((r.status, r.json()) == (422, KEY_REUSED) for r in replies if r.status != 200)
    assert account_state(api, owner) == (before[0] - 8, before[1] + 1)  # refusals are charged
    winner = made[0].json()
    bin_id = winner["metadata"]["id"]
    stored = api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": owner.key}).json()
    assert stored == winner["record"]


def test_an_xl_create_replays_whatever_the_multipart_boundary(api, owner):
    sent = {"X-Master-Key": owner.key, "Content-Type": FORM, "Idempotency-Key": "xl-1"}
    content = b'{"xl": [1, 2, 3]}'
    first = api.post("/v3/xl/b", form(("file", "a.json", content)), sent)
    assert first.status == 200
    other_boundary = (
        b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="b.json"\r\n\r\n'
        + content
        + b"\r\n--zzz--\r\n"
    )
    again = api.post(
        "/v3/xl/b", other_boundary, {**sent, "Content-Type": "multipart/form-data; boundary=zzz"}
    )
    assert again.status == 200 and again.json() == first.json()
    assert again.header("Idempotent-Replayed") == "true"
    changed = api.post("/v3/xl/b", form(("file", "a.json", b'{"xl": 0}')), sent)
    assert (changed.status, changed.json()) == (422, KEY_REUSED)
    broken = api.post("/v3/xl/b", b"not a form at all", sent)  # no file: another request
    assert (broken.status, broken.json()) == (422, KEY_REUSED)
    as_plain = create(api, owner, {"xl": [1, 2, 3]}, "xl-1")  # another route: another request
    assert (as_plain.status, as_plain.json()) == (422, KEY_REUSED)


@pytest.mark.parametrize(
    "bodies",
    [
        (b'{"order":1}\n', b'{"order":1}\n'),
        (b'{"order":1}\n', b'  {"order":1}'),
        (b'{"order":1}', b'\r\n\t{"order":1} \n'),
    ],
    ids=["both-with-newline", "newline-then-spaces", "none-then-whitespace"],
)
def test_surrounding_whitespace_is_not_part_of_the_request(api, owner, bodies):
    """A body ending in a newline (as curl --data-binary @file sends it) and its retry were
    refused 422 and charged: the first create remembered the body with its whitespace."""
    key = str(uuid.uuid4())
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    first = api.post("/v3/b", bodies[0], {**headers, "Idempotency-Key": key})
    assert first.status == 200, first.body
    before = account_state(api, owner)
    again = api.post("/v3/b", bodies[1], {**headers, "Idempotency-Key": key})
    assert (again.status, again.header("Idempotent-Replayed")) == (200, "true"), again.body
    assert again.json() == first.json() == {**first.json(), "record": {"order": 1}}
    assert account_state(api, owner) == before  # neither charged nor a second bin


def test_parallel_retries_with_a_trailing_newline_make_one_bin_charged_once(api, owner):
    key = str(uuid.uuid4())
    headers = {
        "X-Master-Key": owner.key,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    before = account_state(api, owner)
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda _: api.post("/v3/b", b'{"order":1}\n', headers), range(12)))
    assert [r.status for r in replies] == [200] * 12
    assert len({r.json()["metadata"]["id"] for r in replies}) == 1
    assert account_state(api, owner) == (before[0] - 1, before[1] + 1)
