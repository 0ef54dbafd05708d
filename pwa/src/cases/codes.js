import { ApiError, postJSON } from "../api/client.js";
import { onSent } from "../offline/outbox.js";

// Tracking codes of the requests this phone sent without an account. The code is in nothing
// but the server's answer to the report, so it is kept here (localStorage: a few short rows)
// the moment the outbox hears that answer, whichever screen is open.

const KEY = "wangge.codes";

/**
 * @typedef {object} KeptCode
 * @property {string} code ABCDE-FGHJK
 * @property {number} caseId
 * @property {string} description the first words of the report, to tell codes apart
 * @property {number} at when it was kept (ms since the epoch)
 * @property {boolean} [claimed] brought into an account on this phone
 */

/** @returns {KeptCode[]} newest first */
export function keptCodes() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** @param {KeptCode[]} list */
function save(list) {
  localStorage.setItem(KEY, JSON.stringify(list));
}

/**
 * Keeps a code (once; a code read again moves nothing).
 * @param {string} code
 * @param {number} caseId
 * @param {string} description
 */
export function keep(code, caseId, description) {
  const list = keptCodes();
  if (list.some((c) => c.code === code)) return;
  save([{ code, caseId, description: description.slice(0, 40), at: Date.now() }, ...list]);
}

/**
 * A code as typed (any case, with or without the dash, spaces) in the form the server answers
 * with, so one request is kept once however its code was entered.
 * @param {string} text
 */
export function normalCode(text) {
  const plain = text.toUpperCase().replace(/[^0-9A-Z]/g, "");
  return plain.length === 10 ? `${plain.slice(0, 5)}-${plain.slice(5)}` : plain;
}

/** @type {Map<string, (code: string) => void>} outbox item id → who waits for its code */
const waiters = new Map();

onSent((item, body) => {
  if (item.kind !== "anonymous-case" || typeof body?.tracking_code !== "string") return;
  keep(body.tracking_code, body.case.id, body.case.description ?? "");
  waiters.get(item.id)?.(body.tracking_code);
  waiters.delete(item.id);
});

/**
 * The code of a report once the outbox has sent it; null if it has not gone within `ms`
 * (offline: it waits in the outbox, and its code shows in "my codes" when it goes).
 * @param {string} clientId
 * @param {number} ms
 * @returns {Promise<string | null>}
 */
export function codeOf(clientId, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiters.delete(clientId);
      resolve(null);
    }, ms);
    waiters.set(clientId, (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** @returns {string[]} codes not yet brought into an account */
export const unclaimed = () => keptCodes().filter((c) => !c.claimed).map((c) => c.code);

/**
 * Brings the kept codes' requests into the signed-in resident's "my requests": all at once,
 * else one by one, since the server refuses a whole batch for one code of another phone (a
 * report sent without this account's phone, or on someone else's behalf).
 * @returns {Promise<number>} how many were claimed
 */
export async function claimKept() {
  const codes = unclaimed();
  if (!codes.length) return 0;
  /** @type {string[]} */
  let claimed = [];
  try {
    await postJSON("/api/cases/claim", { codes: codes.slice(0, 10) });
    claimed = codes.slice(0, 10);
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) throw err;
    for (const code of codes.slice(0, 10)) {
      try {
        await postJSON("/api/cases/claim", { codes: [code] });
        claimed.push(code);
      } catch (each) {
        if (!(each instanceof ApiError) || (each.status !== 403 && each.status !== 404)) throw each;
      }
    }
  }
  save(keptCodes().map((c) => (claimed.includes(c.code) ? { ...c, claimed: true } : c)));
  return claimed.length;
}
