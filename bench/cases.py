"""Benchmark: POST /api/cases on a running server, against a bare Litestar endpoint that writes
one SQLite row, both driven from this (second) process in the same run.

Run from the repository root: `.venv/bin/python bench/cases.py`. Two figures per server:
throughput with 32 requests in flight, and p50/p99 latency at a steady 200 requests/s for
10 s. Prints a table and writes bench/results/cases.json.
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

import httpx
import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.demo import DEMO_ACCOUNTS, build_demo_city  # noqa: E402

BURST, IN_FLIGHT = 2_000, 32
RATE, SECONDS = 200, 10
TARGETS = {"throughput": ">= 0.5", "p99_ms_at_200rps": "<= 50"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str, env: dict[str, str], *factory: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            *factory,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def points(n: int) -> np.ndarray:
    grids = build_demo_city().grids.geometry.values
    inside = shapely.point_on_surface(grids)
    picks = np.random.default_rng(3).integers(0, len(inside), n)
    return np.column_stack([shapely.get_x(inside), shapely.get_y(inside)])[picks]


def body(xy: np.ndarray) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "路灯不亮",
        "lon": float(xy[0]),
        "lat": float(xy[1]),
    }


async def burst(client: httpx.AsyncClient, url: str, headers: dict, xy: np.ndarray) -> float:
    queue = iter(xy)

    async def worker() -> None:
        for p in queue:
            r = await client.post(url, json=body(p), headers=headers)
            assert r.status_code == 201, r.text

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return len(xy) / (time.perf_counter() - start)


async def steady(client: httpx.AsyncClient, url: str, headers: dict, xy: np.ndarray) -> np.ndarray:
    latencies: list[float] = []

    async def one(p: np.ndarray) -> None:
        start = time.perf_counter()
        r = await client.post(url, json=body(p), headers=headers)
        latencies.append(time.perf_counter() - start)
        assert r.status_code == 201, r.text

    tasks, start = [], time.perf_counter()
    for i, p in enumerate(xy[: RATE * SECONDS]):
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        tasks.append(asyncio.create_task(one(p)))
    await asyncio.gather(*tasks)
    return np.array(latencies) * 1000


async def measure(url: str, headers: dict, xy: np.ndarray) -> dict[str, float]:
    limits = httpx.Limits(max_connections=IN_FLIGHT * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await burst(client, url, headers, xy[:200])  # warm up
        rate = await burst(client, url, headers, xy[200 : 200 + BURST])
        lat = await steady(client, url, headers, xy[200 + BURST :])
    return {
        "throughput_rps": round(rate, 1),
        "p50_ms_at_200rps": round(float(np.percentile(lat, 50)), 2),
        "p99_ms_at_200rps": round(float(np.percentile(lat, 99)), 2),
    }


def main() -> None:
    xy = points(200 + BURST + RATE * SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "WANGGE_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
            "WANGGE_SECRET_KEY": "b" * 40,
        }
        subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo"],
            cwd=REPO,
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        product, base = serve("backend.app:create_app_from_env", env, "--factory")
        bare, bare_base = serve("bench._bare_app:app", {"BARE_DB": f"{tmp}/bare.sqlite"})
        try:
            wait_up(f"{base}/api/health")
            wait_up(f"{bare_base}/rows")
            token = httpx.post(
                f"{base}/api/auth/sign-in",
                json={"phone": DEMO_ACCOUNTS["resident"], "password": "wangge2026"},
            ).json()["token"]
            ours = asyncio.run(
                measure(f"{base}/api/cases", {"Authorization": f"Bearer {token}"}, xy)
            )
            ref = asyncio.run(measure(f"{bare_base}/rows", {}, xy))
        finally:
            for proc in (product, bare):
                proc.terminate()
                proc.wait(timeout=10)
    ratios = {"throughput": round(ours["throughput_rps"] / ref["throughput_rps"], 3)}
    print(f"{'metric':<22}| {'wangge':>10} | {'bare row':>10} | {'ratio':>6} | target")
    print("-" * 68)
    for key in ours:
        ratio = f"{ours[key] / ref[key]:>6.2f}"
        target = TARGETS.get("throughput" if key == "throughput_rps" else key, "")
        verdict = ""
        if key == "throughput_rps":
            verdict = "PASS" if ratios["throughput"] >= 0.5 else "FAIL"
        elif key == "p99_ms_at_200rps":
            verdict = "PASS" if ours[key] <= 50 else "FAIL"
        print(f"{key:<22}| {ours[key]:>10} | {ref[key]:>10} | {ratio} | {target} {verdict}")
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
