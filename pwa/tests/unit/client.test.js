import { beforeEach, describe, expect, it, vi } from "vitest";
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
    [400, "invalid", "描述不能为空"],
    [401, "unauthenticated", "请先登录"],
    [403, "forbidden", "无权操作"],
    [404, "not_found", "案件不存在"],
    [409, "stale_version", "案件已被他人处理"],
    [422, "validation", "经纬度超出范围"],
    [429, "rate_limited", "请求过于频繁"],
    [500, "internal", "服务器错误"],
    [503, "unavailable", "维护中"],
  ])("maps %i with the API's code and reason", async (status, code, reason) => {
    stubFetch(() => answer(status, { code, reason }));
    const api = await load();
    const err = await api.getJSON("/api/x").catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ name: "ApiError", status, code, reason, message: reason });
    expect(api.errorText(err)).toBe(reason);
    expect(api.statusOf(err)).toBe(status);
  });

  it("names the status when the answer is not the API's JSON (a proxy's error page)", async () => {
    stubFetch(() => new Response("<html>502</html>", { status: 502, statusText: "Bad Gateway" }));
    const api = await load();
    await expect(api.getJSON("/api/x")).rejects.toMatchObject({ status: 502, code: "http_502", reason: "Bad Gateway" });
  });

  it("turns no answer at all into the code network, status 0", async () => {
    stubFetch(offline);
    const api = await load();
    const err = await api.postJSON("/api/x", {}).catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ status: 0, code: "network", reason: "网络连接失败" });
    expect(api.statusOf(err)).toBe(0);
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
    await expect(api.getJSON("/api/x")).rejects.toMatchObject({ status: 200, code: "bad_body" });
  });

  it("describes any other failure by its message", async () => {
    const api = await load();
    expect(api.errorText(new Error("boom"))).toBe("boom");
    expect(api.errorText("odd")).toBe("odd");
    expect(api.statusOf(new Error("boom"))).toBeNull();
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
