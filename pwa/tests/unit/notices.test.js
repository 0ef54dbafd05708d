import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answer, offline, stubFetch, stubLocalStorage } from "./helpers.js";

// The notice list: synced from the server, kept for the next start offline, marked read up to
// the newest; and the server's VAPID key as PushManager.subscribe takes it.

const PAGE = {
  items: [
    { id: 7, kind: "case_dispatched", title: "新案件派给您", body: "案件3：路灯不亮", url: "/app/cases/3", at: "", read: false },
    { id: 5, kind: "emergency", title: "海勃湾区进入应急状态", body: "", url: "/app", at: "", read: true },
  ],
  unread: 1,
  next_before: null,
};

async function store() {
  vi.resetModules();
  setActivePinia(createPinia());
  const { useNotices } = await import("../../src/notify/notices.js");
  return useNotices();
}

describe("notices", () => {
  beforeEach(() => {
    stubLocalStorage();
    vi.stubGlobal("navigator", {}); // the API client looks for a service worker
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("opens offline with the list of the last sync", async () => {
    stubFetch(() => answer(200, PAGE));
    const online = await store();
    await online.sync();
    expect(online.unread).toBe(1);

    stubFetch(offline);
    const later = await store();
    expect(later.items.map((/** @type {{ id: number }} */ n) => n.id)).toEqual([7, 5]);
    expect(later.unread).toBe(1);
    await expect(later.sync()).rejects.toThrow();
    expect(later.items).toHaveLength(2);
  });

  it("marks everything up to the newest read", async () => {
    const { sent } = stubFetch((request) => answer(200, request.url.includes("/read") ? { unread: 0 } : PAGE));
    const notices = await store();
    await notices.sync();
    await notices.readAll();
    expect(sent.at(-1)).toMatchObject({ url: "/api/notices/read", method: "POST", json: { upto: 7 } });
    expect(notices.unread).toBe(0);
    expect(notices.items.every((/** @type {{ read: boolean }} */ n) => n.read)).toBe(true);
  });

  it("turns the base64url key into its bytes", async () => {
    const { keyBytes } = await import("../../src/notify/notices.js");
    expect([...keyBytes("BAEC_-8")]).toEqual([4, 1, 2, 255, 239]);
  });
});
