// What a case's timeline holds as evidence: its photos before and after handling, and the
// handling result, for the one who verifies, closes or rates it.

// Steps after which a photo shows the work done, not the problem reported.
const HANDLING = new Set(["case.start", "case.handle", "case.self_handle", "case.verify_on_site", "case.rework"]);
// Steps whose `result` is the handling result (the latest one counts).
const RESULTS = new Set(["case.handle", "case.self_handle", "case.verify_on_site"]);

/**
 * @typedef {object} Photo
 * @property {string} id
 * @property {string} url the full-size photo, served with the token
 * @property {string} thumbnail the 320 px thumbnail, served with the token
 */

/**
 * A photo is "after" when a handling step names it, or when someone other than the reporter
 * added it once the case was dispatched or handling had begun (the photo is sent just before
 * its handling step); the reporter's own photos show the problem, however late they arrive
 * from the phone's outbox.
 * @param {{ type: string, actor?: number | null, payload?: any }[]} timeline the case's events, oldest first
 * @param {number | null} reporter the reporter's person id
 * @returns {{ before: Photo[], after: Photo[], result: string | null }}
 */
export function evidence(timeline, reporter) {
  // The API hands each event's payload over as its stored JSON text.
  timeline = timeline.map((e) => (typeof e.payload === "string" ? { ...e, payload: JSON.parse(e.payload) } : e));
  const named = new Set(
    timeline.filter((e) => RESULTS.has(e.type) && e.payload?.photo).map((e) => String(e.payload.photo)),
  );
  /** @type {Photo[]} */
  const before = [];
  /** @type {Photo[]} */
  const after = [];
  let handling = false;
  let dispatched = false;
  let result = null;
  for (const e of timeline) {
    if (HANDLING.has(e.type)) handling = true;
    if (e.type === "case.dispatch") dispatched = true;
    if (RESULTS.has(e.type) && e.payload?.result) result = e.payload.result;
    if (e.type !== "case.photo" || !e.payload?.url) continue;
    const id = String(e.payload.photo);
    const photo = { id, url: e.payload.url, thumbnail: e.payload.thumbnail_url ?? `${e.payload.url}/thumbnail` };
    const byStaff = (dispatched || handling) && e.actor != null && e.actor !== reporter;
    (byStaff || named.has(id) ? after : before).push(photo);
  }
  return { before, after, result };
}

/**
 * The role of whoever took a step, as the event logged it (`actor_role`); null for steps that
 * name none (a photo, the scheduler's). Names are not in the timeline the API gives.
 * @param {{ payload?: any }} event
 * @returns {string | null}
 */
export function actorRole(event) {
  const payload = typeof event.payload === "string" ? JSON.parse(event.payload) : event.payload;
  return typeof payload?.actor_role === "string" ? payload.actor_role : null;
}
