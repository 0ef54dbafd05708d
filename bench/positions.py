"""Benchmark: 1,000 workers on duty sending a fix a second each through the live socket, with
50 city-wide screens watching, on SQLite; against a bare ASGI app doing the least the same job
needs, measured in the same run.

Run from the repository root: `.venv/bin/python bench/positions.py`. The server is a separate
process (`wangge serve`, with the uvicorn settings it uses). This process holds the sockets of
WORKERS grid staff on duty, each sending one fix a second (ten ticks of 1/100 of the workers
every 0.1 s, a steady 1,000 fixes/s); SCREEN_PROCESSES processes of their own hold the
SCREENS city-wide subscriptions (a city admin's, `"scopes": []`), so that on a busy machine the
screens keep up with the server. The same load runs again with no screen, to tell what
positions cost from what the fan-out costs.

The reference is a bare ASGI app under the same uvicorn options: it decodes each fix, keeps the
newest per socket, and once a second encodes one frame of the workers that moved and sends it
to every screen: the bytes Wangge sends, with none of its checks, stores or track.

Figures: the server's CPU over the window (utime + stime from /proc/PID/stat) as a share of
one core, and scaled to exactly 1,000 fixes/s; the fixes sent a second; per screen the
positions frames a second (at most one an interval), the fewest seconds between two of its
frames as the screen received them (a busy machine delays some frames more than others), the
worker entries a second, and the age of each fix when a screen heard it (p50,
p99: from the phone's timestamp to the screen, both on this machine's clock). Then whether every
worker's newest fix is in the last-position store (GET /api/positions/latest) and every fix in
the track table. BENCH_WORKERS, BENCH_SCREENS and BENCH_SECONDS change the size and the window
for a quick look. Prints a table and writes bench/results/positions.json.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import shapely
import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.auth.tokens import TokenClaims, issue_token  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "1000"))  # one fix a second each
SCREENS = int(os.environ.get("BENCH_SCREENS", "50"))
SCREEN_PROCESSES = 5
WARMUP_S, WINDOW_S = 5, int(os.environ.get("BENCH_SECONDS", "40"))
SECRET = "b" * 40
TARGETS = {
    "cores_at_1000_per_s": "<= 0.25",
    "frames_per_screen_per_s": "<= 1.0",
    "in_store": "== 1.0",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


async def bare_app(scope: dict, receive: Any, send: Any) -> None:
    """The reference. A socket whose first message is a subscription is a screen; any other
    socket is a phone, whose fixes are decoded and kept, newest per phone; once a second each
    screen gets one frame of the phones that sent since the last one."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    state = _BARE
    if state.ticker is None:
        state.ticker = asyncio.create_task(state.tick())
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    me = id(send)
    while (message := await receive())["type"] != "websocket.disconnect":
        body = msgspec.json.decode(message.get("text") or message.get("bytes") or b"{}")
        if body.get("type") == "position":
            state.moved[me] = {"person": me, "grid": "", **body}
        elif body.get("type") == "subscribe":
            state.screens.append(send)
            await send({"type": "websocket.send", "text": '{"type":"subscribed"}'})
    if send in state.screens:
        state.screens.remove(send)


class _Bare:
    def __init__(self) -> None:
        self.moved: dict[int, dict] = {}
        self.screens: list[Any] = []
        self.ticker: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if not self.moved:
                continue
            workers = list(self.moved.values())
            self.moved = {}
            text = msgspec.json.encode({"type": "positions", "workers": workers}).decode()
            frame = {"type": "websocket.send", "text": text}
            for send in list(self.screens):
                await send(frame)


_BARE = _Bare()


def say(*what: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *what, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start a server on a free port: WANGGE_PORT for `wangge serve`, --port for uvicorn
    (with the product's WebSocket options: no per-message deflate)."""
    port = free_port()
    if command[0] == "uvicorn":
        command = [
            *command,
            *("--port", str(port), "--log-level", "warning"),
            *("--ws-per-message-deflate", "false"),
        ]
    proc = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=REPO,
        env={**os.environ, **env, "WANGGE_HOST": "127.0.0.1", "WANGGE_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def staff(db: str, n: int) -> tuple[list[tuple[int, str]], int]:
    """``n`` grid staff (id, home grid) and the city admin's id."""
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT p.id, MIN(g.code) FROM person p JOIN grid_post gp ON gp.person = p.id"
            " JOIN grid g ON g.id = gp.grid WHERE p.role IN"
            " ('grid_worker', 'grid_leader', 'grid_police') GROUP BY p.id ORDER BY p.id LIMIT ?",
            (n,),
        ).fetchall()
        admin = c.execute("SELECT id FROM person WHERE role = 'city_admin' ORDER BY id").fetchone()
    if len(rows) < n:
        raise SystemExit(f"the demo city has {len(rows)} grid staff, fewer than {n}")
    return rows, admin[0]


def starts(db: str, grids: list[str]) -> np.ndarray:
    with sqlite3.connect(db) as c:
        shapes = dict(c.execute("SELECT code, geom FROM grid").fetchall())
    inside = shapely.point_on_surface(shapely.from_geojson([shapes[g] for g in grids]))
    return np.column_stack([shapely.get_x(inside), shapely.get_y(inside)])


def token(person: int) -> str:
    return issue_token(TokenClaims(sub=person, exp=int(time.time()) + 3600), SECRET)


async def open_socket(port: int, person: int) -> websockets.ClientConnection:
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/api/live?token={token(person)}", max_queue=None, open_timeout=60
    )


class Heard:
    """What the screens of one process heard: counts by type, and per screen the arrival
    times of its positions frames; the age of each fix heard by the first screen."""

    def __init__(self, screens: int) -> None:
        self.kinds: dict[str, int] = {}
        self.entries = 0
        self.times: list[list[float]] = [[] for _ in range(screens)]
        self.ages: list[float] = []
        self.measuring = False

    def hear(self, i: int, text: str) -> None:
        kind = text[9 : text.index('"', 9)] if text.startswith('{"type":"') else "?"
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind != "positions" or not self.measuring:
            return
        now = time.time()
        self.times[i].append(time.monotonic())
        workers = json.loads(text)["workers"]
        self.entries += len(workers)
        if i == 0:
            self.ages += [now - datetime.fromisoformat(w["at"]).timestamp() for w in workers]

    def summary(self) -> dict:
        gaps = [b - a for t in self.times for a, b in itertools.pairwise(t)]
        return {
            "kinds": self.kinds,
            "frames": sum(map(len, self.times)),
            "entries": self.entries,
            "min_gap_s": min(gaps, default=None),
            "ages": self.ages,
        }


def listen(port: int, admin: int, screens: int, pipe: Connection) -> None:
    """A screen process: ``screens`` city-wide sockets. On ``pipe`` it answers "presence" with
    the presence messages heard so far, starts measuring on "measure", answers "summary" and
    ends on "stop"."""

    async def main() -> None:
        heard = Heard(screens)
        stopping = asyncio.Event()

        async def hear(i: int, ws: websockets.ClientConnection) -> None:
            async for frame in ws:
                heard.hear(i, str(frame))
            heard.kinds[f"closed {ws.close_code}"] = 1  # by the server: 4408 if too slow

        def command() -> None:
            what = pipe.recv()
            if what == "stop":
                stopping.set()
            elif what == "measure":
                heard.measuring = True
            elif what == "summary":
                heard.measuring = False
                pipe.send(heard.summary())
            else:
                pipe.send(heard.kinds.get("presence", 0))

        sockets = [await open_socket(port, admin) for _ in range(screens)]
        for ws in sockets:
            await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
        tasks = [asyncio.create_task(hear(i, ws)) for i, ws in enumerate(sockets)]
        asyncio.get_running_loop().add_reader(pipe.fileno(), command)
        pipe.send("ready")
        await stopping.wait()
        for ws in sockets:
            await ws.close()
        for t in tasks:
            t.cancel()

    asyncio.run(main())


async def drive(
    port: int,
    pid: int,
    people: list[tuple[int, str]],
    xy: np.ndarray,
    admin: int,
    screens: int,
    answers: bool = True,
) -> dict:
    """Connect, go on duty, warm up, then send for the window; what was sent and heard."""
    spawn = multiprocessing.get_context("spawn")
    pipes, listeners = [], []
    per_process = [len(range(i, screens, SCREEN_PROCESSES)) for i in range(SCREEN_PROCESSES)]
    for n in (n for n in per_process if n):
        pipe, child_end = spawn.Pipe()
        listeners.append(spawn.Process(target=listen, args=(port, admin, n, child_end)))
        listeners[-1].start()
        pipes.append(pipe)
    for pipe in pipes:
        if not pipe.poll(120) or pipe.recv() != "ready":
            raise SystemExit("the screens did not connect")
    workers: list[websockets.ClientConnection] = []
    for i in range(0, len(people), 50):
        workers += await asyncio.gather(*(open_socket(port, p) for p, _ in people[i : i + 50]))
    say(f"{screens} screens and {len(workers)} workers connected")
    errors: list[str] = []

    async def read_errors(ws: websockets.ClientConnection) -> None:
        async for frame in ws:
            if '"error"' in str(frame):
                errors.append(str(frame))

    readers = [asyncio.create_task(read_errors(ws)) for ws in workers]
    for ws in workers:
        await ws.send('{"type":"duty","on":true}')

    def ask(what: str) -> list[Any]:
        for pipe in pipes:
            pipe.send(what)
        return [pipe.recv() for pipe in pipes]

    # Every worker on duty before the clock starts (the screens hear it); with no screen, or
    # from the reference, which answers nothing, a fixed wait.
    deadline = time.monotonic() + (120 if answers and pipes else 5)
    while time.monotonic() < deadline:
        if pipes and sum(ask("presence")) >= screens * len(workers):
            break
        await asyncio.sleep(0.2)
    rng = np.random.default_rng(7)
    here = xy.copy()
    last_at: dict[int, str] = {}
    sent = 0

    async def send_for(seconds: float) -> float:
        nonlocal sent
        start = time.perf_counter()
        for tick in range(int(seconds * 100)):  # every 10 ms, 1/100 of the workers
            await asyncio.sleep(max(0.0, start + tick / 100 - time.perf_counter()))
            group = range(tick % 100, len(workers), 100)
            steps = rng.normal(0, 1e-5, (len(group), 2))
            for step, i in zip(steps, group, strict=True):
                here[i] += step  # about a metre
                at = datetime.now(UTC).isoformat()
                lon, lat = here[i].tolist()
                text = f'{{"type":"position","lon":{lon},"lat":{lat},"accuracy":8.0,"at":"{at}"}}'
                await workers[i].send(text)
                last_at[people[i][0]] = at
                sent += 1
        return time.perf_counter() - start

    await send_for(WARMUP_S)
    say("warmed up; measuring", WINDOW_S, "s")
    for pipe in pipes:
        pipe.send("measure")
    sent0 = sent
    cpu0 = cpu_seconds(pid)
    elapsed = await send_for(WINDOW_S)
    cpu = cpu_seconds(pid) - cpu0
    summaries = ask("summary") if pipes else []
    window_sent = sent - sent0
    await asyncio.sleep(2)  # the last pass reaches the screens, the track buffer its table
    for pipe, listener in zip(pipes, listeners, strict=True):
        pipe.send("stop")
        listener.join(30)
    await asyncio.gather(*(ws.close() for ws in workers))
    for t in readers:
        t.cancel()
    frames = sum(s["frames"] for s in summaries)
    ages = np.array([a for s in summaries for a in s["ages"]]) * 1000
    gaps = [s["min_gap_s"] for s in summaries if s["min_gap_s"] is not None]
    return {
        "fixes_per_s": round(window_sent / elapsed, 1),
        "server_cpu_cores": round(cpu / elapsed, 4),
        "cpu_us_per_fix": round(cpu / window_sent * 1e6, 1),
        "cores_at_1000_per_s": round(cpu / window_sent * 1000, 4),
        "frames_per_screen_per_s": round(frames / max(screens, 1) / elapsed, 2),
        "min_gap_s": round(min(gaps), 3) if gaps else None,
        "entries_per_screen_per_s": round(
            sum(s["entries"] for s in summaries) / max(screens, 1) / elapsed, 1
        ),
        "age_p50_ms": round(float(np.percentile(ages, 50)), 1) if len(ages) else None,
        "age_p99_ms": round(float(np.percentile(ages, 99)), 1) if len(ages) else None,
        "screens_closed": sum(
            n for s in summaries for kind, n in s["kinds"].items() if kind.startswith("closed")
        ),
        "errors": len(errors),
        "sent_total": sent,
        "last_at": last_at,
        "first_error": errors[0] if errors else None,
    }


def check_store(port: int, admin: int, last_at: dict[int, str]) -> float:
    r = httpx.get(
        f"http://127.0.0.1:{port}/api/positions/latest?scope=150300",
        headers={"Authorization": f"Bearer {token(admin)}"},
        timeout=30,
    )
    r.raise_for_status()
    stored = {w["person"]: w["at"] for w in r.json()["workers"]}
    same = sum(
        1
        for person, at in last_at.items()
        if stored.get(person)
        and datetime.fromisoformat(stored[person]) == datetime.fromisoformat(at)
    )
    return same / len(last_at)


def serving(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc, port = serve(command, env)
    wait_up(f"http://127.0.0.1:{port}/api/health")
    say("serving", *command, "pid", proc.pid)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def main() -> None:
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bench.sqlite"
        env = {
            "WANGGE_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{db}",
            "WANGGE_SECRET_KEY": SECRET,
            "WANGGE_ESCALATION_INTERVAL_S": "0",
        }
        say("building the demo city")
        subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo"],
            cwd=REPO,
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        people, admin = staff(db, WORKERS)
        xy = starts(db, [g for _, g in people])
        load = (people, xy, admin)

        # The product as `wangge serve` runs it, with its uvicorn settings.
        proc, port = serving(["backend.cli", "serve"], env)
        try:
            ours = asyncio.run(drive(port, proc.pid, *load, SCREENS))
            in_store = check_store(port, admin, ours["last_at"])
            # The same load with no screen: what positions cost without the fan-out.
            alone = asyncio.run(drive(port, proc.pid, *load, 0))
        finally:
            stop(proc)  # its shutdown writes the buffered track
        with sqlite3.connect(db) as c:
            tracked = c.execute("SELECT COUNT(*) FROM track_point").fetchone()[0]
        proc, port = serving(["uvicorn", "bench.positions:bare_app"], {})
        try:
            ref = asyncio.run(drive(port, proc.pid, *load, SCREENS, answers=False))
        finally:
            stop(proc)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    in_track = tracked / (ours["sent_total"] + alone["sent_total"])
    report(ours, alone, ref, in_store, in_track, {"before": load_before, "after": load_after})


def report(
    ours: dict, alone: dict, ref: dict, in_store: float, in_track: float, load: dict
) -> None:
    keys = (
        "fixes_per_s",
        "server_cpu_cores",
        "cpu_us_per_fix",
        "cores_at_1000_per_s",
        "frames_per_screen_per_s",
        "min_gap_s",
        "entries_per_screen_per_s",
        "age_p50_ms",
        "age_p99_ms",
        "screens_closed",
        "errors",
    )
    figures = {k: ours[k] for k in keys} | {
        "in_store": round(in_store, 4),
        "in_track": round(in_track, 4),
    }
    quiet = {k: alone[k] for k in keys[:4]}
    reference = {k: ref[k] for k in keys}
    ratios = {"cpu_per_fix": round(ours["cpu_us_per_fix"] / ref["cpu_us_per_fix"], 2)}
    verdicts = {
        "cores_at_1000_per_s": figures["cores_at_1000_per_s"] <= 0.25,
        "in_store": in_store == 1.0,
        "frames_per_screen_per_s": figures["frames_per_screen_per_s"] <= 1.0,
    }
    print(f"{SCREENS} screens, {WORKERS} workers; load average {' '.join(load['before'])}")
    print(f"{'metric':<26}| {'wangge':>9} | {'no screen':>9} | {'bare':>9} | target")
    print("-" * 76)
    for key, value in figures.items():
        verdict = "" if key not in verdicts else ("PASS" if verdicts[key] else "FAIL")
        print(
            f"{key:<26}| {value!s:>9} | {quiet.get(key, '')!s:>9} |"
            f" {reference.get(key, '')!s:>9} | {TARGETS.get(key, '')} {verdict}"
        )
    print(f"cpu per fix, wangge / bare: {ratios['cpu_per_fix']}")
    if ours["fixes_per_s"] < 0.95 * WORKERS:
        print(
            f"note: the load generator sent {ours['fixes_per_s']}/s, not {WORKERS}/s (a busy"
            " machine); cores_at_1000_per_s scales the CPU per fix, which overstates it"
        )
    if ours["first_error"]:
        print("first error:", ours["first_error"])
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "name": "positions",
        "figures": figures,
        "reference": reference,
        "ratios": ratios,
        "targets": TARGETS,
        "without_screens": quiet,
        "screens": SCREENS,
        "workers": WORKERS,
        "load_average": load,
    }
    (out / "positions.json").write_text(json.dumps(result, indent=1) + "\n")
    print("wrote bench/results/positions.json")


if __name__ == "__main__":
    main()
