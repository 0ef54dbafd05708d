import { ApiError, getJSON } from "../api/client.js";
import { snapshots } from "../offline/db.js";

/** @typedef {import("../api/types.js").Case} Case */

// A list of cases from /api/case-list, saved on the phone after each sync so it reads when the
// server cannot answer: no network, no answer in time, or a server fault (a 500, a proxy's 502).
// A refusal (4xx) is not served from the copy: the person must see why.
/**
 * @param {string} name
 * @param {string} query
 * @returns {Promise<{ items: Case[], savedAt: number, offline: boolean, failure: ApiError | null }>}
 */
export async function loadList(name, query) {
  try {
    const page = await getJSON(`/api/case-list/?${query}`);
    const saved = { items: page.items, savedAt: Date.now() };
    await snapshots.put(`list:${name}`, saved);
    return { ...saved, offline: false, failure: null };
  } catch (err) {
    const saved = await snapshots.get(`list:${name}`);
    if (saved && err instanceof ApiError && (err.status === 0 || err.status >= 500)) {
      return { ...saved, offline: true, failure: err };
    }
    throw err;
  }
}

/**
 * @param {string} name
 * @param {Case[]} items
 */
export async function saveList(name, items) {
  // A plain copy: IndexedDB cannot clone Vue's reactive proxies.
  await snapshots.put(`list:${name}`, { items: JSON.parse(JSON.stringify(items)), savedAt: Date.now() });
}

// Keeps a list current from the live stream: a case event re-reads that one case.
/**
 * @param {Case[]} items
 * @param {{ subject?: string }} message
 * @param {(c: Case) => boolean} belongs whether a case is one of this list's
 * @returns {Promise<Case[]>}
 */
export async function applyEvent(items, message, belongs) {
  const match = /^case:(\d+)$/.exec(message.subject ?? "");
  if (!match) return items;
  const id = Number(match[1]);
  /** @type {Case} */
  let fresh;
  try {
    fresh = await getJSON(`/api/cases/${id}`);
  } catch {
    return items.filter((c) => c.id !== id || belongs(c));
  }
  const rest = items.filter((c) => c.id !== id);
  return belongs(fresh) ? [fresh, ...rest] : rest;
}
