"""The bin services, one module a verb. Each route declares its steps of the contract's order
of checks (``services.pipeline``): ``services.gate.BinChecks`` gives the first ones (ID shape →
key → the bin → permission → allowance), each verb its own (headers and body → versions → plan
limits → schema).

- ``bin_create``: POST /v3/b and /v3/xl/b (Idempotency-Key replays included);
- ``bin_read``: GET, with versions, JSONPath and ETags;
- ``bin_write``: the conditional write every update goes through;
- ``bin_update``: PUT, PATCH and restore;
- ``bin_delete``: DELETE;
- ``bin_checks``: what they share; ``bin_types``: their requests and results.
"""

from __future__ import annotations

from openbin.services.bin_checks import (
    COLLECTION_NOT_FOUND,
    VERSION_NOT_FOUND,
    etag_matches,
    etag_of,
    size_limit_message,
)
from openbin.services.bin_create import Creating, request_hash
from openbin.services.bin_delete import Deleting
from openbin.services.bin_read import Reading
from openbin.services.bin_types import (
    KEY_REUSED,
    PRECONDITION_FAILED,
    BinDeleted,
    BinRead,
    BinWritten,
    CreateRequest,
    PatchRequest,
    ReadRequest,
    Stale,
    UpdateRequest,
    Written,
)
from openbin.services.bin_update import PATCH_TYPES_MESSAGE, Updating

__all__ = [
    "COLLECTION_NOT_FOUND",
    "KEY_REUSED",
    "PATCH_TYPES_MESSAGE",
    "PRECONDITION_FAILED",
    "VERSION_NOT_FOUND",
    "BinDeleted",
    "BinRead",
    "BinService",
    "BinWritten",
    "CreateRequest",
    "PatchRequest",
    "ReadRequest",
    "Stale",
    "UpdateRequest",
    "Written",
    "etag_matches",
    "etag_of",
    "request_hash",
    "size_limit_message",
]


class BinService(Creating, Reading, Updating, Deleting):
    """Every bin verb, on one storage (the routes' entry point)."""
