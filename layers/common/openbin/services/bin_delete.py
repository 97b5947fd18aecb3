"""Deleting a bin (docs/API.md §3.4), with its history and its records' objects."""

from __future__ import annotations

from openbin import retry
from openbin.errors import (
    UNAVAILABLE,
    NotFound,
    PreconditionFailed,
    Unavailable,
)
from openbin.models import Bin
from openbin.services import auth
from openbin.services.auth import Credentials
from openbin.services.bin_checks import BinsBase
from openbin.services.bin_types import PRECONDITION_FAILED, BinDeleted
from openbin.services.gate import BIN_NOT_FOUND, OPENING, BinChecks, OpenedBin
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage
from openbin.storage.bins import AccountChanged, RevisionConflict

DELETE = Pipeline(("DELETE /v3/b/{binId}", "DELETE /v3/xl/b/{binId}"), *OPENING, S.HEADERS)


class DeleteChecks(BinChecks):
    def __init__(
        self, storage: Storage, credentials: Credentials, bin_id: str, if_match: str | None
    ) -> None:
        super().__init__(storage, credentials, bin_id, auth.DELETE, defer_charge=True)
        self.if_match = if_match

    def check_headers(self) -> None:
        BinsBase._check_if_match(self.opened.bin, self.if_match)


class Deleting(BinsBase):
    """DELETE /v3/b/<id>."""

    # -- delete -----------------------------------------------------------------------------
    def _delete_bin(self, opened: OpenedBin, if_match: str | None) -> tuple[Bin, list]:
        """Delete the bin item (and count it out of its owner's usage), conditional on the
        state it was read in: the bin and the history listed after it. The charge rides in the
        same transaction when it was deferred."""
        storage, deferred = self.storage, opened.deferred
        bin: Bin | None = opened.bin
        assert bin is not None
        bin_id = bin.bin_id
        for attempt in retry.attempts():
            if bin is None or attempt >= 2:  # after a pause: read the state again
                bin = storage.bins.get(bin_id)
            if bin is None:
                raise NotFound(BIN_NOT_FOUND)
            history = storage.bins.list_versions(bin_id)  # listed after the bin was read
            charge = deferred.in_transaction() if deferred is not None else None
            try:
                storage.bins.delete_bin(bin, sum(v.record.size for v in history), charge)
            except AccountChanged:  # since it was read: charge on its own, to learn why
                assert deferred is not None
                deferred.settle()
                continue
            except RevisionConflict as conflict:
                if if_match is not None:  # the ETag it named is no longer current
                    raise PreconditionFailed(PRECONDITION_FAILED) from None
                bin = conflict.current
                continue
            if deferred is not None and charge is not None:
                deferred.charged_with_write()
            return bin, history
        raise Unavailable(UNAVAILABLE)

    def delete(
        self, credentials: Credentials, bin_id: str, if_match: str | None = None
    ) -> BinDeleted:
        checks = DeleteChecks(self.storage, credentials, bin_id, if_match)
        return DELETE.run(checks, lambda: self._delete(checks.opened, if_match))

    def _delete(self, opened: OpenedBin, if_match: str | None) -> BinDeleted:
        storage, bin_id = self.storage, opened.bin.bin_id
        bin, history = self._delete_bin(opened, if_match)
        # The bin is gone, so no new version can appear: remove the history, then the objects
        # (an object is removed only once no item points at it).
        if storage.bins.delete_versions(bin_id, history):
            storage.records.discard_all([bin.record, *(v.record for v in history)])
        else:
            storage.records.discard(bin.record)
        return BinDeleted(bin_id, len(history))
