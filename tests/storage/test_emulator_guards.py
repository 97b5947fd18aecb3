"""Guards on the emulator's use of moto internals (see ``openbin_local.emulator.PATCHED_FOR``):
the version they were checked against, each patch in place, and the item reader the journal
uses, which reads moto's tables directly, agreeing with what the API returns for the same items."""

from __future__ import annotations

import base64
import inspect

import pytest
from moto.core import responses as moto_responses
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models import DynamoDBBackend

from openbin_local import emulator
from openbin_local.emulator import _table_items
from tests.unit.test_third_party_guards import check_version


def test_moto_patches_are_for_this_version_and_installed():
    check_version(emulator.PATCHED_FOR)
    assert BotocoreStubber.process_request is emulator._serialised_process_request
    assert DynamoDBBackend.transact_write_items.__module__ == "openbin_local.moto_speed"
    assert hasattr(DynamoDBBackend.transact_write_items, "__wrapped__")
    assert hasattr(moto_responses.method_names_from_class, "cache_info")
    from moto.dynamodb import models

    assert models.copy.__name__ == "copy"  # moto's module still copies through this name
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    assert hasattr(UpdateExpressionParser.make, "__wrapped__")
    assert validators.deepcopy.__module__ == "openbin_local.moto_speed"
    assert "UpdateExpressionParser.make(" in inspect.getsource(models.DynamoDBBackend.update_item)
    assert "deepcopy(expression)" in inspect.getsource(validators.Validator.__init__)
    from moto.core import serialize

    assert hasattr(serialize.AttributePicker.__call__, "__wrapped__")
    source = inspect.getsource(serialize.AttributePicker.__call__.__wrapped__)
    assert "self.get_possible_keys(context)" in source and "response_transformers" in source
    get_value = serialize.ResponseSerializer.get_value
    assert "self._value_picker(context)" in inspect.getsource(get_value.__wrapped__)
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression
    assert "self.condition_expression" in inspect.getsource(lex.__wrapped__)
    assert "_lex_condition_expression()" in inspect.getsource(ConditionExpressionParser.parse)
    from moto.dynamodb.models.table import Table

    query = inspect.getsource(Table.query.__wrapped__)
    assert query.count("for item in self.all_items()") == 2, "moto's Query reads the table anew"
    assert "index_name" in inspect.signature(Table.query.__wrapped__).parameters


def test_a_kept_update_expression_gives_each_call_its_own_tree(aws):
    """The parse cache hands out fresh trees: one expression on items in different states
    (a missing attribute, then a present one), and a bad expression refused every time."""
    from botocore.exceptions import ClientError

    table = aws.names["AccountsTable"]
    expression = "SET hits = if_not_exists(hits, :zero) + :one ADD seen :one"
    values = {":zero": {"N": "0"}, ":one": {"N": "1"}}
    for account, times in (("guard-a", 3), ("guard-b", 1)):
        for _ in range(times):
            aws.db.update_item(
                TableName=table,
                Key={"accountId": {"S": account}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
            )
    got = {
        account: aws.db.get_item(TableName=table, Key={"accountId": {"S": account}})["Item"]
        for account in ("guard-a", "guard-b")
    }
    assert (got["guard-a"]["hits"], got["guard-a"]["seen"]) == ({"N": "3"}, {"N": "3"})
    assert (got["guard-b"]["hits"], got["guard-b"]["seen"]) == ({"N": "1"}, {"N": "1"})
    for _ in range(2):
        with pytest.raises(ClientError, match="ValidationException"):
            aws.db.update_item(
                TableName=table,
                Key={"accountId": {"S": "guard-a"}},
                UpdateExpression="SET = :one",
                ExpressionAttributeValues=values,
            )


def encoded(value: dict) -> dict:
    """A Scan's attribute value with binary values as base64 text, as the journal writes it."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(x)).decode() for x in inner]}
    if kind == "M":
        return {"M": {k: encoded(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [encoded(v) for v in inner]}
    return value


def scan(db, table: str) -> list[dict]:
    items, kwargs = [], {"TableName": table}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.fresh_world  # compares whole tables
def test_the_journal_reads_from_moto_what_a_scan_returns(aws, handler_api):
    """Every attribute type the app stores (and the others DynamoDB has), inline binary
    records included: each table as the journal reads it equals a Scan, encoded the same way."""
    account = handler_api.account("pro")
    bin_id = handler_api.create_bin(account, {"a": [1, 2.5, None, True], "b": {"c": "ü"}})
    handler_api.create_bin(account, {"once": True}, Idempotency_Key="guards-1")
    headers = {"X-Master-Key": account.key, "X-Bin-Versioning": "true"}
    handler_api.request("PUT", f"/v3/b/{bin_id}", headers, {"v": 2})
    handler_api.request("POST", "/v3/a", {"X-Master-Key": account.key, "X-Key-Name": "k"}, {})
    handler_api.op("collection.create", account_id=account.account_id, name="c", schema="{}")
    hook = {"X-Master-Key": account.key, "Content-Type": "application/json"}
    handler_api.request("PUT", "/v3/w", hook, {"url": "https://hooks.example.com/"})
    from openbin.models import Delivery
    from openbin.storage import get_storage

    delivery = Delivery(account.account_id, "0" * 24, "create", bin_id, "now", "pending", 0, 1)
    get_storage().webhooks.add_delivery(delivery, b'{"data": {}}')
    table = aws.names["BinsTable"]
    aws.db.put_item(
        TableName=table,
        Item={
            "binId": {"S": "every-type"},
            "n": {"N": "12.50"},
            "bin": {"B": b"\x00\xff"},
            "flag": {"BOOL": False},
            "nothing": {"NULL": True},
            "ss": {"SS": ["x", "y"]},
            "ns": {"NS": ["1", "2"]},
            "bs": {"BS": [b"\x01", b"\x02"]},
            "list": {"L": [{"S": "s"}, {"B": b"\x03"}, {"M": {"k": {"N": "1"}}}]},
            "map": {"M": {"inner": {"L": [{"BOOL": True}]}, "b": {"B": b"\x04"}}},
        },
    )

    def canonical(items):
        def order(value):
            ((kind, inner),) = value.items()
            if kind in ("SS", "NS", "BS"):
                return {kind: sorted(inner)}
            if kind == "M":
                return {"M": {k: order(v) for k, v in inner.items()}}
            if kind == "L":
                return {"L": [order(v) for v in inner]}
            return value

        rows = [{k: order(v) for k, v in item.items()} for item in items]
        return sorted(rows, key=repr)

    for name, physical in aws.names.items():
        if name not in aws.template.tables:
            continue
        scanned = [{k: encoded(v) for k, v in item.items()} for item in scan(aws.db, physical)]
        assert scanned, name
        assert canonical(_table_items(physical)) == canonical(scanned), name
