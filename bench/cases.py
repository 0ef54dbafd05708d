"""Benchmark: POST /api/cases on a running server, against an endpoint doing the same durable
work by hand (bench/_bare_app.py: the same row and indexes, the event clock and the event, the
nearby-duplicates query, raw SQL), both driven from this process in the same run by the same
client.

Run from the repository root: `.venv/bin/python bench/cases.py` (SQLite). The product is
started the way it is served (`wangge serve`, which calls uvicorn with its own settings); the
reference works on a copy of the product's database made right after the demo city was
written, so the two have the same tables, indexes and rows. Every case is filed at its own
point, spread over the grids of the demo city (a grid drawn at random, a point drawn at random
inside it), so small town grids see nearby duplicates and countryside ones few.

Per server: throughput with 32 requests in flight (best of three rounds, the servers taking
turns), the server's CPU per create over those rounds (read from /proc/PID/stat, the server
process and its children: not wall time, which the loaded machine stretches), and p50/p99
latency at a steady 200 requests/s for 10 s, counted from each request's scheduled start.

`--postgres` runs the product on PostgreSQL (a database of its own on 127.0.0.1:5432) with
`--workers 1` and then `--workers 2`, and samples pg_stat_activity meanwhile: the share of
busy backends waiting on a lock, by the lock they wait on.

The client is plain asyncio streams over keep-alive HTTP/1.1 connections, with every request
body made before the clock starts: httpx spent more CPU per request than the bare server did,
so it measured itself. The `client cpu` row says how busy the client was during the throughput
rounds; near 100 % the client, not the server, would be the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import msgspec
import numpy as np
import shapely
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.demo import DEMO_ACCOUNTS, build_demo_city  # noqa: E402

BURST, IN_FLIGHT, ROUNDS = 2_000, 32, 3
RATE, SECONDS = 200, 10
TARGETS = {"throughput": ">= 0.7", "cpu_ms_per_create": "<= 1.5", "p99_ms_at_200rps": "<= 50"}
PG = "postgresql://postgres@127.0.0.1:5432"
TICK = os.sysconf("SC_CLK_TCK")
# What the field app's browser sends with every request: gzip answers are accepted.
BROWSER = {"accept-encoding": "gzip, deflate"}


class Http:
    """Keep-alive HTTP/1.1 connections to one server; a request takes an idle one or opens one."""

    # uvicorn closes a connection idle for 5 s; one idle for longer is not used again.
    IDLE_S = 4.0

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []

    def request(self, method: str, path: str, body: bytes) -> bytes:
        return (
            (
                f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n"
                f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            ).encode()
            + self.head
            + b"\r\n"
            + body
        )

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        while self.idle and self.idle[0][0] < time.monotonic() - self.IDLE_S:
            self.idle.pop(0)[2].close()  # the longest idle come first
        if self.idle:
            _, reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line[15:])
            elif line.startswith(b"transfer-encoding:"):
                raise RuntimeError("chunked answers are not read by this client")
        body = await reader.readexactly(length)
        self.idle.append((time.monotonic(), reader, writer))
        return status, body

    async def close(self) -> None:
        for _, _, writer in self.idle:
            writer.close()
        self.idle.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} did not open")


def points(n: int) -> np.ndarray:
    """``n`` points: each in a grid drawn at random, at a random place inside it."""
    grids = build_demo_city().grids.geometry.values
    rng = np.random.default_rng(3)
    picks = np.bincount(rng.integers(0, len(grids), n), minlength=len(grids))
    out = []
    for grid, k in zip(grids, picks, strict=True):
        west, south, east, north = grid.bounds
        inside = np.empty((0, 2))
        while len(inside) < k:
            xy = rng.uniform((west, south), (east, north), (4 * k + 16, 2))
            inside = np.vstack([inside, xy[shapely.contains_xy(grid, xy[:, 0], xy[:, 1])]])
        out.append(inside[:k])
    return rng.permutation(np.vstack(out))


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and every process under it."""
    total, tree = 0.0, {pid}
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            fields = text[text.rindex(")") + 2 :].split()
            stats.append((int(entry.name), int(fields[1]), int(fields[11]) + int(fields[12])))
    grew = True
    while grew:
        grew = False
        for p, parent, _ in stats:
            if parent in tree and p not in tree:
                tree.add(p)
                grew = True
    for p, _, ticks in stats:
        if p in tree:
            total += ticks / TICK
    return total


def bodies(http: Http, path: str, xy: np.ndarray) -> list[bytes]:
    """Whole requests, made before any clock starts: the same for both servers."""
    return [
        http.request(
            "POST",
            path,
            msgspec.json.encode(
                {
                    "client_id": str(uuid.uuid4()),
                    "kind": "request",
                    "category": "1501",
                    "description": "路灯不亮",
                    "lon": float(x),
                    "lat": float(y),
                }
            ),
        )
        for x, y in xy
    ]


async def burst(http: Http, requests: list[bytes], pid: int) -> tuple[float, float, float]:
    """Requests per second with IN_FLIGHT at a time, the client's CPU share meanwhile, and
    the server's CPU milliseconds per request."""
    queue = iter(requests)

    async def worker() -> None:
        for raw in queue:
            status, answer = await http.send(raw)
            assert status == 201, answer[:300]

    wall, cpu, server = time.perf_counter(), time.process_time(), cpu_s(pid)
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    wall, cpu, server = time.perf_counter() - wall, time.process_time() - cpu, cpu_s(pid) - server
    return len(requests) / wall, cpu / wall, server * 1000 / len(requests)


async def steady(http: Http, requests: list[bytes]) -> tuple[np.ndarray, int]:
    """Latencies (ms) of requests started at RATE per second, from each one's scheduled time,
    and how many were shed (503: the product's answer when it has too much in hand)."""
    latencies: list[float] = []
    shed = 0

    async def one(raw: bytes, due: float) -> None:
        nonlocal shed
        status, answer = await http.send(raw)
        latencies.append(time.perf_counter() - due)
        shed += status == 503
        assert status in (201, 503), answer[:300]

    tasks, begin = [], time.perf_counter()
    for i, raw in enumerate(requests):
        due = begin + i / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    return np.array(latencies) * 1000, shed


Server = tuple[Http, str, int]  # its client, the path to post to, its process id


async def measure(servers: dict[str, Server], xy: np.ndarray, waits: Waits | None = None) -> dict:
    """The servers taking turns, each given the same points in the same order."""
    made = {name: bodies(http, path, xy) for name, (http, path, _) in servers.items()}
    rates: dict[str, list[tuple[float, float, float]]] = {name: [] for name in servers}
    for name, (http, _, pid) in servers.items():
        await burst(http, made[name][:200], pid)  # warm up: connections, caches, compiles
    for r in range(ROUNDS):
        lo = 200 + r * BURST
        for name, (http, _, pid) in servers.items():
            if waits is not None:
                waits.start()
            rates[name].append(await burst(http, made[name][lo : lo + BURST], pid))
            if waits is not None:
                await waits.stop(name)
    figures = {}
    for name, (http, _, _) in servers.items():
        lo = 200 + ROUNDS * BURST
        lat, shed = await steady(http, made[name][lo : lo + RATE * SECONDS])
        await http.close()
        best = max(rates[name])
        figures[name] = {
            "throughput_rps": round(best[0], 1),
            "cpu_ms_per_create": round(float(np.median([r[2] for r in rates[name]])), 3),
            "p50_ms_at_200rps": round(float(np.percentile(lat, 50)), 2),
            "p99_ms_at_200rps": round(float(np.percentile(lat, 99)), 2),
            "shed_at_200rps": shed,
            "client_cpu_share": round(best[1], 2),
        }
    return figures


class Waits:
    """Samples pg_stat_activity every 10 ms while a round runs: of the busy backends of one
    database, how many wait on a lock, and on which kind."""

    def __init__(self, dsn: str, database: str) -> None:
        self.dsn, self.database = dsn, database
        self.seen: dict[str, Counter[str]] = {}
        self.task: asyncio.Task[Counter[str]] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._sample())

    async def stop(self, name: str) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.seen.setdefault(name, Counter()).update(self.counts)

    async def _sample(self) -> Counter[str]:
        self.counts: Counter[str] = Counter()
        conn = await asyncpg.connect(self.dsn)
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()",
                    self.database,
                )
                for r in rows:
                    self.counts["busy"] += 1
                    if r["wait_event_type"] == "Lock":
                        self.counts[f"Lock:{r['wait_event']}"] += 1
                    elif r["wait_event_type"] is not None:
                        self.counts[f"{r['wait_event_type']}:{r['wait_event']}"] += 1
                await asyncio.sleep(0.01)
        finally:
            await conn.close()


def sign_in(port: int) -> str:
    http = Http(port, {})
    raw = http.request(
        "POST",
        "/api/auth/sign-in",
        msgspec.json.encode({"phone": DEMO_ACCOUNTS["resident"], "password": "wangge2026"}),
    )
    status, answer = asyncio.run(http.send(raw))
    assert status == 200, answer
    return msgspec.json.decode(answer)["token"]


def table(columns: dict[str, dict], reference: str | None) -> None:
    names = list(columns)
    print(f"{'metric':<20}| " + " | ".join(f"{n:>12}" for n in names) + " | ratio  | target")
    print("-" * (40 + 15 * len(names)))
    first = columns[names[0]]
    for key in first:
        cells = " | ".join(f"{columns[n][key]:>12}" for n in names)
        ratio, verdict = "", ""
        if reference is not None and columns[reference][key]:
            value = first[key] / columns[reference][key]
            ratio = f"{value:.2f}"
            if key == "throughput_rps":
                verdict = f"{TARGETS['throughput']} {'PASS' if value >= 0.7 else 'FAIL'}"
            elif key == "cpu_ms_per_create":
                verdict = f"{TARGETS[key]} {'PASS' if value <= 1.5 else 'FAIL'}"
        if key == "p99_ms_at_200rps":
            verdict = f"{TARGETS[key]} {'PASS' if first[key] <= 50 else 'FAIL'}"
        print(f"{key:<20}| {cells} | {ratio:>6} | {verdict}")


def env_for(tmp: str, port: int, database_url: str) -> dict[str, str]:
    return {
        "WANGGE_DATA_DIR": tmp,
        "DATABASE_URL": database_url,
        "WANGGE_SECRET_KEY": "b" * 40,
        "WANGGE_PORT": str(port),
    }


def stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print(f"process {proc.pid} did not stop within 60 s of SIGTERM: killed")
            proc.kill()
            proc.wait()


def on_sqlite(xy: np.ndarray) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        port, bare_port = free_port(), free_port()
        env = env_for(tmp, port, f"sqlite:///{tmp}/bench.sqlite")
        start(["-m", "backend.cli", "demo"], env).wait()
        # The reference's copy: the same tables, indexes and rows.
        source, copy = sqlite3.connect(f"{tmp}/bench.sqlite"), sqlite3.connect(f"{tmp}/bare.sqlite")
        source.backup(copy)
        source.close()
        copy.close()
        product = start(["-m", "backend.cli", "serve"], env)
        bare = start(
            ["-m", "bench._bare_app"],
            {"BARE_DB": f"{tmp}/bare.sqlite", "BARE_PORT": str(bare_port)},
        )
        try:
            wait_up(port, product)
            wait_up(bare_port, bare)
            token = sign_in(port)
            servers = {
                "wangge": (
                    Http(port, {**BROWSER, "authorization": f"Bearer {token}"}),
                    "/api/cases",
                    product.pid,
                ),
                "equal work": (Http(bare_port, BROWSER), "/cases", bare.pid),
            }
            figures = uvloop.run(measure(servers, xy))
        finally:
            stop(product, bare)
    ours, ref = figures["wangge"], figures["equal work"]
    table(figures, "equal work")
    ratios = {
        "throughput": round(ours["throughput_rps"] / ref["throughput_rps"], 3),
        "cpu_ms_per_create": round(ours["cpu_ms_per_create"] / ref["cpu_ms_per_create"], 3),
    }
    return {"name": "cases", "figures": ours, "reference": ref, "ratios": ratios}


def on_postgres(xy: np.ndarray) -> dict:
    database = f"wangge_bench_cases_{os.getpid()}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    figures: dict[str, dict] = {}
    waits = Waits(f"{PG}/postgres", database)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = env_for(tmp, port, f"{PG}/{database}")
            start(["-m", "backend.cli", "demo"], env).wait()
            for workers in (1, 2):
                name = f"{workers} worker" + ("s" if workers > 1 else "")
                product = start(["-m", "backend.cli", "serve", "--workers", str(workers)], env)
                try:
                    wait_up(port, product)
                    time.sleep(2 if workers > 1 else 0)  # every worker up, not only the first
                    http = Http(port, {**BROWSER, "authorization": f"Bearer {sign_in(port)}"})
                    picked = xy[np.random.default_rng(workers).permutation(len(xy))]
                    servers = {name: (http, "/api/cases", product.pid)}
                    figures |= uvloop.run(measure(servers, picked, waits))
                finally:
                    stop(product)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    table(figures, None)
    print("\nwhat busy backends waited on (samples every 10 ms over the throughput rounds):")
    for name, counts in waits.seen.items():
        busy = counts.pop("busy", 0) or 1
        top = ", ".join(f"{k} {100 * v / busy:.0f} %" for k, v in counts.most_common(5))
        print(f"  {name}: {busy} busy samples; {top or 'no waits'}")
    one, two = figures["1 worker"], figures["2 workers"]
    ratios = {"throughput_2_over_1": round(two["throughput_rps"] / one["throughput_rps"], 3)}
    print(f"--workers 2 / --workers 1 throughput: {ratios['throughput_2_over_1']}")
    return {
        "name": "cases_postgres",
        "figures": figures,
        "reference": figures["1 worker"],
        "ratios": ratios,
        "waits": {k: dict(v) for k, v in waits.seen.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="workers 1 and 2 on PostgreSQL")
    args = parser.parse_args()
    print("load average before:", Path("/proc/loadavg").read_text().strip())
    xy = points(200 + ROUNDS * BURST + RATE * SECONDS)
    result = on_postgres(xy) if args.postgres else on_sqlite(xy)
    load = Path("/proc/loadavg").read_text().strip()
    print(f"load average after: {load}")
    result |= {"targets": TARGETS, "load_average": load}
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result['name']}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
