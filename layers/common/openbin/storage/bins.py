"""Bins and their history.

The bin item holds the metadata and the *latest* record; the versions table holds the earlier
ones, keyed (binId, version). Reading the latest record is one GetItem whatever the history
length; reading version k asks for the bin and (binId, k) in the same BatchGetItem. A versioned
update moves the latest record into the versions table and writes the new one into the bin item
in one transaction, conditioned on the bin's revision, so concurrent writers never lose one.
"""

from __future__ import annotations

from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from openbin.models import (
    UNCATEGORIZED,
    Bin,
    BinSummary,
    ListingCursor,
    RecordRef,
    RememberedCreate,
    Version,
)
from openbin.observability import logger
from openbin.storage.dynamo import (
    b,
    cancellation_codes,
    flag,
    get_n,
    is_condition_failure,
    is_transaction_conflict,
    n,
    opt_s,
    query_all,
    s,
    write,
)
from openbin.storage.idempotency import AlreadyCreated, IdempotencyRepository

# The index a collection's bins are listed from: "<ownerId>#<collectionId or uncategorized>",
# sorted by creation time then ID (template.yaml, BinsTable).
LISTING_INDEX = "ByOwnerCollectionCreated"


def owner_collection(owner_id: str, collection_id: str | None) -> str:
    """The listing index's partition: one per (account, collection or uncategorized)."""
    return f"{owner_id}#{collection_id or UNCATEGORIZED}"


class RevisionConflict(Exception):
    """Another writer changed the bin first; retry on its new state. ``codes`` says why
    DynamoDB refused each item of the transaction; ``current`` is the bin as the winner left it
    (returned with the refusal, so no read is needed), or None when it is not known."""

    def __init__(self, codes: list[str] | None = None, current: Bin | None = None) -> None:
        super().__init__("revision conflict")
        self.codes = codes or []
        self.current = current


class AccountChanged(Exception):
    """A create that charged the account in its own transaction was refused because the
    account is no longer as it was read (allowance used up, blocked, plan changed): nothing was
    written or charged; charge it on its own to learn why."""


class Charge(msgspec.Struct, frozen=True):
    """Charge one request in the bin's own transaction, if the account is still on ``plan``,
    not blocked and has a request left."""

    plan: str


CHARGE_CONDITION = "requestsRemaining >= :one AND blocked = :no AND #plan = :plan"


class StoredVersion(msgspec.Struct):
    """A history item as listed for cleanup: its number, token and record location."""

    version: int
    token: str
    record: RecordRef


def _record_attrs(ref: RecordRef) -> dict:
    attrs = {"size": n(ref.size)}
    if ref.inline is not None:
        attrs["rec"] = b(ref.inline)
    else:
        assert ref.s3_key is not None, "a record is inline or an object"
        attrs["s3Key"] = s(ref.s3_key)
    return attrs


def _record_from(item: dict) -> RecordRef:
    rec = item.get("rec")
    return RecordRef(
        size=get_n(item, "size"),
        inline=bytes(rec["B"]) if rec else None,
        s3_key=opt_s(item, "s3Key"),
    )


class BinRepository:
    def __init__(
        self,
        client,
        table: str,
        versions_table: str,
        accounts_table: str,
        idempotency: IdempotencyRepository | None = None,
    ) -> None:
        self._db = client
        self.table = table
        self.versions_table = versions_table
        self.accounts_table = accounts_table
        self.idempotency = idempotency  # where an idempotent create takes its key

    @staticmethod
    def key(bin_id: str) -> dict:
        return {"binId": s(bin_id)}

    @staticmethod
    def version_key(bin_id: str, version: int) -> dict:
        return {"binId": s(bin_id), "version": n(version)}

    @staticmethod
    def from_item(item: dict) -> Bin:
        return Bin(
            bin_id=item["binId"]["S"],
            owner_id=opt_s(item, "ownerId"),
            private=item["private"]["BOOL"],
            created_at=item["createdAt"]["S"],
            latest_version=get_n(item, "latestVersion"),
            record=_record_from(item),
            revision=item["rev"]["S"],
            name=opt_s(item, "name"),
            collection_id=opt_s(item, "collectionId"),
        )

    @staticmethod
    def version_from_item(item: dict) -> Version:
        return Version(
            bin_id=item["binId"]["S"],
            version=int(item["version"]["N"]),
            record=_record_from(item),
            created_at=item["createdAt"]["S"],
            token=opt_s(item, "tok") or "",
        )

    def _bin_item(self, bin: Bin) -> dict:
        item = {
            "binId": s(bin.bin_id),
            "private": flag(bin.private),
            "createdAt": s(bin.created_at),
            "latestVersion": n(bin.latest_version),
            "rev": s(bin.revision),
            **_record_attrs(bin.record),
        }
        if bin.owner_id:
            item["ownerId"] = s(bin.owner_id)
            item["ownerCollection"] = s(owner_collection(bin.owner_id, bin.collection_id))
        if bin.name is not None:
            item["name"] = s(bin.name)
        if bin.collection_id:
            item["collectionId"] = s(bin.collection_id)
        return item

    def _usage(
        self, owner_id: str | None, bins: int = 0, stored: int = 0, charge: Charge | None = None
    ) -> list[dict]:
        """The owner's usage counters change in the same transaction as the bin, so they stay
        exact without ever scanning an account's bins; with ``charge``, the request is charged
        in the same item's update, if the account is still as it was read."""
        if not owner_id or (bins == 0 and stored == 0 and charge is None):
            return []
        update: dict[str, Any] = {
            "TableName": self.accounts_table,
            "Key": {"accountId": s(owner_id)},
            "UpdateExpression": "ADD bins :bins, storedBytes :stored",
            "ExpressionAttributeValues": {":bins": n(bins), ":stored": n(stored)},
        }
        if charge is not None:
            update["UpdateExpression"] = (
                "SET requestsRemaining = requestsRemaining - :one " + update["UpdateExpression"]
            )
            update["ConditionExpression"] = CHARGE_CONDITION
            update["ExpressionAttributeNames"] = {"#plan": "plan"}
            update["ExpressionAttributeValues"].update(
                {":one": n(1), ":no": flag(False), ":plan": s(charge.plan)}
            )
        return [{"Update": update}]

    def _charged_transact(self, items: list[dict], charge: Charge | None) -> None:
        """``_transact``, telling a refused charge (AccountChanged: nothing happened) from a
        bin that changed (RevisionConflict). The bin's check is the first item, the account's
        update the last."""
        try:
            self._transact(items)
        except RevisionConflict as conflict:
            codes = conflict.codes
            if (
                charge is not None
                and codes[-1:] == ["ConditionalCheckFailed"]
                and codes[:1] != ["ConditionalCheckFailed"]
            ):
                raise AccountChanged() from None
            raise

    def _transact(self, items: list[dict]) -> None:
        """A bin change and its usage counters, as one transaction. A collision with another
        transaction on the same items is sent again; a refused condition (the bin changed
        since it was read) is a RevisionConflict for the caller to re-read and retry."""
        try:
            write(self._db.transact_write_items, TransactItems=items)
        except ClientError as error:
            if is_transaction_conflict(error):
                raise RevisionConflict(cancellation_codes(error), self._current(error)) from None
            raise

    def _current(self, error: ClientError) -> Bin | None:
        """The bin item a refused revision check returned (ReturnValuesOnConditionCheckFailure)."""
        for reason in error.response.get("CancellationReasons", []):
            item = reason.get("Item")
            if item and "binId" in item and "rev" in item:
                return self.from_item(item)
        return None

    def _bin_update(self, bin_id: str, expression: str, values: dict) -> dict:
        """The transaction item that changes a bin, if its revision is still ``:old``."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(bin_id),
                "UpdateExpression": expression,
                "ConditionExpression": "rev = :old",
                "ExpressionAttributeNames": {"#size": "size"},
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    @staticmethod
    def _record_update(new: RecordRef, expression: str, values: dict) -> tuple[str, dict]:
        if new.inline is not None:
            return expression + ", rec = :rec REMOVE s3Key", {**values, ":rec": b(new.inline)}
        assert new.s3_key is not None, "a record is inline or an object"
        return expression + ", s3Key = :s3 REMOVE rec", {**values, ":s3": s(new.s3_key)}

    def create(
        self, bin: Bin, charge: Charge | None = None, remembered: RememberedCreate | None = None
    ) -> None:
        """Put a new bin and count it in its owner's usage; with ``charge``, the request is
        charged in the same transaction (or AccountChanged, and nothing happened); with
        ``remembered``, the create takes its Idempotency-Key in the same transaction (or
        AlreadyCreated, and nothing happened)."""
        usage = self._usage(bin.owner_id, bins=1, stored=bin.record.size, charge=charge)
        put = {
            "Put": {
                "TableName": self.table,
                "Item": self._bin_item(bin),
                "ConditionExpression": "attribute_not_exists(binId)",
            }
        }
        items = [put, *usage]
        if remembered is not None:
            assert self.idempotency is not None, "the idempotency table is configured"
            items.append(self.idempotency.put_item(remembered))
        try:
            self._transact(items)
        except RevisionConflict as conflict:
            refused = conflict.codes
            if remembered is not None and refused[len(items) - 1 :] == ["ConditionalCheckFailed"]:
                raise AlreadyCreated() from None  # checked first: a replay is never charged
            if charge is not None and refused[1:2] == ["ConditionalCheckFailed"]:
                raise AccountChanged() from None
            raise

    def create_with_history(self, bin: Bin, history: list[Version]) -> None:
        """A bin brought in whole (``openbin import``): its history items first (nothing names
        them until the bin exists: the caller has checked that it does not), then the bin and
        its owner's usage, every record's bytes counted, in one transaction conditional on the
        bin's absence (RevisionConflict: it exists, and is left as it was)."""
        for start in range(0, len(history), 25):
            pending = {
                self.versions_table: [
                    {
                        "PutRequest": {
                            "Item": {
                                **self.version_key(v.bin_id, v.version),
                                "createdAt": s(v.created_at),
                                "tok": s(v.token),
                                **_record_attrs(v.record),
                            }
                        }
                    }
                    for v in history[start : start + 25]
                ]
            }
            while pending:
                answer = write(self._db.batch_write_item, RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
        stored = bin.record.size + sum(v.record.size for v in history)
        self._transact(
            [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": self._bin_item(bin),
                        "ConditionExpression": "attribute_not_exists(binId)",
                    }
                },
                *self._usage(bin.owner_id, bins=1, stored=stored),
            ]
        )

    def get(self, bin_id: str) -> Bin | None:
        item = self._db.get_item(
            TableName=self.table, Key=self.key(bin_id), ConsistentRead=True
        ).get("Item")
        return self.from_item(item) if item else None

    def get_version(self, bin_id: str, version: int) -> Version | None:
        item = self._db.get_item(
            TableName=self.versions_table,
            Key=self.version_key(bin_id, version),
            ConsistentRead=True,
        ).get("Item")
        return self.version_from_item(item) if item else None

    def versions_between(self, bin_id: str, low: int, high: int) -> list[Version]:
        """The history items numbered low..high (both included), newest first: one Query."""
        if high < low:
            return []
        items = self._db.query(
            TableName=self.versions_table,
            KeyConditionExpression="binId = :id AND version BETWEEN :low AND :high",
            ExpressionAttributeValues={":id": s(bin_id), ":low": n(low), ":high": n(high)},
            ScanIndexForward=False,
            ConsistentRead=True,
        ).get("Items", [])
        return [self.version_from_item(item) for item in items]

    def append_version(
        self, bin: Bin, new: RecordRef, now: str, revision: str, charge: Charge | None = None
    ) -> int:
        """Keep the current latest as version ``latest_version`` and make ``new`` the latest
        (with ``charge``: charging the owner's account in the same transaction, or
        AccountChanged)."""
        old = bin.latest_version
        expression, values = self._record_update(
            new,
            "SET latestVersion = :next, rev = :rev, #size = :size",
            {
                ":next": n(old + 1),
                ":rev": s(revision),
                ":old": s(bin.revision),
                ":size": n(new.size),
            },
        )
        # The bin's revision check first: a writer that lost the race is refused before
        # anything else is looked at (cheaper in the emulator; the same on AWS).
        self._charged_transact(
            [
                self._bin_update(bin.bin_id, expression, values),
                {
                    "Put": {
                        "TableName": self.versions_table,
                        "Item": {
                            **self.version_key(bin.bin_id, old),
                            "createdAt": s(now),
                            "tok": s(revision),
                            **_record_attrs(bin.record),
                        },
                        # no condition: the bin's revision check already serialises writers,
                        # and a leftover item from an interrupted cleanup must be replaced,
                        # not block every later version
                    }
                },
                *self._usage(bin.owner_id, stored=new.size, charge=charge),
            ],
            charge,
        )
        return old + 1

    def replace_latest(
        self, bin: Bin, new: RecordRef, revision: str, charge: Charge | None = None
    ) -> None:
        """Overwrite the latest record in place (an unversioned update; ``charge`` as for
        ``append_version``)."""
        self._replace(bin, new, revision, latest_version=None, freed=bin.record.size, charge=charge)

    def reset_history(self, bin: Bin, latest: RecordRef, revision: str, freed: int) -> None:
        """Make ``latest`` version 0 with no history after it (``freed``: the bytes of the
        records this drops; their items and objects are deleted after)."""
        self._replace(bin, latest, revision, latest_version=0, freed=freed)

    def _replace(
        self,
        bin: Bin,
        new: RecordRef,
        revision: str,
        latest_version: int | None,
        freed: int,
        charge: Charge | None = None,
    ) -> None:
        expression = "SET rev = :rev, #size = :size"
        values = {":rev": s(revision), ":old": s(bin.revision), ":size": n(new.size)}
        if latest_version is not None:
            expression = "SET latestVersion = :latest, rev = :rev, #size = :size"
            values[":latest"] = n(latest_version)
        expression, values = self._record_update(new, expression, values)
        grown = (new.size if latest_version is None else 0) - freed
        self._charged_transact(
            [
                self._bin_update(bin.bin_id, expression, values),
                *self._usage(bin.owner_id, stored=grown, charge=charge),
            ],
            charge,
        )

    def referenced_objects(self) -> set[str]:
        """The S3 key of every record a bin or a version names (two scans: an operator's
        sweep of orphaned objects, never a request's)."""
        keys: set[str] = set()
        for table in (self.table, self.versions_table):
            for page in self._db.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression="s3Key", ConsistentRead=True
            ):
                keys.update(item["s3Key"]["S"] for item in page["Items"] if "s3Key" in item)
        return keys

    # -- whole-history operations ----------------------------------------------------------------
    def list_versions(self, bin_id: str) -> list[StoredVersion]:
        items = query_all(
            self._db,
            TableName=self.versions_table,
            KeyConditionExpression="binId = :id",
            ExpressionAttributeValues={":id": s(bin_id)},
            ConsistentRead=True,
        )
        return [
            StoredVersion(int(item["version"]["N"]), opt_s(item, "tok") or "", _record_from(item))
            for item in items
        ]

    def delete_bin(self, bin: Bin, history_bytes: int, charge: Charge | None = None) -> None:
        """Remove the bin item, provided nobody changed it since it was read (every change of
        its history changes its revision, so ``history_bytes`` is still exact); ``charge`` as
        for ``append_version``."""
        self._charged_transact(
            [
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": self.key(bin.bin_id),
                        "ConditionExpression": "rev = :rev",
                        "ExpressionAttributeValues": {":rev": s(bin.revision)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                *self._usage(
                    bin.owner_id,
                    bins=-1,
                    stored=-(bin.record.size + history_bytes),
                    charge=charge,
                ),
            ],
            charge,
        )

    def delete_versions(self, bin_id: str, versions: list[StoredVersion]) -> bool:
        """Delete these history items, each only if it is still the item that was listed (a
        version written since, under the same number, is left alone).

        Runs after the change that made them unreachable has committed, so a storage failure
        is logged and reported as False, never raised: a leftover item is unreachable, and the
        next version written under its number replaces it."""
        try:
            self._delete_versions(bin_id, versions)
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "unreachable history items left behind",
                extra={"items": len(versions), "error": type(error).__name__},
            )
            return False
        return True

    def _delete_versions(self, bin_id: str, versions: list[StoredVersion]) -> None:
        for start in range(0, len(versions), 100):
            chunk = versions[start : start + 100]
            try:
                self._db.transact_write_items(
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": self.versions_table,
                                "Key": self.version_key(bin_id, v.version),
                                "ConditionExpression": "attribute_not_exists(tok) OR tok = :tok",
                                "ExpressionAttributeValues": {":tok": s(v.token)},
                            }
                        }
                        for v in chunk
                    ]
                )
            except ClientError as error:
                if not is_transaction_conflict(error):
                    raise
                for v in chunk:  # some item changed: delete the others one by one
                    try:
                        self._db.delete_item(
                            TableName=self.versions_table,
                            Key=self.version_key(bin_id, v.version),
                            ConditionExpression="attribute_not_exists(tok) OR tok = :tok",
                            ExpressionAttributeValues={":tok": s(v.token)},
                        )
                    except ClientError as inner:
                        if not is_condition_failure(inner):
                            raise

    def rename(self, bin_id: str, name: str) -> bool:
        """False when the bin is gone."""
        return self._set(bin_id, "name", s(name))

    def set_private(self, bin_id: str, private: bool) -> bool:
        """False when the bin is gone."""
        return self._set(bin_id, "private", flag(private))

    def _set(self, bin_id: str, name: str, value: dict) -> bool:
        """One attribute of the bin (its name, its privacy); a collision with a write of the bin
        in flight is sent again (``write``: nothing was applied)."""
        try:
            write(
                self._db.update_item,
                TableName=self.table,
                Key=self.key(bin_id),
                UpdateExpression="SET #attr = :value",
                ConditionExpression="attribute_exists(binId)",
                ExpressionAttributeNames={"#attr": name},
                ExpressionAttributeValues={":value": value},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def move_to_collection(self, bin: Bin, collection_id: str) -> None:
        assert bin.owner_id is not None, "only an owned bin is in a collection"
        write(  # sent again after a collision with a write of the bin in flight
            self._db.update_item,
            TableName=self.table,
            Key=self.key(bin.bin_id),
            UpdateExpression="SET collectionId = :cid, ownerCollection = :oc",
            ConditionExpression="attribute_exists(binId)",
            ExpressionAttributeValues={
                ":cid": s(collection_id),
                ":oc": s(owner_collection(bin.owner_id, collection_id)),
            },
        )

    def page(
        self,
        owner_id: str,
        collection_id: str | None,
        after: ListingCursor | None,
        ascending: bool,
        limit: int = 10,
    ) -> list[BinSummary]:
        """One page of an account's bins in a collection (or uncategorized), in creation order
        (``createdAt``, then ID), after the cursor: a single Query."""
        partition = owner_collection(owner_id, collection_id)
        kwargs = {
            "TableName": self.table,
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": "ownerCollection = :oc",
            "ExpressionAttributeValues": {":oc": s(partition)},
            "ScanIndexForward": ascending,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {
                "ownerCollection": s(partition),
                "createdAt": s(after.created_at),
                "binId": s(after.bin_id),
            }
        items = self._db.query(**kwargs).get("Items", [])
        return [
            BinSummary(
                bin_id=item["binId"]["S"],
                private=item["private"]["BOOL"],
                created_at=item["createdAt"]["S"],
                name=opt_s(item, "name"),
            )
            for item in items
        ]
