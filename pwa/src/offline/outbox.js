import { withDB } from "./db.js";

// The outbox: every write the app makes waits here, in IndexedDB, until the server has answered
// it. An item is only ever removed after a 2xx; a failure is kept with the reason, so nothing a
// person typed is lost because the network or the server failed.
//
// States: "pending" (waiting its turn), "retry" (network or server trouble; tried again with
// backoff), "rejected" (the server refused it: shown with the server's reason, kept until the
// person discards or edits it), "conflict" (the case changed or closed on the server meanwhile).

const listeners = new Set();
const BACKOFF_MIN_MS = 5_000;
const BACKOFF_MAX_MS = 5 * 60_000;

export function onOutboxChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function changed() {
  const items = await list();
  for (const listener of listeners) listener(items);
}

export const list = () =>
  withDB((db) => db.getAllFromIndex("outbox", "createdAt")).then((items) => items ?? []);

// `request`: {method, url, json} or {method, url, form: {field: value|Blob}}. `url` may hold
// "{after}" where the server id returned for the item `after` goes (a photo after its case).
export async function enqueue({ id, kind, label, request, after = null, meta = {} }) {
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
    createdAt: Date.now(),
  };
  await withDB((db) => db.put("outbox", item));
  await changed();
  drain();
  return item;
}

export async function discard(id) {
  await withDB((db) => db.delete("outbox", id));
  await changed();
}

// Puts a refused or conflicting item back in line, e.g. after the person edited it.
export async function retry(id, patch = {}) {
  await withDB(async (db) => {
    const item = await db.get("outbox", id);
    if (item) await db.put("outbox", { ...item, ...patch, state: "pending", nextAt: 0, error: null });
  });
  await changed();
  return drain({ force: true });
}

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

function build(request, token, resolved) {
  const url = request.url.replace("{after}", resolved ?? "");
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let body;
  if (request.form) {
    body = new FormData();
    for (const [name, value] of Object.entries(request.form)) body.append(name, value);
  } else if (request.json !== undefined) {
    headers["Content-Type"] = "application/json";
    // A JSON value "{after}" also takes that server id (a task's done mark names its photo).
    body = JSON.stringify(request.json).replaceAll('"{after}"', JSON.stringify(resolved));
  }
  return [url, { method: request.method ?? "POST", headers, body }];
}

let tokenSource = () => null;
const results = new Map(); // item id → server id, for items that wait on it
export function useToken(getToken) {
  tokenSource = getToken;
}

async function send(item) {
  let resolved = null;
  if (item.after) {
    resolved = results.get(item.after) ?? item.meta.afterResult ?? null;
    if (resolved === null) return { state: "pending", waiting: true };
  }
  let res;
  try {
    res = await fetch(...build(item.request, tokenSource(), resolved));
  } catch {
    return { state: "retry", error: { kind: "network", status: 0, code: "network", reason: "" } };
  }
  const body = await res.json().catch(() => null);
  if (res.ok) return { state: "done", body };
  return classify(res.status, body);
}

function backoff(attempts) {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempts - 1));
}

async function settle(item, outcome) {
  if (outcome.state === "done") {
    const serverId = outcome.body?.id;
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
    return;
  }
  if (outcome.waiting) return;
  const attempts = item.attempts + 1;
  const next = { ...item, state: outcome.state, error: outcome.error, attempts };
  next.nextAt = outcome.state === "retry" ? Date.now() + backoff(attempts) : Infinity;
  await withDB((db) => db.put("outbox", next));
}

let draining = null;
let again = false;
let timer = null;

// Sends what is due, oldest first; stops at the first network failure, since the rest would
// fail the same way. `force` ignores backoff (the "send now" button, coming back online).
// Asked while a pass runs (the network came back mid-pass), it runs another pass after it.
export function drain({ force = false } = {}) {
  if (draining) {
    again ||= force;
    return draining;
  }
  draining = (async () => {
    try {
      for (const item of await list()) {
        const due = item.state === "pending" || (item.state === "retry" && (force || item.nextAt <= Date.now()));
        if (!due) continue;
        const outcome = await send(item);
        await settle(item, outcome);
        await changed();
        if (outcome.error?.kind === "network" || outcome.error?.kind === "auth") break;
      }
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
  const waiting = (await list()).filter((i) => i.state === "retry" || i.state === "pending");
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
