import { withDB } from "./db.js";

// The outbox: every write the app makes waits here, in IndexedDB, until the server has answered
// it. An item is only ever removed after a 2xx (or when the person discards it); a failure is
// kept with the reason, so nothing a person typed is lost because the network or the server
// failed.
//
// States: "pending" (waiting its turn), "retry" (network or server trouble; tried again with
// backoff, or after the server's Retry-After), "rejected" (the server refused it: shown with the
// server's reason, kept until the person discards or edits it), "conflict" (the case changed or
// closed on the server meanwhile).

/**
 * What is sent: JSON, or a multipart form (a photo). `url` (and a JSON string value) may hold
 * "{after}", where the server id of the item this one waits on goes.
 * @typedef {object} OutboxRequest
 * @property {string} [method] "POST" unless said
 * @property {string} url
 * @property {unknown} [json]
 * @property {Record<string, string | Blob>} [form]
 * @property {string} [resultKey] the answer's field that items waiting on this one take ("id"
 *   unless said; an anonymous report's photos go to its tracking code)
 */

/** @typedef {"pending" | "retry" | "rejected" | "conflict"} OutboxState */

/**
 * Why the last attempt failed: "network" (no answer), "auth" (401), "server" (5xx, 408, 429),
 * "conflict" (404, 409, 410) or "rejected" (any other 4xx); `code` and `reason` are the API's.
 * @typedef {object} OutboxError
 * @property {"network" | "auth" | "server" | "conflict" | "rejected"} kind
 * @property {number} status 0 when the network failed
 * @property {string} code
 * @property {string} reason
 */

/**
 * @typedef {object} OutboxItem
 * @property {string} id the client id; also the idempotency key most endpoints take
 * @property {string} kind "case", "photo", "transition", "task-done", …
 * @property {string} label what the outbox screen shows
 * @property {OutboxRequest} request
 * @property {string | null} after the id of the item whose server id this one needs first
 * @property {Record<string, any>} meta
 * @property {OutboxState} state
 * @property {OutboxError | null} error
 * @property {number} attempts
 * @property {number} nextAt when a "retry" item is due (ms since the epoch); Infinity when only the person can resend it
 * @property {number} createdAt
 * @property {number | null} [owner] the person signed in when it was queued (null: nobody, a
 *   visitor's report, sent without a token); absent on items queued before owners were kept
 */

/**
 * What an enqueued write is made of; the outbox fills in the rest.
 * @typedef {object} NewOutboxItem
 * @property {string | null} [id] defaults to a random UUID
 * @property {string} kind
 * @property {string} label
 * @property {OutboxRequest} request
 * @property {string | null} [after]
 * @property {Record<string, any>} [meta]
 */

/**
 * @typedef {{ state: "done", body: any }
 *   | { state: "waiting" }
 *   | { state: "retry" | "rejected" | "conflict", error: OutboxError, retryAfterMs?: number }} Outcome
 */

/** @typedef {(items: OutboxItem[]) => void} OutboxListener */

/** @typedef {(item: OutboxItem, body: any) => void} SentListener */

/** @type {Set<OutboxListener>} */
const listeners = new Set();
/** @type {Set<SentListener>} */
const sentListeners = new Set();
const BACKOFF_MIN_MS = 5_000;
const BACKOFF_MAX_MS = 5 * 60_000;
// A Retry-After longer than this is not believed: a wrong header must not park a write for days.
const RETRY_AFTER_MAX_MS = 60 * 60_000;

/**
 * @param {OutboxListener} listener
 * @returns {() => boolean} stops listening
 */
export function onOutboxChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Hears each item the server took, with its answer (an anonymous report's tracking code is in
 * nothing but that answer).
 * @param {SentListener} listener
 * @returns {() => boolean} stops listening
 */
export function onSent(listener) {
  sentListeners.add(listener);
  return () => sentListeners.delete(listener);
}

async function changed() {
  const items = await list();
  for (const listener of listeners) listener(items);
}

/** @returns {Promise<OutboxItem[]>} every waiting item, oldest first */
export const list = () =>
  withDB((db) => db.getAllFromIndex("outbox", "createdAt")).then((items) => items ?? []);

/**
 * How many writes wait, as the person counts them: a report with its photos is one, and so is a
 * task's done mark with its photo (an item counts with the item it waits on).
 * @param {OutboxItem[]} items
 */
export function countWaiting(items) {
  return new Set(items.map((i) => i.after ?? i.id)).size;
}

// Items are sent oldest first, in the order they were queued: two queued within the same
// millisecond (a report and its photos) still get distinct, increasing times.
let lastCreatedAt = 0;

/**
 * @param {NewOutboxItem} write
 * @returns {Promise<OutboxItem>}
 */
export async function enqueue({ id, kind, label, request, after = null, meta = {} }) {
  /** @type {OutboxItem} */
  const item = {
    id: id ?? crypto.randomUUID(),
    kind,
    label,
    request,
    after,
    meta,
    state: "pending",
    error: null,
    attempts: 0,
    nextAt: 0,
    owner: ownerSource(),
    createdAt: (lastCreatedAt = Math.max(Date.now(), lastCreatedAt + 1)),
  };
  await withDB(async (db) => {
    const tx = db.transaction("outbox", "readwrite");
    // The item waited on may have been sent already (a case sent while its photos were still
    // being queued): its server id is kept on this one, as settle() does for those queued
    // before, or a reload would leave it waiting for an id no one remembers.
    if (item.after !== null && !(await tx.store.get(item.after)) && results.has(item.after)) {
      item.meta = { ...item.meta, afterResult: results.get(item.after) };
    }
    await tx.store.put(item);
    await tx.done;
  });
  await changed();
  drain();
  return item;
}

/**
 * Drops an item the person gave up on, with the items that wait on it (a report's photos):
 * they could never be sent without it.
 * @param {string} id
 */
export async function discard(id) {
  await withDB(async (db) => {
    const tx = db.transaction("outbox", "readwrite");
    const all = await tx.store.getAll();
    const gone = new Set([id]);
    // Follows chains too (an item waiting on an item that waits on this one).
    for (let grew = true; grew; ) {
      grew = false;
      for (const other of all) {
        if (other.after !== null && gone.has(other.after) && !gone.has(other.id)) {
          gone.add(other.id);
          grew = true;
        }
      }
    }
    for (const each of gone) await tx.store.delete(each);
    await tx.done;
  });
  await changed();
}

/**
 * Puts a refused or conflicting item back in line, e.g. after the person edited it.
 * @param {string} id
 * @param {Partial<OutboxItem>} [patch]
 */
export async function retry(id, patch = {}) {
  await withDB(async (db) => {
    const item = await db.get("outbox", id);
    if (item) await db.put("outbox", { ...item, ...patch, state: "pending", nextAt: 0, error: null });
  });
  await changed();
  return drain({ force: true });
}

/**
 * @param {number} status
 * @param {any} body the API's error body, {code, reason}, when there is one
 * @returns {{ state: "retry" | "rejected" | "conflict", error: OutboxError }}
 */
function classify(status, body) {
  const code = body?.code ?? `http_${status}`;
  const reason = body?.reason ?? "";
  if (status === 401) return { state: "retry", error: { kind: "auth", status, code, reason } };
  if (status >= 500 || status === 408 || status === 429) {
    return { state: "retry", error: { kind: "server", status, code, reason } };
  }
  if (status === 409 || status === 404 || status === 410) {
    return { state: "conflict", error: { kind: "conflict", status, code, reason } };
  }
  return { state: "rejected", error: { kind: "rejected", status, code, reason } };
}

/**
 * Retry-After in seconds or as an HTTP date; null when absent or unreadable.
 * @param {string | null} header
 * @param {number} now
 */
export function retryAfterMs(header, now = Date.now()) {
  if (header === null || header.trim() === "") return null;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) ? Math.min(RETRY_AFTER_MAX_MS, Math.max(0, ms)) : null;
}

/**
 * @param {OutboxRequest} request
 * @param {string | null} token
 * @param {unknown} resolved the server id of the item waited on, if any
 * @returns {[string, RequestInit]}
 */
function build(request, token, resolved) {
  const url = request.url.replace("{after}", String(resolved ?? ""));
  /** @type {Record<string, string>} */
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  /** @type {BodyInit | undefined} */
  let body;
  if (request.form) {
    const form = new FormData();
    for (const [name, value] of Object.entries(request.form)) form.append(name, value);
    body = form;
  } else if (request.json !== undefined) {
    headers["Content-Type"] = "application/json";
    // A JSON value "{after}" also takes that server id (a task's done mark names its photo).
    body = JSON.stringify(request.json).replaceAll('"{after}"', JSON.stringify(resolved));
  }
  return [url, { method: request.method ?? "POST", headers, body }];
}

/** @type {() => string | null} */
let tokenSource = () => null;
/** @type {() => number | null} */
let ownerSource = () => null;
/** @type {Map<string, unknown>} item id → server id, for items that wait on it */
const results = new Map();

/**
 * @param {() => string | null} getToken the token of whoever is signed in, asked at each send
 * @param {() => number | null} [getOwner] their person id, asked at each send and queueing
 */
export function useToken(getToken, getOwner = () => null) {
  tokenSource = getToken;
  ownerSource = getOwner;
}

/**
 * Whether an item is sent now and shown: on a phone shared by a shift, a write waits for the
 * person who made it (it is sent with their token only, never with the next person's), and
 * nobody else sees what it says.
 * @param {OutboxItem} item
 */
export function isMine(item) {
  return item.owner === undefined || item.owner === null || item.owner === ownerSource();
}

/**
 * @param {OutboxItem} item
 * @returns {Promise<Outcome>}
 */
async function send(item) {
  /** @type {unknown} */
  let resolved = null;
  if (item.after) {
    resolved = results.get(item.after) ?? item.meta.afterResult ?? null;
    if (resolved === null) return { state: "waiting" };
  }
  let res;
  try {
    const token = item.owner === null ? null : tokenSource();
    res = await fetch(...build(item.request, token, resolved));
  } catch {
    return { state: "retry", error: { kind: "network", status: 0, code: "network", reason: "" } };
  }
  const body = await res.json().catch(() => null);
  if (res.ok) return { state: "done", body };
  const outcome = classify(res.status, body);
  if (outcome.state !== "retry") return outcome;
  const wait = retryAfterMs(res.headers.get("Retry-After"));
  return wait === null ? outcome : { ...outcome, retryAfterMs: wait };
}

/** @param {number} attempts */
function backoff(attempts) {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * @param {OutboxItem} item
 * @param {Outcome} outcome
 */
async function settle(item, outcome) {
  if (outcome.state === "waiting") return;
  if (outcome.state === "done") {
    const serverId = outcome.body?.[item.request.resultKey ?? "id"];
    if (serverId !== undefined) results.set(item.id, serverId);
    await withDB(async (db) => {
      const tx = db.transaction("outbox", "readwrite");
      await tx.store.delete(item.id);
      // Dependants remember the id even if the app restarts before they are sent.
      for (const other of await tx.store.getAll()) {
        if (other.after === item.id && serverId !== undefined) {
          await tx.store.put({ ...other, meta: { ...other.meta, afterResult: serverId } });
        }
      }
      await tx.done;
    });
    for (const listener of sentListeners) listener(item, outcome.body);
    return;
  }
  const attempts = item.attempts + 1;
  /** @type {OutboxItem} */
  const next = { ...item, state: outcome.state, error: outcome.error, attempts };
  // The server's Retry-After stands when it asks for longer than the backoff would wait.
  const wait = Math.max(backoff(attempts), outcome.state === "retry" ? (outcome.retryAfterMs ?? 0) : 0);
  next.nextAt = outcome.state === "retry" ? Date.now() + wait : Infinity;
  await withDB((db) => db.put("outbox", next));
}

/** @type {Promise<void> | null} */
let draining = null;
let again = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

/**
 * Sends what is due, oldest first; stops at the first network failure, since the rest would
 * fail the same way. `force` ignores backoff (the "send now" button, coming back online).
 * Asked while a pass runs (the network came back mid-pass), it runs another pass after it.
 * @param {{ force?: boolean }} [options]
 * @returns {Promise<void>} the pass (not the one it may start after itself)
 */
export function drain({ force = false } = {}) {
  if (draining) {
    again ||= force;
    return draining;
  }
  draining = (async () => {
    try {
      for (const item of await list()) {
        const due =
          isMine(item) &&
          (item.state === "pending" || (item.state === "retry" && (force || item.nextAt <= Date.now())));
        if (!due) continue;
        const outcome = await send(item);
        await settle(item, outcome);
        await changed();
        if (outcome.state === "retry" && (outcome.error.kind === "network" || outcome.error.kind === "auth")) break;
      }
      await changed(); // after a sign-in too, when whose items are shown changed and none was due
    } finally {
      draining = null;
      if (again) {
        again = false;
        drain({ force: true });
      } else {
        schedule();
      }
    }
  })();
  return draining;
}

async function schedule() {
  clearTimeout(timer);
  const items = await list();
  const ids = new Set(items.map((i) => i.id));
  // An item that waits on another still in the outbox goes once that one has gone (later in the
  // same pass, or on the timer set after it): it sets no timer of its own, else the photos of a
  // report the server refused would wake the app every second until the person acts.
  const waiting = items.filter(
    (i) => isMine(i) && (i.state === "retry" || i.state === "pending") && !(i.after !== null && ids.has(i.after)),
  );
  if (!waiting.length) return;
  const soonest = Math.min(...waiting.map((i) => i.nextAt));
  timer = setTimeout(() => drain(), Math.max(1_000, soonest - Date.now()));
}

// No Background Sync on iOS: drain on start, when the network returns, when the app is shown
// again, and on the backoff timer.
export function startOutbox() {
  addEventListener("online", () => drain({ force: true }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") drain({ force: true });
  });
  navigator.storage?.persist?.().catch(() => {});
  changed();
  return drain({ force: true });
}
