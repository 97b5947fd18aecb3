"""Updating a bin (docs/API.md §3.3, §3.9, §3.10): PUT, PATCH and restore, through ``write``."""

from __future__ import annotations

from openbin import ids
from openbin.bounded import patching
from openbin.errors import (
    InvalidRequest,
    NotAllowed,
    NotFound,
    UnsupportedMediaType,
    given,
)
from openbin.models import Bin, Collection
from openbin.services import auth
from openbin.services.auth import Credentials
from openbin.services.bin_checks import COLLECTION_NOT_FOUND, size_limit_message
from openbin.services.bin_types import BinWritten, PatchRequest, Stale, UpdateRequest, Written
from openbin.services.bin_write import Writing
from openbin.services.gate import OPENING, BinChecks
from openbin.services.pipeline import Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage import FAILURES
from openbin.validation import (
    NumberLog,
    check_answerable,
    loads_exact,
    parse_record,
    parse_version_number,
    record_bytes,
    require_json_content_type,
    to_json,
)

PATCH_TYPES_MESSAGE = (
    f"You need to pass Content-Type set to {patching.MERGE_PATCH} (RFC 7396) "
    f"or {patching.JSON_PATCH} (RFC 6902)"
)


UPDATE = Pipeline("PUT /v3/b/{binId}", *OPENING, S.HEADERS, S.LIMITS, S.SCHEMA)
PATCH = Pipeline("PATCH /v3/b/{binId}", *OPENING, S.HEADERS, each_attempt=(S.LIMITS, S.SCHEMA))
RESTORE = Pipeline(
    "POST /v3/b/{binId}/versions/{version}/restore",
    *OPENING,
    S.HEADERS,
    each_attempt=(S.VERSIONS, S.LIMITS, S.SCHEMA),
)


class UpdateChecks(BinChecks):
    def __init__(self, service: Updating, request: UpdateRequest) -> None:
        # The bin read with the key, and the request charged with the write where it can be.
        super().__init__(
            service.storage, request.credentials, request.bin_id, auth.UPDATE, defer_charge=True
        )
        self.service, self.request = service, request
        self.collection: Collection | None = None

    def check_headers(self) -> None:
        request, bin = self.request, self.opened.bin
        self.service._check_if_match(bin, request.if_match)
        require_json_content_type(request.content_type)
        self.versioned = _versioned(bin, given(request.versioning), self.opened.by_owner_master_key)
        moving_to = request.collection_id
        if moving_to is not None and not ids.is_id(moving_to):
            raise InvalidRequest("Invalid X-Collection-Id provided")
        # In a collection, the value may be checked against a schema: its numbers stay exact.
        in_collection = moving_to is not None or bin.collection_id is not None
        settings = self.service.settings
        self.value, self.text = parse_record(request.body, settings.max_json_depth, in_collection)
        if moving_to is not None:  # only the bin's owner may file it into a collection
            collection = self.storage.collections.get(moving_to)
            caller_account = self.caller.account_id if self.caller else None
            if (
                collection is None
                or collection.owner_id != bin.owner_id
                or caller_account != bin.owner_id
            ):
                raise NotFound(COLLECTION_NOT_FOUND)
            self.collection = collection
        elif bin.collection_id:
            self.collection = self.storage.collections.get(bin.collection_id)

    def check_limits(self) -> None:
        self.service._check_size(len(self.request.body), self.opened.owner_plan)
        check_answerable(self.text)

    def check_schema(self) -> None:
        self.service._check_schema(self.collection, self._taken_value(), len(self.request.body))


class PatchChecks(BinChecks):
    def __init__(self, service: Updating, request: PatchRequest) -> None:
        action = auth.UPDATE_FROM_RECORD
        super().__init__(
            service.storage, request.credentials, request.bin_id, action, defer_charge=True
        )
        self.service, self.request = service, request
        self.numbers = NumberLog()
        self.data = b""  # the attempt's result, checked by each_attempt

    def check_headers(self) -> None:
        request, bin, settings = self.request, self.opened.bin, self.service.settings
        self.service._check_if_match(bin, request.if_match)
        self.media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if self.media_type not in (patching.MERGE_PATCH, patching.JSON_PATCH):
            raise UnsupportedMediaType(PATCH_TYPES_MESSAGE)
        asked = given(request.versioning)
        self.document = patching.parse(request.body, settings.max_json_depth, self.numbers)
        if self.media_type == patching.JSON_PATCH:
            self.operations = patching.json_patch(self.document)
        self.versioned = _versioned(bin, asked, self.opened.by_owner_master_key)
        self.collection = (
            self.storage.collections.get(bin.collection_id) if bin.collection_id else None
        )

    def check_limits(self) -> None:
        collection, settings = self.collection, self.service.settings
        schema = collection is not None and bool(collection.schema_doc_id)
        self.value, self.text = parse_record(self.data, settings.max_json_depth, schema)
        self.service._check_size(len(self.data), self.opened.owner_plan)
        check_answerable(self.text)

    def check_schema(self) -> None:
        self.service._check_schema(self.collection, self._taken_value(), len(self.data))


class RestoreChecks(BinChecks):
    def __init__(
        self, service: Updating, credentials: Credentials, bin_id: str, version_text: str, if_match
    ) -> None:
        try:
            number: int | None = parse_version_number(version_text)
        except InvalidRequest:
            number = None  # refused after the key and the bin, in the contract's order
        action = auth.UPDATE_FROM_RECORD
        super().__init__(service.storage, credentials, bin_id, action, number, defer_charge=True)
        self.service, self.number, self.if_match = service, number, if_match
        self.current: Bin | None = None  # the bin as it is at the attempt
        self.data = b""

    def check_headers(self) -> None:
        if self.number is None:
            raise InvalidRequest("Bin version is invalid")
        self.service._check_if_match(self.opened.bin, self.if_match)

    def check_versions(self) -> None:
        """Version n's record, as the bin is at this attempt."""
        storage, current, number, first = self.storage, self.current, self.number, self.opened
        assert current is not None and number is not None
        if current.revision == first.bin.revision:
            stored = first.version
        elif number < current.latest_version:
            stored = storage.bins.get_version(current.bin_id, number)
        else:
            stored = None
        ref = self.service._record_at(current, number, stored)
        try:
            self.data = storage.records.load(ref)
        except FAILURES:
            latest = storage.bins.get(current.bin_id)
            if latest is None or latest.revision != current.revision:
                raise Stale() from None  # removed by the change that made it stale
            raise

    def check_limits(self) -> None:
        current = self.current
        assert current is not None
        in_collection = current.collection_id is not None
        settings = self.service.settings
        self.value, self.text = parse_record(self.data, settings.max_json_depth, in_collection)
        self.service._check_size(len(self.data), self.opened.owner_plan)
        check_answerable(self.text)

    def check_schema(self) -> None:
        current = self.current
        assert current is not None
        collection = (
            self.storage.collections.get(current.collection_id) if current.collection_id else None
        )
        self.service._check_schema(collection, self._taken_value(), len(self.data))


class Updating(Writing):
    """PUT, PATCH and restore."""

    # -- update -----------------------------------------------------------------------------
    def update(self, request: UpdateRequest) -> BinWritten:
        checks = UpdateChecks(self, request)
        return UPDATE.run(checks, lambda: self._update(checks))

    def _update(self, checks: UpdateChecks) -> BinWritten:
        request, bin, collection = checks.request, checks.opened.bin, checks.collection
        strict = request.if_match is not None
        data = record_bytes(request.body)
        deferred = checks.deferred
        written = self.write(bin.bin_id, data, checks.versioned, bin, strict, deferred)
        if collection is not None and collection.collection_id != bin.collection_id:
            self.storage.bins.move_to_collection(bin, collection.collection_id)
        return self._written(bin, checks.text, written)

    @staticmethod
    def _written(bin: Bin, text: str, written: Written) -> BinWritten:
        """The answer of a write that replaced the latest record, with its new ETag."""
        return BinWritten(bin, text, written.version, f'"{written.revision}"')

    # -- restore ----------------------------------------------------------------------------
    def restore(
        self, credentials: Credentials, bin_id: str, version_text: str, if_match: str | None
    ) -> BinWritten:
        """Make version n's record the latest again, as a new version (history is never
        rewritten), with PUT's keys, permission and checks (the plan and the collection's
        schema as they are now). The write is conditional on the bin's revision, and a writer
        that loses finds version n again in what won: a history deleted meanwhile is never
        brought back."""
        checks = RestoreChecks(self, credentials, bin_id, version_text, if_match)
        return RESTORE.run(checks, lambda: self._restore(checks))

    def _restore(self, checks: RestoreChecks) -> BinWritten:
        first = checks.opened.bin
        restored: list[tuple[Bin, str]] = []

        def restore_onto(current: Bin) -> bytes:
            checks.current = current
            RESTORE.attempt(checks)
            restored.append((current, checks.text))
            return checks.data

        strict = checks.if_match is not None
        written = self.write(first.bin_id, restore_onto, True, first, strict, checks.deferred)
        current, text = restored[-1]
        return self._written(current, text, written)

    # -- patch ------------------------------------------------------------------------------
    def patch(self, request: PatchRequest) -> BinWritten:
        """Apply a JSON Merge Patch (RFC 7396) or a JSON Patch (RFC 6902) to the latest record,
        with PUT's keys, permission, versioning and checks of the result. The write is
        conditional on the revision the patch was applied to: a writer that loses to a
        concurrent one applies the patch again to what won (with If-Match: 412)."""
        checks = PatchChecks(self, request)
        return PATCH.run(checks, lambda: self._patch(checks))

    def _patch(self, checks: PatchChecks) -> BinWritten:
        storage, settings, request = self.storage, self.settings, checks.request
        bin, plan = checks.opened.bin, checks.opened.owner_plan
        apply: patching.Patch | None
        if checks.media_type == patching.MERGE_PATCH:
            apply = patching.merge(checks.document)
        else:
            bounds = patching.Bounds(
                settings.record_limit(plan), settings.max_json_depth, settings.jsonpath_base_steps
            )
            apply = None  # made with the record, which tells whether numbers must stay exact
        applied: list[tuple[Bin, str]] = []  # (the bin as patched, the record's text)

        def patched(current: Bin) -> bytes:
            stored = NumberLog()
            raw = storage.records.load(current.record)
            record = loads_exact(raw, stored)
            exact = checks.numbers.kept or stored.kept  # numbers a double does not write back
            patch = apply or patching.json_patcher(
                checks.operations, bounds, len(request.body), exact
            )
            try:
                result = patch(record, len(raw))
            except patching.TooLarge:
                raise NotAllowed(size_limit_message(plan, "update", settings.pricing_url)) from None
            checks.data = to_json(result, exact).encode()
            PATCH.attempt(checks)
            applied.append((current, checks.text))
            return checks.data

        strict = request.if_match is not None
        written = self.write(bin.bin_id, patched, checks.versioned, bin, strict, checks.deferred)
        current, text = applied[-1]
        return self._written(current, text, written)


def _versioned(bin: Bin, asked: bool | None, by_owner_master_key: bool) -> bool:
    """Whether an update (PUT or PATCH) keeps the record it replaces as a version: a private
    bin's when asked to; a public bin's unless its owner's master key says otherwise."""
    if bin.private:
        return bool(asked)
    return not (asked is False and by_owner_master_key)
