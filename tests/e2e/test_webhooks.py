"""Webhooks as a user runs them against openbin serve (docs/API.md §11): a receiver that is down
for a while (500s, then a timeout, then up) gets every event, none lost, a duplicate only under
the same webhook-id; a receiver that hangs never slows a write; and in AWS's mode
(OPENBIN_WEBHOOK_ALLOW_PRIVATE=0) no delivery reaches a private or metadata address."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from tests.handler.test_webhook_sending import Receiver
from tests.support import HttpApi, ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """A server whose retries come a second apart (the schedule is a setting)."""
    env = {"OPENBIN_WEBHOOK_SCHEDULE": "1,1,1,1,1,1,1,1,1,1"}
    server = ServerProcess(tmp_path_factory.mktemp("hooks"), env=env).start()
    yield HttpApi(server)
    server.stop()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def wait(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_receiver_down_for_a_while_gets_every_event_once_up(fast, receiver):
    owner = fast.account()
    key = {"X-Master-Key": owner.key}
    secret = fast.request("PUT", "/v3/w", {**key, **JSON}, {"url": receiver.url}).json()["secret"]
    receiver.status = 500
    made = [fast.create_bin(owner, {"n": n}) for n in range(5)]
    wait(lambda: len(receiver.got) >= 10)  # each tried twice, refused
    receiver.status, receiver.pause = 200, 11.0  # then an answer too late (10 s)
    wait(lambda: len(receiver.got) >= 11)
    receiver.pause = 0.0  # then up
    delivered = lambda: {  # noqa: E731
        h["webhook-id"] for _, h, _ in receiver.got if receiver.answered.get(h["webhook-id"])
    }
    wait(lambda: len(delivered()) == 5, seconds=90)
    by_id: dict[str, set[bytes]] = {}
    for _, headers, body in receiver.got:
        Webhook(secret).verify(body, headers, json_parse=False)
        by_id.setdefault(headers["webhook-id"], set()).add(body)
    assert len(by_id) == 5  # duplicates share their webhook-id, and their body
    assert all(len(bodies) == 1 for bodies in by_id.values())
    assert sorted(json.loads(next(iter(b)))["id"] for b in by_id.values()) == sorted(made)
    listed = fast.get("/v3/w/deliveries", key).json()
    assert {d["state"] for d in listed} == {"delivered"}
    assert all(d["attempts"] >= 3 for d in listed)


def test_a_hanging_receiver_never_slows_a_write(fast, receiver):
    owner = fast.account()
    key = {"X-Master-Key": owner.key}
    fast.request("PUT", "/v3/w", {**key, **JSON}, {"url": receiver.url})
    receiver.pause = 8.0
    started = time.monotonic()
    for n in range(10):
        fast.create_bin(owner, {"n": n})
    took = time.monotonic() - started
    wait(lambda: len(receiver.got) >= 1, seconds=10)
    assert receiver.got  # deliveries started meanwhile...
    assert took < receiver.pause  # ...and no write waited for the receiver


def test_in_awss_mode_no_delivery_reaches_a_private_address(tmp_path, receiver):
    env = {"OPENBIN_WEBHOOK_ALLOW_PRIVATE": "0", "OPENBIN_WEBHOOK_SCHEDULE": "1"}
    server = ServerProcess(tmp_path / "aws-mode", env=env).start()
    try:
        api = HttpApi(server)
        owner = api.account()
        key = {"X-Master-Key": owner.key, **JSON}
        plain = api.request("PUT", "/v3/w", key, {"url": receiver.url})
        assert (plain.status, plain.message) == (
            400,
            "Invalid webhook URL: the URL must be https",
        )
        port = receiver.url.split(":")[2].split("/")[0]
        for url in (
            f"https://127.0.0.1:{port}/hook",
            f"https://localhost:{port}/hook",  # a name that resolves to loopback
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00:ec2::254]/",
            "https://10.0.0.1/",
        ):
            assert api.request("PUT", "/v3/w", key, {"url": url}).status == 200
            api.create_bin(owner, {"to": url})
        listed: list = []

        def all_dead() -> bool:
            listed[:] = api.get("/v3/w/deliveries", {"X-Master-Key": owner.key}).json()
            return len(listed) == 5 and all(d["state"] == "dead" for d in listed)

        wait(all_dead, seconds=30)
        assert len(listed) == 5
        assert all(d["lastError"].startswith("refused: ") for d in listed), listed
        assert all(d["attempts"] == 0 for d in listed)
        assert receiver.got == []
    finally:
        server.stop()


def test_deliveries_pending_when_the_server_stops_are_sent_once_it_is_back(tmp_path, receiver):
    env = {"OPENBIN_WEBHOOK_SCHEDULE": "1,1,1,1,1,1,1,1,1,1"}
    data = tmp_path / "restarted"
    server = ServerProcess(data, env=env).start()
    try:
        api = HttpApi(server)
        owner = api.account()
        key = {"X-Master-Key": owner.key, **JSON}
        assert api.request("PUT", "/v3/w", key, {"url": receiver.url}).status == 200
        receiver.status = 500
        made = {api.create_bin(owner, {"n": n}) for n in range(3)}
        wait(lambda: len(receiver.got) >= 3)
    finally:
        server.stop()
    receiver.status = 200
    server = ServerProcess(data, env=env).start()
    try:
        wait(lambda: len(receiver.answered) == 3)
        ids = {
            json.loads(body)["id"]
            for _, headers, body in receiver.got
            if receiver.answered.get(headers["webhook-id"])
        }
        assert ids == made
    finally:
        server.stop()


def test_one_accounts_hanging_receiver_does_not_hold_up_anothers(fast, receiver):
    hanging = Receiver()
    try:
        hanging.pause = 8.0
        slow, quick = fast.account(), fast.account()
        for owner, to in ((slow, hanging), (quick, receiver)):
            headers = {"X-Master-Key": owner.key, **JSON}
            assert fast.request("PUT", "/v3/w", headers, {"url": to.url}).status == 200
        for n in range(3):
            fast.create_bin(slow, {"n": n})
        wait(lambda: len(hanging.got) >= 3, seconds=10)  # all three sends in flight at once
        started = time.monotonic()
        made = fast.create_bin(quick, {"quick": True})
        wait(lambda: len(receiver.got) >= 1, seconds=10)
        assert receiver.got and json.loads(receiver.got[0][2])["id"] == made
        assert time.monotonic() - started < hanging.pause  # not behind the hanging sends
    finally:
        hanging.close()
