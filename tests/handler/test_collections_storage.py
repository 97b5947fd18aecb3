"""docs/API.md §4 and §5 checks that look inside storage: page cost and validator caching."""

from collections import Counter

from openbin import ids
from openbin.bounded import schemas
from openbin.models import SchemaDoc
from tests.seed import add_bins
from tests.support import storage_calls


def page_calls(handler_api, storage, path, key) -> tuple[Counter, list]:
    with storage_calls(storage) as calls:
        reply = handler_api.get(path, {"X-Master-Key": key})
    assert reply.status == 200
    return calls, reply.json()


def test_first_and_last_page_cost_the_same_with_2000_bins(handler_api, storage):
    account = handler_api.account()
    reply = handler_api.request(
        "POST", "/v3/c", {"X-Master-Key": account.key, "X-Collection-Name": "big"}
    )
    cid = reply.json()["record"]
    made = add_bins(storage.db, storage.bins, account.account_id, cid, 2000)
    first_calls, first = page_calls(handler_api, storage, f"/v3/c/{cid}/bins", account.key)
    assert [i["record"] for i in first] == list(reversed(made))[:10]
    last_calls, last = page_calls(handler_api, storage, f"/v3/c/{cid}/bins/{made[10]}", account.key)
    assert [i["record"] for i in last] == list(reversed(made[:10]))
    assert first_calls == last_calls == Counter({"BatchGetItem": 1, "UpdateItem": 1, "Query": 1})


def test_one_compiled_validator_per_schema_revision():
    schemas._validator.cache_clear()
    doc = SchemaDoc("a" * 24, "o" * 24, "n", '{"type": "object"}', "t", revision=0)
    for _ in range(5):
        schemas.validate(doc, {"x": 1}, 7)
    assert schemas._validator.cache_info().misses == 1
    assert schemas._validator.cache_info().hits == 4
    newer = SchemaDoc("a" * 24, "o" * 24, "n", '{"type": "array"}', "t", revision=1)
    schemas.validate(newer, [1], 3)
    assert schemas._validator.cache_info().misses == 2


def test_a_stored_remote_reference_is_never_fetched(handler_api, storage):
    """Defence in depth: even a schema stored before the save-time check cannot make a
    function fetch a URL or read a file."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    account = handler_api.account()
    doc = SchemaDoc(
        ids.new_id(),
        account.account_id,
        "remote",
        f'{{"properties": {{"a": {{"$ref": "http://127.0.0.1:{port}/evil.json"}}}}}}',
        "t",
    )
    storage.schema_docs.put(doc)
    collection = handler_api.op("collection.create", account_id=account.account_id, name="c")
    storage.collections.set_schema_doc(collection["collectionId"], doc.schema_doc_id)
    reply = handler_api.post(
        "/v3/b",
        {"a": 5},
        {"X-Master-Key": account.key, "X-Collection-Id": collection["collectionId"]},
    )
    # The request is over: a connection it made would wait in the listener's backlog.
    listener.setblocking(False)
    try:
        contacted = [listener.accept()]
    except BlockingIOError:
        contacted = []
    listener.close()
    assert contacted == []
    assert reply.status == 400
    assert reply.json()["message"].startswith("Schema Doc Validation Mismatch: $: cannot resolve")
