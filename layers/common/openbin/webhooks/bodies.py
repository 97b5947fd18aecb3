"""What a delivery says, in JSONBin's shapes (its API reference, "Webhooks"), a receiver
written for JSONBin parses them unchanged. The record is embedded as stored, byte for byte:
its numbers stay what the client sent (``1e400``, ``2.50``)."""

from __future__ import annotations

import json

CREATE, UPDATE, DELETE = "create", "update", "delete"
EVENTS = (CREATE, UPDATE, DELETE)


def _info(request_type: str) -> dict:
    return {"webhookInfo": {"requestType": request_type, "recordType": "bin"}}


def _with_data(record: bytes, rest: dict) -> bytes:
    """``{"data": <record>, ...rest}``: the record's own bytes, then the other members."""
    others = json.dumps(rest, ensure_ascii=False, separators=(",", ":"))
    return b'{"data":' + record + (b"," + others[1:].encode() if rest else b"}")


def create(
    bin_id: str, record: bytes, private: bool, name: str | None, collection_id: str | None
) -> bytes:
    """``collectionID`` only in a collection, ``private`` only when private, ``binName`` only
    when named."""
    rest: dict = {"id": bin_id}
    if collection_id:
        rest["collectionID"] = collection_id
    if private:
        rest["private"] = True
    if name is not None:
        rest["binName"] = name
    return _with_data(record, {**rest, **_info(CREATE)})


def update(bin_id: str, record: bytes, version: int, versioned: bool) -> bytes:
    """``version``: the bin's latest version number after the update; ``versioning: false``
    only when the update kept no version. PATCH and restore are updates: the same shape."""
    rest: dict = {"parentId": bin_id, "version": version}
    if not versioned:
        rest["versioning"] = False
    return _with_data(record, {**rest, **_info(UPDATE)})


def delete(bin_id: str, versions_removed: int) -> bytes:
    body = {
        "id": bin_id,
        "message": f"Bin {bin_id} is deleted successfully. {versions_removed} versions removed.",
        **_info(DELETE),
    }
    return json.dumps(body, separators=(",", ":")).encode()
