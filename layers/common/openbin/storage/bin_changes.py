"""A bin's committed change, as the bins table's stream carries it (DynamoDB Streams' record,
as Lambda hands it over: binary attributes in base64), read as a webhook event."""

from __future__ import annotations

import base64
import hashlib
import time

import msgspec

from openbin.models import Bin
from openbin.storage.bins import BinRepository
from openbin.webhooks import bodies


def _bin(image: dict) -> Bin:
    item = dict(image)
    record = item.get("rec")
    if record is not None and isinstance(record.get("B"), str):
        item["rec"] = {"B": base64.b64decode(record["B"])}
    return BinRepository.from_item(item)


class Change(msgspec.Struct, frozen=True):
    """A stream record as a webhook sees it."""

    event: str
    bin: Bin  # as it is after (before, for a delete)
    versioned: bool = True  # an update that kept the record it replaced
    versions_removed: int = 0  # a delete's


def change_of(record: dict) -> Change | None:
    """The webhook event a stream record is, or None (not one: a rename, say)."""
    name = record.get("eventName")
    data = record.get("dynamodb", {})
    new, old = data.get("NewImage"), data.get("OldImage")
    if name == "INSERT" and new:
        return Change(bodies.CREATE, _bin(new))
    if name == "REMOVE" and old:
        gone = _bin(old)
        return Change(bodies.DELETE, gone, versions_removed=gone.latest_version)
    if name == "MODIFY" and new and old:
        after, before = _bin(new), _bin(old)
        # A write of the record changes the revision (a rename, a privacy change or a move does
        # not), even with the same record; a delete of the history lowers the version (with no
        # history there is nothing to delete, and nothing is written).
        if after.latest_version > before.latest_version:
            return Change(bodies.UPDATE, after, versioned=True)
        if after.revision != before.revision and after.latest_version == before.latest_version:
            return Change(bodies.UPDATE, after, versioned=False)
    return None


def delivery_id(record: dict) -> str:
    """24 hex characters that sort as the changes were made (deliveries list newest first):
    the change's second (8), its millisecond where the stream gives one (3; DynamoDB Streams
    gives seconds), then 13 from the stream record's own ID (the same change, the same ID)."""
    made = float(record.get("dynamodb", {}).get("ApproximateCreationDateTime") or time.time())
    seconds, millis = int(made), int((made % 1) * 1000)
    digest = hashlib.sha256(str(record.get("eventID", "")).encode()).hexdigest()[:13]
    return f"{seconds & 0xFFFFFFFF:08x}{millis:03x}{digest}"
