"""Creating a bin (docs/API.md §3.1, §3.7 and §3.11), in the contract's order of checks."""

from __future__ import annotations

import hashlib
import json

from openbin import clock, ids
from openbin.clock import now_iso
from openbin.errors import (
    UNAVAILABLE,
    InvalidRequest,
    KeyReused,
    NotAllowed,
    NotFound,
    OpenBinError,
    Unavailable,
    given,
)
from openbin.models import (
    Account,
    Bin,
    Collection,
    KeyRecord,
    RememberedCreate,
)
from openbin.services import auth
from openbin.services.bin_checks import COLLECTION_NOT_FOUND, BinsBase, etag_of
from openbin.services.bin_types import KEY_REUSED, BinWritten, CheckedCreate, CreateRequest
from openbin.storage.batch import Wanted
from openbin.storage.bins import AccountChanged, Charge, RevisionConflict
from openbin.storage.idempotency import AlreadyCreated
from openbin.validation import (
    IDEMPOTENCY_KEY_MESSAGE,
    check_answerable,
    check_bin_name,
    is_idempotency_key,
    parse_record,
    record_bytes,
    require_json_content_type,
    uploaded_file,
)


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
        ["xl" if request.xl else "b", request.private_sent, request.name, request.collection_id]
    )
    body = record if as_sent else record_bytes(record)
    return hashlib.sha256(head.encode() + b"\n" + body).hexdigest()


class Creating(BinsBase):
    """POST /v3/b and /v3/xl/b."""

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
        private = given(request.private)
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
