"""Print the tables of docs/COST.md from a bench run: ``.venv/bin/python bench/cost_table.py
[bench/results.json]``. The prices and the model are in cost.py (PRICES, request_cost)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COMPONENTS = (
    ("http_api", "API Gateway HTTP API requests"),
    ("lambda_requests", "Lambda requests"),
    ("lambda_duration", "Lambda duration (arm64, 512 MB)"),
    ("dynamodb_writes", "DynamoDB write request units"),
    ("dynamodb_reads", "DynamoDB read request units"),
    ("s3_requests", "S3 requests"),
)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.json"))
    results = json.loads(path.read_text())
    cost, calls = results["cost"]["per_million"], results["calls"]
    kinds = ("create 1KB", "read 1KB", "create 100KB", "read 100KB")
    call_names = {
        "create 1KB": "create 1KB",
        "read 1KB": "read 1KB (private)",
        "create 100KB": "create 100KB",
        "read 100KB": "read 100KB (private)",
    }
    print(f"Run of {results['date']} ({results['machine'].get('git', '?')})\n")
    print("Inputs per request (measured):\n")
    print("| request | DynamoDB calls | S3 calls | RRU | WRU (table + GSI) | handler ms (local) |")
    print("|---|---|---|---|---|---|")
    for kind in kinds:
        for side in ("openbin", "minimal"):
            c = calls[call_names[kind]] if side == "openbin" else calls[call_names[kind]]["minimal"]
            ms = cost[kind][side]["duration_ms_used"]
            label = kind if side == "openbin" else f"{kind}, minimal sequence"
            print(
                f"| {label} | {c['dynamodb_calls']} | {c['s3_calls']} | {c['rcu']:g} | "
                f"{c['wcu'] + c['gsi_wcu']:g} ({c['wcu']:g} + {c['gsi_wcu']:g}) | {ms:.1f} |"
            )
    print("\nDollars per million requests:\n")
    header = " | ".join(kinds)
    print(f"| component | {header} |")
    print("|---|" + "---|" * len(kinds))
    for key, label in COMPONENTS:
        row = " | ".join(f"{cost[k]['openbin'][key]:.3f}" for k in kinds)
        print(f"| {label} | {row} |")
    row = " | ".join(f"**{cost[k]['openbin']['total']:.2f}**" for k in kinds)
    print(f"| **total, OpenBin** | {row} |")
    row = " | ".join(f"{cost[k]['minimal']['total']:.2f}" for k in kinds)
    print(f"| total, minimal sequence (raw JSON, no compression) | {row} |")
    print("\nStorage, dollars per month per million records:\n")
    print("| records of | DynamoDB GB (billed size) | S3 GB | DynamoDB + PITR | S3 | total |")
    print("|---|---|---|---|---|---|")
    for label in ("1KB", "100KB"):
        s = cost[f"storage {label} per month"]
        print(
            f"| {label} | {s['dynamodb_gb']:.3f} | {s['s3_gb']:.3f} | "
            f"{s['dynamodb_with_pitr']:.3f} | {s['s3']:.3f} | **{s['total']:.2f}** |"
        )


if __name__ == "__main__":
    main()
