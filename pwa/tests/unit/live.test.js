import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { stubLocalStorage } from "./helpers.js";

// The live stream client against a fake WebSocket: the test opens, feeds and drops sockets.

class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  /** @type {FakeWebSocket[]} */
  static all = [];

  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = FakeWebSocket.CONNECTING;
    /** @type {any[]} */
    this.sent = [];
    /** @type {number | null} */
    this.closedWith = null;
    /** @type {((event: object) => void) | null} */
    this.onopen = null;
    /** @type {((event: { data: string }) => void) | null} */
    this.onmessage = null;
    /** @type {((event: { code: number }) => void) | null} */
    this.onclose = null;
    FakeWebSocket.all.push(this);
  }

  /** @param {string} data */
  send(data) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("InvalidStateError: not open");
    this.sent.push(JSON.parse(data));
  }

  /** As a browser does: closed now, the close event a moment later. */
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = FakeWebSocket.CLOSED;
    queueMicrotask(() => this.onclose?.({ code }));
  }

  // What the server (or the network) does:
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  /** @param {unknown} message */
  receive(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** @param {number} code */
  drop(code = 1006) {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code });
  }
}

const latest = () => /** @type {FakeWebSocket} */ (FakeWebSocket.all.at(-1));

/** @type {Map<string, Set<() => void>>} */
let windowListeners;
let visibility = "visible";

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.all = [];
  windowListeners = new Map();
  visibility = "visible";
  vi.stubGlobal("WebSocket", FakeWebSocket);
  vi.stubGlobal("location", { protocol: "https:", host: "wangge.example", href: "https://wangge.example/app/" });
  const listen = (/** @type {string} */ type, /** @type {() => void} */ fn) => {
    if (!windowListeners.has(type)) windowListeners.set(type, new Set());
    windowListeners.get(type)?.add(fn);
  };
  const unlisten = (/** @type {string} */ type, /** @type {() => void} */ fn) => windowListeners.get(type)?.delete(fn);
  vi.stubGlobal("addEventListener", listen);
  vi.stubGlobal("removeEventListener", unlisten);
  vi.stubGlobal("document", {
    get visibilityState() {
      return visibility;
    },
    addEventListener: listen,
    removeEventListener: unlisten,
    // Vue's DOM runtime, loaded by the store test, makes one element at import.
    createElement: () => ({}),
  });
  stubLocalStorage();
});

afterEach(() => {
  vi.useRealTimers();
});

/** @param {Partial<import("../../src/live/socket.js").LiveOptions>} [options] */
async function stream(options = {}) {
  vi.resetModules();
  const { LiveStream } = await import("../../src/live/socket.js");
  const messages = /** @type {any[]} */ ([]);
  const states = /** @type {string[]} */ ([]);
  const onUnauthorized = vi.fn();
  const live = new LiveStream({
    token: "secret-token",
    scopes: ["grid:150302001001"],
    onMessage: (m) => messages.push(m),
    onState: (s) => states.push(s),
    onUnauthorized,
    ...options,
  });
  live.start();
  return { live, messages, states, onUnauthorized };
}

describe("LiveStream", () => {
  it("connects without the token in the URL, and sends the token as the very first message", async () => {
    const { states } = await stream();
    const socket = latest();
    expect(socket.url).toBe("wss://wangge.example/api/live");
    expect(socket.url).not.toContain("secret-token");
    socket.open();
    expect(socket.sent[0]).toEqual({ type: "auth", token: "secret-token" });
    expect(socket.sent[1]).toEqual({ type: "subscribe", scopes: ["grid:150302001001"], after: null });
    socket.receive({ type: "subscribed", head: 40 });
    expect(states).toEqual(["connecting", "live"]);
  });

  it("takes the stream from the head when it has seen nothing, then keeps the last event id", async () => {
    const { messages } = await stream();
    const socket = latest();
    socket.open();
    socket.receive({ type: "subscribed", head: 40 });
    expect(localStorage.getItem("wangge.live.lastId")).toBe("40");
    socket.receive({ type: "event", id: 41, subject: "case:7" });
    socket.receive({ type: "event", id: 41, subject: "case:7" }); // heard twice: handled once
    socket.receive({ type: "event", id: 39, subject: "case:6" }); // older than what was seen
    socket.receive({ type: "event", id: 42, subject: "case:8" });
    expect(messages.filter((m) => m.type === "event").map((m) => m.id)).toEqual([41, 42]);
    expect(localStorage.getItem("wangge.live.lastId")).toBe("42");
  });

  it("reconnects after a drop and resumes after the last event id, authenticating first again", async () => {
    const { states } = await stream();
    const first = latest();
    first.open();
    first.receive({ type: "subscribed", head: 40 });
    first.receive({ type: "event", id: 41, subject: "case:7" });

    first.drop(1006);
    expect(states.at(-1)).toBe("offline");
    expect(FakeWebSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);

    const second = latest();
    second.open();
    expect(second.sent).toEqual([
      { type: "auth", token: "secret-token" },
      { type: "subscribe", scopes: ["grid:150302001001"], after: 41 },
    ]);
  });

  it("resumes from the id kept by an earlier start of the app", async () => {
    localStorage.setItem("wangge.live.lastId", "1234");
    await stream();
    latest().open();
    expect(latest().sent[1]).toMatchObject({ type: "subscribe", after: 1234 });
  });

  it("waits 1, 2, 4 … up to 30 s between failed connects, and starts again from 1 s once connected", async () => {
    await stream();
    const waits = [];
    for (let i = 0; i < 7; i++) {
      const count = FakeWebSocket.all.length;
      latest().drop(1006);
      let waited = 0;
      while (FakeWebSocket.all.length === count) {
        vi.advanceTimersByTime(500);
        waited += 500;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);

    latest().open();
    latest().drop(1006);
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.all).toHaveLength(9);
  });

  it("subscribes with its viewport, changes it on the open socket, and keeps it for reconnects", async () => {
    const { live, messages } = await stream({ bbox: [106.7, 39.5, 106.9, 39.7] });
    const first = latest();
    first.open();
    expect(first.sent[1]).toEqual({
      type: "subscribe",
      scopes: ["grid:150302001001"],
      after: null,
      bbox: [106.7, 39.5, 106.9, 39.7],
    });
    live.setViewport([-200, -95, 106.8, 39.6]); // a zoomed-out map's corners are clamped
    expect(first.sent[2]).toEqual({ type: "viewport", bbox: [-180, -90, 106.8, 39.6] });
    first.receive({ type: "positions", workers: [{ person: 3, lon: 106.75, lat: 39.55 }] });
    expect(messages.at(-1)).toEqual({ type: "positions", workers: [{ person: 3, lon: 106.75, lat: 39.55 }] });
    first.drop(1006);
    vi.advanceTimersByTime(1_000);
    latest().open();
    expect(latest().sent[1]).toMatchObject({ type: "subscribe", bbox: [-180, -90, 106.8, 39.6] });
    live.setViewport(null);
    expect(latest().sent[2]).toEqual({ type: "viewport", bbox: null });
  });

  it("comes straight back when the server dropped it for reading too slowly (4408)", async () => {
    await stream();
    latest().open();
    latest().drop(4408);
    vi.advanceTimersByTime(0);
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it("comes back within 0.5 to 3 s, at a random moment, when the server restarts (1012)", async () => {
    await stream();
    // [Math.random(), not yet after this many ms, connecting this many ms later]
    for (const [random, before, then] of [
      [0, 499, 1],
      [0.999, 2_990, 10],
    ]) {
      const spy = vi.spyOn(Math, "random").mockReturnValue(random);
      const count = FakeWebSocket.all.length;
      latest().open();
      latest().drop(1012);
      vi.advanceTimersByTime(before);
      expect(FakeWebSocket.all).toHaveLength(count);
      vi.advanceTimersByTime(then);
      expect(FakeWebSocket.all).toHaveLength(count + 1);
      spy.mockRestore();
      latest().open();
      latest().receive({ type: "subscribed", head: 1 });
    }
  });

  it("stops reconnecting and says so when the server closes with 4401", async () => {
    const { states, onUnauthorized } = await stream();
    latest().open();
    latest().drop(4401);
    expect(states.at(-1)).toBe("unauthorized");
    expect(onUnauthorized).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it("closes with 1000 on stop and does not come back, even when the network returns", async () => {
    const { live, states } = await stream();
    const socket = latest();
    socket.open();
    live.stop();
    await Promise.resolve(); // the close event
    expect(socket.closedWith).toBe(1000);
    for (const wake of windowListeners.get("online") ?? []) wake();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
    expect(states).not.toContain("offline");
  });

  it("reconnects at once when the phone is back online or the app is shown again", async () => {
    await stream();
    latest().open();
    latest().drop(1006); // the retry timer is 1 s away
    for (const wake of windowListeners.get("online") ?? []) wake();
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it("sends only on an open socket, and says when it could not", async () => {
    const { live } = await stream();
    expect(live.send({ type: "position", lon: 106.8, lat: 39.6 })).toBe(false);
    latest().open();
    expect(live.send({ type: "position", lon: 106.8, lat: 39.6 })).toBe(true);
    expect(latest().sent.at(-1)).toEqual({ type: "position", lon: 106.8, lat: 39.6 });
  });

  it("ignores a frame that is not JSON", async () => {
    const { messages } = await stream();
    latest().open();
    latest().onmessage?.({ data: "not json" });
    expect(messages).toEqual([]);
  });
});

describe("the live store", () => {
  /**
   * A grid worker signed in with ``token``, and fresh session and live stores.
   * @param {string} token
   */
  async function signedIn(token) {
    vi.resetModules();
    vi.stubGlobal("navigator", { onLine: true });
    localStorage.setItem(
      "wangge.session",
      JSON.stringify({ token, expiresAt: Date.now() / 1000 + 3600, me: { role: "grid_worker" } }),
    );
    const { createPinia, setActivePinia } = await import("pinia");
    setActivePinia(createPinia());
    const { useSession } = await import("../../src/stores/session.js");
    const { useLive } = await import("../../src/stores/live.js");
    return { session: useSession(), live: useLive() };
  }

  it("signs the person out when the server closes the stream with 4401, and stays closed", async () => {
    const { session, live } = await signedIn("revoked-token");
    expect(session.token).toBe("revoked-token");

    live.start();
    latest().open();
    expect(latest().sent[0]).toEqual({ type: "auth", token: "revoked-token" });
    latest().drop(4401);

    expect(live.state).toBe("unauthorized");
    expect(session.token).toBeNull();
    expect(localStorage.getItem("wangge.session")).toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it("signs in again with a new password's token when the old one's 4401 comes after it", async () => {
    const { session, live } = await signedIn("one-time-token");
    live.start();
    latest().open();
    latest().receive({ type: "subscribed", head: 7 });

    // The password change answered first; the revocation of the old token closes the socket.
    session.token = "new-password-token";
    latest().drop(4401);

    expect(session.token).toBe("new-password-token");
    expect(FakeWebSocket.all).toHaveLength(2);
    latest().open();
    expect(latest().sent[0]).toEqual({ type: "auth", token: "new-password-token" });
    expect(latest().sent[1]).toMatchObject({ type: "subscribe", after: 7 });
  });
});
