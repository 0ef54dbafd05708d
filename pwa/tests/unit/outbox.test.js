import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answer, freshDB, nextTask, offline, stubFetch } from "./helpers.js";

// The outbox on fake-indexeddb with a stubbed fetch. Each test loads the modules afresh, as an
// app start does; loading them again on the same database is a reload of the app.

const T0 = Date.parse("2026-03-02T09:00:00Z");

/** @typedef {typeof import("../../src/offline/outbox.js")} Outbox */

/** The outbox as a fresh start of the app finds it (same database, no state in memory). */
async function start() {
  vi.resetModules();
  const outbox = await import("../../src/offline/outbox.js");
  outbox.useToken(
    () => "tok",
    () => 1,
  );
  return outbox;
}

/** Lets IndexedDB's callbacks (real setImmediate) and the promises after them run. */
async function until(/** @type {() => boolean} */ condition) {
  for (let i = 0; i < 200 && !condition(); i++) await nextTask();
  expect(condition()).toBe(true);
}

/** Waits for the pass running now, and for the timer it leaves. */
async function quiet(/** @type {Outbox} */ outbox) {
  await outbox.drain();
  for (let i = 0; i < 20; i++) await nextTask();
}

/** @param {string} [url] */
const write = (url = "/api/cases/1/transitions") => ({
  kind: "transition",
  label: "#1 受理",
  request: { method: "POST", url, json: { action: "accept", version: 3 } },
});

beforeEach(() => {
  freshDB();
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

describe("sending", () => {
  it("sends a write with the token and removes it only after a 2xx", async () => {
    const { sent } = stubFetch(() => answer(201, { id: 9 }));
    const outbox = await start();
    const item = await outbox.enqueue(write());
    expect(item.state).toBe("pending");
    await outbox.drain();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      url: "/api/cases/1/transitions",
      method: "POST",
      headers: { Authorization: "Bearer tok", "Content-Type": "application/json" },
      json: { action: "accept", version: 3 },
    });
    expect(await outbox.list()).toEqual([]);
  });

  it("tells its listeners what waits after every change", async () => {
    stubFetch(offline);
    const outbox = await start();
    /** @type {number[]} */
    const seen = [];
    const stop = outbox.onOutboxChange((items) => seen.push(items.length));
    await outbox.enqueue(write());
    await quiet(outbox);
    expect(seen[0]).toBe(1);
    expect(seen.at(-1)).toBe(1);
    stop();
    await outbox.discard((await outbox.list())[0].id);
    expect(seen.at(-1)).toBe(1); // no longer told
  });
});

describe("network failure and server trouble: kept and retried, nothing dropped", () => {
  it("keeps a write the network failed, backs off, and sends it again with the same client id", async () => {
    const { sent } = stubFetch((_, n) => (n === 0 ? offline() : answer(201, { id: 5 })));
    const outbox = await start();
    await outbox.enqueue({ id: "c-1", ...write(), request: { method: "POST", url: "/api/cases/", json: { client_id: "c-1" } } });
    await quiet(outbox);

    const [kept] = await outbox.list();
    expect(kept).toMatchObject({
      id: "c-1",
      state: "retry",
      attempts: 1,
      error: { kind: "network", status: 0, code: "network", reason: "" },
      nextAt: T0 + 5_000,
    });
    // Not due yet: a pass on its own leaves it alone.
    await outbox.drain();
    expect(sent).toHaveLength(1);

    // The backoff timer sends it.
    await until(() => vi.getTimerCount() === 1);
    vi.advanceTimersByTime(5_000);
    await until(() => sent.length === 2);
    await quiet(outbox);
    expect(sent[1].json).toEqual({ client_id: "c-1" });
    expect(await outbox.list()).toEqual([]);
  });

  it("doubles the wait after each failure, up to five minutes", async () => {
    stubFetch(offline);
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    const waits = [];
    for (let i = 0; i < 9; i++) {
      const [item] = await outbox.list();
      waits.push(item.nextAt - Date.now());
      await outbox.drain({ force: true });
    }
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect((await outbox.list())[0].attempts).toBe(10);
  });

  it.each([500, 502, 503, 504, 408, 429])("keeps a write answered %i and retries it later", async (status) => {
    const { sent } = stubFetch((_, n) =>
      n === 0 ? answer(status, { code: "busy", reason: "稍后再试" }) : answer(200, { id: 1 }),
    );
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    const [kept] = await outbox.list();
    expect(kept).toMatchObject({
      state: "retry",
      error: { kind: "server", status, code: "busy", reason: "稍后再试" },
      nextAt: T0 + 5_000,
    });
    vi.setSystemTime(T0 + 5_000);
    await outbox.drain();
    expect(sent).toHaveLength(2);
    expect(await outbox.list()).toEqual([]);
  });

  it("keeps the status as the code when a 5xx has no JSON body", async () => {
    stubFetch(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    expect((await outbox.list())[0].error).toEqual({ kind: "server", status: 502, code: "http_502", reason: "" });
  });

  it("honours a 503's Retry-After (seconds) when it asks for longer than the backoff", async () => {
    const { sent } = stubFetch((_, n) =>
      n === 0 ? answer(503, { code: "maintenance", reason: "维护中" }, { "Retry-After": "120" }) : answer(201, {}),
    );
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    expect((await outbox.list())[0].nextAt).toBe(T0 + 120_000);

    vi.setSystemTime(T0 + 60_000);
    await outbox.drain();
    expect(sent).toHaveLength(1); // the backoff alone would have sent it at 5 s

    vi.setSystemTime(T0 + 120_000);
    await outbox.drain();
    expect(sent).toHaveLength(2);
    expect(await outbox.list()).toEqual([]);
  });

  it("honours a 429's Retry-After given as a date", async () => {
    const at = new Date(T0 + 30_000).toUTCString();
    stubFetch(() => answer(429, { code: "rate_limited", reason: "" }, { "Retry-After": at }));
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    expect((await outbox.list())[0].nextAt).toBe(T0 + 30_000);
  });

  it("sends at once when the person asks, whatever the Retry-After", async () => {
    const { sent } = stubFetch((_, n) =>
      n === 0 ? answer(503, {}, { "Retry-After": "600" }) : answer(201, {}),
    );
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(2);
    expect(await outbox.list()).toEqual([]);
  });

  it("stops a pass at a network failure (the rest would fail the same way), not at a 5xx", async () => {
    const { sent } = stubFetch(offline);
    const outbox = await start();
    await outbox.enqueue(write("/api/a"));
    await outbox.enqueue(write("/api/b"));
    await quiet(outbox);
    await outbox.drain({ force: true });
    expect(sent.map((s) => s.url).filter((u) => u === "/api/b")).toEqual([]);

    const { sent: later } = stubFetch(() => answer(503, {}));
    await outbox.drain({ force: true });
    expect(later.map((s) => s.url)).toEqual(["/api/a", "/api/b"]);
    expect((await outbox.list()).map((i) => i.state)).toEqual(["retry", "retry"]);
  });

  it("keeps a write answered 401 and stops the pass until the person signs in again", async () => {
    const { sent } = stubFetch(() => answer(401, { code: "unauthenticated", reason: "请重新登录" }));
    const outbox = await start();
    await outbox.enqueue(write("/api/a"));
    await outbox.enqueue(write("/api/b"));
    await quiet(outbox);
    await outbox.drain({ force: true });
    expect(new Set(sent.map((s) => s.url))).toEqual(new Set(["/api/a"]));
    const items = await outbox.list();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ state: "retry", error: { kind: "auth", status: 401, reason: "请重新登录" } });
  });
});

describe("refused and conflicting writes: kept with the server's reason", () => {
  it("keeps a refused write (4xx) with the server's reason and does not resend it by itself", async () => {
    const { sent } = stubFetch(() => answer(422, { code: "invalid", reason: "描述至少 5 个字" }));
    const outbox = await start();
    const item = await outbox.enqueue(write());
    await quiet(outbox);
    const [kept] = await outbox.list();
    expect(kept).toMatchObject({
      id: item.id,
      state: "rejected",
      error: { kind: "rejected", status: 422, code: "invalid", reason: "描述至少 5 个字" },
      nextAt: Infinity,
    });
    vi.setSystemTime(T0 + 24 * 3600_000);
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("resends a refused write once the person edited it", async () => {
    const { sent } = stubFetch((request) =>
      request.json.result ? answer(200, { id: 1 }) : answer(400, { code: "missing", reason: "缺少处置结果" }),
    );
    const outbox = await start();
    const item = await outbox.enqueue(write());
    await quiet(outbox);
    expect((await outbox.list())[0].state).toBe("rejected");
    await outbox.retry(item.id, {
      request: { method: "POST", url: "/api/cases/1/transitions", json: { action: "handle", result: "已修复" } },
    });
    expect(sent.at(-1)?.json).toEqual({ action: "handle", result: "已修复" });
    expect(await outbox.list()).toEqual([]);
  });

  it("drops a refused write only when the person discards it", async () => {
    stubFetch(() => answer(403, { code: "forbidden", reason: "不是您的网格" }));
    const outbox = await start();
    const item = await outbox.enqueue(write());
    await quiet(outbox);
    expect(await outbox.list()).toHaveLength(1);
    await outbox.discard(item.id);
    expect(await outbox.list()).toEqual([]);
  });

  it.each([409, 404, 410])("keeps a write answered %i as a conflict, with the server's reason", async (status) => {
    const { sent } = stubFetch(() => answer(status, { code: "stale_version", reason: "案件已被他人处理" }));
    const outbox = await start();
    await outbox.enqueue(write());
    await quiet(outbox);
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(1);
    expect(await outbox.list()).toMatchObject([
      { state: "conflict", error: { kind: "conflict", status, code: "stale_version", reason: "案件已被他人处理" } },
    ]);
  });

  it("goes on with the next write after a refusal", async () => {
    const { sent } = stubFetch((request) => (request.url === "/api/a" ? answer(422, {}) : answer(201, {})));
    const outbox = await start();
    await outbox.enqueue(write("/api/a"));
    await outbox.enqueue(write("/api/b"));
    await quiet(outbox);
    await outbox.drain();
    expect(sent.map((s) => s.url)).toContain("/api/b");
    expect((await outbox.list()).map((i) => i.request.url)).toEqual(["/api/a"]);
  });
});

describe("a report with its photos", () => {
  /** @param {Outbox} outbox */
  async function report(outbox) {
    const { queueCase } = await import("../../src/cases/queue.js");
    const photos = [new Blob(["jpeg-1"], { type: "image/jpeg" }), new Blob(["jpeg-2"], { type: "image/jpeg" })];
    const clientId = await queueCase({ kind: "request", description: "小区路灯不亮，已经三天了", category: "c1" }, photos);
    await quiet(outbox);
    return clientId;
  }

  it("counts as one waiting item, and the photos are sent after the case to its id", async () => {
    stubFetch(offline);
    const outbox = await start();
    const clientId = await report(outbox);
    const items = await outbox.list();
    expect(items.map((i) => i.kind)).toEqual(["case", "photo", "photo"]);
    expect(outbox.countWaiting(items)).toBe(1);
    expect(items[1].after).toBe(clientId);

    const { sent } = stubFetch((request) =>
      request.url === "/api/cases/" ? answer(201, { id: 42 }) : answer(201, { id: 100 + sent.length }),
    );
    await outbox.drain({ force: true });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST /api/cases/",
      "POST /api/cases/42/photos",
      "POST /api/cases/42/photos",
    ]);
    expect(sent[0].json).toMatchObject({ client_id: clientId, description: "小区路灯不亮，已经三天了" });
    for (const [i, request] of sent.slice(1).entries()) {
      expect(request.form?.get("client_id")).toBe(items[i + 1].id);
      const file = request.form?.get("file");
      expect(file).toBeInstanceOf(Blob);
      expect(await /** @type {Blob} */ (file).text()).toBe(`jpeg-${i + 1}`);
    }
    expect(await outbox.list()).toEqual([]);
  });

  it("is counted once by the outbox store as well", async () => {
    stubFetch(offline);
    vi.stubGlobal("navigator", { onLine: false });
    vi.stubGlobal("addEventListener", vi.fn());
    const { createPinia, setActivePinia } = await import("pinia");
    setActivePinia(createPinia());
    const outbox = await start();
    const { useOutbox } = await import("../../src/stores/outbox.js");
    const store = useOutbox();
    await report(outbox);
    await until(() => store.items.length === 3);
    expect(store.waiting).toBe(1);
  });

  it("holds the photos, without polling, while the case is refused; discarding the case takes them too", async () => {
    const { sent } = stubFetch(() => answer(422, { code: "invalid", reason: "请选择类别" }));
    const outbox = await start();
    const clientId = await report(outbox);
    await outbox.drain({ force: true });
    expect(sent.map((s) => s.url)).toEqual(["/api/cases/"]);
    const items = await outbox.list();
    expect(items.map((i) => i.state)).toEqual(["rejected", "pending", "pending"]);
    expect(outbox.countWaiting(items)).toBe(1);
    // Nothing is due until the person acts: no timer wakes the app every second meanwhile.
    expect(vi.getTimerCount()).toBe(0);

    await outbox.discard(clientId);
    expect(await outbox.list()).toEqual([]);
  });

  it("sends the photos to the case's id after a reload between the case and its photos", async () => {
    const { sent } = stubFetch((request) => (request.url === "/api/cases/" ? answer(201, { id: 42 }) : offline()));
    let outbox = await start();
    await report(outbox);
    await outbox.drain({ force: true });
    const waiting = await outbox.list();
    expect(waiting.map((i) => i.kind)).toEqual(["photo", "photo"]);
    expect(waiting.map((i) => i.meta.afterResult)).toEqual([42, 42]);

    outbox = await start(); // the app is closed and opened again: the id is no longer in memory
    const { sent: after } = stubFetch(() => answer(201, {}));
    await outbox.drain({ force: true });
    expect(after.map((s) => s.url)).toEqual(["/api/cases/42/photos", "/api/cases/42/photos"]);
    expect(sent.filter((s) => s.url === "/api/cases/")).toHaveLength(1);
    expect(await outbox.list()).toEqual([]);
  });
});

describe("a reload of the app", () => {
  it("drops nothing: every waiting write comes back with its state and reason, and is sent", async () => {
    stubFetch((request) =>
      request.url === "/api/refused" ? answer(422, { code: "invalid", reason: "超出范围" }) : offline(),
    );
    let outbox = await start();
    await outbox.enqueue(write("/api/refused"));
    await quiet(outbox);
    await outbox.enqueue(write("/api/a"));
    await quiet(outbox);
    await outbox.enqueue(write("/api/b"));
    await quiet(outbox);
    const before = await outbox.list();
    expect(before.map((i) => [i.request.url, i.state, i.attempts])).toEqual([
      ["/api/refused", "rejected", 1],
      ["/api/a", "retry", 1],
      ["/api/b", "retry", 1],
    ]);

    outbox = await start();
    expect(await outbox.list()).toEqual(before);

    const { sent } = stubFetch(() => answer(201, {}));
    await outbox.drain({ force: true });
    expect(sent.map((s) => s.url)).toEqual(["/api/a", "/api/b"]);
    // The refused one still waits for the person, with the server's reason.
    expect(await outbox.list()).toMatchObject([{ request: { url: "/api/refused" }, error: { reason: "超出范围" } }]);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and believes at most an hour", async () => {
    const { retryAfterMs } = await start();
    expect(retryAfterMs("120", T0)).toBe(120_000);
    expect(retryAfterMs(new Date(T0 + 90_000).toUTCString(), T0)).toBe(90_000);
    expect(retryAfterMs(new Date(T0 - 90_000).toUTCString(), T0)).toBe(0);
    expect(retryAfterMs("86400", T0)).toBe(3600_000);
    expect(retryAfterMs(null, T0)).toBeNull();
    expect(retryAfterMs("soon", T0)).toBeNull();
  });
});

describe("a phone shared by a shift", () => {
  /** The outbox with a person (or nobody) signed in, who can change. */
  async function shared() {
    vi.resetModules();
    const outbox = await import("../../src/offline/outbox.js");
    const who = { token: /** @type {string | null} */ ("tok-a"), id: /** @type {number | null} */ (1) };
    outbox.useToken(
      () => who.token,
      () => who.id,
    );
    return { outbox, who };
  }

  it("keeps a write for the person who made it: never sent with the next person's token", async () => {
    const { sent } = stubFetch((_, n) => (n === 0 ? offline() : answer(201, { id: 3 })));
    const { outbox, who } = await shared();
    await outbox.enqueue(write());
    await quiet(outbox); // offline: kept for person 1
    Object.assign(who, { token: "tok-b", id: 2 });
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(1); // only the offline try; nothing went out as person 2
    const [kept] = await outbox.list();
    expect(kept.owner).toBe(1);
    expect(outbox.isMine(kept)).toBe(false);
    Object.assign(who, { token: "tok-a2", id: 1 });
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(2);
    expect(sent[1].headers).toMatchObject({ Authorization: "Bearer tok-a2" });
    expect(await outbox.list()).toEqual([]);
  });

  it("sends a visitor's report without the token of whoever signs in later", async () => {
    const { sent } = stubFetch((_, n) => (n === 0 ? offline() : answer(201, { id: 4 })));
    const { outbox, who } = await shared();
    Object.assign(who, { token: null, id: null });
    await outbox.enqueue(write("/api/anonymous/cases"));
    await quiet(outbox);
    Object.assign(who, { token: "tok-b", id: 2 });
    await outbox.drain({ force: true });
    expect(sent).toHaveLength(2);
    expect(sent[1].headers).not.toHaveProperty("Authorization");
    expect(await outbox.list()).toEqual([]);
  });

  it("sets no timer for another person's writes", async () => {
    stubFetch(offline);
    const { outbox, who } = await shared();
    await outbox.enqueue(write());
    await quiet(outbox);
    Object.assign(who, { token: "tok-b", id: 2 });
    await outbox.drain({ force: true });
    vi.clearAllTimers();
    await outbox.drain();
    for (let i = 0; i < 20; i++) await nextTask();
    expect(vi.getTimerCount()).toBe(0);
  });
});
