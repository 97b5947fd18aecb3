"""Keys and record bodies never reach the logs; an unknown key and another account's key cost
the same (nothing to measure between them)."""

from __future__ import annotations

import logging
import statistics
import time

from openbin.api import http

SECRET_VALUE = "sekret-record-value-4f1c"


def test_no_keys_or_bodies_in_logs(handler_api, capfd, caplog):
    caplog.set_level(logging.DEBUG, logger="openbin")
    http.logger.setLevel("DEBUG")
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
        http.logger.setLevel("WARNING")
    out, err = capfd.readouterr()
    logged = (
        out
        + err
        + "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    )
    assert "request refused" in logged  # the logs were captured at all
    for secret in (account.key, made["accessKey"], SECRET_VALUE, account.key[:-1] + "x"):
        assert secret not in logged


def test_unknown_key_and_foreign_key_take_the_same_time(handler_api):
    owner, other = handler_api.account(requests=100_000), handler_api.account(requests=100_000)
    bin_id = handler_api.create_bin(owner)
    unknown = {"X-Master-Key": "$2a$10$" + "Q" * 53}
    foreign = {"X-Master-Key": other.key}
    samples = {"unknown": [], "foreign": []}
    for _ in range(3):  # warm both paths
        handler_api.get(f"/v3/b/{bin_id}", unknown), handler_api.get(f"/v3/b/{bin_id}", foreign)
    for _ in range(150):  # interleaved, so drift in machine load hits both alike
        for name, headers in (("unknown", unknown), ("foreign", foreign)):
            started = time.perf_counter()
            reply = handler_api.get(f"/v3/b/{bin_id}", headers)
            samples[name].append(time.perf_counter() - started)
            assert reply.status == 401
    unknown_ms = statistics.median(samples["unknown"]) * 1000
    foreign_ms = statistics.median(samples["foreign"]) * 1000
    # the same storage calls on both paths (one BatchGetItem, no charge): within noise
    assert abs(unknown_ms - foreign_ms) < 0.25 * max(unknown_ms, foreign_ms), (
        unknown_ms,
        foreign_ms,
    )
