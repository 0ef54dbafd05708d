import { beforeEach, describe, expect, it, vi } from "vitest";
import { answer, stubFetch } from "./helpers.js";

// The people screens' API calls and the roles a manager may give.

async function load() {
  vi.resetModules();
  vi.stubGlobal("navigator", {});
  return import("../../src/people/people.js");
}

beforeEach(() => {
  vi.stubGlobal("location", { href: "https://wangge.example/app/people", protocol: "https:", host: "wangge.example" });
});

describe("people", () => {
  it("offers no role above the manager's own, and none to residents or grid staff", async () => {
    const { grantableRoles } = await load();
    expect(grantableRoles("community_staff")).toEqual([
      "grid_worker",
      "grid_police",
      "grid_leader",
      "community_staff",
    ]);
    expect(grantableRoles("city_admin")).toContain("district_admin");
    expect(grantableRoles("street_staff")).not.toContain("district_admin");
    expect(grantableRoles("resident")).toEqual([]);
    expect(grantableRoles(null)).toEqual([]);
  });

  it("sends only the filters given, and a post's holder as JSON", async () => {
    const { sent } = stubFetch(() => answer(200, { items: [], total: 0, limit: 50, offset: 0 }));
    const api = await load();
    await api.findPeople({ q: "李", role: "", active: false, limit: 50 });
    expect(sent[0].url).toBe("/api/people?q=%E6%9D%8E&active=false&limit=50");
    await api.assignPost("15030200100101", "parttime", 7);
    expect(sent[1]).toMatchObject({ url: "/api/grids/15030200100101/posts/parttime", method: "PUT" });
    expect(sent[1].json).toEqual({ person: 7 });
    await api.vacatePost("15030200100101", "parttime", 7);
    expect(sent[2]).toMatchObject({ url: "/api/grids/15030200100101/posts/parttime?person=7", method: "DELETE" });
  });
});
