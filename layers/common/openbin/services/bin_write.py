"""A bin's new latest record, written conditionally on its revision: the core of every update."""

from __future__ import annotations

from collections.abc import Callable

from openbin import ids, retry
from openbin.clock import now_iso
from openbin.errors import (
    UNAVAILABLE,
    NotFound,
    OpenBinError,
    PreconditionFailed,
    Unavailable,
)
from openbin.models import Bin
from openbin.services.bin_checks import BinsBase
from openbin.services.bin_types import PRECONDITION_FAILED, Stale, Written
from openbin.services.gate import BIN_NOT_FOUND, DeferredCharge
from openbin.storage.bins import AccountChanged, RevisionConflict


class Writing(BinsBase):
    """The conditional write every update goes through."""

    def write_version(
        self, bin_id: str, data: bytes, versioned: bool, first: Bin | None = None
    ) -> int | None:
        """``write``, for callers that want the version number alone."""
        return self.write(bin_id, data, versioned, first).version

    def write(
        self,
        bin_id: str,
        data: bytes | Callable[[Bin], bytes],
        versioned: bool,
        first: Bin | None = None,
        strict: bool = False,
        deferred: DeferredCharge | None = None,
    ) -> Written:
        """Store ``data`` as the bin's new latest record. Versioned: appended as version n+1;
        unversioned, or past the version limit: the latest is replaced in place. Conditional
        writes on the bin's revision: a writer that loses to a concurrent one tries again on
        the state the refusal returned, after a random pause (openbin.retry); ``strict`` (an
        If-Match on ``first``): it is refused instead, and nothing is changed. ``data`` may be
        a function of the bin as it is at each attempt (a PATCH, applied again to what won).
        ``deferred``: the request is charged in the write's transaction (if the account
        changed since it was read, on its own, and the plan's limit is checked again)."""
        storage = self.storage
        make = None if isinstance(data, bytes) else data
        record = storage.records.save(bin_id, data) if isinstance(data, bytes) else None
        bin = first
        for attempt in retry.attempts():
            if bin is None or attempt >= 2:  # after a pause: read the state again
                bin = storage.bins.get(bin_id)
            if bin is None:
                if record is not None:
                    storage.records.discard(record)
                raise NotFound(BIN_NOT_FOUND)
            if make is not None:
                try:
                    record = storage.records.save(bin_id, make(bin))
                except Stale:
                    if strict:  # the state its If-Match named is gone
                        raise PreconditionFailed(PRECONDITION_FAILED) from None
                    bin = None  # read it again
                    continue
            assert record is not None
            revision = ids.new_revision()
            charge = deferred.in_transaction() if deferred is not None else None
            try:
                if versioned and bin.latest_version < self.settings.max_versions:
                    number = storage.bins.append_version(bin, record, now_iso(), revision, charge)
                    if deferred is not None and charge is not None:
                        deferred.charged_with_write()
                    return Written(number, revision)
                storage.bins.replace_latest(bin, record, revision, charge)
            except AccountChanged:  # since it was read: charge on its own, to learn why
                assert deferred is not None
                try:
                    account = deferred.settle()
                    self._check_size(record.size, account.plan)
                except OpenBinError:
                    storage.records.discard(record)
                    raise
                if make is not None:  # made again on the next attempt
                    storage.records.discard(record)
                    record = None
                continue  # the same state again, now charged
            except RevisionConflict as conflict:
                if strict or make is not None:  # made for a state that is gone
                    storage.records.discard(record)
                    record = None
                if strict:
                    raise PreconditionFailed(PRECONDITION_FAILED) from None
                bin = conflict.current
                continue
            if deferred is not None and charge is not None:
                deferred.charged_with_write()
            storage.records.discard(bin.record)
            return Written(None, revision)
        if record is not None:
            storage.records.discard(record)
        raise Unavailable(UNAVAILABLE)
