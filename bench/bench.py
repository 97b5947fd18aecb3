"""OpenBin performance benchmark: ``make bench`` (or ``.venv/bin/python bench/bench.py``).

One run measures, against moto (in-process, and as a local server for cold starts):

1. overhead ratio: handler time / bare storage calls time, create and read at 1 KB, 100 KB, 1 MB;
2. calls per request: DynamoDB and S3 calls, round trips, capacity units, per operation;
3. cold start: fresh process import + first invocation, per function, / a boto3-only handler;
4. scaling: read at 1, 100, 1000 versions; a listing page at 10 and 10,000 bins;
   budgets: JSONPath on a 1 MB record, the meter's cost, refusals of super-linear work;
5. stored bytes: DynamoDB item bytes (with the GSI copy) + S3 object bytes / raw JSON bytes;
6. local throughput of ``openbin serve`` under 8 concurrent clients;
7. the local server from empty to 20,000 bins.

Each section is a module (overhead, calls, cold, scaling, budgets, stored, local_server; cost
for the model of docs/COST.md) around a shared harness (harness.py); this one parses the command
line, runs the sections asked for (``--only``) and prints a table (measure, value, target,
PASS/MISS) from each section's rows, and writes bench/results.json. docs/PERFORMANCE.md explains
the method and its caveats.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import budgets
import calls
import cold
import cost
import local_server
import overhead
import scaling
import stored
from harness import RESULTS, InProcess, log, machine, print_table

from openbin_local import moto_speed
from openbin_local.template import Template

# Each section's rows, in the table's order.
SECTION_ROWS = (
    overhead.rows,
    calls.rows,
    cold.rows,
    scaling.rows,
    budgets.rows,
    stored.rows,
    cost.rows,
    local_server.rows,
)


def table_rows(results: dict) -> list[tuple[str, str, str, str]]:
    return [row for section in SECTION_ROWS for row in section(results)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument(
        "--only",
        default="overhead,calls,cold,scaling,budgets,stored,throughput,scale",
        help="comma-separated sections to run",
    )
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="keep moto's whole-table copy on every transaction "
        "(see openbin_local.emulator.transact_write_items)",
    )
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    started = time.monotonic()
    template = Template()
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": args.quick,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "moto_transaction_patch": not args.stock_moto,
    }
    moto_speed.STOCK_TRANSACTIONS = args.stock_moto
    os.environ.pop("AWS_PROFILE", None)
    saved_env = dict(os.environ)

    if "cold" in sections:
        log("cold start: moto server + fresh processes")
        results["cold_start"] = cold.ColdStart(template, 2 if args.quick else args.cold_runs).run()

    if sections & {"overhead", "calls", "scaling", "stored"}:
        ip = InProcess(template)
        try:
            if "overhead" in sections:
                results["overhead"] = overhead.bench_overhead(ip, args.quick)
            if "calls" in sections:
                results["calls"] = calls.bench_calls(ip)
            if "stored" in sections:
                results["stored"] = stored.bench_stored(ip)
            if "scaling" in sections:
                results["scaling"] = scaling.bench_scaling(ip, args.quick)
        finally:
            ip.stop()
            os.environ.clear()
            os.environ.update(saved_env)

    if "budgets" in sections:
        results["budgets"] = budgets.bench_budgets(args.quick)
    if "scale" in sections:
        log("local server at scale ...")
        results["scale"] = local_server.bench_local_scale(args.quick)
    if "throughput" in sections:
        seconds = min(args.throughput_seconds, 3.0) if args.quick else args.throughput_seconds
        results["throughput"] = local_server.bench_throughput(seconds)

    if {"overhead", "calls", "stored"} <= results.keys():
        results["cost"] = cost.cost_model(results)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    rows = table_rows(results)
    print()
    results["table"] = print_table(rows).splitlines()
    misses = [r[0] for r in rows if r[3] == "MISS"]
    results["misses"] = misses
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"\n{len(misses)} missed of {sum(r[3] != 'info' for r in rows)} targets; "
        f"{results['elapsed_seconds']} s; results in {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
