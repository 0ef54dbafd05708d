"""Benchmark: a whole city's peak on one box, at 1×, 2× and 4× (issue 21's load profile).

1× is 乌海's peak: 1,000 workers on duty, each sending a position every 10 s over the live
socket; 50 city-wide screens; 30 reads/s (a grid leader's inbox, a case page, a district's
latest positions); 5 submissions/s with a burst of 50/s for one second in every 30; 3
transitions/s (a leader accepting, then dispatching, the cases just submitted). k× multiplies
every rate and the screens by k (the same 1,000 workers send k times as often).

The load is open-loop: each request leaves at its time whatever the earlier ones are doing, so
a slow server meets the whole load, as it would in a city. The screens live in processes of
their own and note when each new case reaches them. The server is `wangge serve` on SQLite, as
`make run` starts it (`BENCH_DB=postgres` runs it on PostgreSQL and Redis with
`BENCH_SERVER_WORKERS` processes, 2 unless set), restarted for each level. The reference is a
bare ASGI app answering the same requests with fixed bytes under the 1× load, in the same run:
the floor set by this machine, the load generator and the HTTP stack.

Run from the repository root: `.venv/bin/python bench/city.py` (`BENCH_SECONDS`, 60 unless set,
is each level's measured window; `BENCH_LEVELS=1,2` picks levels). Prints a table, writes
bench/results/city.json and always exits 0; PASS/FAIL is printed per target.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import shapely
import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.auth.tokens import TokenClaims, issue_token  # noqa: E402
from bench._serving import cpu_seconds, family, rss_bytes, serve, stop  # noqa: E402

SECRET = "c" * 40
WORKERS = 1_000
SCREENS = 50
FIX_EVERY_S = 10.0
READS, SUBMITS, TRANSITIONS = 30.0, 5.0, 3.0  # per second at 1×
BURST, BURST_EVERY_S = 50.0, 30.0  # a second at this rate in every BURST_EVERY_S
WARMUP_S = 10.0
WINDOW_S = float(os.environ.get("BENCH_SECONDS", "60"))
LEVELS = tuple(int(x) for x in os.environ.get("BENCH_LEVELS", "1,2,4").split(","))
DB = os.environ.get("BENCH_DB", "sqlite")
SERVER_WORKERS = int(os.environ.get("BENCH_SERVER_WORKERS", "2"))
TIMEOUT_S = 30.0
KINDS = ("position", "read", "submit", "transition")


def say(*what: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *what, file=sys.stderr, flush=True)


def token(person: int) -> str:
    return issue_token(TokenClaims(sub=person, exp=int(time.time()) + 86_400), SECRET)


@dataclass
class City:
    """Who sends what, read off the demo city's database."""

    workers: list[tuple[int, str]]  # (person, home grid)
    leader_of: dict[str, int]  # grid → its leader
    worker_of: dict[str, int]  # grid → a worker to dispatch to
    admin: int
    districts: list[str]
    spots: dict[str, np.ndarray]  # grid → points inside it


def read_city(db: str) -> City:
    with sqlite3.connect(db) as c:
        posts = c.execute(
            "SELECT p.id, p.role, g.code FROM person p JOIN grid_post gp ON gp.person = p.id"
            " JOIN grid g ON g.id = gp.grid WHERE p.active ORDER BY p.id"
        ).fetchall()
        admin = c.execute("SELECT id FROM person WHERE role = 'city_admin' ORDER BY id").fetchone()
        districts = [r[0] for r in c.execute("SELECT code FROM area WHERE level = 'district'")]
        shapes = dict(c.execute("SELECT code, geom FROM grid").fetchall())
    staff = [(p, g) for p, role, g in posts if role in ("grid_worker", "grid_police")]
    workers = list({p: (p, g) for p, g in staff}.values())[:WORKERS]
    if len(workers) < WORKERS:
        raise SystemExit(f"the demo city has {len(workers)} field staff, fewer than {WORKERS}")
    leader_of = {g: p for p, role, g in posts if role == "grid_leader"}
    worker_of = {g: p for p, role, g in posts if role == "grid_worker"}
    rng = np.random.default_rng(21)
    spots: dict[str, np.ndarray] = {}
    for code, text in shapes.items():
        if code not in leader_of or code not in worker_of:
            continue
        shape = shapely.from_geojson(text)
        x0, y0, x1, y1 = shape.bounds
        xy = rng.uniform((x0, y0), (x1, y1), (200, 2))
        inside = xy[shapely.contains_xy(shape, xy[:, 0], xy[:, 1])]
        if len(inside):
            spots[code] = inside
    return City(workers, leader_of, worker_of, admin[0], districts, spots)


# ---- the screens, in processes of their own ------------------------------------------------


def screens(port: int, admin: int, n: int, pipe: Connection) -> None:
    """``n`` city-wide screens; on "stop", answers with what they heard: frames by type,
    close codes, and when each new case reached each screen (wall-clock seconds)."""

    async def main() -> None:
        frames: dict[str, int] = {}
        closed: dict[str, int] = {}
        heard: list[dict[int, float]] = [{} for _ in range(n)]

        async def one(i: int) -> None:
            """A screen as the app keeps it: told to go (4408, 1012), it comes back for what
            it missed."""
            mine, after = heard[i], None
            while True:
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/api/live?token={token(admin)}",
                    max_queue=None,
                    open_timeout=120,
                    ping_interval=None,
                )
                await ws.send(json.dumps({"type": "subscribe", "scopes": [], "after": after}))
                try:
                    async for frame in ws:
                        text = frame if isinstance(frame, str) else frame.decode()
                        kind = text[9 : text.index('"', 9)] if text.startswith('{"type":"') else "?"
                        frames[kind] = frames.get(kind, 0) + 1
                        if kind == "event":
                            event = json.loads(text)
                            after = event["id"]
                            if event["event"] == "case.submit":
                                mine.setdefault(int(event["subject"].split(":")[1]), time.time())
                except websockets.ConnectionClosed:
                    pass
                code = str(ws.close_code)
                closed[code] = closed.get(code, 0) + 1
                if code not in ("4408", "1012"):
                    return

        tasks = []
        for start in range(0, n, 25):
            tasks += [asyncio.create_task(one(i)) for i in range(start, min(n, start + 25))]
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        pipe.send({"frames": frames, "closed": closed, "heard": heard})

    asyncio.run(main())


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Each request's kind, latency (ms), status and whether a 503 said when to come back."""

    rows: list[tuple[str, float, int, bool]] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)  # how late the generator sent, by its plan
    sent_at: dict[int, float] = field(default_factory=dict)  # case → wall time of its POST
    created_in_window: set[int] = field(default_factory=set)
    measuring: bool = False

    def add(self, kind: str, ms: float, status: int, retry_after: bool) -> None:
        if self.measuring:
            self.rows.append((kind, ms, status, retry_after))

    def late(self, planned: float) -> None:
        if self.measuring:
            self.lag_ms.append((time.perf_counter() - planned) * 1000)


class Load:
    def __init__(self, city: City, port: int, level: int) -> None:
        self.city, self.port, self.level = city, port, level
        self.base = f"http://127.0.0.1:{port}"
        self.tally = Tally()
        # (case, owner, version): a transition names the version it acts on
        self.submitted: deque[tuple[int, str, int]] = deque(maxlen=5_000)
        self.accepted: deque[tuple[int, str, int]] = deque(maxlen=5_000)
        self.recent: deque[tuple[int, str]] = deque(maxlen=500)
        self.rng = np.random.default_rng(level)
        self.closed: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()  # requests under way
        self.readers: list[asyncio.Task[None]] = []  # the workers' sockets' readers
        self.grids = sorted(city.spots)
        self.auth = {p: {"Authorization": f"Bearer {token(p)}"} for p in self._people()}

    def _people(self) -> set[int]:
        c = self.city
        return {c.admin, *c.leader_of.values(), *c.worker_of.values(), *(p for p, _ in c.workers)}

    def fire(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def request(
        self, kind: str, method: str, path: str, person: int, body: Any = None
    ) -> tuple[int, Any]:
        start = time.perf_counter()
        status, answer, retry = 0, None, False
        try:
            async with self.http.request(
                method, self.base + path, json=body, headers=self.auth[person]
            ) as r:
                status = r.status
                retry = "Retry-After" in r.headers
                raw = await r.read()
                if status < 300 and raw[:1] == b"{":
                    answer = json.loads(raw)
        except (TimeoutError, aiohttp.ClientError):
            status = 0
        self.tally.add(kind, (time.perf_counter() - start) * 1000, status, retry)
        return status, answer

    async def submit(self) -> None:
        person, _ = self.city.workers[int(self.rng.integers(len(self.city.workers)))]
        grid = self.grids[int(self.rng.integers(len(self.grids)))]
        spots = self.city.spots[grid]
        lon, lat = spots[int(self.rng.integers(len(spots)))].tolist()
        body = {
            "client_id": str(uuid.uuid4()),
            "kind": "incident",
            "category": "1501",
            "description": "巡查发现路灯不亮",
            "lon": lon,
            "lat": lat,
        }
        sent = time.time()
        status, answer = await self.request("submit", "POST", "/api/cases/", person, body)
        if status == 201 and answer:
            case = int(answer["id"])
            self.tally.sent_at[case] = sent
            if self.tally.measuring:
                self.tally.created_in_window.add(case)
            owner = answer.get("owner_code") or grid
            self.submitted.append((case, owner, int(answer["version"])))
            self.recent.append((case, owner))

    async def transition(self, n: int) -> None:
        if n % 2 and self.accepted:
            case, grid, version = self.accepted.popleft()
            leader = self.city.leader_of.get(grid, self.city.admin)
            body = {
                "action": "dispatch",
                "assignee": self.city.worker_of.get(grid),
                "version": version,
            }
            await self.request("transition", "POST", f"/api/cases/{case}/transitions", leader, body)
        elif self.submitted:
            case, grid, version = self.submitted.popleft()
            leader = self.city.leader_of.get(grid, self.city.admin)
            status, answer = await self.request(
                "transition",
                "POST",
                f"/api/cases/{case}/transitions",
                leader,
                {"action": "accept", "version": version},
            )
            if status == 200 and answer:
                self.accepted.append((case, grid, int(answer["version"])))

    async def read(self, n: int) -> None:
        c = self.city
        if n % 3 == 0 or not self.recent:
            grid = self.grids[n % len(self.grids)]
            await self.request("read", "GET", "/api/case-list/?limit=20", c.leader_of[grid])
        elif n % 3 == 1:
            case, grid = self.recent[int(self.rng.integers(len(self.recent)))]
            await self.request("read", "GET", f"/api/cases/{case}", c.leader_of.get(grid, c.admin))
        else:
            district = c.districts[n % len(c.districts)]
            await self.request("read", "GET", f"/api/positions/latest?scope={district}", c.admin)

    async def every(self, per_s: float, what: Any, until: float) -> None:
        """Open loop: ``what(n)`` fired at ``per_s``, whatever the earlier ones are doing."""
        start, n = time.perf_counter(), 0
        while True:
            at = start + n / per_s
            if at >= until:
                return
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.tally.late(at)
            self.fire(what(n))
            n += 1

    async def submissions(self, until: float) -> None:
        start, n = time.perf_counter(), 0
        while True:
            t = n / (SUBMITS * self.level)
            # one second in every BURST_EVERY_S at the burst rate
            at = start + t
            if at >= until:
                return
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.tally.late(at)
            self.fire(self.submit())
            n += 1
            if (at - start) % BURST_EVERY_S < 1.0 / (SUBMITS * self.level):
                extra = int(BURST * self.level) - int(SUBMITS * self.level)
                for i in range(extra):
                    self.fire(self._later(i / (BURST * self.level), self.submit()))

    async def _later(self, seconds: float, coro: Any) -> None:
        await asyncio.sleep(seconds)
        await coro

    async def positions(self, sockets: list[Any], until: float) -> None:
        c = self.city
        here = np.array([c.spots[g][0] if g in c.spots else (0.0, 0.0) for _, g in c.workers])
        per_s = len(sockets) * self.level / FIX_EVERY_S
        start, n = time.perf_counter(), 0
        while True:
            at = start + n / per_s
            if at >= until:
                return
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            self.tally.late(at)
            i = n % len(sockets)
            here[i] += self.rng.normal(0, 1e-5, 2)
            lon, lat = here[i].tolist()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            text = f'{{"type":"position","lon":{lon},"lat":{lat},"accuracy":8.0,"at":"{stamp}"}}'
            self.fire(self._send(sockets[i], text))
            n += 1

    async def _send(self, ws: Any, text: str) -> None:
        start = time.perf_counter()
        try:
            await ws.send(text)
            status = 200
        except websockets.ConnectionClosed:
            status = 0
        self.tally.add("position", (time.perf_counter() - start) * 1000, status, False)

    async def worker_socket(self, person: int) -> Any:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/api/live?token={token(person)}",
            max_queue=None,
            open_timeout=120,
            ping_interval=None,
        )
        await ws.send('{"type":"duty","on":true}')
        self.readers.append(asyncio.create_task(self._drain(ws)))
        return ws

    async def _drain(self, ws: Any) -> None:
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        if not self.tally.measuring and ws.close_code == 1000:
            return  # closed by us at the end
        code = str(ws.close_code)
        self.closed[code] = self.closed.get(code, 0) + 1

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as self.http:
            sockets = []
            for start in range(0, len(self.city.workers), 50):
                batch = self.city.workers[start : start + 50]
                sockets += await asyncio.gather(*(self.worker_socket(p) for p, _ in batch))
            say(f"{len(sockets)} workers on duty")
            for phase, seconds in (("warm-up", WARMUP_S), ("window", WINDOW_S)):
                self.tally.measuring = phase == "window"
                until = time.perf_counter() + seconds
                await asyncio.gather(
                    self.positions(sockets, until),
                    self.submissions(until),
                    self.every(TRANSITIONS * self.level, self.transition, until),
                    self.every(READS * self.level, self.read, until),
                )
            self.tally.measuring = False
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=TIMEOUT_S)
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            for t in [*self.tasks, *self.readers]:
                t.cancel()


# ---- one level -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0


def measure(city: City, port: int, pid: int, level: int) -> dict[str, Any]:
    n_screens = SCREENS * level
    spawn = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for part in range(2):
        mine, theirs = spawn.Pipe()
        share = n_screens // 2 + (n_screens % 2 if part == 0 else 0)
        procs.append(spawn.Process(target=screens, args=(port, city.admin, share, theirs)))
        procs[-1].start()
        pipes.append(mine)
    for pipe in pipes:
        if not pipe.poll(300) or pipe.recv() != "ready":
            raise SystemExit("the screens did not connect")
    say(f"{n_screens} screens connected")
    load = Load(city, port, level)
    pids = family(pid)
    rss: list[int] = []
    cpu0 = cpu_seconds(pids)
    # The other contenders for the box's cores: this generator, the screens' processes.
    others0 = cpu_seconds([os.getpid()]), cpu_seconds([p.pid for p in procs if p.pid])
    started = time.perf_counter()

    async def sample() -> None:
        while True:
            rss.append(rss_bytes(pids))
            await asyncio.sleep(1)

    async def go() -> None:
        sampler = asyncio.create_task(sample())
        await load.run()
        sampler.cancel()

    asyncio.run(go())
    cpu = cpu_seconds(pids) - cpu0
    elapsed = time.perf_counter() - started
    generator = (cpu_seconds([os.getpid()]) - others0[0]) / elapsed
    screens_cores = (cpu_seconds([p.pid for p in procs if p.pid]) - others0[1]) / elapsed
    time.sleep(3)  # the last events reach the screens
    heard: list[dict[int, float]] = []
    frames: dict[str, int] = {}
    closed: dict[str, int] = dict(load.closed)
    for pipe in pipes:
        pipe.send("stop")
    for pipe, proc in zip(pipes, procs, strict=True):
        got = pipe.recv()
        proc.join(30)
        heard += [{int(k): v for k, v in h.items()} for h in got["heard"]]
        for k, v in got["frames"].items():
            frames[k] = frames.get(k, 0) + v
        for k, v in got["closed"].items():
            closed[k] = closed.get(k, 0) + v
    out = summarise(load.tally, heard, frames, closed, rss, cpu / elapsed, level)
    out["generator_cores"] = round(generator, 3)
    out["screens_cores"] = round(screens_cores, 3)
    return out


def summarise(
    tally: Tally,
    heard: list[dict[int, float]],
    frames: dict[str, int],
    closed: dict[str, int],
    rss: list[int],
    cores: float,
    level: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level}
    for kind in KINDS:
        rows = [r for r in tally.rows if r[0] == kind]
        served = [ms for _, ms, status, _ in rows if status not in (0, 503)]
        shed = [(ms, retry) for _, ms, status, retry in rows if status == 503]
        out[kind] = {
            "count": len(rows),
            "p50_ms": percentile(served, 50),
            "p99_ms": percentile(served, 99),
            "max_ms": round(max((ms for _, ms, _, _ in rows), default=0.0), 1),
            # no answer in TIMEOUT_S, or a 5xx other than the 503 that sheds load
            "errors": sum(1 for _, _, st, _ in rows if st == 0 or (st >= 500 and st != 503)),
            "shed_503": len(shed),
            "shed_max_ms": round(max((ms for ms, _ in shed), default=0.0), 1),
            "shed_without_retry_after": sum(1 for _, retry in shed if not retry),
            "refused_4xx": sum(1 for _, _, status, _ in rows if 400 <= status < 500),
        }
    delays = [
        (screen[case] - tally.sent_at[case]) * 1000
        for screen in heard
        for case in tally.created_in_window
        if case in screen
    ]
    out["submit_to_screen"] = {
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
    }
    out["events_lost"] = sum(
        1 for screen in heard for case in tally.created_in_window if case not in screen
    )
    out["cases_created"] = len(tally.created_in_window)
    screen_s = max(len(heard), 1) * (WINDOW_S + WARMUP_S)
    out["frames_per_screen_per_s"] = round(sum(frames.values()) / screen_s, 1)
    out["frames_per_screen_per_s_by_type"] = {k: round(v / screen_s, 2) for k, v in frames.items()}
    out["sockets_closed_1011"] = closed.get("1011", 0)
    out["sockets_closed"] = closed
    out["rss_max_mb"] = round(max(rss, default=0) / 2**20, 1)
    out["server_cores"] = round(cores, 3)
    out["max_wait_ms"] = max(out[k]["max_ms"] for k in KINDS)
    out["generator_lag_p99_ms"] = percentile(tally.lag_ms, 99)
    out["generator_lag_max_ms"] = round(max(tally.lag_ms, default=0.0), 1)
    return out


# ---- the run -------------------------------------------------------------------------------


def server_env(tmp: str, db_url: str) -> dict[str, str]:
    return {
        "WANGGE_DATA_DIR": tmp,
        "DATABASE_URL": db_url,
        "WANGGE_SECRET_KEY": SECRET,
        "WANGGE_ESCALATION_INTERVAL_S": "0",
    }


def postgres_database() -> str:
    """An empty PostgreSQL database of this run's own, for the demo city."""
    name = f"wangge_bench_city_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc",
                    f'CREATE DATABASE "{name}"'], check=True)  # fmt: skip
    return name


def main() -> None:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bench.sqlite"
        sqlite_env = server_env(tmp, f"sqlite:///{db}")
        say("building the demo city")
        subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo"],
            cwd=REPO,
            env={**os.environ, **sqlite_env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        city = read_city(db)
        env, command = sqlite_env, ["backend.cli", "serve"]
        if DB == "postgres":
            url = f"postgresql://postgres@127.0.0.1:5432/{postgres_database()}"
            env = {**server_env(tmp, url), "REDIS_URL": "redis://127.0.0.1:6379/0"}
            subprocess.run(
                [sys.executable, "-m", "backend.cli", "demo"],
                cwd=REPO,
                env={**os.environ, **env},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            command = [*command, "--workers", str(SERVER_WORKERS)]
        proc, port = serve(["uvicorn", "bench._city_bare:app"], {})
        try:
            say("reference: the bare app at 1×")
            results["reference"] = measure(city, port, proc.pid, 1)
        finally:
            stop(proc)
        for level in LEVELS:
            proc, port = serve(command, env)
            try:
                say(f"wangge at {level}×")
                results[f"{level}x"] = measure(city, port, proc.pid, level)
            finally:
                stop(proc)
    report(results)


TARGETS = {
    "1x_p99_ms_each_kind": "<= 100",
    "1x_submit_to_screen_p99_ms": "<= 250",
    "2x_p99_ms_each_kind": "<= 300",
    "4x_max_wait_ms": "<= 2000",
    "4x_shed_max_ms": "<= 100",
    "4x_events_lost": "== 0",
    "4x_sockets_closed_1011": "== 0",
    "4x_rss_max_mb": "<= 1024",
}


def checks(results: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    got: dict[str, tuple[float, bool]] = {}
    if "1x" in results:
        one = results["1x"]
        p99 = max(one[k]["p99_ms"] for k in KINDS)
        got["1x_p99_ms_each_kind"] = (p99, p99 <= 100)
        s2s = one["submit_to_screen"]["p99_ms"]
        got["1x_submit_to_screen_p99_ms"] = (s2s, s2s <= 250)
    if "2x" in results:
        p99 = max(results["2x"][k]["p99_ms"] for k in KINDS)
        got["2x_p99_ms_each_kind"] = (p99, p99 <= 300)
    if "4x" in results:
        four = results["4x"]
        shed = max(four[k]["shed_max_ms"] for k in KINDS)
        got["4x_max_wait_ms"] = (four["max_wait_ms"], four["max_wait_ms"] <= 2000)
        got["4x_shed_max_ms"] = (shed, shed <= 100)
        got["4x_events_lost"] = (four["events_lost"], four["events_lost"] == 0)
        got["4x_sockets_closed_1011"] = (
            four["sockets_closed_1011"],
            four["sockets_closed_1011"] == 0,
        )
        got["4x_rss_max_mb"] = (four["rss_max_mb"], four["rss_max_mb"] <= 1024)
    return got


def report(results: dict[str, Any]) -> None:
    runs = [k for k in ("reference", *(f"{n}x" for n in LEVELS)) if k in results]
    print(f"\ncity peak profile on {DB}, {WINDOW_S:.0f} s a level; load {os.getloadavg()[0]:.1f}")
    print(f"{'':28}" + "".join(f"{r:>14}" for r in runs))
    for kind in KINDS:
        for figure in ("count", "p50_ms", "p99_ms", "max_ms", "shed_503", "errors"):
            cells = "".join(f"{results[r][kind][figure]:>14}" for r in runs)
            print(f"{kind + ' ' + figure:<28}{cells}")
    for figure in (
        "cases_created",
        "events_lost",
        "frames_per_screen_per_s",
        "sockets_closed_1011",
        "rss_max_mb",
        "server_cores",
        "generator_cores",
        "screens_cores",
        "generator_lag_p99_ms",
        "generator_lag_max_ms",
    ):
        print(f"{figure:<28}" + "".join(f"{results[r][figure]:>14}" for r in runs))
    s2s = "".join(f"{results[r]['submit_to_screen']['p99_ms']:>14}" for r in runs)
    print(f"{'submit→screen p99_ms':<28}{s2s}")
    got = checks(results)
    print()
    for name, target in TARGETS.items():
        if name in got:
            value, ok = got[name]
            print(f"{name:<28} {value:>10} {target:>8} {'PASS' if ok else 'FAIL'}")
    ratios = {}
    if "1x" in results and "reference" in results:
        for kind in KINDS:
            ref = results["reference"][kind]["p99_ms"]
            if ref:
                ratios[f"1x_{kind}_p99_vs_bare"] = round(results["1x"][kind]["p99_ms"] / ref, 2)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "city.json").write_text(
        json.dumps(
            {
                "name": "city",
                "figures": {r: results[r] for r in runs if r != "reference"},
                "reference": results.get("reference"),
                "ratios": ratios,
                "targets": {n: {"target": t, "got": got.get(n)} for n, t in TARGETS.items()},
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print("wrote bench/results/city.json")


if __name__ == "__main__":
    main()
