import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answer, freshDB, nextTask, offline, stubFetch, stubLocalStorage } from "./helpers.js";

// A visitor's report through the outbox: its photos go to the tracking code the server answers
// with, and the code is kept on the phone whenever the answer comes, then claimed on sign-in.

const CODE = "ABCDE-FGHJK";

/** The app's modules afresh, with nobody signed in (then `who` signs in). */
async function start() {
  vi.resetModules();
  const outbox = await import("../../src/offline/outbox.js");
  const who = { token: /** @type {string | null} */ (null), id: /** @type {number | null} */ (null) };
  outbox.useToken(
    () => who.token,
    () => who.id,
  );
  const client = await import("../../src/api/client.js");
  client.useToken(() => who.token);
  const codes = await import("../../src/cases/codes.js");
  const { queueAnonymousCase } = await import("../../src/cases/queue.js");
  return { outbox, codes, queueAnonymousCase, who };
}

/** @param {import("../../src/offline/outbox.js")} outbox */
async function quiet(outbox) {
  await outbox.drain();
  for (let i = 0; i < 20; i++) await nextTask();
}

/** @param {string} url @param {any} json */
function serverReply(url, json) {
  if (url === "/api/anonymous/cases/") {
    return answer(201, { tracking_code: CODE, case: { id: 77, description: json.description } });
  }
  return answer(201, { id: 5, url: `/api/anonymous/cases/${CODE}/photos/f` });
}

beforeEach(() => {
  freshDB();
  stubLocalStorage();
  vi.stubGlobal("navigator", {});
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

describe("a code typed by hand", () => {
  it("is kept in the server's form", async () => {
    const { codes } = await start();
    expect(codes.normalCode(" abcde fghjk ")).toBe(CODE);
    expect(codes.normalCode("ABCDEFGHJK")).toBe(CODE);
    codes.keep(codes.normalCode("abcdefghjk"), 1, "x");
    codes.keep(CODE, 1, "x");
    expect(codes.keptCodes()).toHaveLength(1);
  });
});

describe("a visitor's report", () => {
  it("waits offline as one item, then sends its photo to the code and keeps the code", async () => {
    stubFetch(offline);
    const { outbox, codes, queueAnonymousCase } = await start();
    const photo = new Blob(["jpeg"], { type: "image/jpeg" });
    const id = await queueAnonymousCase({ category: "1501", description: "路灯不亮", lon: 106.8, lat: 39.7 }, [photo]);
    await quiet(outbox);
    expect(outbox.countWaiting(await outbox.list())).toBe(1);
    expect(codes.keptCodes()).toEqual([]);

    const { sent } = stubFetch((request) => serverReply(request.url, request.json));
    const waiting = codes.codeOf(id, 60_000);
    await outbox.drain({ force: true });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST /api/anonymous/cases/",
      `POST /api/anonymous/cases/${CODE}/photos`,
    ]);
    expect(sent[0].json).toMatchObject({ client_id: id, category: "1501" });
    expect(sent[0].headers).not.toHaveProperty("Authorization");
    expect(await waiting).toBe(CODE);
    expect(codes.keptCodes()).toMatchObject([{ code: CODE, caseId: 77, description: "路灯不亮" }]);
    expect(await outbox.list()).toEqual([]);
  });

  it("claims the kept codes on sign-in, one by one when the server refuses the batch", async () => {
    stubFetch((request) => serverReply(request.url, request.json));
    const { outbox, codes, queueAnonymousCase, who } = await start();
    await queueAnonymousCase({ category: "1501", description: "一", lon: 1, lat: 1 });
    await quiet(outbox);
    codes.keep("ZZZZZ-ZZZZZ", 78, "别人的电话");
    Object.assign(who, { token: "tok", id: 9 });
    const { sent } = stubFetch((request) =>
      request.json.codes.includes("ZZZZZ-ZZZZZ")
        ? answer(403, { code: "not_your_case", reason: "not yours" })
        : answer(200, { cases: [77] }),
    );
    expect(await codes.claimKept()).toBe(1);
    expect(sent.map((s) => s.json.codes)).toEqual([["ZZZZZ-ZZZZZ", CODE], ["ZZZZZ-ZZZZZ"], [CODE]]);
    expect(sent[0].headers).toMatchObject({ Authorization: "Bearer tok" });
    expect(codes.unclaimed()).toEqual(["ZZZZZ-ZZZZZ"]);
  });
});
