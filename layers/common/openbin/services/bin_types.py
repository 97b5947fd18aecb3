"""What the bin routes ask of the bin services, and what they answer: typed requests and results."""

from __future__ import annotations

import msgspec

from openbin.errors import OpenBinError
from openbin.models import Bin
from openbin.services.auth import Credentials


class CreateRequest(msgspec.Struct):
    credentials: Credentials
    content_type: str | None = None
    private: bool | OpenBinError = True  # read by the api; a refusal is raised at its step
    private_sent: str | None = None  # X-Bin-Private as sent: part of an Idempotency-Key's request
    name: str | None = None
    collection_id: str | None = None
    body: bytes = b""
    xl: bool = False  # an XL bin: ``body`` is the uploaded file, always stored in S3
    idempotency_key: str | None = None


class ReadRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    version: str | None = None
    meta: bool | OpenBinError = True
    json_path: str | None = None
    if_none_match: str | None = None


class UpdateRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    content_type: str | None = None
    versioning: bool | None | OpenBinError = None
    collection_id: str | None = None
    body: bytes = b""
    if_match: str | None = None


class PatchRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    content_type: str | None = None
    versioning: bool | None | OpenBinError = None
    body: bytes = b""
    if_match: str | None = None


class BinWritten(msgspec.Struct, frozen=True):
    """A create or an update: the bin (as it was before an update), the record as sent, and the
    version an update made (None: none was)."""

    bin: Bin
    record_json: str
    version: int | None = None
    etag: str = ""  # of the record as written
    replayed: bool = False  # a create's first answer, given again for its Idempotency-Key


class BinRead(msgspec.Struct, frozen=True):
    """A read: the record as stored (JSON text) or the JSONPath matches, of ``version`` (None:
    the latest), with or without metadata."""

    bin: Bin
    version: int | None
    record_json: str | None = None
    matches: list | None = None
    exact: bool = False  # the matches hold numbers to write as sent (validation.NumberLog)
    meta: bool = True
    etag: str = ""
    not_modified: bool = False  # If-None-Match named this ETag: no record was loaded


class BinDeleted(msgspec.Struct, frozen=True):
    bin_id: str
    versions_deleted: int


class Written(msgspec.Struct, frozen=True):
    version: int | None  # the version a versioned write made
    revision: str  # the bin's new revision


PRECONDITION_FAILED = "The bin has changed: If-Match is not its current ETag"
KEY_REUSED = (
    "Idempotency-Key was already used for a different request: "
    "send the same body and X-Bin-* headers, or a new key"
)


class Stale(Exception):
    """What a write was about to be made from changed under it (a restored version's record
    removed by a concurrent delete of the history): read the bin again and start over."""
