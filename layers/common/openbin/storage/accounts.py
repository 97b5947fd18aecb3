from __future__ import annotations

from botocore.exceptions import ClientError

from openbin.models import Account
from openbin.storage.dynamo import (
    flag,
    get_bool,
    get_n,
    is_condition_failure,
    n,
    s,
    update_existing,
    write,
)


class ChargeRefused(Exception):
    """The account could not be charged one request; ``account`` is its state (None: missing)."""

    def __init__(self, account: Account | None) -> None:
        super().__init__("charge refused")
        self.account = account


CHARGEABLE = "attribute_exists(accountId) AND requestsRemaining >= :one AND blocked = :no"


class AccountRepository:
    def __init__(self, client, table: str, once_client=None) -> None:
        """``once_client``: a client that never retries (see charge()), or a function that
        makes it, called on the first charge (a request charged in its write's transaction
        never needs it: one client less to make on a cold start)."""
        self._db = client
        self._once_client = once_client or client
        self.table = table

    @property
    def _once(self):
        if callable(self._once_client) and not hasattr(self._once_client, "meta"):
            self._once_client = self._once_client()
        return self._once_client

    @staticmethod
    def key(account_id: str) -> dict:
        return {"accountId": s(account_id)}

    @staticmethod
    def from_item(item: dict) -> Account:
        return Account(
            account_id=item["accountId"]["S"],
            plan=item["plan"]["S"],
            requests_remaining=get_n(item, "requestsRemaining"),
            created_at=item["createdAt"]["S"],
            blocked=get_bool(item, "blocked"),
            bins=get_n(item, "bins"),
            stored_bytes=get_n(item, "storedBytes"),
            access_keys=get_n(item, "accessKeys"),
        )

    def create(self, account: Account) -> None:
        self._db.put_item(
            TableName=self.table,
            Item={
                "accountId": s(account.account_id),
                "plan": s(account.plan),
                "requestsRemaining": n(account.requests_remaining),
                "createdAt": s(account.created_at),
                "blocked": flag(account.blocked),
            },
            ConditionExpression="attribute_not_exists(accountId)",
        )

    def get(self, account_id: str) -> Account | None:
        item = self._db.get_item(
            TableName=self.table, Key=self.key(account_id), ConsistentRead=True
        ).get("Item")
        return self.from_item(item) if item else None

    def charge(self, account_id: str) -> Account:
        """Take one request from the allowance: atomic, so N concurrent charges on an
        allowance of K succeed exactly K times.

        A decrement is not idempotent, so it is never re-sent after an answer that leaves its
        fate unknown (a timeout, a 5xx): that request fails with a 503 and is charged at most
        once. Throttling or a collision with a transaction means nothing was applied, so those
        are retried here with a backoff."""
        try:
            item = write(
                self._once.update_item,
                TableName=self.table,
                Key=self.key(account_id),
                UpdateExpression="SET requestsRemaining = requestsRemaining - :one",
                ConditionExpression=CHARGEABLE,
                ExpressionAttributeValues={":one": n(1), ":no": flag(False)},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            old = error.response.get("Item")
            raise ChargeRefused(self.from_item(old) if old else None) from None
        return self.from_item(item)

    def _update(
        self, account_id: str, expression: str, values: dict, names: dict | None = None
    ) -> Account | None:
        item = update_existing(
            self._db, self.table, self.key(account_id), expression, values, names
        )
        return self.from_item(item) if item else None

    def set_plan(self, account_id: str, plan: str) -> Account | None:
        return self._update(account_id, "SET #plan = :plan", {":plan": s(plan)}, {"#plan": "plan"})

    def add_requests(self, account_id: str, count: int) -> Account | None:
        return self._update(
            account_id, "SET requestsRemaining = requestsRemaining + :count", {":count": n(count)}
        )

    def set_blocked(self, account_id: str, blocked: bool) -> Account | None:
        return self._update(account_id, "SET blocked = :blocked", {":blocked": flag(blocked)})
