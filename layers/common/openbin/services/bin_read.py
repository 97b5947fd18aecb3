"""Reading a bin (docs/API.md §3.2, §3.8): the record, a version of it, or a JSONPath answer."""

from __future__ import annotations

from openbin.errors import (
    UNAVAILABLE,
    InvalidRequest,
    NotFound,
    Unavailable,
    given,
)
from openbin.models import Bin, RecordRef
from openbin.services import auth
from openbin.services.bin_checks import BinsBase, etag_matches, etag_of
from openbin.services.bin_types import BinRead, ReadRequest
from openbin.services.gate import BIN_NOT_FOUND, OPENING, BinChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import FAILURES
from openbin.validation import (
    NumberLog,
    loads_exact,
    parse_version,
)

READ = Pipeline(
    ("GET /v3/b/{binId}", "GET /v3/b/{binId}/{version}", "GET /v3/xl/b/{binId}"),
    *OPENING,
    S.HEADERS,
    S.VERSIONS,
)


class ReadChecks(BinChecks):
    def __init__(self, service: Reading, request: ReadRequest) -> None:
        # The version named in the path is read with the bin and the key (one round trip);
        # its own errors are raised at the versions step.
        try:
            version, self.version_error = parse_version(request.version), False
        except InvalidRequest:
            version, self.version_error = None, True
        super().__init__(service.storage, request.credentials, request.bin_id, auth.READ, version)
        self.request = request
        self.meta = False
        self.ref: RecordRef | None = None

    def check_headers(self) -> None:
        self.meta = given(self.request.meta)

    def check_versions(self) -> None:
        if self.version_error:
            raise InvalidRequest("Bin version is invalid")
        opened = self.opened
        self.ref = BinsBase._record_at(opened.bin, self.version, opened.version)


class Reading(BinsBase):
    """GET /v3/b/<id> (and its versions, JSONPath, ETags)."""

    # -- read -------------------------------------------------------------------------------
    def read(self, request: ReadRequest) -> BinRead:
        checks = ReadChecks(self, request)
        return READ.run(checks, lambda: self._read(request, checks))

    def _read(self, request: ReadRequest, checks: ReadChecks) -> BinRead:
        storage, opened, version, meta, ref = (
            self.storage,
            checks.opened,
            checks.version,
            checks.meta,
            checks.ref,
        )
        assert ref is not None
        bin = opened.bin
        tag = etag_of(bin, version, opened.version)
        if request.if_none_match is not None and etag_matches(request.if_none_match, tag, True):
            return BinRead(bin, version, meta=meta, etag=tag, not_modified=True)
        try:
            data = storage.records.load(ref)
        except FAILURES:  # a write may have replaced it since the bin was read: read again
            bin, ref, tag = self._read_again(bin, version)
            data = storage.records.load(ref)
        if request.json_path is not None:
            from openbin.bounded import jsonpath

            numbers = NumberLog()
            matches = jsonpath.query(
                loads_exact(data, numbers),
                request.json_path,
                self.settings.jsonpath_max_length,
                self.settings.jsonpath_base_steps,
            )
            return BinRead(bin, version, matches=matches, exact=numbers.kept, meta=meta, etag=tag)
        return BinRead(bin, version, record_json=data.decode("utf-8"), meta=meta, etag=tag)

    def _read_again(self, bin: Bin, version: int | None) -> tuple[Bin, RecordRef, str]:
        """The bin as it is now, when its record could not be loaded: an unversioned update or
        a delete removed the object after the bin was read (a read never answers 5xx because
        a write raced it). Unchanged: the failure was not a race, and is raised again."""
        storage = self.storage
        again = storage.bins.get(bin.bin_id)
        if again is None:
            raise NotFound(BIN_NOT_FOUND)
        if again.revision == bin.revision:
            raise Unavailable(UNAVAILABLE)
        stored = None
        if version is not None and version < again.latest_version:
            stored = storage.bins.get_version(bin.bin_id, version)
        return again, self._record_at(again, version, stored), etag_of(again, version, stored)
