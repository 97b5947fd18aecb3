"""The checks every bin write and read share (ETags, the plan's limit, the collection's schema, the
version asked for), on a base the verb services build on."""

from __future__ import annotations

from openbin.errors import (
    NotAllowed,
    NotFound,
    PreconditionFailed,
)
from openbin.models import (
    Bin,
    Collection,
    RecordRef,
    SchemaDoc,
    Version,
)
from openbin.services.bin_types import PRECONDITION_FAILED
from openbin.storage import Storage

VERSION_NOT_FOUND = "Bin version not found"
COLLECTION_NOT_FOUND = (
    "Collection not found or the Collection does not belong to the X-Master-Key provided"
)


def etag_of(bin: Bin, version: int | None = None, stored: Version | None = None) -> str:
    """A strong ETag for the record version a read returns: the bin's revision for the latest
    (new at every write of its record or history), the archiving write's token for an earlier
    version. Random, never derived from a key."""
    if version is None or version == bin.latest_version or stored is None:
        return f'"{bin.revision}"'
    return f'"{stored.token}.{version}"'


def etag_matches(header: str | None, current: str, weak: bool) -> bool:
    """Whether an If-Match (``weak`` False: strong comparison) or If-None-Match (weak) header
    names ``current``: a list of entity tags, or ``*``."""
    for tag in (header or "").split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            if not weak:
                continue
            tag = tag[2:]
        if tag == current:
            return True
    return False


def size_limit_message(plan: str, verb: str = "create", pricing_url: str = "") -> str:
    """The plan's limit refused, in JSONBin's words: a create's, or an update's (which names the
    pricing page, as JSONBin's live API does)."""
    if plan == "pro":
        return f"Pro users cannot {verb} a record over 1mb"
    if verb == "update":
        return (
            "Free users cannot update a record over 100kb. "
            f"Upgrade to Pro plan {pricing_url} to update records upto 1mb"
        )
    return (
        "Free users cannot create a record over 100kb. "
        "Upgrade to Pro plan to create records upto 1mb"
    )


class BinsBase:
    """What every bin service holds: the storage and its settings, and the shared checks."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.settings = storage.settings

    def _check_size(self, size: int, plan: str, verb: str = "update") -> None:
        """The plan's record limit; ``verb``: the wording of the refusal (create or update)."""
        if size > self.settings.record_limit(plan):
            raise NotAllowed(size_limit_message(plan, verb, self.settings.pricing_url))

    def _check_schema(self, collection: Collection | None, value: object, size: int) -> None:
        if collection is None or not collection.schema_doc_id:
            return
        doc: SchemaDoc | None = self.storage.schema_docs.get(collection.schema_doc_id)
        if doc is None:  # detached concurrently: nothing to validate against
            return
        from openbin.bounded import schemas

        schemas.validate(doc, value, size)

    @staticmethod
    def _record_at(bin: Bin, version: int | None, stored: Version | None) -> RecordRef:
        if version is None or version == bin.latest_version:
            return bin.record
        if version > bin.latest_version or stored is None:
            raise NotFound(VERSION_NOT_FOUND)
        return stored.record

    @staticmethod
    def _check_if_match(bin: Bin, if_match: str | None) -> None:
        """A write with If-Match goes ahead only on the record version it names (checked
        before the body is: RFC 9110 evaluates preconditions before processing content)."""
        if if_match is not None and not etag_matches(if_match, etag_of(bin), False):
            raise PreconditionFailed(PRECONDITION_FAILED)
