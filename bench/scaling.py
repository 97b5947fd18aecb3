"""Section 4, scaling: a read at 1, 100 and 1,000 versions; a listing page at 10 and 10,000 bins."""

from __future__ import annotations

import gc
import random
import time

import corpus
from harness import (
    SIZES,
    InProcess,
    log,
    median,
    no_deadline,
    quiet_gc,
    spread,
    verdict,
)

from openbin.storage.bins import LISTING_INDEX, owner_collection
from openbin_cli import ops
from tests import seed

SCALING_TARGET = 1.10


# -- 4. scaling --------------------------------------------------------------------------------
def write_history(ip: InProcess, bin_id: str, versions: int) -> None:
    """Give a bin ``versions`` versions quickly (the test suite's seeding, not counted)."""
    seed.write_history(ip.inspector, ip.storage.bins, bin_id, versions)


def add_bins(ip: InProcess, owner_id: str, collection_id: str, count: int) -> None:
    """Insert ``count`` bins into a collection quickly (the test suite's seeding)."""
    seed.add_bins(ip.inspector, ip.storage.bins, owner_id, collection_id, count)


def _compare(ip: InProcess, cases: dict[str, tuple], reps: int, warm: int = 5) -> dict:
    """Time each case's request, interleaved in a shuffled order every round. Besides each
    case's median, ``paired_ratio`` is the median over rounds of (this case / the first case)
    in the same round: load from other processes, which comes in bursts longer than a round,
    cancels out of it."""
    timer = ip.timer()
    times: dict[str, list[float]] = {name: [] for name in cases}
    own: dict[str, list[float]] = {name: [] for name in cases}
    base = next(iter(cases))
    rng = random.Random(7)
    quiet_gc()
    for round_ in range(warm + reps):
        order = list(cases)
        rng.shuffle(order)
        for name in order:
            timer.reset()
            seconds, _ = ip.handlers.request(*cases[name])
            if round_ >= warm:
                times[name].append(seconds)
                own[name].append(seconds - timer.tally.summary()["storage_seconds"])
    gc.unfreeze()
    timer.detach()
    counter = ip.counter()
    out = {}
    for name, request in cases.items():
        counter.reset()
        ip.handlers.request(*request)
        calls = counter.reset().summary()
        calls.pop("storage_seconds")
        pairs = [t / b for t, b in zip(times[name], times[base], strict=True)]
        own_pairs = [t / b for t, b in zip(own[name], own[base], strict=True)]
        out[name] = {
            **spread(times[name]),
            "own_ms": round(median(own[name]) * 1000, 3),
            "storage_calls_ms": round(
                median(t - o for t, o in zip(times[name], own[name], strict=True)) * 1000, 3
            ),
            "ratio": round(median(times[name]) / median(times[base]), 3),
            "paired_ratio": round(median(pairs), 3),
            "own_ratio": round(median(own_pairs), 3),
            "calls": calls,
        }
    counter.detach()
    return out


def bench_scaling(ip: InProcess, quick: bool) -> dict:
    account_id, key = ip.account()
    master = {"X-Master-Key": key}
    record = corpus.record("users", SIZES["1KB"], 2)
    reads = {}
    for history in (1, 100, 1000):
        bin_id = ip.handlers.create(key, record)
        write_history(ip, bin_id, history)
        reads[f"{history} versions"] = ("GET", f"/v3/b/{bin_id}", master)
    log("scaling: history written")
    versions = _compare(ip, reads, 20 if quick else 80)

    listings = {}
    for count in (10, 10_000):
        owner, owner_key = ip.account()
        no_deadline()
        made = ops.run(ip.storage, "collection.create", {"account_id": owner, "name": "bench"})
        add_bins(ip, owner, made["collectionId"], count)
        listings[f"{count} bins"] = (
            "GET",
            f"/v3/c/{made['collectionId']}/bins",
            {"X-Master-Key": owner_key},
        )
    log("scaling: 10,010 bins inserted")
    pages = _compare(ip, listings, 10 if quick else 30)

    # moto's own Query time at both sizes (it filters the whole table: not DynamoDB's cost)
    moto_query = {}
    no_deadline()
    for name, (_, path, _) in listings.items():
        collection_id = path.split("/")[3]
        collection = ip.storage.collections.get(collection_id)
        assert collection is not None
        owner = collection.owner_id
        samples = []
        for _ in range(5 if quick else 15):
            t0 = time.perf_counter()
            ip.inspector.query(
                TableName=ip.storage.bins.table,
                IndexName=LISTING_INDEX,
                KeyConditionExpression="ownerCollection = :oc",
                ExpressionAttributeValues={":oc": {"S": owner_collection(owner, collection_id)}},
                Limit=10,
            )
            samples.append(time.perf_counter() - t0)
        moto_query[name] = round(median(samples) * 1000, 3)

    def judge(results: dict, base: str) -> None:
        for row in results.values():
            row["same_calls"] = row["calls"]["operations"] == results[base]["calls"]["operations"]
            row["same_capacity"] = all(
                row["calls"][k] == results[base]["calls"][k] for k in ("rcu", "wcu", "gsi_wcu")
            )
            row["target"] = SCALING_TARGET

    judge(versions, "1 versions")
    judge(pages, "10 bins")
    for name, ms in moto_query.items():
        pages[name]["moto_bare_query_ms"] = ms
    for group in (versions, pages):
        for name, row in group.items():
            log(
                f"scaling {name}: {row['median_ms']} ms, ratio {row['ratio']} "
                f"(paired {row['paired_ratio']}), own {row['own_ms']} ms"
            )
    return {"read": versions, "list": pages}


def _judged(what: str, value: str, base: bool, ok: bool, target: str) -> tuple[str, str, str, str]:
    """A row judged against ``target``, or the base the others are compared with."""
    return (what, value, "base", "info") if base else (what, value, target, verdict(ok))


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The scaling rows of the table."""
    rows: list[tuple[str, str, str, str]] = []
    scaling = results.get("scaling", {})
    for name, r in scaling.get("read", {}).items():
        value = (
            f"{r['paired_ratio']:.2f} ({r['median_ms']:.2f} ms, ratio of medians "
            f"{r['ratio']:.2f}; {r['calls']['round_trips']} calls, RCU {r['calls']['rcu']:g})"
        )
        ok = r["paired_ratio"] <= r["target"] and r["same_calls"] and r["same_capacity"]
        target = f"<= {r['target']:.2f}, same calls"
        what = f"scaling read latest at {name}"
        rows.append(_judged(what, value, name == "1 versions", ok, target))
    for name, r in scaling.get("list", {}).items():
        # moto answers a GSI Query by filtering the whole table (O(table), not DynamoDB's
        # O(page)): the handler's own time (total minus time inside storage calls) is judged,
        # with the calls and capacity units; the raw latency is shown beside it.
        value = (
            f"own {r['own_ratio']:.2f} ({r['own_ms']:.2f} ms; {r['calls']['round_trips']} calls, "
            f"RCU {r['calls']['rcu']:g}); raw {r['paired_ratio']:.2f} ({r['median_ms']:.1f} ms, "
            f"{r['storage_calls_ms']:.1f} in moto)"
        )
        ok = r["own_ratio"] <= r["target"] and r["same_calls"] and r["same_capacity"]
        target = f"own <= {r['target']:.2f}, same calls"
        what = f"scaling list page at {name}"
        rows.append(_judged(what, value, name == "10 bins", ok, target))
    return rows
