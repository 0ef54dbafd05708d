import { getJSON, postJSON } from "../api/client.js";

// The community's side of 双报到: publish needs, see who signed up, confirm or refuse the hours
// they report. Staff work at a desk, online: writes go straight to the API, and a publish keeps
// its client id until it is answered, so pressing again after a lost answer makes one need.

/**
 * A value for <input type="datetime-local"> (the phone's local time), `hours` from `now`,
 * on the hour.
 * @param {number} hours
 * @param {Date} [now]
 */
export function localInput(hours, now = new Date()) {
  const at = new Date(now.getTime() + hours * 3_600_000);
  at.setMinutes(0, 0, 0);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:00`;
}

/**
 * A datetime-local value (local time) as ISO 8601 with its offset, as the API requires.
 * @param {string} value
 */
export const isoOf = (value) => new Date(value).toISOString();

/**
 * The middle of an area's bounding box, where a need's place starts before it is picked.
 * @param {[number, number, number, number]} bbox
 */
export const middleOf = ([w, s, e, n]) => ({ lon: (w + e) / 2, lat: (s + n) / 2 });

/**
 * Claims with reported hours waiting for the community, oldest report first, each with its need.
 * @param {{ id: number, title: string, claims?: any[] | null }[]} needs read one by one (with claims)
 */
export function awaiting(needs) {
  return needs
    .flatMap((need) => (need.claims ?? []).filter((c) => c.status === "reported").map((claim) => ({ need, claim })))
    .sort((a, b) => Date.parse(a.claim.reported_at) - Date.parse(b.claim.reported_at));
}

/** @param {string} area */
export const loadAreaNeeds = (area) => getJSON(`/api/party/needs?area=${encodeURIComponent(area)}&ended=true`);
/** @param {number} id */
export const loadNeed = (id) => getJSON(`/api/party/needs/${id}`);
/** @param {Record<string, unknown>} need the API's NeedIn */
export const publishNeed = (need) => postJSON("/api/party/needs", need);
/** @param {number} claimId */
export const confirmHours = (claimId) => postJSON(`/api/party/claims/${claimId}/confirm`, {});
/** @param {number} claimId @param {string} reason */
export const refuseHours = (claimId, reason) => postJSON(`/api/party/claims/${claimId}/refuse`, { reason });
