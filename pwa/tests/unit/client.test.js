import { beforeEach, describe, expect, it, vi } from "vitest";
import en from "../../src/i18n/en.js";
import zh from "../../src/i18n/zh.js";
import { answer, offline, stubFetch } from "./helpers.js";

// The API client with a stubbed fetch: every failure becomes an ApiError with the API's code
// and reason, and no answer at all becomes the code "network".

/** @param {object} [navigator] */
async function load(navigator = {}) {
  vi.resetModules();
  vi.stubGlobal("navigator", navigator);
  return import("../../src/api/client.js");
}

beforeEach(() => {
  vi.stubGlobal("location", { href: "https://wangge.example/app/map", protocol: "https:", host: "wangge.example" });
});

describe("requests", () => {
  it("answers the parsed body, with the signed-in person's token", async () => {
    const { sent } = stubFetch(() => answer(200, { id: 7, status: "submitted" }));
    const api = await load();
    api.useToken(() => "tok");
    expect(await api.getJSON("/api/cases/7")).toEqual({ id: 7, status: "submitted" });
    expect(sent[0]).toMatchObject({
      url: "/api/cases/7",
      method: "GET",
      headers: { Accept: "application/json", Authorization: "Bearer tok" },
    });
  });

  it("sends no Authorization header when no one is signed in", async () => {
    const { sent } = stubFetch(() => answer(200, []));
    const api = await load();
    await api.getJSON("/api/categories");
    expect(sent[0].headers).toEqual({ Accept: "application/json" });
  });

  it("posts JSON", async () => {
    const { sent } = stubFetch(() => answer(200, { token: "t" }));
    const api = await load();
    await api.postJSON("/api/auth/sign-in", { phone: "13800000000", password: "pw" });
    expect(sent[0]).toMatchObject({
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      json: { phone: "13800000000", password: "pw" },
    });
  });
});

describe("errors", () => {
  it.each([
    [400, "invalid_request", "limit: Expected `int`"],
    [401, "bad_credentials", "phone or password is wrong"],
    [403, "forbidden", "residents submit requests (诉求)"],
    [404, "not_found", "no case 7"],
    [409, "stale_version", "version 3 is not the case's"],
    [422, "outside_all_grids", "the point is in no grid"],
    [503, "storage_unavailable", "the disk is full"],
  ])("keeps a %i's code and reason, and tells it in Chinese from the code", async (status, code, reason) => {
    stubFetch(() => answer(status, { code, reason }));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ name: "ApiError", status, code, reason, message: reason });
    expect(api.statusOf(err)).toBe(status);
    const text = api.errorText(err);
    expect(text).toBe(/** @type {Record<string, string>} */ (zh.errors.codes)[code]);
    expect(text).not.toContain(reason);
  });

  it("reads sign-in's refusal fully in Chinese", async () => {
    stubFetch(() => answer(401, { code: "bad_credentials", reason: "phone or password is wrong" }));
    const api = await load();
    const err = await api.postJSON("/api/auth/sign-in", {}).catch((e) => e);
    expect(api.errorText(err)).toBe("手机号或密码错误");
  });

  it("tells every code in the English table in English", async () => {
    stubFetch(() => answer(401, { code: "bad_credentials", reason: "phone or password is wrong" }));
    const api = await load();
    const { i18n } = await import("../../src/i18n/index.js");
    i18n.global.locale.value = "en";
    expect(api.errorText(await api.getJSON("/api/x").catch((e) => e))).toBe("Wrong phone or password");
    expect(Object.keys(en.errors.codes).sort()).toEqual(Object.keys(zh.errors.codes).sort());
  });

  it("tells a code the table lacks by its status, with the server's reason as the detail", async () => {
    stubFetch(() => answer(409, { code: "brand_new_code", reason: "the grid moved" }));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(api.errorText(err)).toBe("状态已变化，请刷新后重试（the grid moved）");
  });

  it.each([
    [500, { code: "internal_error_2", reason: "internal server error" }, "服务器故障（500），请稍后重试"],
    [504, { code: "http_504", reason: "Gateway Timeout" }, "服务器故障（504），请稍后重试"],
  ])("never shows a %i's own words", async (status, body, text) => {
    stubFetch(() => answer(status, body));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(api.errorText(err)).toBe(text);
  });

  it("tells a proxy's 502 page in Chinese, not as Bad Gateway", async () => {
    stubFetch(() => new Response("<html><h1>502 Bad Gateway</h1></html>", { status: 502, statusText: "Bad Gateway" }));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: "http_502", reason: "Bad Gateway" });
    expect(api.errorText(err)).toBe("服务器暂时无法访问（502），请稍后重试");
  });

  it("tells the server's internal error in Chinese", async () => {
    stubFetch(() => answer(500, { status: 500, code: "internal_error", reason: "internal server error" }));
    const api = await load();
    expect(api.errorText(await api.getJSON("/api/x").catch((e) => e))).toBe("服务器内部错误，请稍后重试");
  });

  it("turns no answer at all into the code network, status 0", async () => {
    stubFetch(offline);
    const api = await load();
    const err = await api.postJSON("/api/x", {}).catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ status: 0, code: "network" });
    expect(api.statusOf(err)).toBe(0);
    expect(api.errorText(err)).toBe("网络连接失败，请检查网络后重试");
  });

  it("lets an abort through as it is", async () => {
    stubFetch(() => {
      throw new DOMException("The operation was aborted.", "AbortError");
    });
    const api = await load();
    const err = await api.getJSON("/api/x", { signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).not.toBeInstanceOf(api.ApiError);
    expect(err.name).toBe("AbortError");
  });

  it("refuses a 2xx that is not JSON", async () => {
    stubFetch(() => new Response("<html>captive portal</html>", { status: 200 }));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(err).toMatchObject({ status: 200, code: "bad_body" });
    expect(api.errorText(err)).toBe("服务器返回的内容无法识别，请稍后重试");
  });

  it("describes any other failure by its message", async () => {
    const api = await load();
    expect(api.errorText(new Error("boom"))).toBe("boom");
    expect(api.errorText("odd")).toBe("odd");
    expect(api.statusOf(new Error("boom"))).toBeNull();
  });
});

describe("timeouts", () => {
  /** A server that takes the request and never answers: fetch ends only when aborted. */
  function hang() {
    const fetch = vi.fn(
      (/** @type {string} */ _url, /** @type {RequestInit} */ init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    vi.stubGlobal("fetch", fetch);
    return fetch;
  }

  it("ends a request with no answer after 15 s, with a clear message", async () => {
    vi.useFakeTimers();
    try {
      hang();
      const api = await load();
      const pending = api.getJSON("/api/cases/").catch((e) => e);
      await vi.advanceTimersByTimeAsync(api.TIMEOUT_MS - 1);
      let settled = false;
      void pending.then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const err = await pending;
      expect(err).toBeInstanceOf(api.ApiError);
      expect(err).toMatchObject({ status: 0, code: "timeout" });
      expect(api.errorText(err)).toBe("服务器 15 秒未响应，请稍后重试");
    } finally {
      vi.useRealTimers();
    }
  });

  it("ends a body that stalls after the headers too", async () => {
    vi.useFakeTimers();
    try {
      vi.stubGlobal(
        "fetch",
        vi.fn(async (/** @type {string} */ _url, /** @type {RequestInit} */ init) => {
          const body = new ReadableStream({
            start(stream) {
              stream.enqueue(new TextEncoder().encode("[1,"));
              init.signal?.addEventListener("abort", () => stream.error(new DOMException("aborted", "AbortError")));
            },
          });
          return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
        }),
      );
      const api = await load();
      const pending = api.getJSON("/api/cases/", { timeout: 2000 }).catch((e) => e);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await pending).toMatchObject({ code: "timeout" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("a caller's abort stays an abort, and clears the timer", async () => {
    vi.useFakeTimers();
    try {
      hang();
      const api = await load();
      const caller = new AbortController();
      const pending = api.getJSON("/api/cases/", { signal: caller.signal }).catch((e) => e);
      caller.abort();
      const err = await pending;
      expect(err).not.toBeInstanceOf(api.ApiError);
      expect(err.name).toBe("AbortError");
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers in time leave no timer behind", async () => {
    vi.useFakeTimers();
    try {
      stubFetch(() => answer(200, { ok: true }));
      const api = await load();
      expect(await api.getJSON("/api/x")).toEqual({ ok: true });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("getAllFeatures", () => {
  it("follows next links on the page's own origin until the collection is complete", async () => {
    const { sent } = stubFetch((request) => {
      if (request.url === "/api/collections/grids/items?limit=2") {
        return answer(200, {
          features: [{ id: 1 }, { id: 2 }],
          numberReturned: 2,
          // Built from the Host the server saw, behind a proxy: only path and query are kept.
          links: [{ rel: "next", href: "http://10.0.0.5:8000/api/collections/grids/items?limit=2&offset=2" }],
        });
      }
      return answer(200, { features: [{ id: 3 }], numberReturned: 1, links: [] });
    });
    const api = await load();
    const all = await api.getAllFeatures("/api/collections/grids/items?limit=2");
    expect(all).toEqual({ type: "FeatureCollection", features: [{ id: 1 }, { id: 2 }, { id: 3 }] });
    expect(sent.map((s) => s.url)).toEqual([
      "/api/collections/grids/items?limit=2",
      "/api/collections/grids/items?limit=2&offset=2",
    ]);
  });

  it("stops on a page that links to itself", async () => {
    const { sent } = stubFetch(() =>
      answer(200, { features: [{ id: 1 }], numberReturned: 1, links: [{ rel: "next", href: "/api/c?limit=1" }] }),
    );
    const api = await load();
    expect((await api.getAllFeatures("/api/c?limit=1")).features).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });
});

describe("before the service worker controls the page", () => {
  it("asks again for what it read, once the worker takes over, so the cache has it", async () => {
    /** @type {(() => void) | undefined} */
    let onControllerChange;
    const { sent } = stubFetch(() => answer(200, {}));
    const api = await load({
      serviceWorker: {
        controller: null,
        addEventListener: (/** @type {string} */ type, /** @type {() => void} */ fn) => {
          if (type === "controllerchange") onControllerChange = fn;
        },
      },
    });
    await api.getJSON("/api/grids/150302001001");
    await api.postJSON("/api/cases/", {}); // writes are not replayed
    onControllerChange?.();
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET /api/grids/150302001001",
      "POST /api/cases/",
      "GET /api/grids/150302001001",
    ]);
  });
});
