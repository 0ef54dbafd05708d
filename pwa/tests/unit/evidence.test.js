import { describe, expect, it } from "vitest";
import { actorRole, evidence } from "../../src/cases/evidence.js";

// A case's timeline read as evidence: which photos show the problem, which the work done, and
// the handling result.

/**
 * @param {number} id
 * @param {number} actor
 */
const photo = (id, actor) => ({
  type: "case.photo",
  actor,
  payload: { photo: id, url: `/api/photos/f${id}`, thumbnail_url: `/api/photos/f${id}/thumbnail` },
});

describe("evidence", () => {
  it("splits photos into before and after handling, and keeps the latest result", () => {
    const timeline = [
      { type: "case.submit", actor: 7 },
      photo(1, 7),
      { type: "case.accept", actor: 2 },
      { type: "case.dispatch", actor: 2 },
      photo(2, 9), // the handler's photo, sent just before the step
      { type: "case.handle", actor: 9, payload: { result: "已清理", photo: null } },
      { type: "case.rework", actor: 2, payload: { reason: "未清理干净" } },
      photo(3, 9),
      { type: "case.handle", actor: 9, payload: { result: "已全部清运", photo: 3 } },
    ];
    const { before, after, result } = evidence(timeline, 7);
    expect(before.map((p) => p.id)).toEqual(["1"]);
    expect(after.map((p) => p.id)).toEqual(["2", "3"]);
    expect(after[0]).toEqual({ id: "2", url: "/api/photos/f2", thumbnail: "/api/photos/f2/thumbnail" });
    expect(result).toBe("已全部清运");
  });

  it("counts the reporter's photos as before, however late they arrive", () => {
    const timeline = [photo(1, 7), { type: "case.dispatch", actor: 2 }, photo(2, 7), { type: "case.start", actor: 9 }, photo(3, 7), photo(4, 9)];
    const { before, after, result } = evidence(timeline, 7);
    expect(before.map((p) => p.id)).toEqual(["1", "2", "3"]);
    expect(after.map((p) => p.id)).toEqual(["4"]);
    expect(result).toBeNull();
  });

  it("reads payloads given as the API gives them, as JSON text", () => {
    const timeline = [{ ...photo(1, 7), payload: JSON.stringify(photo(1, 7).payload) }];
    expect(evidence(timeline, 7).before.map((p) => p.id)).toEqual(["1"]);
  });

  it("counts a photo a handling step names as after, whenever it came", () => {
    const timeline = [photo(5, 7), { type: "case.self_handle", actor: 7, payload: { result: "自行处理", photo: 5 } }];
    expect(evidence(timeline, 7).after.map((p) => p.id)).toEqual(["5"]);
  });

  it("names the role that took each step, as logged", () => {
    expect(actorRole({ payload: JSON.stringify({ type: "accept", actor_role: "grid_leader" }) })).toBe("grid_leader");
    expect(actorRole(photo(1, 7))).toBeNull();
  });
});
