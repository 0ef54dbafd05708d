import { openDB } from "idb";

// One database for everything the app keeps on the phone: the outbox of writes waiting for the
// network, and the last synced copies of lists so they read offline.
const NAME = "wangge";
const VERSION = 1;

let opening = null;

function open() {
  opening ??= openDB(NAME, VERSION, {
    upgrade(db) {
      const outbox = db.createObjectStore("outbox", { keyPath: "id" });
      outbox.createIndex("createdAt", "createdAt");
      db.createObjectStore("snapshots");
    },
    // iOS Safari drops IndexedDB connections under memory pressure; the next call reopens.
    terminated() {
      opening = null;
    },
  }).catch((err) => {
    opening = null;
    throw err;
  });
  return opening;
}

function lostConnection(err) {
  return (
    err?.name === "InvalidStateError" ||
    err?.name === "UnknownError" ||
    /connection.*(lost|closed|closing)/i.test(err?.message ?? "")
  );
}

// Runs `work(db)`; when the connection was lost underneath it (iOS), reopens and tries once more.
export async function withDB(work) {
  try {
    return await work(await open());
  } catch (err) {
    if (!lostConnection(err)) throw err;
    opening = null;
    return work(await open());
  }
}

export const snapshots = {
  get: (key) => withDB((db) => db.get("snapshots", key)),
  put: (key, value) => withDB((db) => db.put("snapshots", value, key)),
};
