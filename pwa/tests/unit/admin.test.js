import { beforeEach, describe, expect, it, vi } from "vitest";
import { answer, stubFetch } from "./helpers.js";

// The city admin's screens: the category tree and its limits, and a month of the calendar.

async function load() {
  vi.resetModules();
  vi.stubGlobal("navigator", {});
  return import("../../src/admin/admin.js");
}

beforeEach(() => {
  vi.stubGlobal("location", { href: "https://wangge.example/app/calendar", protocol: "https:", host: "wangge.example" });
});

describe("categories", () => {
  const list = [
    { code: "B01", name: "公用设施", parent: null },
    { code: "B0101", name: "上水井盖", parent: "B01" },
    { code: "01", name: "市容环境", parent: null },
    { code: "0101", name: "暴露垃圾", parent: "01" },
    { code: "0102", name: "道路不洁", parent: "01" },
  ].map((c) => ({ post: null, department: null, retired: false, limits: {}, ...c }));

  it("groups each group's categories under it", async () => {
    const { asTree } = await load();
    const tree = asTree(list);
    expect(tree.map((g) => [g.group.code, g.items.map((c) => c.code)])).toEqual([
      ["B01", ["B0101"]],
      ["01", ["0101", "0102"]],
    ]);
  });

  it("edits every stage and priority, and sends only the hours set", async () => {
    const { limitTable, limitsToSend } = await load();
    const table = limitTable({ close: { normal: { hours: 72, calendar: false } } });
    expect(Object.keys(table)).toEqual(["accept", "dispatch", "handle", "verify", "close"]);
    expect(table.accept.urgent).toEqual({ hours: 0, calendar: false });
    table.accept.urgent = { hours: 1, calendar: true };
    expect(limitsToSend(table)).toEqual({
      accept: { urgent: { hours: 1, calendar: true } },
      close: { normal: { hours: 72, calendar: false } },
    });
  });
});

describe("calendar", () => {
  it("asks for a whole month, leap years too", async () => {
    const { monthRange } = await load();
    expect(monthRange(2026, 10)).toEqual({ from: "2026-10-01", to: "2026-10-31" });
    expect(monthRange(2028, 2)).toEqual({ from: "2028-02-01", to: "2028-02-29" });
  });

  it("lays a month out in weeks from Monday", async () => {
    const { weeks } = await load();
    // October 2026 starts on a Thursday and has 31 days: 3 blanks, then 5 weeks.
    const days = Array.from({ length: 31 }, (_, i) => ({
      date: `2026-10-${String(i + 1).padStart(2, "0")}`,
      working: true,
      why: "workday",
    }));
    const grid = weeks(days);
    expect(grid).toHaveLength(5);
    expect(grid[0].slice(0, 4).map((d) => d?.date ?? null)).toEqual([null, null, null, "2026-10-01"]);
    expect(grid[4].map((d) => d?.date ?? null)).toEqual([
      "2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29", "2026-10-30", "2026-10-31", null,
    ]);
    expect(weeks([])).toEqual([]);
  });

  it("sets a day off with its reason, and gives a day back", async () => {
    const { sent } = stubFetch(() => answer(200, { date: "2026-12-03", working: true, why: "workday" }));
    const { setOverride, removeOverride } = await load();
    await setOverride("2026-12-03", false, "市运会放假");
    await removeOverride("2026-12-03");
    expect(sent.map((r) => [r.method, r.url])).toEqual([
      ["PUT", "/api/calendar/overrides/2026-12-03"],
      ["DELETE", "/api/calendar/overrides/2026-12-03"],
    ]);
    expect(sent[0].json).toEqual({ working: false, reason: "市运会放假" });
  });
});
