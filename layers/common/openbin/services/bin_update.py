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
from openbin.models import Bin
from openbin.services import auth
from openbin.services.auth import Credentials
from openbin.services.bin_checks import COLLECTION_NOT_FOUND, size_limit_message
from openbin.services.bin_types import BinWritten, PatchRequest, Stale, UpdateRequest, Written
from openbin.services.bin_write import Writing
from openbin.services.gate import (
    OpenedBin,
    open_bin,
    refusals_charged,
)
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


class Updating(Writing):
    """PUT, PATCH and restore."""

    # -- update -----------------------------------------------------------------------------
    def update(self, request: UpdateRequest) -> BinWritten:
        opened = self._open_for_write(request.credentials, request.bin_id)
        with refusals_charged(opened):
            return self._update(request, opened)

    def _update(self, request: UpdateRequest, opened: OpenedBin) -> BinWritten:
        storage = self.storage
        bin = opened.bin
        self._check_if_match(bin, request.if_match)
        require_json_content_type(request.content_type)
        asked = given(request.versioning)
        moving_to = request.collection_id
        if moving_to is not None and not ids.is_id(moving_to):
            raise InvalidRequest("Invalid X-Collection-Id provided")
        # In a collection, the value may be checked against a schema: its numbers stay exact.
        in_collection = moving_to is not None or bin.collection_id is not None
        value, text = parse_record(request.body, self.settings.max_json_depth, in_collection)
        collection = None
        if moving_to is not None:  # only the bin's owner may file it into a collection
            collection = storage.collections.get(moving_to)
            caller_account = opened.caller.account_id if opened.caller else None
            if (
                collection is None
                or collection.owner_id != bin.owner_id
                or caller_account != bin.owner_id
            ):
                raise NotFound(COLLECTION_NOT_FOUND)
        elif bin.collection_id:
            collection = storage.collections.get(bin.collection_id)
        self._check_size(len(request.body), opened.owner_plan)
        check_answerable(text)
        self._check_schema(collection, value, len(request.body))
        versioned = _versioned(bin, asked, opened.by_owner_master_key)
        strict = request.if_match is not None
        data = record_bytes(request.body)
        written = self.write(bin.bin_id, data, versioned, bin, strict, opened.deferred)
        if collection is not None and collection.collection_id != bin.collection_id:
            storage.bins.move_to_collection(bin, collection.collection_id)
        return self._written(bin, text, written)

    def _open_for_write(
        self,
        credentials: Credentials,
        bin_id: str,
        version: int | None = None,
        action: auth.BinAction = auth.UPDATE,
    ) -> OpenedBin:
        """A PUT, PATCH or restore: the bin (and ``version`` of it) read with the key, and the
        request charged with the write where it can be (``refusals_charged`` the rest)."""
        return open_bin(self.storage, credentials, bin_id, action, version, defer_charge=True)

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
        storage = self.storage
        try:
            number: int | None = parse_version_number(version_text)
        except InvalidRequest:
            number = None  # refused after the key and the bin, in the contract's order
        opened = self._open_for_write(credentials, bin_id, number, auth.UPDATE_FROM_RECORD)
        with refusals_charged(opened):
            first = opened.bin
            if number is None:
                raise InvalidRequest("Bin version is invalid")
            self._check_if_match(first, if_match)
            restored: list[tuple[Bin, str]] = []

            def restore_onto(current: Bin) -> bytes:
                assert number is not None
                if current.revision == first.revision:
                    stored = opened.version
                elif number < current.latest_version:
                    stored = storage.bins.get_version(bin_id, number)
                else:
                    stored = None
                ref = self._record_at(current, number, stored)
                try:
                    data = storage.records.load(ref)
                except FAILURES:
                    latest = storage.bins.get(bin_id)
                    if latest is None or latest.revision != current.revision:
                        raise Stale() from None  # removed by the change that made it stale
                    raise
                in_collection = current.collection_id is not None
                value, text = parse_record(data, self.settings.max_json_depth, in_collection)
                self._check_size(len(data), opened.owner_plan)
                check_answerable(text)
                collection = (
                    storage.collections.get(current.collection_id)
                    if current.collection_id
                    else None
                )
                self._check_schema(collection, value, len(data))
                restored.append((current, text))
                return data

            strict = if_match is not None
            written = self.write(bin_id, restore_onto, True, first, strict, opened.deferred)
            current, text = restored[-1]
            return self._written(current, text, written)

    # -- patch ------------------------------------------------------------------------------
    def patch(self, request: PatchRequest) -> BinWritten:
        """Apply a JSON Merge Patch (RFC 7396) or a JSON Patch (RFC 6902) to the latest record,
        with PUT's keys, permission, versioning and checks of the result. The write is
        conditional on the revision the patch was applied to: a writer that loses to a
        concurrent one applies the patch again to what won (with If-Match: 412)."""
        opened = self._open_for_write(
            request.credentials, request.bin_id, action=auth.UPDATE_FROM_RECORD
        )
        with refusals_charged(opened):
            return self._patch(request, opened)

    def _patch(self, request: PatchRequest, opened: OpenedBin) -> BinWritten:
        storage, settings = self.storage, self.settings
        bin = opened.bin
        self._check_if_match(bin, request.if_match)
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type not in (patching.MERGE_PATCH, patching.JSON_PATCH):
            raise UnsupportedMediaType(PATCH_TYPES_MESSAGE)
        asked = given(request.versioning)
        numbers = NumberLog()
        document = patching.parse(request.body, settings.max_json_depth, numbers)
        plan = opened.owner_plan
        apply: patching.Patch | None
        if media_type == patching.MERGE_PATCH:
            apply = patching.merge(document)
        else:
            bounds = patching.Bounds(
                settings.record_limit(plan), settings.max_json_depth, settings.jsonpath_base_steps
            )
            operations = patching.json_patch(document)
            apply = None  # made with the record, which tells whether numbers must stay exact
        versioned = _versioned(bin, asked, opened.by_owner_master_key)
        collection = storage.collections.get(bin.collection_id) if bin.collection_id else None
        applied: list[tuple[Bin, str]] = []  # (the bin as patched, the record's text)

        def patched(current: Bin) -> bytes:
            stored = NumberLog()
            raw = storage.records.load(current.record)
            record = loads_exact(raw, stored)
            exact = numbers.kept or stored.kept  # numbers a double does not write back as sent
            patch = apply or patching.json_patcher(operations, bounds, len(request.body), exact)
            try:
                result = patch(record, len(raw))
            except patching.TooLarge:
                raise NotAllowed(size_limit_message(plan)) from None
            data = to_json(result, exact).encode()
            schema = collection is not None and bool(collection.schema_doc_id)
            value, text = parse_record(data, settings.max_json_depth, schema)
            self._check_size(len(data), plan)
            check_answerable(text)
            self._check_schema(collection, value, len(data))
            applied.append((current, text))
            return data

        strict = request.if_match is not None
        written = self.write(bin.bin_id, patched, versioned, bin, strict, opened.deferred)
        current, text = applied[-1]
        return self._written(current, text, written)


def _versioned(bin: Bin, asked: bool | None, by_owner_master_key: bool) -> bool:
    """Whether an update (PUT or PATCH) keeps the record it replaces as a version: a private
    bin's when asked to; a public bin's unless its owner's master key says otherwise."""
    if bin.private:
        return bool(asked)
    return not (asked is False and by_owner_master_key)
