"""LocalAWS.expire_items: ``openbin serve`` deletes what DynamoDB's Time to Live would (the
tables whose TimeToLiveSpecification is enabled: remembered Idempotency-Keys), so a data dir does
not keep expired items for ever."""

from __future__ import annotations

import secrets
import threading
import time

from openbin_local.emulator import LocalAWS


def test_expired_items_are_deleted_and_the_others_kept(world):
    local = world.local
    table = local.names["IdempotencyTable"]
    now = time.time()
    tag = secrets.token_hex(8)
    items = {
        f"{tag}-expired": now - 10,
        f"{tag}-due-now": now - 1,
        f"{tag}-alive": now + 3600,
    }
    for key, expires in items.items():
        local.db.put_item(
            TableName=table, Item={"idemKey": {"S": key}, "expiresAt": {"N": str(int(expires))}}
        )
    local.db.put_item(TableName=table, Item={"idemKey": {"S": f"{tag}-no-expiry"}})

    assert local.expire_items(now) >= 2  # other tests' expired items may go too

    def there(key: str) -> bool:
        return "Item" in local.db.get_item(TableName=table, Key={"idemKey": {"S": key}})

    assert not there(f"{tag}-expired") and not there(f"{tag}-due-now")
    assert there(f"{tag}-alive") and there(f"{tag}-no-expiry")  # TTL ignores items without it


def test_the_server_sweeps_on_its_autosave_tick(template, tmp_path):
    """Every ``expire_every`` seconds of the autosave loop, not on every save."""
    local = LocalAWS(template, tmp_path)  # not started: the loop alone, with counters
    calls = {"save": 0, "expire": 0}
    swept = threading.Event()

    def save() -> None:
        calls["save"] += 1

    def expire_items() -> int:
        calls["expire"] += 1
        if calls["expire"] == 3:
            swept.set()
        return 0

    local.save = save  # type: ignore[method-assign]
    local.expire_items = expire_items  # type: ignore[method-assign]
    local.autosave(interval=0.01, expire_every=0.1)
    try:
        assert swept.wait(10)
    finally:
        local._stop_saving.set()
    assert calls["save"] > calls["expire"] >= 3
