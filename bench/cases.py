"""Benchmark: POST /api/cases on a running server, against a bare Litestar endpoint that writes
one SQLite row, both driven from this (second) process in the same run by the same client.

Run from the repository root: `.venv/bin/python bench/cases.py`. The product is started the
way it is served (`wangge serve`, which calls uvicorn with its own settings); the bare app is
started by bench/_bare_app.py with the same uvicorn settings and the same SQLite durability.
Two figures per server: throughput with 32 requests in flight (best of three rounds, the two
servers taking turns), and p50/p99 latency at a steady 200 requests/s for 10 s, counted from
each request's scheduled start, so time spent waiting for a connection counts too.

The client is plain asyncio streams over keep-alive HTTP/1.1 connections, with every request
body made before the clock starts: httpx spent more CPU per request than the bare server did,
so it measured itself. The table's `client cpu` column says how busy the client was during the
throughput rounds; near 100 % the client, not the server, would be the limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec
import numpy as np
import shapely
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.demo import DEMO_ACCOUNTS, build_demo_city  # noqa: E402

BURST, IN_FLIGHT, ROUNDS = 2_000, 32, 3
RATE, SECONDS = 200, 10
TARGETS = {"throughput": ">= 0.5", "p99_ms_at_200rps": "<= 50"}
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
    grids = build_demo_city().grids.geometry.values
    inside = shapely.point_on_surface(grids)
    picks = np.random.default_rng(3).integers(0, len(inside), n)
    return np.column_stack([shapely.get_x(inside), shapely.get_y(inside)])[picks]


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


async def burst(http: Http, requests: list[bytes]) -> tuple[float, float]:
    """Requests per second with IN_FLIGHT at a time, and the client's CPU share meanwhile."""
    queue = iter(requests)

    async def worker() -> None:
        for raw in queue:
            status, answer = await http.send(raw)
            assert status == 201, answer[:300]

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(requests) / wall, cpu / wall


async def steady(http: Http, requests: list[bytes]) -> np.ndarray:
    """Latencies (ms) of requests started at RATE per second, from each one's scheduled time."""
    latencies: list[float] = []

    async def one(raw: bytes, due: float) -> None:
        status, answer = await http.send(raw)
        latencies.append(time.perf_counter() - due)
        assert status == 201, answer[:300]

    tasks, begin = [], time.perf_counter()
    for i, raw in enumerate(requests):
        due = begin + i / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    return np.array(latencies) * 1000


async def measure(servers: dict[str, tuple[Http, str]], xy: np.ndarray) -> dict[str, dict]:
    """Both servers, taking turns, each given the same points in the same order."""
    made = {name: bodies(http, path, xy) for name, (http, path) in servers.items()}
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    for name, (http, _) in servers.items():
        await burst(http, made[name][:200])  # warm up: connections, caches, first compiles
    for r in range(ROUNDS):
        lo = 200 + r * BURST
        for name, (http, _) in servers.items():
            rates[name].append(await burst(http, made[name][lo : lo + BURST]))
    figures = {}
    for name, (http, _) in servers.items():
        lo = 200 + ROUNDS * BURST
        lat = await steady(http, made[name][lo : lo + RATE * SECONDS])
        await http.close()
        best = max(rates[name])
        figures[name] = {
            "throughput_rps": round(best[0], 1),
            "p50_ms_at_200rps": round(float(np.percentile(lat, 50)), 2),
            "p99_ms_at_200rps": round(float(np.percentile(lat, 99)), 2),
            "client_cpu_share": round(best[1], 2),
        }
    return figures


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


def table(ours: dict, ref: dict, ratios: dict) -> None:
    print(f"{'metric':<22}| {'wangge':>10} | {'bare row':>10} | {'ratio':>6} | target")
    print("-" * 68)
    for key in ours:
        ratio = f"{ours[key] / ref[key]:>6.2f}" if ref[key] else "     -"
        target, verdict = "", ""
        if key == "throughput_rps":
            target = TARGETS["throughput"]
            verdict = "PASS" if ratios["throughput"] >= 0.5 else "FAIL"
        elif key == "p99_ms_at_200rps":
            target = TARGETS[key]
            verdict = "PASS" if ours[key] <= 50 else "FAIL"
        print(f"{key:<22}| {ours[key]:>10} | {ref[key]:>10} | {ratio} | {target} {verdict}")


def main() -> None:
    xy = points(200 + ROUNDS * BURST + RATE * SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        port, bare_port = free_port(), free_port()
        env = {
            "WANGGE_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
            "WANGGE_SECRET_KEY": "b" * 40,
            "WANGGE_PORT": str(port),
        }
        start(["-m", "backend.cli", "demo"], env).wait()
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
                ),
                "bare": (Http(bare_port, BROWSER), "/rows"),
            }
            figures = uvloop.run(measure(servers, xy))
        finally:
            for proc in (product, bare):
                proc.terminate()
                proc.wait(timeout=10)
    ours, ref = figures["wangge"], figures["bare"]
    ratios = {"throughput": round(ours["throughput_rps"] / ref["throughput_rps"], 3)}
    table(ours, ref, ratios)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cases.json").write_text(
        json.dumps(
            {
                "name": "cases",
                "figures": ours,
                "reference": ref,
                "ratios": ratios,
                "targets": TARGETS,
            },
            indent=1,
        )
    )
    print("wrote bench/results/cases.json")


if __name__ == "__main__":
    main()
