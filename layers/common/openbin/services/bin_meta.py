"""docs/API.md §3.5 and §3.6: a bin's version history as a whole, and its name and privacy."""

from __future__ import annotations

import msgspec

from openbin import ids, retry
from openbin.errors import (
    UNAVAILABLE,
    InvalidRequest,
    NotFound,
    OpenBinError,
    Unavailable,
    check_given,
    given,
)
from openbin.models import Bin
from openbin.services import auth
from openbin.services.auth import Credentials
from openbin.services.gate import BIN_NOT_FOUND, OPENING, BinChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import Storage
from openbin.storage.bins import RevisionConflict
from openbin.validation import check_bin_name, parse_version_number


class VersionInfo(msgspec.Struct, frozen=True):
    version: int
    created_at: str  # when this version number was made
    size: int  # bytes of its record


HISTORY_PAGE = 10

COUNT = Pipeline("GET /v3/b/{binId}/versions/count", *OPENING)
LIST = Pipeline(
    ("GET /v3/b/{binId}/versions", "GET /v3/b/{binId}/versions/{before}"), *OPENING, S.HEADERS
)
DELETE_VERSIONS = Pipeline("DELETE /v3/b/{binId}/versions", *OPENING, S.HEADERS)
RENAME = Pipeline("PUT /v3/b/{binId}/meta/name", *OPENING, S.HEADERS)
PRIVACY = Pipeline("PUT /v3/b/{binId}/meta/privacy", *OPENING, S.HEADERS)


class VersionsDeleted(msgspec.Struct, frozen=True):
    bin_id: str
    count: int
    latest_preserved: bool


class BinMetaService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def count_versions(self, credentials: Credentials, bin_id: str) -> Bin:
        """The bin: its ``latest_version`` is the number of versions beyond version 0."""
        checks = BinChecks(self.storage, credentials, bin_id, auth.COUNT_VERSIONS)
        return COUNT.run(checks, lambda: checks.opened.bin)

    def list_versions(
        self, credentials: Credentials, bin_id: str, before: str | None
    ) -> list[VersionInfo]:
        """A page of the bin's versions, newest first (the latest included), below ``before``
        (a version number) when given. Each version's time is when its number was made: the
        time the version before it was kept (version 0: the bin's creation)."""
        checks = BinChecks(self.storage, credentials, bin_id, auth.COUNT_VERSIONS)
        below: list[int] = []  # the version number below which the page starts, when given

        def check_before() -> None:
            if before is not None:
                below.append(parse_version_number(before))

        checks.add(S.HEADERS, check_before)
        return LIST.run(checks, lambda: self._list_versions(checks.opened.bin, below))

    def _list_versions(self, bin: Bin, below: list[int]) -> list[VersionInfo]:
        bin_id = bin.bin_id
        top = bin.latest_version
        if below:
            top = min(top, below[0] - 1)
        if top < 0:
            return []
        low = max(0, top - HISTORY_PAGE + 1)
        kept = {
            v.version: v
            for v in self.storage.bins.versions_between(
                bin_id, max(0, low - 1), min(top, bin.latest_version - 1)
            )
        }
        page = []
        for number in range(top, low - 1, -1):
            made = kept[number - 1].created_at if number >= 1 and number - 1 in kept else None
            if number == 0:
                made = bin.created_at
            if number == bin.latest_version:
                size = bin.record.size
            elif number in kept:
                size = kept[number].record.size
            else:  # removed meanwhile (versions deleted): not listed
                continue
            page.append(VersionInfo(number, made or bin.created_at, size))
        return page

    def delete_versions(
        self, credentials: Credentials, bin_id: str, preserve_latest: bool | OpenBinError
    ) -> VersionsDeleted:
        checks = BinChecks(self.storage, credentials, bin_id, auth.MANAGE)
        checks.add(S.HEADERS, lambda: check_given(preserve_latest))
        return DELETE_VERSIONS.run(
            checks, lambda: self._delete_versions(checks.opened.bin, given(preserve_latest))
        )

    def _delete_versions(self, bin: Bin, preserve: bool) -> VersionsDeleted:
        storage, bin_id = self.storage, bin.bin_id
        for attempt in retry.attempts():
            if attempt >= 2:  # after a pause: read the state again
                bin = self._reread(bin_id)
            if bin.latest_version == 0:  # nothing to delete: a success, as on JSONBin
                return VersionsDeleted(bin_id, 0, preserve)
            history = storage.bins.list_versions(bin_id)
            if preserve:
                keep, drop = bin.record, [v.record for v in history]
            else:
                base = next((v for v in history if v.version == 0), None)
                if base is None:  # history changed under us: read again
                    bin = self._reread(bin_id)
                    continue
                keep = base.record
                drop = [bin.record, *(v.record for v in history if v.version != 0)]
            freed = sum(ref.size for ref in drop)
            try:
                storage.bins.reset_history(bin, keep, ids.new_revision(), freed)
            except RevisionConflict as conflict:
                bin = conflict.current or self._reread(bin_id)
                continue
            # committed: what follows only tidies up what is no longer reachable
            if storage.bins.delete_versions(bin_id, history):
                storage.records.discard_all(drop)
            return VersionsDeleted(bin_id, bin.latest_version, preserve)
        raise Unavailable(UNAVAILABLE)

    def _reread(self, bin_id: str):
        bin = self.storage.bins.get(bin_id)
        if bin is None:
            raise NotFound(BIN_NOT_FOUND)
        return bin

    def rename(self, credentials: Credentials, bin_id: str, name: str | None) -> str:
        """The bin's new name."""
        checks = BinChecks(self.storage, credentials, bin_id, auth.MANAGE)
        checks.add(S.HEADERS, lambda: _check_new_name(name))
        return RENAME.run(checks, lambda: self._rename(bin_id, name))

    def _rename(self, bin_id: str, name: str | None) -> str:
        assert name is not None
        if not self.storage.bins.rename(bin_id, name):
            raise NotFound(BIN_NOT_FOUND)
        return name

    def set_privacy(
        self, credentials: Credentials, bin_id: str, private: bool | OpenBinError
    ) -> bool:
        """The bin's new privacy."""
        checks = BinChecks(self.storage, credentials, bin_id, auth.MANAGE)
        checks.add(S.HEADERS, lambda: check_given(private))
        return PRIVACY.run(checks, lambda: self._set_private(bin_id, given(private)))

    def _set_private(self, bin_id: str, value: bool) -> bool:
        if not self.storage.bins.set_private(bin_id, value):
            raise NotFound(BIN_NOT_FOUND)
        return value


def _check_new_name(name: str | None) -> None:
    if name is None:
        raise InvalidRequest("You need to pass X-Bin-Name header to Update the Bin Name")
    check_bin_name(name)
