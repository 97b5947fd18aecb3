"""An unmodified JSONBin client from PyPI (``jsondbin``, whose models are dataclasses built with
``**response``: an unknown key in an answer is a TypeError) against ``openbin serve``."""

from __future__ import annotations

import pytest

from tests.support import HttpApi

jsondbin = pytest.importorskip("jsondbin")
pytestmark = pytest.mark.e2e


def test_jsondbin_works_unmodified(server):
    api = HttpApi(server)
    owner = api.account("pro")
    base_url = f"{server.url}/v3"
    db = jsondbin.JsonDBin(
        api_key=owner.key, collection_name="notes", auto_create=True, base_url=base_url
    )
    assert db.collection_id  # created, as the client looked it up and found none
    made = [db.create_document({"n": n}, name=f"note {n}") for n in range(12)]
    assert [doc.record for doc in made] == [{"n": n} for n in range(12)]
    ids = [doc.id for doc in made]

    updated = db.update_document(ids[0], {"n": 0, "edited": True})
    assert updated.parent_id == ids[0]
    assert db.get_document(ids[0]).record == {"n": 0, "edited": True}
    assert db.get_document(ids[0], version="0").record == {"n": 0}  # the update was versioned
    # (not its json_path reads: JSONBin answers them under "records", which its model lacks)

    # pages of 10, in creation order both ways (the client reads each bin after listing it)
    newest_first = db.get_all_documents()
    assert [doc.id for doc in newest_first] == ids[::-1]
    assert [doc.id for doc in db.get_all_documents(descending=False)] == ids

    schema_doc = api.post(
        "/v3/s",
        {"type": "object"},
        {"X-Master-Key": owner.key, "Content-Type": "application/json", "X-Schema-Doc-Name": "n"},
    ).json()["metadata"]["id"]
    attached = db.add_schema(schema_doc)
    assert (attached.id, attached.schemaDocId) == (db.collection_id, schema_doc)
    detached = db.remove_schema()
    assert detached.schemaDocId == schema_doc  # the one detached, as JSONBin answers
    assert [c.name for c in db.get_all()] == ["notes"]

    db.delete_document(ids[-1])
    assert [doc.id for doc in db.get_all_documents()] == ids[-2::-1]
