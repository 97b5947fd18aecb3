"""The request gate: the checks of the first steps every route shares (ID shape → key → the
resource exists → the caller may act on it → one request is charged), which each route's
``services.pipeline.Pipeline`` runs in the contract's order with its own. One read
(``Storage.read``) fetches the caller's key(s) with whatever the route needs, so a bin route
costs two sequential round trips (three when another account's key acts on a public bin: its
owner must not be blocked).

A write route may defer the charge (``defer_charge``): the caller's account is read with the key
and the bin, and the request is charged in the write's own transaction, so an update is two
sequential round trips too. Any refusal after the allowance check charges the request on its own
first (``Checks.refused``, through ``DeferredCharge.settle``), so what is charged and which
error wins are as if the charge had come first."""

from __future__ import annotations

import msgspec

from openbin import ids
from openbin.errors import InvalidRequest, NotAuthenticated, NotFound
from openbin.models import Account, Bin, KeyRecord, Version
from openbin.services import auth
from openbin.services.auth import BinAction, Credentials
from openbin.services.pipeline import Checks, Step
from openbin.storage import Storage
from openbin.storage.batch import NOTHING, Found, Wanted
from openbin.storage.bins import Charge

INVALID_BIN_ID = "Invalid Bin Id provided"

# The steps ``BinChecks`` gives, which every bin route's pipeline starts with.
OPENING = (Step.ID, Step.KEY, Step.RESOURCE, Step.PERMISSION, Step.ALLOWANCE)
# A master-key route on one of the caller's resources (``MasterChecks`` and the route's ID and
# resource checks): a resource that is not the caller's is not found, so it has no permission
# step.
MASTER_OPENING = (Step.ID, Step.KEY, Step.RESOURCE, Step.ALLOWANCE)
BIN_NOT_FOUND = "Bin not found or it doesn't belong to your account"


class DeferredCharge(msgspec.Struct):
    """A request not charged yet: its account as read with the key (not blocked, a request
    left), to be charged in the write's transaction, or on its own before any refusal."""

    storage: Storage
    account: Account
    settled: bool = False

    def in_transaction(self) -> Charge | None:
        """What the next write should charge (None: the request is charged already)."""
        return None if self.settled else Charge(plan=self.account.plan)

    def charged_with_write(self) -> None:
        """The write's transaction charged it: the allowance as read, less this request (exact
        unless other requests of the account were charged in between)."""
        self.settled = True
        auth.requests_remaining.set(self.account.requests_remaining - 1)

    def settle(self) -> Account:
        """Charge it on its own now (a refusal, or the account changed since it was read):
        refused as any charge is when nothing is left or the account is blocked."""
        if not self.settled:
            self.settled = True
            self.account = auth.charge(self.storage, self.account.account_id, self.storage.settings)
        return self.account


class OpenedBin(msgspec.Struct):
    bin: Bin
    caller: KeyRecord | None
    account: Account  # the account charged for this request, as it is after the charge
    version: Version | None = None  # the version the route asked for, read with the bin
    owner: Account | None = None  # the bin's owner, when read (another account's key)
    deferred: DeferredCharge | None = None  # not charged yet: charge it with the write

    @property
    def by_owner_master_key(self) -> bool:
        return (
            self.caller is not None
            and self.caller.kind == "master"
            and self.caller.account_id == self.bin.owner_id
        )

    @property
    def owner_plan(self) -> str:
        """The plan whose limits apply to a write: the bin owner's."""
        return (self.owner or self.account).plan


class BinChecks(Checks):
    """The first steps of every bin route: ID shape → key → the bin exists → the caller may act
    on it → one request charged. One read (``Storage.read``) fetches the caller's key(s) with
    the bin (and ``version`` of it). With ``defer_charge``, when the caller's key names its
    account and acts on its own bin, the charge is left to the write (``deferred``). A route
    subclasses it with its own later steps and runs it through its ``Pipeline``."""

    def __init__(
        self,
        storage: Storage,
        credentials: Credentials,
        bin_id: str,
        action: BinAction,
        version: int | None = None,
        defer_charge: bool = False,
    ) -> None:
        super().__init__()
        self.storage, self.credentials, self.bin_id = storage, credentials, bin_id
        self.action, self.version, self.defer_charge = action, version, defer_charge
        self.found: Found = Found()
        self.caller: KeyRecord | None = None
        self.account_id = ""
        self._opened: OpenedBin | None = None
        self.deferred: DeferredCharge | None = None

    @property
    def opened(self) -> OpenedBin:
        assert self._opened is not None  # set by the allowance step
        return self._opened

    def check_id(self) -> None:
        if not ids.is_id(self.bin_id):
            raise InvalidRequest(INVALID_BIN_ID)

    def check_key(self) -> None:
        credentials = self.credentials
        if self.action.permission is None:
            auth.require_master_key(credentials)
        hint = auth.account_hint(credentials) if self.defer_charge else None
        self.found = self.storage.read(
            Wanted(
                key_hashes=auth.key_hashes(credentials),
                account_id=hint,
                bin_id=self.bin_id,
                version=self.version,
            )
        )
        self.caller = auth.identify(credentials, self.found.keys)

    def check_resource(self) -> None:
        if self.found.bin is None:
            raise NotFound(BIN_NOT_FOUND)

    def check_permission(self) -> None:
        assert self.found.bin is not None
        self.account_id = auth.authorize_bin(
            self.found.bin, self.caller, self.credentials, self.action
        )

    def check_allowance(self) -> None:
        storage, bin, caller, account_id = (
            self.storage,
            self.found.bin,
            self.caller,
            self.account_id,
        )
        assert bin is not None
        if self.defer_charge and caller is not None and account_id == bin.owner_id:
            snapshot = auth.account_snapshot(caller, self.found.account)
            if snapshot is not None:  # the owner's own key, its account read with it
                auth.charged_account.set(account_id)
                self.deferred = DeferredCharge(storage, snapshot)
                self._opened = OpenedBin(
                    bin, caller, snapshot, self.found.version, deferred=self.deferred
                )
                return
        owner = None
        if account_id != bin.owner_id:  # another account's key on a public bin
            assert bin.owner_id is not None  # authorize_bin refuses a bin with no owner
            owner = storage.accounts.get(bin.owner_id)
            auth.require_open(owner)
        account = auth.charge(storage, account_id, storage.settings, shown=caller is not None)
        self._opened = OpenedBin(bin, caller, account, self.found.version, owner)


class MasterChecks(Checks):
    """The steps of a route that takes only the master key: who is calling, read with what the
    route names (``wanted``) in one round trip, and the charge. The route adds its ID, resource
    and header checks (``add``)."""

    def __init__(self, storage: Storage, credentials: Credentials, wanted: Wanted = NOTHING):
        super().__init__()
        self.storage, self.credentials, self.wanted = storage, credentials, wanted
        self.found: Found = Found()
        self._caller: KeyRecord | None = None
        self._account: Account | None = None

    @property
    def caller(self) -> KeyRecord:
        assert self._caller is not None  # set by the key step
        return self._caller

    @property
    def account(self) -> Account:
        assert self._account is not None  # set by the allowance step
        return self._account

    def check_key(self) -> None:
        self._caller, self.found = open_master(self.storage, self.credentials, self.wanted)

    def check_allowance(self) -> None:
        self._account = auth.charge(self.storage, self.caller.account_id, self.storage.settings)


def open_master(storage: Storage, credentials: Credentials, wanted: Wanted = NOTHING):
    """Routes that take only the master key: who is calling, and what else the route reads,
    in one round trip. The route then checks existence and ownership, then charges."""
    if credentials.master_key is None:
        raise NotAuthenticated(auth.MASTER_REQUIRED)
    found: Found = storage.read(
        Wanted(
            key_hashes=auth.key_hashes(credentials),
            bin_id=wanted.bin_id,
            collection_id=wanted.collection_id,
            schema_doc_id=wanted.schema_doc_id,
            access_key_id=wanted.access_key_id,
        )
    )
    caller = auth.identify(credentials, found.keys)
    assert caller is not None  # a master key was sent, and identify refuses unknown keys
    return caller, found
