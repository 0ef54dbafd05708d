import { describe, expect, it, vi } from "vitest";
import { cellText, drillColumns, flagsOf } from "../../src/governance/drill.js";
import { areaOptions, percent } from "../../src/governance/switching.js";
import { ago, areaSeries, counters, newest, onDuty, overdue } from "../../src/governance/wall.js";

// The API client, which needs.js imports, looks for a service worker as it loads.
vi.stubGlobal("navigator", {});
const { awaiting, localInput, middleOf } = await import("../../src/governance/needs.js");

// The centres' screens' own logic: the wall's figures, the drill-down's columns, the emergency
// switch's areas and the party desk's queue of hours.

const NOW = Date.parse("2026-05-12T10:00:00+08:00");
/**
 * @param {number} id
 * @param {string} status
 * @param {string} created
 * @param {string | null} [due]
 */
const c = (id, status, created, due = null) => ({ id, status, kind: "request", version: 1, created_at: created, due_at: due });

describe("the big screen", () => {
  const cases = [
    c(1, "accepted", "2026-05-12T08:00:00+08:00", "2026-05-12T09:00:00+08:00"),
    c(2, "submitted", "2026-05-12T09:30:00+08:00", "2026-05-13T09:00:00+08:00"),
    c(3, "closed", "2026-05-10T09:30:00+08:00", "2026-05-11T09:00:00+08:00"),
    c(4, "handling", "2026-05-09T09:30:00+08:00", "2026-05-10T09:00:00+08:00"),
  ];
  const workers = new Map([
    [7, { person: 7, name: "王五", on_duty: true }],
    [8, { person: 8, name: "李四", on_duty: false }],
    [9, { person: 9, name: "张三", lon: 106.8, lat: 39.6 }],
  ]);

  it("counts open, overdue, today's and on-duty", () => {
    expect(counters(cases, workers, NOW)).toEqual({ open: 3, overdue: 2, today: 2, onDuty: 2 });
  });

  it("lists the newest first and the longest overdue first", () => {
    expect(newest(cases, 2).map((x) => x.id)).toEqual([2, 1]);
    expect(overdue(cases, 5, NOW).map((x) => x.id)).toEqual([4, 1]);
  });

  it("lists the workers on duty: a position without a presence counts", () => {
    expect(onDuty(workers).map((w) => w.person).sort()).toEqual([7, 9]);
  });

  it("says how long ago in minutes, hours, then days", () => {
    expect(ago("2026-05-12T09:59:00+08:00", NOW)).toEqual({ n: 1, unit: "minutes" });
    expect(ago("2026-05-12T07:00:00+08:00", NOW)).toEqual({ n: 3, unit: "hours" });
    expect(ago("2026-05-09T10:00:00+08:00", NOW)).toEqual({ n: 3, unit: "days" });
  });

  it("takes the area's own unit, else sums the units inside it, with gaps kept", () => {
    const own = { units: [{ code: "150302001001", figures: { received: 4 } }, { code: "150302001002", figures: { received: 9 } }] };
    expect(areaSeries([own, null], "received", "150302001001")).toEqual([4, null]);
    const districts = { units: [{ code: "150302", figures: { received: 4 } }, { code: "150303", figures: { received: 5 } }] };
    expect(areaSeries([districts], "received", "1503")).toEqual([9]);
  });
});

describe("the drill-down table", () => {
  /** @param {string} key @param {Record<string, unknown>} [values] */
  const t = (key, values) => `${key}${values ? JSON.stringify(values) : ""}`;

  it("names the columns a case row has, flags apart", () => {
    const rows = [{ id: 5, grid_code: "g", assignee: 3, status: "accepted", created_at: "2026-05-01T00:00:00Z", accepted_at: null, response_s: 120, accepted: true, voided: false }];
    expect(drillColumns(rows)).toEqual({ kind: "case", columns: ["id", "grid_code", "status", "created_at", "accepted_at", "response_s"] });
    expect(flagsOf(rows[0])).toEqual(["accepted"]);
    expect(cellText(rows[0], "id", "case", t, "zh-CN")).toBe("#5");
    expect(cellText(rows[0], "accepted_at", "case", t, "zh-CN")).toBe("—");
    expect(cellText(rows[0], "status", "case", t, "zh-CN")).toBe("已立案");
    expect(cellText(rows[0], "response_s", "case", t, "zh-CN")).toBe('dash.minutes{"n":2}');
  });

  it("reads a task item's status from the tasks' labels", () => {
    const rows = [{ id: 1, broadcast: 2, grid_code: "g", building_id: 3, status: "done", done_by: 4, done_at: null }];
    expect(drillColumns(rows).kind).toBe("task");
    expect(cellText(rows[0], "status", "task", t, "zh-CN")).toBe("tasks.status.done");
  });
});

describe("the emergency switch and the party desk", () => {
  it("lists the admin's area first, then what lies inside it, in tree order", () => {
    const tree = [{ code: "150302", name: "海勃湾区", children: [{ code: "150302001", name: "新华街道", children: [{ code: "150302001001", name: "团结社区" }] }] }];
    expect(areaOptions(tree)).toEqual([
      { code: "150302", name: "海勃湾区", depth: 0 },
      { code: "150302001", name: "新华街道", depth: 1 },
      { code: "150302001001", name: "团结社区", depth: 2 },
    ]);
    expect(percent(0.25)).toBe(25);
    expect(percent("0.5")).toBe(50);
  });

  it("queues reported hours oldest first, each with its need", () => {
    const needs = [
      { id: 1, title: "a", claims: [{ id: 10, status: "reported", reported_at: "2026-05-02T00:00:00Z" }, { id: 11, status: "confirmed" }] },
      { id: 2, title: "b", claims: [{ id: 20, status: "reported", reported_at: "2026-05-01T00:00:00Z" }] },
      { id: 3, title: "c", claims: null },
    ];
    expect(awaiting(needs).map(({ need, claim }) => [need.id, claim.id])).toEqual([[2, 20], [1, 10]]);
  });

  it("starts a need's window on the hour and its place in the middle of the area", () => {
    expect(localInput(2, new Date(2026, 4, 12, 9, 41))).toBe("2026-05-12T11:00");
    expect(middleOf([106, 39, 107, 40])).toEqual({ lon: 106.5, lat: 39.5 });
  });
});
