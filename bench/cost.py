"""The cost model (docs/COST.md): AWS list prices applied to the measured calls, capacity units,
durations and stored bytes."""

from __future__ import annotations

import math
from typing import Any

# -- cost model (docs/COST.md) -------------------------------------------------------------------
# AWS list prices, us-east-1, as used on the date of the run (results["date"]): re-check them at
# https://aws.amazon.com/pricing before relying on the totals.
PRICES = {
    "http_api_per_request": 1.00 / 1e6,  # HTTP API, first 300M requests/month, 512 KB units
    "lambda_per_request": 0.20 / 1e6,
    "lambda_arm64_per_gb_second": 0.0000133334,
    "dynamodb_per_wru": 0.625 / 1e6,  # on-demand, Standard table class (after Nov 2024 cut)
    "dynamodb_per_rru": 0.125 / 1e6,
    "dynamodb_storage_per_gb_month": 0.25,
    "dynamodb_pitr_per_gb_month": 0.20,  # PointInTimeRecovery is on for every table
    "s3_put_per_request": 0.005 / 1000,
    "s3_get_per_request": 0.0004 / 1000,
    "s3_storage_per_gb_month": 0.023,
}
LAMBDA_GB = 0.5  # the template's MemorySize (512 MB)
GB = 1024**3


def request_cost(calls: dict, duration_ms: float) -> dict:
    """Dollars per million requests of one kind, by component."""
    ops = calls["operations"]
    s3_puts = ops.get("s3:PutObject", 0) + ops.get("s3:DeleteObjects", 0)
    s3_gets = ops.get("s3:GetObject", 0)
    billed_seconds = max(1, math.ceil(duration_ms)) / 1000  # Lambda bills whole milliseconds
    per_request = {
        "http_api": PRICES["http_api_per_request"],
        "lambda_requests": PRICES["lambda_per_request"],
        "lambda_duration": billed_seconds * LAMBDA_GB * PRICES["lambda_arm64_per_gb_second"],
        "dynamodb_writes": (calls["wcu"] + calls["gsi_wcu"]) * PRICES["dynamodb_per_wru"],
        "dynamodb_reads": calls["rcu"] * PRICES["dynamodb_per_rru"],
        "s3_requests": s3_puts * PRICES["s3_put_per_request"]
        + s3_gets * PRICES["s3_get_per_request"],
    }
    out = {k: round(v * 1e6, 4) for k, v in per_request.items()}
    out["total"] = round(sum(per_request.values()) * 1e6, 4)
    out["duration_ms_used"] = round(duration_ms, 2)
    return out


def storage_cost(stored: dict) -> dict:
    """Dollars per month for a million records like the corpus' records of that size."""
    n = stored["records"]
    dynamo_gb = stored["dynamodb_billed_bytes"] / n * 1e6 / GB
    s3_gb = stored["s3_bytes"] / n * 1e6 / GB
    dynamo = dynamo_gb * (
        PRICES["dynamodb_storage_per_gb_month"] + PRICES["dynamodb_pitr_per_gb_month"]
    )
    s3 = s3_gb * PRICES["s3_storage_per_gb_month"]
    return {
        "dynamodb_gb": round(dynamo_gb, 3),
        "s3_gb": round(s3_gb, 3),
        "dynamodb_with_pitr": round(dynamo, 3),
        "s3": round(s3, 3),
        "total": round(dynamo + s3, 3),
    }


def cost_model(results: dict) -> dict:
    overhead, calls, stored = results["overhead"], results["calls"], results["stored"]
    out: dict[str, Any] = {"prices": PRICES, "lambda_memory_gb": LAMBDA_GB, "per_million": {}}
    for label in ("1KB", "100KB"):
        for op, name in (("create", f"create {label}"), ("read", f"read {label} (private)")):
            timing = overhead[label][op]
            out["per_million"][f"{op} {label}"] = {
                "openbin": request_cost(calls[name], timing["handler"]["median_ms"]),
                "minimal": request_cost(calls[name]["minimal"], timing["bare"]["median_ms"]),
            }
        out["per_million"][f"storage {label} per month"] = storage_cost(stored[label])
    return out


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The cost rows of the table."""
    rows: list[tuple[str, str, str, str]] = []
    for name, r in results.get("cost", {}).get("per_million", {}).items():
        if "openbin" in r:
            value = f"${r['openbin']['total']:.2f} (minimal sequence ${r['minimal']['total']:.2f})"
            rows.append((f"cost per million {name} (AWS list prices)", value, "-", "info"))
        else:
            value = f"${r['total']:.2f} per month per million records"
            rows.append((f"cost of {name}", value, "-", "info"))
    return rows
