"""PATCH within bounds (docs/API.md §3.9; issue 24, findings 2, 5, 6 and 9): a JSON Patch's
work is metered, a record never grows past the plan's limit or nests too deep on the way, and
members the patch does not touch keep their numbers exactly as stored. At both levels, each
under a timeout (a regression fails instead of hanging) and the resource ones with a wall-clock
bound; at the handler level, a memory bound too."""

from __future__ import annotations

import json
import resource
import time

import pytest

pytestmark = pytest.mark.timeout(60)

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
TOO_LARGE = (
    "Free users cannot update a record over 100kb. "
    "Upgrade to Pro plan https://jsonbin.io/pricing to update records upto 1mb"
)


def patch(api, owner, bin_id, content_type, body):
    headers = {"X-Master-Key": owner.key, "Content-Type": content_type}
    return api.request("PATCH", f"/v3/b/{bin_id}", headers, body)


def latest_bytes(api, owner, bin_id) -> bytes:
    return api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": owner.key}).body


class Bounded:
    """Wall-clock (and, in this process, peak-memory) bound of one request."""

    def __init__(self, api, seconds: float, megabytes: int = 200) -> None:
        self.api, self.seconds, self.megabytes = api, seconds, megabytes

    def __enter__(self):
        self.started = time.monotonic()
        self.rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.monotonic() - self.started
        assert elapsed < self.seconds, f"took {elapsed:.2f} s"
        if self.api.level == "handler":  # the function runs in this process
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.rss) / 1024
            assert grown < self.megabytes, f"peak memory grew by {grown:.0f} MB"


def test_copy_doubling_is_refused_before_it_exhausts_anything(api, owner):
    """21 whole-record copies (0.9 KB of patch) took ~1 GB and ~6 s; 30 would never end."""
    bin_id = api.create_bin(owner, {"a": "x"})
    for count in (21, 30, 60):
        operations = [{"op": "copy", "from": "", "path": f"/c{n}"} for n in range(count)]
        with Bounded(api, seconds=3):
            reply = patch(api, owner, bin_id, JSON_PATCH, operations)
        # whichever bound it meets first: the work (at ~50 KB) or the size (at 100 KB)
        assert reply.status == 400
        assert reply.message.startswith("JSON Patch takes too much work to apply")
    assert json.loads(latest_bytes(api, owner, bin_id)) == {"a": "x"}
    pro = api.account("pro")  # a larger limit, and so a larger budget: the size is met first
    bin_id = api.create_bin(pro, {"a": "x" * 300_000})
    operations = [{"op": "copy", "from": "", "path": f"/c{n}"} for n in range(30)]
    with Bounded(api, seconds=3):
        reply = patch(api, pro, bin_id, JSON_PATCH, operations)
    assert (reply.status, reply.message) == (403, "Pro users cannot update a record over 1mb")


def test_a_copy_past_the_limit_is_refused_before_it_is_done(api, owner):
    bin_id = api.create_bin(owner, {"pad": "x" * 60_000})
    reply = patch(api, owner, bin_id, JSON_PATCH, [{"op": "copy", "from": "/pad", "path": "/b"}])
    assert (reply.status, reply.message) == (403, TOO_LARGE)


def test_copy_and_remove_pairs_are_metered(api, owner):
    """5,000 copy/remove pairs on a 45 KB record (a 380 KB patch) took ~14 s of CPU."""
    record = {f"k{n}": {"name": f"item {n}", "tags": ["a", "b", "c"], "n": n} for n in range(900)}
    bin_id = api.create_bin(owner, record)
    operations = []
    for _ in range(5_000):
        operations.append({"op": "copy", "from": "", "path": "/copy"})
        operations.append({"op": "remove", "path": "/copy"})
    with Bounded(api, seconds=2):
        reply = patch(api, owner, bin_id, JSON_PATCH, operations)
    assert reply.status == 400
    assert reply.message.startswith("JSON Patch takes too much work to apply (more than ")
    assert reply.message.endswith(" steps on this record)")


def test_every_reasonable_patch_fits_its_budget(api, owner):
    """A thousand small operations, and a copy of the whole record, on a 45 KB record."""
    record = {f"k{n}": {"name": f"item {n}", "tags": ["a", "b", "c"], "n": n} for n in range(900)}
    owner = api.account("pro")  # a copy of the whole record is past the free plan's 100 KB
    bin_id = api.create_bin(owner, record)
    operations = [{"op": "replace", "path": f"/k{n}/n", "value": -n} for n in range(900)]
    operations += [{"op": "add", "path": f"/k{n}/tags/-", "value": "d"} for n in range(100)]
    operations += [{"op": "copy", "from": "/k1", "path": f"/c{n}"} for n in range(200)]
    operations += [{"op": "move", "from": f"/c{n}", "path": f"/m{n}"} for n in range(200)]
    operations += [{"op": "copy", "from": "", "path": "/whole"}, {"op": "remove", "path": "/whole"}]
    reply = patch(api, owner, bin_id, JSON_PATCH, operations)
    assert reply.status == 200, reply.body
    assert reply.json()["record"]["k5"]["n"] == -5


@pytest.mark.parametrize("count", [100, 600])
def test_a_result_nested_too_deep_is_400(api, owner, count):
    """600 copies of the record into itself answered 500 (RecursionError); 99 make 100 levels,
    the most a record may have."""
    bin_id = api.create_bin(owner, {"a": "x"})
    operations = [{"op": "copy", "from": "", "path": "/a"}] * count
    with Bounded(api, seconds=3):
        reply = patch(api, owner, bin_id, JSON_PATCH, operations)
    assert (reply.status, reply.message) == (400, "JSON nesting is too deep (at most 100 levels)")
    fits = patch(api, owner, bin_id, JSON_PATCH, operations[:99])
    assert fits.status == 200, fits.body


def test_a_deep_value_added_deep_is_400(api, owner):
    bin_id = api.create_bin(owner, {"a": {"b": {"c": 1}}})
    value: object = 1
    for _ in range(98):
        value = [value]
    reply = patch(api, owner, bin_id, JSON_PATCH, [{"op": "add", "path": "/a/b/d", "value": value}])
    assert (reply.status, reply.message) == (400, "JSON nesting is too deep (at most 100 levels)")
    ok = patch(api, owner, bin_id, JSON_PATCH, [{"op": "add", "path": "/d", "value": value}])
    assert ok.status == 200, ok.body


EXACT = b'{"pi":3.14159265358979323846264,"tiny":1e-400,"big":1E5,"money":1.50,"huge":1e400}'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [(MERGE, {"touched": True}), (JSON_PATCH, [{"op": "add", "path": "/touched", "value": True}])],
    ids=["merge", "json-patch"],
)
def test_untouched_numbers_stay_exactly_as_stored(api, owner, content_type, body):
    reply = api.post(
        "/v3/b", EXACT, {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    )
    bin_id = reply.json()["metadata"]["id"]
    patched = patch(api, owner, bin_id, content_type, body)
    assert patched.status == 200, patched.body
    expected = EXACT[:-1] + b',"touched":true}'
    assert latest_bytes(api, owner, bin_id) == expected
    assert patched.body.startswith(b'{"record":' + expected)


def test_a_patchs_own_numbers_are_kept_as_sent(api, owner):
    bin_id = api.create_bin(owner, {"a": 1})
    body = b'[{"op":"add","path":"/n","value":2.50},{"op":"copy","from":"/n","path":"/m"}]'
    headers = {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH}
    reply = api.request("PATCH", f"/v3/b/{bin_id}", headers, body)
    assert reply.status == 200, reply.body
    assert latest_bytes(api, owner, bin_id) == b'{"a":1,"n":2.50,"m":2.50}'


def test_at_most_ten_thousand_operations(api, owner):
    bin_id = api.create_bin(owner, {"b": 1})
    operations = [{"op": "replace", "path": "/b", "value": n} for n in range(10_001)]
    reply = patch(api, owner, bin_id, JSON_PATCH, operations)
    assert (reply.status, reply.message) == (
        400,
        "Invalid JSON Patch document: more than 10000 operations",
    )
    fits = patch(api, owner, bin_id, JSON_PATCH, operations[:10_000])
    assert fits.status == 200, fits.body


def test_inserting_at_the_front_of_a_large_array_costs_what_it_shifts(api):
    """94,000 insert/remove pairs at /0 of a 500,000-element array took 19.8 s: each moves
    every element. Now 5,000 pairs are refused within a second."""
    owner = api.account("pro")
    body = b"[" + b"0," * 499_989 + b"0]"
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    bin_id = api.post("/v3/b", body, headers).json()["metadata"]["id"]
    pair = [{"op": "add", "path": "/0", "value": 0}, {"op": "remove", "path": "/0"}]
    with Bounded(api, seconds=3, megabytes=400):
        reply = patch(api, owner, bin_id, JSON_PATCH, pair * 5_000)
    assert reply.status == 400
    assert reply.message.startswith("JSON Patch takes too much work to apply")
    at_the_end = [{"op": "add", "path": "/-", "value": 1}, {"op": "remove", "path": "/499990"}]
    assert patch(api, owner, bin_id, JSON_PATCH, at_the_end * 1_000).status == 200


def test_a_huge_number_costs_what_it_is_stored_as(api, owner):
    """The budget counted a 400,000-digit number as 8 characters (Infinity), and a remove of
    it was refused; and copies of it must count their digits against the plan's limit."""
    pro = api.account("pro")
    digits = "9" * 400_000
    headers = {"X-Master-Key": pro.key, "Content-Type": "application/json"}
    made = api.post("/v3/b", f'{{"n":{digits},"m":1}}'.encode(), headers)
    bin_id = json.loads(made.body, parse_int=str)["metadata"]["id"]
    removed = patch(api, pro, bin_id, JSON_PATCH, [{"op": "remove", "path": "/m"}])
    assert removed.status == 200, removed.body
    assert latest_bytes(api, pro, bin_id) == f'{{"n":{digits}}}'.encode()
    copies = [{"op": "copy", "from": "/n", "path": f"/c{k}"} for k in range(20)]
    reply = patch(api, pro, bin_id, JSON_PATCH, copies)
    assert (reply.status, reply.message) == (403, "Pro users cannot update a record over 1mb")


def test_minus_zero_stays_as_written(api, owner):
    body = b'{"a":-0,"b":[-0,1],"c":{"d":-0},"t":1}'
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    bin_id = api.post("/v3/b", body, headers).json()["metadata"]["id"]
    assert patch(api, owner, bin_id, MERGE, {"t": 2}).status == 200
    assert latest_bytes(api, owner, bin_id) == b'{"a":-0,"b":[-0,1],"c":{"d":-0},"t":2}'


@pytest.mark.parametrize(
    ("stored", "tested", "equal"),
    [
        ("3.14159265358979323846264", "3.14159265358979323846265", False),
        ("1e400", "2e400", False),
        ("9" * 5000, "9" * 4999 + "8", False),
        ("12345678901234567890", "12345678901234567891", False),
        ("1.50", "1.5", True),
        ("1E5", "100000", True),
    ],
)
def test_a_test_operation_compares_numbers_exactly(api, owner, stored, tested, equal):
    headers = {"X-Master-Key": owner.key, "Content-Type": "application/json"}
    made = api.post("/v3/b", f'{{"x":{stored}}}'.encode(), headers)
    bin_id = json.loads(made.body, parse_int=str)["metadata"]["id"]
    body = f'[{{"op":"test","path":"/x","value":{tested}}}]'.encode()
    reply = api.request("PATCH", f"/v3/b/{bin_id}", {**headers, "Content-Type": JSON_PATCH}, body)
    if equal:
        assert reply.status == 200, reply.body
    else:
        assert (reply.status, reply.message) == (
            409,
            f"JSON Patch test failed: the value at /x is not {tested}"
            if len(tested) < 200
            else reply.message,
        )
        assert reply.message.startswith("JSON Patch test failed: the value at /x is not ")


def test_a_patch_nested_too_deep_says_so(api, owner):
    bin_id = api.create_bin(owner, {"a": 1})
    body = b"[" * 100_000 + b"]" * 100_000
    reply = api.request(
        "PATCH",
        f"/v3/b/{bin_id}",
        {"X-Master-Key": owner.key, "Content-Type": JSON_PATCH},
        body,
    )
    assert (reply.status, reply.message) == (400, "JSON nesting is too deep (at most 100 levels)")
