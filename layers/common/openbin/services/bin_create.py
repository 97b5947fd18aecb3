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
from openbin.services.bin_types import KEY_REUSED, BinWritten, CreateRequest
from openbin.services.gate import DeferredCharge
from openbin.services.pipeline import Checks, Pipeline
from openbin.services.pipeline import Step as S
from openbin.storage.batch import Found, Wanted
from openbin.storage.bins import AccountChanged, RevisionConflict
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
    """A concurrent create took this create's Idempotency-Key first."""


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


CREATE = Pipeline(
    ("POST /v3/b", "POST /v3/xl/b"), S.KEY, S.PERMISSION, S.ALLOWANCE, S.HEADERS, S.LIMITS, S.SCHEMA
)


class CreateChecks(Checks):
    """Creating has no resource: its key, permission and allowance come first. The key, its
    account, the collection named and a create remembered under the Idempotency-Key are read
    in one round trip; the charge is made with the write when it can be (``deferred``)."""

    def __init__(self, service: Creating, request: CreateRequest) -> None:
        super().__init__()
        self.service, self.storage, self.request = service, service.storage, request
        idem = request.idempotency_key
        self.idem = idem if idem is not None and is_idempotency_key(idem) else None
        self.collection_wanted = request.collection_id is not None and ids.is_id(
            request.collection_id
        )
        self.found = Found()
        self._caller: KeyRecord | None = None
        self.account: Account | None = None
        self.deferred: DeferredCharge | None = None
        self.collection: Collection | None = None

    @property
    def caller(self) -> KeyRecord:
        assert self._caller is not None  # set by the key step
        return self._caller

    def check_key(self) -> None:
        creds = self.request.credentials
        if not creds.present:
            raise auth.NotAuthenticated(
                f"You need to pass {auth.MASTER} or {auth.ACCESS} in the header to create a bin"
            )
        hint = auth.account_hint(creds)
        idem = self.idem  # an invalid one is refused with the headers
        self.found = self.storage.read(
            Wanted(
                key_hashes=auth.key_hashes(creds),
                account_id=hint,
                collection_id=self.request.collection_id if self.collection_wanted else None,
                idempotency=(hint, idem) if idem is not None and hint is not None else None,
            )
        )
        self._caller = auth.identify(creds, self.found.keys)
        assert self._caller is not None  # a key was sent, and identify refuses unknown keys
        if idem is not None and hint != self.caller.account_id:  # the key does not name it
            again = self.storage.read(
                Wanted(
                    account_id=self.caller.account_id,
                    idempotency=(self.caller.account_id, idem),
                )
            )
            self.found.account, self.found.remembered = again.account, again.remembered

    def check_permission(self) -> None:
        auth.require_permission(self.caller, self.request.credentials, "create")

    def check_allowance(self) -> BinWritten | None:
        """Charged now, or with the write (``deferred``); a create remembered under the
        Idempotency-Key is answered again (not charged again)."""
        account, remembered = self.found.account, self.found.remembered
        if remembered is not None:
            return self.service._replay(self.request, remembered, account)
        snapshot = auth.account_snapshot(self.caller, account)
        if snapshot is None:  # charged now, as every other route does
            self.account = auth.charge(self.storage, self.caller.account_id, self.storage.settings)
        else:  # charged with the write (or before any refusal)
            self.account = snapshot
            self.deferred = DeferredCharge(self.storage, snapshot)
        return None

    def check_headers(self) -> None:
        """An XL bin's body is a multipart/form-data upload of at most the XL limit (whatever
        the plan), its record the file part."""
        request, settings = self.request, self.storage.settings
        body = request.body
        if request.idempotency_key is not None and self.idem is None:
            raise InvalidRequest(IDEMPOTENCY_KEY_MESSAGE)
        if request.xl:
            limit = settings.xl_body_limit
            if len(body) > limit:
                raise NotAllowed(f"XL Bin cannot be larger than {limit} bytes")
            body = uploaded_file(request.content_type, body)
        else:
            require_json_content_type(request.content_type)
        self.private = given(request.private)
        if request.name is not None:
            check_bin_name(request.name)
        if request.collection_id is not None and not self.collection_wanted:
            raise InvalidRequest("Invalid X-Collection-Id provided")
        collection = self.found.collection
        schema = (
            self.collection_wanted and collection is not None and bool(collection.schema_doc_id)
        )
        self.value, self.text = parse_record(body, settings.max_json_depth, exact=schema)
        if self.collection_wanted:
            if collection is None or collection.owner_id != self.caller.account_id:
                raise NotFound(COLLECTION_NOT_FOUND)
            self.collection = collection
        self.body = body

    def check_limits(self) -> None:
        assert self.account is not None
        if not self.request.xl:
            self.service._check_size(len(self.body), self.account.plan, "create")
        check_answerable(self.text)

    def check_schema(self) -> None:
        self.service._check_schema(self.collection, self._taken_value(), len(self.body))


class Creating(BinsBase):
    """POST /v3/b and /v3/xl/b."""

    # -- create -----------------------------------------------------------------------------
    def create(self, request: CreateRequest) -> BinWritten:
        """Two sequential round trips when all is well: the key, its account and the collection
        in one read, then one transaction that writes the bin, counts it and charges the
        request."""
        checks = CreateChecks(self, request)
        return CREATE.run(checks, lambda: self._create(checks))

    def _create(self, checks: CreateChecks) -> BinWritten:
        storage, request, caller, idem = self.storage, checks.request, checks.caller, checks.idem
        bin_id = ids.new_id()
        record = storage.records.save(bin_id, record_bytes(checks.body), as_object=request.xl)
        bin = Bin(
            bin_id=bin_id,
            owner_id=caller.account_id,
            private=checks.private,
            created_at=now_iso(),
            latest_version=0,
            record=record,
            revision=ids.new_revision(),
            name=request.name,
            collection_id=checks.collection.collection_id if checks.collection else None,
        )
        remember = None
        if idem is not None:
            expires_at = clock.epoch() + 3600 * self.settings.idempotency_hours
            remember = RememberedCreate(idem, request_hash(request, checks.body), bin, expires_at)
        deferred = checks.deferred
        try:
            self._write_new(bin, deferred, len(checks.body), request.xl, remember)
        except KeyTaken:  # a concurrent create with the same key won: answer as it did
            storage.records.discard(record)
            assert idem is not None
            winner = storage.idempotency.get(caller.account_id, idem)
            if winner is None:  # expired at once: cannot happen with hours to live
                raise Unavailable(UNAVAILABLE) from None
            charged = deferred is None or deferred.settled
            return self._replay(request, winner, checks.account, deferred, charged)
        except OpenBinError:  # refused, so not written: nothing points at the new object
            storage.records.discard(record)
            raise
        return BinWritten(bin, checks.text, etag=etag_of(bin))

    def _replay(
        self,
        request: CreateRequest,
        remembered: RememberedCreate,
        account: Account | None,
        deferred: DeferredCharge | None = None,
        charged: bool = False,
    ) -> BinWritten:
        """The first answer of a create made with this Idempotency-Key, not charged again; a
        different request under the same key is refused (charged, as any refusal after the
        allowance check: through ``deferred`` when there is one). ``charged``: this request
        was charged already."""
        storage = self.storage
        account_id = remembered.bin.owner_id
        assert account_id is not None

        def charge() -> None:
            if deferred is not None:
                deferred.settle()
            else:
                auth.charge(storage, account_id, self.settings)

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
                charge()
            raise KeyReused(KEY_REUSED)
        if not charged:
            if account is None or account.blocked:  # refused by the charge, as on every route
                charge()
            else:
                auth.requests_remaining.set(account.requests_remaining)
        bin = remembered.bin
        text = record_bytes(record).decode("utf-8")
        return BinWritten(bin, text, etag=etag_of(bin), replayed=True)

    def _write_new(
        self,
        bin: Bin,
        deferred: DeferredCharge | None,
        size: int,
        xl: bool = False,
        remember: RememberedCreate | None = None,
    ) -> None:
        """Write the new bin, charging the request with it when it was not charged yet
        (``deferred``), taking its Idempotency-Key with it (``remember``; KeyTaken when a
        concurrent create took it first). An XL bin's size does not depend on the plan."""
        storage = self.storage
        if deferred is not None:
            try:
                storage.bins.create(bin, deferred.in_transaction(), remember)
            except AlreadyCreated:
                raise KeyTaken() from None  # nothing was charged
            except AccountChanged:  # since it was read: charge on its own, to learn why
                account = deferred.settle()
                if not xl:
                    self._check_size(size, account.plan, "create")
            except RevisionConflict:
                raise Unavailable(UNAVAILABLE) from None
            else:
                deferred.charged_with_write()
                return
        try:
            storage.bins.create(bin, remembered=remember)
        except AlreadyCreated:
            raise KeyTaken() from None  # this request was charged on its own
        except RevisionConflict:
            raise Unavailable(UNAVAILABLE) from None
