"""Benchmark: live fan-out to 1,000 and 5,000 subscribers, Wangge against a raw ASGI send loop.

Run from the repository root: `.venv/bin/python bench/fanout.py`. Both servers are uvicorn
processes with the same options (bench/_fanout_apps.py); this process holds every subscriber
of both (a lean WebSocket client on asyncio protocols, so that the client costs little) and
publishes one event at a time, to each server in turn, through an HTTP POST: to Wangge's bench
route, which commits an event like any feature does (the hub hears the commit, reads the log,
fans out), or to the raw loop. Taking turns, the two see the same load from the rest of the
machine.

Figures per size: p50/p99 of the delay from the POST to each subscriber's receipt, and the
server's CPU time (utime + stime from /proc) per delivered message over the measured events.
Prints a table, writes bench/results/fanout.json; PASS/FAIL per target.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.demo import DEMO_ACCOUNTS  # noqa: E402

# Sizes may be given on the command line for a quick look: `bench/fanout.py 200`.
SIZES = tuple(int(a) for a in sys.argv[1:]) or (1_000, 5_000)
WARMUP = 3
EVENTS = {5_000: 40}  # per size, measured after the warm-up; 60 for smaller sizes
CONNECTING = 100  # handshakes in flight at once
TARGETS = {"p99": "<= 1.5", "cpu_per_message": "<= 1.5"}
_SEQ = b'"seq":'


class Subscriber(asyncio.Protocol):
    """Handshake, subscribe, then note the arrival time of every event's ``seq``; answer
    pings, as a browser does."""

    def __init__(self, run: Run, request: bytes) -> None:
        self.run, self.request = run, request
        self.buffer = b""
        self.open = False
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.open:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(ConnectionError(self.buffer[:200]))
                return
            self.open, self.buffer = True, self.buffer[end + 4 :]
            self.send(0x1, json.dumps({"type": "subscribe", "scopes": []}).encode())
        while len(self.buffer) >= 2:
            opcode, length, start = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", self.buffer, 2)[0], 4
            if len(self.buffer) < start + length:
                return
            payload = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            if opcode == 0x9:
                self.send(0xA, payload)
            elif opcode == 0x1 and not self.ready.done():
                self.ready.set_result(None)
            elif opcode == 0x1:
                at = payload.find(_SEQ) + len(_SEQ)
                end = at
                while payload[end : end + 1].isdigit():
                    end += 1
                self.run.arrived(int(payload[at:end]), now)

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload))
        self.transport.write(header + mask + masked)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"lost before subscribing: {exc}"))
        self.run.lost += 1


class Run:
    """One size against one server: who got which event when."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.published: dict[int, float] = {}
        self.counts: dict[int, int] = {}
        self.done: dict[int, asyncio.Event] = {}
        self.delays: list[float] = []
        self.lost = 0

    def arrived(self, seq: int, now: float) -> None:
        self.counts[seq] = self.counts.get(seq, 0) + 1
        if seq >= WARMUP:
            self.delays.append(now - self.published[seq])
        if self.counts[seq] == self.size:
            self.done[seq].set()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """A server under test: where its sockets connect and where an event is published."""

    name: str
    port: int
    path: str
    publish: str
    pid: int


async def subscribe(target: Target, run: Run) -> list[Subscriber]:
    loop = asyncio.get_running_loop()
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {target.path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    subscribers: list[Subscriber] = []
    gate = asyncio.Semaphore(CONNECTING)

    async def join() -> None:
        async with gate:
            _, sub = await loop.create_connection(
                lambda: Subscriber(run, request), "127.0.0.1", target.port
            )
            await sub.ready
            subscribers.append(sub)

    started = time.perf_counter()
    await asyncio.gather(*(join() for _ in range(run.size)))
    took = time.perf_counter() - started
    print(f"  {target.name}: {run.size} subscribed in {took:.1f} s", flush=True)
    return subscribers


async def measure(targets: list[Target], size: int) -> list[dict[str, float]]:
    """Both servers hold ``size`` subscribers at once and take turns publishing, so the load
    of the machine falls on both alike; CPU is read over the same span for both."""
    runs = [Run(size) for _ in targets]
    held = [await subscribe(t, r) for t, r in zip(targets, runs, strict=True)]
    events = EVENTS.get(size, 60)
    cpu = [0.0] * len(targets)
    async with httpx.AsyncClient(timeout=60) as client:
        for seq in range(WARMUP + events):
            if seq == WARMUP:
                cpu = [-cpu_seconds(t.pid) for t in targets]
            for target, run in zip(targets, runs, strict=True):
                run.done[seq] = asyncio.Event()
                run.published[seq] = time.perf_counter()
                r = await client.post(f"{target.publish}?seq={seq}")
                r.raise_for_status()
                await asyncio.wait_for(run.done[seq].wait(), 60)
                await asyncio.sleep(0.05)
        cpu = [c + cpu_seconds(t.pid) for c, t in zip(cpu, targets, strict=True)]
    for sub in (s for subs in held for s in subs):
        sub.transport.close()
    await asyncio.sleep(1)
    figures = []
    for run, seconds in zip(runs, cpu, strict=True):
        delays = np.array(run.delays) * 1000
        figures.append(
            {
                "p50_ms": round(float(np.percentile(delays, 50)), 2),
                "p99_ms": round(float(np.percentile(delays, 99)), 2),
                "cpu_us_per_msg": round(seconds / (size * events) * 1e6, 2),
            }
        )
    return figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not start")


def serve(app: str, env: dict[str, str], *options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", app, *options, "--port", str(port)),
            *("--log-level", "warning", "--backlog", "4096"),
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


def main() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    ours: dict[str, float] = {}
    ref: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "WANGGE_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
            "WANGGE_SECRET_KEY": "b" * 40,
            "WANGGE_ESCALATION_INTERVAL_S": "0",
        }
        subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo"],
            cwd=REPO,
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        product, port = serve("bench._fanout_apps:create_bench_app", env, "--factory")
        raw, raw_port = serve("bench._fanout_apps:raw_app", {})
        try:
            wait_up(f"http://127.0.0.1:{port}/api/health", product)
            wait_up(f"http://127.0.0.1:{raw_port}/", raw)
            token = httpx.post(
                f"http://127.0.0.1:{port}/api/auth/sign-in",
                json={"phone": DEMO_ACCOUNTS["city_admin"], "password": "wangge2026"},
            ).json()["token"]
            base, raw_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{raw_port}"
            live = f"/api/live?token={token}"
            targets = [
                Target("wangge", port, live, f"{base}/bench/publish", product.pid),
                Target("raw loop", raw_port, "/ws", f"{raw_base}/publish", raw.pid),
            ]
            for size in SIZES:
                measured = asyncio.run(measure(targets, size))
                for figures, got in zip((ours, ref), measured, strict=True):
                    figures.update({f"{k}_{size}": v for k, v in got.items()})
        finally:
            for proc in (product, raw):
                proc.terminate()
                proc.wait(timeout=10)
    report(ours, ref)


def report(ours: dict[str, float], ref: dict[str, float]) -> None:
    ratios = {}
    for size in SIZES:
        ratios[f"p99_{size}"] = round(ours[f"p99_ms_{size}"] / ref[f"p99_ms_{size}"], 3)
        ratios[f"cpu_per_message_{size}"] = round(
            ours[f"cpu_us_per_msg_{size}"] / ref[f"cpu_us_per_msg_{size}"], 3
        )
    print(f"{'metric':<22}| {'wangge':>10} | {'raw loop':>10} | {'ratio':>6} | target")
    print("-" * 70)
    for key in ours:
        ratio = ours[key] / ref[key]
        target, verdict = "", ""
        if key.startswith(("p99_ms", "cpu_us")):
            target = "<= 1.5"
            verdict = "PASS" if ratio <= 1.5 else "FAIL"
        print(f"{key:<22}| {ours[key]:>10} | {ref[key]:>10} | {ratio:>6.2f} | {target} {verdict}")
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {"name": "fanout", "figures": ours, "reference": ref, "ratios": ratios}
    (out / "fanout.json").write_text(json.dumps({**result, "targets": TARGETS}, indent=1))
    print("wrote bench/results/fanout.json")


if __name__ == "__main__":
    main()
