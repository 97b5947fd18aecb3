"""Keys and record bodies never reach the logs; an unknown key and another account's key are
refused without a charge."""

from __future__ import annotations

import logging

from openbin.observability import logger
from tests.support import storage_calls

SECRET_VALUE = "sekret-record-value-4f1c"


def test_no_keys_or_bodies_in_logs(handler_api, capfd, caplog):
    caplog.set_level(logging.DEBUG, logger="openbin")
    logger.setLevel("DEBUG")
    try:
        account = handler_api.account()
        master = {"X-Master-Key": account.key}
        made = handler_api.request(
            "POST", "/v3/a", {**master, "X-Key-Name": "k"}, {"bins": {"read": True}}
        ).json()
        bin_id = handler_api.create_bin(account, {"secret": SECRET_VALUE})
        handler_api.get(f"/v3/b/{bin_id}", master)
        handler_api.get(f"/v3/b/{bin_id}", {"X-Access-Key": made["accessKey"]})
        handler_api.request("PUT", f"/v3/b/{bin_id}", master, {"secret": SECRET_VALUE + "2"})
        handler_api.get(f"/v3/b/{bin_id}", {"X-JSON-Path": "$.secret", **master})
        handler_api.post(
            "/v3/b",
            b"{bad " + SECRET_VALUE.encode(),
            {**master, "Content-Type": "application/json"},
        )
        handler_api.get(f"/v3/b/{bin_id}", {"X-Master-Key": account.key[:-1] + "x"})  # unknown key
        handler_api.request("DELETE", f"/v3/b/{bin_id}", master)
        handler_api.request("DELETE", f"/v3/a/{made['accessKeyId']}", master)
    finally:
        logger.setLevel("WARNING")
    out, err = capfd.readouterr()
    logged = (
        out
        + err
        + "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    )
    assert "request refused" in logged  # the logs were captured at all
    for secret in (account.key, made["accessKey"], SECRET_VALUE, account.key[:-1] + "x"):
        assert secret not in logged


def test_unknown_and_foreign_keys_are_refused_without_a_charge(handler_api, storage):
    """An unknown key costs one lookup. Another account's key is recognised, so its 401 says
    what that account has left (docs/API.md §7), read for this answer only; nothing is charged to
    anyone. (The two answers differ by their message anyway, as the contract prescribes.)"""
    owner, other = handler_api.account(), handler_api.account()
    bin_id = handler_api.create_bin(owner)
    unknown = {"X-Master-Key": "$2a$10$" + "Q" * 53}
    foreign = {"X-Master-Key": other.key}
    with storage_calls(storage) as calls:
        reply = handler_api.get(f"/v3/b/{bin_id}", unknown)
    assert (reply.status, reply.header("X-Requests-Remaining")) == (401, None)
    assert calls == {"BatchGetItem": 1}
    with storage_calls(storage) as calls:
        reply = handler_api.get(f"/v3/b/{bin_id}", foreign)
    assert (reply.status, reply.header("X-Requests-Remaining")) == (401, "10000")
    assert calls == {"BatchGetItem": 1, "GetItem": 1}
    assert handler_api.op("account.show", account_id=owner.account_id)["requestsRemaining"] == 9999
    assert handler_api.op("account.show", account_id=other.account_id)["requestsRemaining"] == 10000
