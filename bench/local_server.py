"""Sections 6 and 7, the local server: ``openbin serve`` under 8 clients (throughput), and filled
to 20,000 bins (scale): latency, throughput, persistence waits, restart."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import corpus
from harness import (
    PRO_REQUESTS,
    SIZES,
    log,
    verdict,
)


# -- 6. local throughput -----------------------------------------------------------------------
class LoadClient(threading.Thread):
    """One of the concurrent clients: a keep-alive connection, requests until the deadline."""

    def __init__(self, number: int, address: tuple[str, int], make_request, deadline: float):
        super().__init__(name=f"bench-client-{number}", daemon=True)
        self.rng = random.Random(number)
        self.address = address
        self.make_request = make_request  # rng -> (method, path, headers, body)
        self.deadline = deadline
        self.latencies: list[float] = []
        self.errors: Counter = Counter()
        self.bodies: list[bytes] = []

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(*self.address, timeout=30)

    def run(self) -> None:
        conn = self._connect()
        while time.monotonic() < self.deadline:
            method, path, headers, body = self.make_request(self.rng)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.errors[type(error).__name__] += 1
                conn.close()
                conn = self._connect()
                continue
            self.latencies.append(time.perf_counter() - t0)
            if response.status == 200:
                self.bodies.append(payload)
            else:
                self.errors[str(response.status)] += 1
        conn.close()


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def load(address, make_request, seconds: float, clients: int) -> tuple[dict, list[bytes]]:
    deadline = time.monotonic() + seconds
    workers = [LoadClient(n, address, make_request, deadline) for n in range(clients)]
    t0 = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - t0
    ordered = sorted(t for w in workers for t in w.latencies)
    errors = sum((w.errors for w in workers), Counter())
    summary = {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(ordered),
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "errors": dict(errors),
    }
    return summary, [body for w in workers for body in w.bodies]


def bench_throughput(seconds: float, clients: int = 8) -> dict:
    """``openbin serve`` (tests.support.ServerProcess, a temp data dir, loopback), 8 clients:
    creates for ``seconds``, then reads of the bins just created for ``seconds``."""
    from tests.support import HttpApi, ServerProcess

    record = corpus.record("users", SIZES["1KB"], 4)
    with tempfile.TemporaryDirectory(prefix="openbin-serve-") as tmp:
        server = ServerProcess(Path(tmp)).start()
        try:
            key = HttpApi(server).account("pro", requests=PRO_REQUESTS).key
            host, port = server.url.removeprefix("http://").rsplit(":", 1)
            address = (host, int(port))
            json_headers = {"X-Master-Key": key, "Content-Type": "application/json"}
            out = {}
            out["create"], bodies = load(
                address, lambda rng: ("POST", "/v3/b", json_headers, record), seconds, clients
            )
            log(f"throughput create: {out['create']}")
            made = [json.loads(body)["metadata"]["id"] for body in bodies]
            out["read"], _ = load(
                address,
                lambda rng: ("GET", f"/v3/b/{rng.choice(made)}", {"X-Master-Key": key}, None),
                seconds,
                clients,
            )
            log(f"throughput read: {out['read']}")
        finally:
            server.stop()
    return out


# -- 7. the local server at scale ----------------------------------------------------------------
SCALE_BINS = 20_000


def _server_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running (a compaction, for the server)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def observed(pid: int, run):
    """``run()``'s result, with the server's CPU per request during it and whether a
    background compaction (a child process) ran meanwhile: the two reasons a window at the
    end can be slower than one at the start."""
    cpu, busy_before = _cpu_seconds(pid), bool(_children(pid))
    summary, bodies = run()
    used = _cpu_seconds(pid) - cpu
    summary["server_cpu_ms_per_request"] = round(used * 1000 / max(summary["requests"], 1), 2)
    summary["compaction_running"] = busy_before or bool(_children(pid))
    return summary, bodies


def bench_local_scale(quick: bool, window: float = 5.0) -> dict:
    """``openbin serve`` from 0 to 20,000 bins (2,000 with --quick): create and read latency
    and throughput of 1 KB records with 8 and 4 clients on the empty server and at the end; in
    between, 8 clients fill it with 1-100 KB records (a tenth of the requests versioned updates
    of bins already made), latency reported per tenth of the fill; then stop, restart (time to
    ready), and the server's memory."""
    from tests.support import HttpApi, ServerProcess

    target = 2_000 if quick else SCALE_BINS
    small = corpus.record("users", SIZES["1KB"], 4)
    bodies = [corpus.record("users", size, 5) for size in range(1_000, 100_001, 3_300)]
    out: dict = {"bins": target}
    with tempfile.TemporaryDirectory(prefix="openbin-scale-") as tmp:
        server = ServerProcess(Path(tmp)).start()
        try:
            api = HttpApi(server)
            key = api.account("pro", requests=PRO_REQUESTS).key
            host, port = server.url.removeprefix("http://").rsplit(":", 1)
            address = (host, int(port))
            headers = {"X-Master-Key": key, "Content-Type": "application/json"}
            made: list[str] = []

            def measure(label: str) -> dict:
                found: dict[str, Any] = {}
                assert server.process is not None
                pid = server.process.pid
                for clients in (8, 4):
                    create, created = observed(
                        pid,
                        lambda clients=clients: load(
                            address, lambda rng: ("POST", "/v3/b", headers, small), window, clients
                        ),
                    )
                    fresh = [json.loads(b)["metadata"]["id"] for b in created]
                    made.extend(fresh)
                    read, _ = observed(  # the 1 KB bins just made: the same reads at start and end
                        pid,
                        lambda clients=clients, fresh=fresh: load(
                            address,
                            lambda rng: (
                                "GET",
                                f"/v3/b/{rng.choice(fresh)}",
                                {"X-Master-Key": key},
                                None,
                            ),
                            window,
                            clients,
                        ),
                    )
                    found[f"{clients}_clients"] = {"create": create, "read": read}
                # A page of the account's uncategorized bins (all of them, at the end): an index
                # Query, which the emulator answers from the page's own items (moto alone would
                # sort every item of the table).
                pages = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    listed = api.get("/v3/c/uncategorized/bins", {"X-Master-Key": key})
                    pages.append(time.perf_counter() - t0)
                    assert listed.status == 200, listed.body
                found["list_page_p50_ms"] = round(statistics.median(pages) * 1000, 1)
                log(f"scale {label}: {found}")
                return found

            out["start"] = measure("start")
            lock = threading.Lock()
            fill: list[tuple[int, float]] = []  # (bins when sent, latency)
            errors: Counter = Counter()

            def filler(number: int) -> None:
                rng = random.Random(number)
                conn = http.client.HTTPConnection(*address, timeout=60)
                while True:
                    with lock:
                        count = len(made)
                        if count >= target:
                            break
                        mine = rng.choice(made) if made and rng.random() < 0.1 else None
                    body = rng.choice(bodies)
                    if mine:
                        method, path = "PUT", f"/v3/b/{mine}"
                        sent = {**headers, "X-Bin-Versioning": "true"}
                    else:
                        method, path, sent = "POST", "/v3/b", headers
                    t0 = time.perf_counter()
                    conn.request(method, path, body=body, headers=sent)
                    response = conn.getresponse()
                    payload = response.read()
                    latency = time.perf_counter() - t0
                    if response.status != 200:
                        errors[str(response.status)] += 1
                        continue
                    with lock:
                        fill.append((count, latency))
                        if method == "POST":
                            made.append(json.loads(payload)["metadata"]["id"])
                conn.close()

            t0 = time.monotonic()
            workers = [threading.Thread(target=filler, args=(n,)) for n in range(8)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.monotonic() - t0
            tenths = []
            for tenth in range(10):
                low, high = target * tenth // 10, target * (tenth + 1) // 10
                ordered = sorted(t for n, t in fill if low <= n < high)
                if ordered:
                    tenths.append(
                        {
                            "bins": f"{low}-{high}",
                            "p50_ms": round(percentile(ordered, 0.5) * 1000, 1),
                            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
                            "max_ms": round(ordered[-1] * 1000, 1),
                        }
                    )
            out["fill"] = {
                "requests": len(fill),
                "seconds": round(elapsed, 1),
                "rps": round(len(fill) / elapsed, 1),
                "errors": dict(errors),
                "by_tenth": tenths,
            }
            log(f"scale fill: {out['fill']}")
            out["end"] = measure("end")
            # What the server measured about itself through all of it: each write's journal
            # lines and object files under the emulator's lock, and each collector pass.
            out["server_stats"] = api.op("server.stats")
            assert server.process is not None
            out["memory_mb"] = _server_rss_mb(server.process.pid)
            out["data_dir_mb"] = round(
                sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6, 1
            )
            t0 = time.monotonic()
            server.stop()
            out["stop_s"] = round(time.monotonic() - t0, 2)
            t0 = time.monotonic()
            server = ServerProcess(Path(tmp)).start(timeout=120)
            out["restart_s"] = round(time.monotonic() - t0, 2)
            assert server.process is not None
            out["memory_after_restart_mb"] = _server_rss_mb(server.process.pid)
            reread = HttpApi(server).get(f"/v3/b/{made[-1]}", {"X-Master-Key": key})
            out["restart_reads_back"] = reread.status == 200
        finally:
            server.stop()
    log(f"scale: {out}")
    return out


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The local-server rows of the table."""
    rows: list[tuple[str, str, str, str]] = []
    for phase, r in results.get("throughput", {}).items():
        errors = sum(r["errors"].values())
        rows.append(
            (
                f"local throughput {phase} 1KB (8 clients)",
                f"{r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
                + (f", {errors} errors" if errors else ""),
                "-",
                "info",
            )
        )
    scale = results.get("scale")
    if scale:
        bins = scale["bins"]
        for clients in ("8_clients", "4_clients"):
            for op, floor in (("create", 100), ("read", 150)):
                start, end = scale["start"][clients][op], scale["end"][clients][op]
                ratio = end["p99_ms"] / start["p99_ms"]
                rows.append(
                    (
                        f"local {op} p99 at {bins} bins / empty ({clients.replace('_', ' ')})",
                        f"{end['p99_ms']:.1f} / {start['p99_ms']:.1f} ms = {ratio:.2f}x",
                        "<= 1.5x",
                        verdict(ratio <= 1.5),
                    )
                )
                if clients == "8_clients":
                    low = min(start["rps"], end["rps"])
                    rows.append(
                        (
                            f"local {op}s/s 1KB, empty and at {bins} bins (8 clients)",
                            f"{start['rps']:.0f} and {end['rps']:.0f} req/s",
                            f">= {floor}",
                            verdict(low >= floor),
                        )
                    )
        cpu = scale["start"]["8_clients"]["create"].get("server_cpu_ms_per_request")
        if cpu is not None:
            parts, busy = [], []
            for op in ("create", "read"):
                start, end = scale["start"]["8_clients"][op], scale["end"]["8_clients"][op]
                parts.append(
                    f"{op} {start['server_cpu_ms_per_request']:.1f} -> "
                    f"{end['server_cpu_ms_per_request']:.1f}"
                )
                busy += [
                    f"{op} at {w}"
                    for w in ("start", "end")
                    if scale[w]["8_clients"][op]["compaction_running"]
                ]
            rows.append(
                (
                    f"local server CPU ms a request, empty -> {bins} bins (8 clients)",
                    ", ".join(parts) + (f"; compacting during {', '.join(busy)}" if busy else ""),
                    "-",
                    "info",
                )
            )
        rows.append(
            (
                f"local collection page at {bins} bins / empty",
                f"{scale['end']['list_page_p50_ms']:.1f} / {scale['start']['list_page_p50_ms']:.1f}"
                " ms p50",
                "-",
                "info",
            )
        )
        worst = max(scale["fill"]["by_tenth"], key=lambda t: t["p99_ms"])
        rows.append(
            (
                f"local fill to {bins} bins, 1-100 KB, 10% versioned (8 clients)",
                f"{scale['fill']['rps']:.0f} req/s; worst tenth p99 {worst['p99_ms']:.0f} ms "
                f"({worst['bins']})",
                "-",
                "info",
            )
        )
        stats = scale.get("server_stats")
        if stats:
            waits, passes = stats["persistence"], stats["collector"]
            rows.append(
                (
                    "local wait on persistence under the lock, per write",
                    f"max {waits['max_ms']:.1f} ms, p99 {waits['p99_ms']:.2f} ms "
                    f"({waits['count']} writes and ticks)",
                    "<= 50 ms",
                    verdict(waits["max_ms"] <= 50),
                )
            )
            rows.append(
                (
                    "local cyclic collector pauses",
                    f"max {passes['max_ms']:.1f} ms, p99 {passes['p99_ms']:.1f} ms "
                    f"({passes['count']} passes)",
                    "-",
                    "info",
                )
            )
        rows.append(
            (
                f"local restart at {bins} bins ({scale['data_dir_mb']:.0f} MB data dir)",
                f"{scale['restart_s']:.1f} s; memory {scale['memory_after_restart_mb']:.0f} MB "
                f"(serving: {scale['memory_mb']:.0f} MB)",
                "<= 10 s",
                verdict(scale["restart_s"] <= 10 and scale["restart_reads_back"]),
            )
        )
    return rows
