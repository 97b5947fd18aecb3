"""Creating, reading and updating bins, in the order of checks the contract prescribes:
ID shape → key → resource → permission → allowance → headers and body → versions → plan limits
→ schema."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import msgspec

from openbin import clock, ids, retry
from openbin.bounded import patching
from openbin.clock import now_iso
from openbin.errors import (
    UNAVAILABLE,
    InvalidRequest,
    KeyReused,
    NotAllowed,
    NotFound,
    OpenBinError,
    PreconditionFailed,
    Unavailable,
    UnsupportedMediaType,
)
from openbin.models import (
    Account,
    Bin,
    Collection,
    KeyRecord,
    RecordRef,
    RememberedCreate,
    SchemaDoc,
    Version,
)
from openbin.services import auth
from openbin.services.auth import Credentials
from openbin.services.gate import (
    BIN_NOT_FOUND,
    DeferredCharge,
    OpenedBin,
    open_bin,
    refusals_charged,
)
from openbin.storage import FAILURES, Storage
from openbin.storage.batch import Wanted
from openbin.storage.bins import AccountChanged, Charge, RevisionConflict
from openbin.storage.idempotency import AlreadyCreated
from openbin.validation import (
    IDEMPOTENCY_KEY_MESSAGE,
    NumberLog,
    check_answerable,
    check_bin_name,
    is_idempotency_key,
    loads_exact,
    parse_bool,
    parse_record,
    parse_version,
    parse_version_number,
    record_bytes,
    require_json_content_type,
    to_json,
    uploaded_file,
)

VERSION_NOT_FOUND = "Bin version not found"
COLLECTION_NOT_FOUND = (
    "Collection not found or the Collection does not belong to the X-Master-Key provided"
)


class CreateRequest(msgspec.Struct):
    credentials: Credentials
    content_type: str | None = None
    private: str | None = None
    name: str | None = None
    collection_id: str | None = None
    body: bytes = b""
    xl: bool = False  # an XL bin: ``body`` is the uploaded file, always stored in S3
    idempotency_key: str | None = None


class ReadRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    version: str | None = None
    meta_header: str | None = None
    meta_query: str | None = None
    json_path: str | None = None
    if_none_match: str | None = None


class UpdateRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    content_type: str | None = None
    versioning: str | None = None
    collection_id: str | None = None
    body: bytes = b""
    if_match: str | None = None


class PatchRequest(msgspec.Struct):
    credentials: Credentials
    bin_id: str
    content_type: str | None = None
    versioning: str | None = None
    body: bytes = b""
    if_match: str | None = None


PATCH_TYPES_MESSAGE = (
    f"You need to pass Content-Type set to {patching.MERGE_PATCH} (RFC 7396) "
    f"or {patching.JSON_PATCH} (RFC 6902)"
)


class CheckedCreate(msgspec.Struct, frozen=True):
    private: bool
    collection: Collection | None
    text: str  # the record as sent, without surrounding whitespace: the answer embeds it
    body: bytes  # the record's bytes as sent (an XL bin's: its file part)


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


class KeyTaken(Exception):
    """A concurrent create took this create's Idempotency-Key first; ``charged``: this request
    was charged on its own before its write."""

    def __init__(self, charged: bool) -> None:
        super().__init__("idempotency key taken")
        self.charged = charged


def request_hash(request: CreateRequest, record: bytes, as_sent: bool = False) -> str:
    """What makes two creates "the same request" for an Idempotency-Key: the route, the
    X-Bin-Private, X-Bin-Name and X-Collection-Id headers as sent, and the record's bytes
    without surrounding whitespace (an XL bin's file part, whatever the multipart boundary).
    ``as_sent``: with the whitespace, as creates remembered their request before 2026-12."""
    head = json.dumps(
        ["xl" if request.xl else "b", request.private, request.name, request.collection_id]
    )
    body = record if as_sent else record_bytes(record)
    return hashlib.sha256(head.encode() + b"\n" + body).hexdigest()


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


def size_limit_message(plan: str) -> str:
    if plan == "pro":
        return "Pro users cannot create a record over 1mb"
    return (
        "Free users cannot create a record over 100kb. "
        "Upgrade to Pro plan to create records upto 1mb"
    )


class BinService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.settings = storage.settings

    # -- create -----------------------------------------------------------------------------
    def create(self, request: CreateRequest) -> BinWritten:
        """Two sequential round trips when all is well: the key, its account and the collection
        in one read, then one transaction that writes the bin, counts it and charges the
        request. Any refusal after the allowance check charges the request on its own first,
        so what is charged and which error wins are as if the charge had come first."""
        storage, creds = self.storage, request.credentials
        if not creds.present:
            raise auth.NotAuthenticated(
                f"You need to pass {auth.MASTER} or {auth.ACCESS} in the header to create a bin"
            )
        collection_wanted = request.collection_id is not None and ids.is_id(request.collection_id)
        idem = request.idempotency_key
        if idem is not None and not is_idempotency_key(idem):
            idem = None  # refused with the headers, after the allowance check
        hint = auth.account_hint(creds)
        found = storage.read(
            Wanted(
                key_hashes=auth.key_hashes(creds),
                account_id=hint,
                collection_id=request.collection_id if collection_wanted else None,
                idempotency=(hint, idem) if idem is not None and hint is not None else None,
            )
        )
        caller = auth.identify(creds, found.keys)
        assert caller is not None  # a key was sent, and identify refuses unknown keys
        auth.require_permission(caller, creds, "create")
        account, remembered = found.account, found.remembered
        if idem is not None and hint != caller.account_id:  # a key without its account in it
            again = storage.read(
                Wanted(account_id=caller.account_id, idempotency=(caller.account_id, idem))
            )
            account, remembered = again.account, again.remembered
        if remembered is not None:
            return self._replay(request, remembered, account)
        snapshot = auth.account_snapshot(caller, account)
        if snapshot is None:  # charged now, as every other route does
            account = auth.charge(storage, caller.account_id, self.settings)
        else:  # charged with the write below (or before any refusal)
            account = snapshot
        try:
            checked = self._check_create(request, found.collection, account.plan, caller)
        except OpenBinError:
            if snapshot is not None:
                auth.charge(storage, caller.account_id, self.settings)
            raise

        bin_id = ids.new_id()
        record = storage.records.save(bin_id, record_bytes(checked.body), as_object=request.xl)
        bin = Bin(
            bin_id=bin_id,
            owner_id=caller.account_id,
            private=checked.private,
            created_at=now_iso(),
            latest_version=0,
            record=record,
            revision=ids.new_revision(),
            name=request.name,
            collection_id=checked.collection.collection_id if checked.collection else None,
        )
        remember = None
        if idem is not None:
            expires_at = clock.epoch() + 3600 * self.settings.idempotency_hours
            remember = RememberedCreate(idem, request_hash(request, checked.body), bin, expires_at)
        try:
            self._write_new(bin, snapshot, len(checked.body), request.xl, remember)
        except KeyTaken as taken:  # a concurrent create with the same key won: answer as it did
            storage.records.discard(record)
            assert idem is not None
            winner = storage.idempotency.get(caller.account_id, idem)
            if winner is None:  # expired at once: cannot happen with hours to live
                raise Unavailable(UNAVAILABLE) from None
            return self._replay(request, winner, snapshot, charged=taken.charged)
        except OpenBinError:  # refused, so not written: nothing points at the new object
            storage.records.discard(record)
            raise
        return BinWritten(bin, checked.text, etag=etag_of(bin))

    def _replay(
        self,
        request: CreateRequest,
        remembered: RememberedCreate,
        account: Account | None,
        charged: bool = False,
    ) -> BinWritten:
        """The first answer of a create made with this Idempotency-Key, not charged again; a
        different request under the same key is refused (charged, as any refusal after the
        allowance check). ``charged``: this request was charged already."""
        storage = self.storage
        account_id = remembered.bin.owner_id
        assert account_id is not None
        if request.xl:
            try:
                record = uploaded_file(request.content_type, request.body)
            except InvalidRequest:
                record = b""  # no file part: not the request that made the bin
        else:
            record = request.body
        if remembered.request_hash not in (
            request_hash(request, record),
            request_hash(request, record, as_sent=True),
        ):
            if not charged:
                auth.charge(storage, account_id, self.settings)
            raise KeyReused(KEY_REUSED)
        if not charged:
            if account is None or account.blocked:  # refused by the charge, as on every route
                auth.charge(storage, account_id, self.settings)
            else:
                auth.requests_remaining.set(account.requests_remaining)
        bin = remembered.bin
        text = record_bytes(record).decode("utf-8")
        return BinWritten(bin, text, etag=etag_of(bin), replayed=True)

    def _check_create(
        self,
        request: CreateRequest,
        collection: Collection | None,
        plan: str,
        caller: KeyRecord,
    ) -> CheckedCreate:
        """Headers, body, plan limit and schema, in the contract's order. An XL bin's body is a
        multipart/form-data upload of at most the XL limit (whatever the plan), its record the
        file part."""
        body = request.body
        if request.idempotency_key is not None and not is_idempotency_key(request.idempotency_key):
            raise InvalidRequest(IDEMPOTENCY_KEY_MESSAGE)
        if request.xl:
            limit = self.settings.xl_body_limit
            if len(body) > limit:
                raise NotAllowed(f"XL Bin cannot be larger than {limit} bytes")
            body = uploaded_file(request.content_type, body)
        else:
            require_json_content_type(request.content_type)
        private = parse_bool("X-Bin-Private", request.private, True)
        if request.name is not None:
            check_bin_name(request.name)
        collection_wanted = request.collection_id is not None and ids.is_id(request.collection_id)
        if request.collection_id is not None and not collection_wanted:
            raise InvalidRequest("Invalid X-Collection-Id provided")
        schema = collection_wanted and collection is not None and bool(collection.schema_doc_id)
        value, text = parse_record(body, self.settings.max_json_depth, exact=schema)
        if not collection_wanted:
            collection = None
        elif collection is None or collection.owner_id != caller.account_id:
            raise NotFound(COLLECTION_NOT_FOUND)
        if not request.xl:
            self._check_size(len(body), plan)
        check_answerable(text)
        self._check_schema(collection, value, len(body))
        return CheckedCreate(private, collection, text, body)

    def _write_new(
        self,
        bin: Bin,
        snapshot: Account | None,
        size: int,
        xl: bool = False,
        remember: RememberedCreate | None = None,
    ) -> None:
        """Write the new bin, charging the request with it when it was not charged yet
        (``snapshot``), taking its Idempotency-Key with it (``remember``; AlreadyCreated when a
        concurrent create took it first). An XL bin's size does not depend on the plan."""
        storage = self.storage
        if snapshot is not None:
            try:
                storage.bins.create(bin, Charge(plan=snapshot.plan), remember)
            except AlreadyCreated:
                raise KeyTaken(charged=False) from None  # nothing was charged
            except AccountChanged:  # since it was read: charge on its own, to learn why
                account = auth.charge(storage, snapshot.account_id, self.settings)
                if not xl:
                    self._check_size(size, account.plan)
            except RevisionConflict:
                raise Unavailable(UNAVAILABLE) from None
            else:
                # As read with the key, less this request: exact unless other requests of the
                # same account were charged in between.
                auth.requests_remaining.set(snapshot.requests_remaining - 1)
                return
        try:
            storage.bins.create(bin, remembered=remember)
        except AlreadyCreated:
            raise KeyTaken(charged=True) from None  # this request was charged on its own
        except RevisionConflict:
            raise Unavailable(UNAVAILABLE) from None

    def _check_size(self, size: int, plan: str) -> None:
        if size > self.settings.record_limit(plan):
            raise NotAllowed(size_limit_message(plan))

    def _check_schema(self, collection: Collection | None, value: object, size: int) -> None:
        if collection is None or not collection.schema_doc_id:
            return
        doc: SchemaDoc | None = self.storage.schema_docs.get(collection.schema_doc_id)
        if doc is None:  # detached concurrently: nothing to validate against
            return
        from openbin.bounded import schemas

        schemas.validate(doc, value, size)

    # -- read -------------------------------------------------------------------------------
    def read(self, request: ReadRequest) -> BinRead:
        storage = self.storage
        # The version named in the path is read with the bin and the key (one round trip);
        # its own errors are raised later, in the contract's order.
        try:
            version, version_error = parse_version(request.version), False
        except InvalidRequest:
            version, version_error = None, True
        opened = open_bin(storage, request.credentials, request.bin_id, auth.READ, version)
        bin = opened.bin

        meta = parse_bool("X-Bin-Meta", request.meta_header, True)
        meta = parse_bool("meta", request.meta_query, True) and meta
        if version_error:
            raise InvalidRequest("Bin version is invalid")
        ref = self._record_at(bin, version, opened.version)
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
            return BinRead(
                bin, version, matches=matches, exact=numbers.kept, meta=meta, etag=tag
            )
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

    @staticmethod
    def _record_at(bin: Bin, version: int | None, stored: Version | None) -> RecordRef:
        if version is None or version == bin.latest_version:
            return bin.record
        if version > bin.latest_version or stored is None:
            raise NotFound(VERSION_NOT_FOUND)
        return stored.record

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
        asked = parse_bool("X-Bin-Versioning", request.versioning, None)
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
        asked = parse_bool("X-Bin-Versioning", request.versioning, None)
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

    @staticmethod
    def _check_if_match(bin: Bin, if_match: str | None) -> None:
        """A write with If-Match goes ahead only on the record version it names (checked
        before the body is: RFC 9110 evaluates preconditions before processing content)."""
        if if_match is not None and not etag_matches(if_match, etag_of(bin), False):
            raise PreconditionFailed(PRECONDITION_FAILED)

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

    # -- delete -----------------------------------------------------------------------------
    def _delete_bin(self, opened: OpenedBin, if_match: str | None) -> tuple[Bin, list]:
        """Delete the bin item (and count it out of its owner's usage), conditional on the
        state it was read in: the bin and the history listed after it. The charge rides in the
        same transaction when it was deferred."""
        storage, deferred = self.storage, opened.deferred
        bin: Bin | None = opened.bin
        assert bin is not None
        bin_id = bin.bin_id
        self._check_if_match(bin, if_match)
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
        storage = self.storage
        opened = open_bin(storage, credentials, bin_id, auth.DELETE, defer_charge=True)
        with refusals_charged(opened):
            bin, history = self._delete_bin(opened, if_match)
        # The bin is gone, so no new version can appear: remove the history, then the objects
        # (an object is removed only once no item points at it).
        if storage.bins.delete_versions(bin_id, history):
            storage.records.discard_all([bin.record, *(v.record for v in history)])
        else:
            storage.records.discard(bin.record)
        return BinDeleted(bin_id, len(history))


def _versioned(bin: Bin, asked: bool | None, by_owner_master_key: bool) -> bool:
    """Whether an update (PUT or PATCH) keeps the record it replaces as a version: a private
    bin's when asked to; a public bin's unless its owner's master key says otherwise."""
    if bin.private:
        return bool(asked)
    return not (asked is False and by_owner_master_key)
