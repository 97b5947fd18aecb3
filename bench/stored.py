"""Section 5, stored bytes: DynamoDB item bytes (with index copies) and S3 object bytes against the
raw JSON bytes."""

from __future__ import annotations

import zlib
from collections import Counter
from typing import Any

import accounting
import corpus
from harness import (
    SIZES,
    InProcess,
    log,
    verdict,
)

STORED_TARGET = 0.35


# -- 5. stored bytes ---------------------------------------------------------------------------
def bench_stored(ip: InProcess) -> dict:
    _, key = ip.account()
    bins_table = ip.tables[ip.storage.bins.table]
    bucket = ip.storage.records._bucket
    per_size: dict[str, Counter] = {}
    for label, _kind, record in corpus.corpus():
        bin_id = ip.handlers.create(key, record)
        item = ip.inspector.get_item(
            TableName=bins_table.name, Key={"binId": {"S": bin_id}}, ConsistentRead=True
        )["Item"]
        dynamo, billed = accounting.stored_bytes(bins_table, item)
        objects = ip.inspector_s3.list_objects_v2(Bucket=bucket, Prefix=f"records/{bin_id}/")
        s3_bytes = sum(o["Size"] for o in objects.get("Contents", []))
        row = per_size.setdefault(label, Counter())
        row.update(
            records=1,
            raw=len(record),
            dynamodb=dynamo,
            dynamodb_billed=billed,
            s3=s3_bytes,
            in_s3=1 if s3_bytes else 0,
            zlib=len(zlib.compress(record, 6)),
        )
    total = sum(per_size.values(), Counter())
    # where a small record's bytes go: every attribute of a 1 KB bin item and its index entry
    bin_id = ip.handlers.create(key, corpus.record("users", SIZES["1KB"], 0))
    item = ip.inspector.get_item(
        TableName=bins_table.name, Key={"binId": {"S": bin_id}}, ConsistentRead=True
    )["Item"]
    breakdown = {
        name: len(name.encode()) + accounting.value_size(value) for name, value in item.items()
    }
    for index in bins_table.indexes:
        breakdown[f"[{index.name} entry]"] = accounting.item_size(bins_table.entry(index, item))
    out: dict[str, Any] = {}
    for label, row in [*per_size.items(), ("corpus", total)]:
        stored = row["dynamodb"] + row["s3"]
        out[label] = {
            "records": row["records"],
            "records_in_s3": row["in_s3"],
            "raw_bytes": row["raw"],
            "dynamodb_bytes": row["dynamodb"],
            "dynamodb_billed_bytes": row["dynamodb_billed"],
            "s3_bytes": row["s3"],
            "stored_bytes": stored,
            "ratio": round(stored / row["raw"], 3),
            "ratio_billed": round((row["dynamodb_billed"] + row["s3"]) / row["raw"], 3),
            "zlib6_only_ratio": round(row["zlib"] / row["raw"], 3),
            "target": STORED_TARGET,
        }
        log(f"stored {label}: {out[label]['ratio']}")
    out["bin_item_1KB_bytes_by_attribute"] = breakdown
    return out


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The stored-bytes rows of the table."""
    rows: list[tuple[str, str, str, str]] = []
    for label, r in results.get("stored", {}).items():
        if "ratio" not in r:
            continue
        # The target is on the realistic corpus as a whole; per size it is for
        # information (a 1 KB record does not compress to 35%: zlib alone gets 55%).
        corpus_row = label == "corpus"
        rows.append(
            (
                f"stored bytes {label}",
                f"{r['ratio']:.3f} ({r['stored_bytes']:,} / {r['raw_bytes']:,} B)",
                f"<= {r['target']:.2f}" if corpus_row else "-",
                verdict(r["ratio"] <= r["target"]) if corpus_row else "info",
            )
        )
    return rows
