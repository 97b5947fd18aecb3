"""ETag and conditional requests (docs/API.md §3.8, beyond JSONBin): reads carry a strong ETag,
If-None-Match answers 304, If-Match makes PUT and DELETE exact under concurrency. At both
levels."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from tests.contract.conftest import USERS

PRECONDITION = {"message": "The bin has changed: If-Match is not its current ETag"}
STRONG = re.compile(r'"[0-9a-f.]+"')


def remaining(reply) -> int:
    return int(reply.header("X-Requests-Remaining"))


def test_reads_carry_a_strong_etag_of_the_record_version(api, owner, private_bin):
    key = {"X-Master-Key": owner.key}
    first = api.get(f"/v3/b/{private_bin}", key)
    tag = first.header("ETag")
    assert STRONG.fullmatch(tag)
    assert api.get(f"/v3/b/{private_bin}/latest", key).header("ETag") == tag
    assert api.get(f"/v3/b/{private_bin}?meta=false", key).header("ETag") == tag
    reader = api.access_key(owner, "read")  # the same record version, whoever reads it
    assert api.get(f"/v3/b/{private_bin}", {"X-Access-Key": reader}).header("ETag") == tag

    versioned = {**key, "Content-Type": "application/json", "X-Bin-Versioning": "true"}
    updated = api.request("PUT", f"/v3/b/{private_bin}", versioned, {"v": 1})
    new_tag = updated.header("ETag")
    assert STRONG.fullmatch(new_tag) and new_tag != tag
    assert api.get(f"/v3/b/{private_bin}", key).header("ETag") == new_tag
    old = api.get(f"/v3/b/{private_bin}/0", key)
    assert old.json()["record"] == USERS
    assert old.header("ETag") not in (tag, new_tag)  # version 0, as it is kept now
    assert api.get(f"/v3/b/{private_bin}/0", key).header("ETag") == old.header("ETag")


def test_a_create_answers_the_etag_its_first_read_has(api, owner):
    made = api.post("/v3/b", {"a": 1}, {"X-Master-Key": owner.key})
    bin_id = made.json()["metadata"]["id"]
    assert made.header("ETag") == api.get(f"/v3/b/{bin_id}", {"X-Master-Key": owner.key}).header(
        "ETag"
    )


def test_if_none_match_answers_304_without_a_body_and_is_charged(api, owner, private_bin):
    key = {"X-Master-Key": owner.key}
    read = api.get(f"/v3/b/{private_bin}", key)
    tag = read.header("ETag")
    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        reply = api.get(f"/v3/b/{private_bin}", {**key, "If-None-Match": sent})
        assert (reply.status, reply.body) == (304, b""), sent
        assert reply.header("ETag") == tag
        assert remaining(reply) == remaining(read) - 1  # a 304 is a read: charged
        read = reply
    changed = api.get(f"/v3/b/{private_bin}", {**key, "If-None-Match": '"not-it"'})
    assert changed.status == 200 and changed.json()["record"] == USERS


def test_if_match_writes_only_on_the_named_record_version(api, owner, private_bin):
    key = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    tag = api.get(f"/v3/b/{private_bin}", key).header("ETag")
    first = api.request("PUT", f"/v3/b/{private_bin}", {**key, "If-Match": tag}, {"n": 1})
    assert first.status == 200
    stale = api.request("PUT", f"/v3/b/{private_bin}", {**key, "If-Match": tag}, {"n": 2})
    assert (stale.status, stale.json()) == (412, PRECONDITION)
    assert api.get(f"/v3/b/{private_bin}?meta=false", key).json() == {"n": 1}  # unchanged
    weak = api.request(
        "PUT", f"/v3/b/{private_bin}", {**key, "If-Match": f"W/{first.header('ETag')}"}, {"n": 3}
    )
    assert weak.status == 412  # If-Match compares strongly
    gone = api.request("DELETE", f"/v3/b/{private_bin}", {**key, "If-Match": tag})
    assert (gone.status, gone.json()) == (412, PRECONDITION)
    assert api.get(f"/v3/b/{private_bin}", key).status == 200
    deleted = api.request(
        "DELETE", f"/v3/b/{private_bin}", {**key, "If-Match": first.header("ETag")}
    )
    assert deleted.status == 200


def test_a_precondition_comes_before_the_body_is_read(api, owner, private_bin):
    key = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    reply = api.request("PUT", f"/v3/b/{private_bin}", {**key, "If-Match": '"stale"'}, b"{not json")
    assert (reply.status, reply.json()) == (412, PRECONDITION)


def test_parallel_writers_with_the_same_etag_exactly_one_wins(api, owner, private_bin):
    key = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    tag = api.get(f"/v3/b/{private_bin}", key).header("ETag")

    def write(n: int):
        headers = {**key, "If-Match": tag, "X-Bin-Versioning": "true"}
        return api.request("PUT", f"/v3/b/{private_bin}", headers, {"writer": n})

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(write, range(8)))
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] + [412] * 7
    (winner,) = [r for r in replies if r.status == 200]
    count = api.get(f"/v3/b/{private_bin}/versions/count", {"X-Master-Key": owner.key})
    assert count.json()["metadata"]["versionCount"] == 1  # one write, one version
    latest = api.get(f"/v3/b/{private_bin}", {"X-Master-Key": owner.key})
    assert latest.header("ETag") == winner.header("ETag")
    assert latest.json()["record"] == winner.json()["record"]
