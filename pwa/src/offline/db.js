import { openDB } from "idb";

// One database for everything the app keeps on the phone: the outbox of writes waiting for the
// network, and the last synced copies of lists so they read offline.
const NAME = "wangge";
const VERSION = 1;

/**
 * @typedef {object} WanggeDB
 * @property {{ key: string, value: import("./outbox.js").OutboxItem, indexes: { createdAt: number } }} outbox
 * @property {{ key: string, value: any }} snapshots the last synced copy of a list, by name
 */

/** @typedef {import("idb").IDBPDatabase<WanggeDB>} Database */

/** @type {Promise<Database> | null} */
let opening = null;

/** @type {import("idb").OpenDBCallbacks<WanggeDB>} */
const callbacks = {
  upgrade(db) {
    const outbox = db.createObjectStore("outbox", { keyPath: "id" });
    outbox.createIndex("createdAt", "createdAt");
    db.createObjectStore("snapshots");
  },
  // iOS Safari drops IndexedDB connections under memory pressure; the next call reopens.
  terminated() {
    opening = null;
  },
};

function open() {
  opening ??= openDB(NAME, VERSION, callbacks).catch((err) => {
    opening = null;
    throw err;
  });
  return opening;
}

/** @param {any} err */
function lostConnection(err) {
  return (
    err?.name === "InvalidStateError" ||
    err?.name === "UnknownError" ||
    /connection.*(lost|closed|closing)/i.test(err?.message ?? "")
  );
}

/**
 * Runs `work(db)`; when the connection was lost underneath it (iOS), reopens and tries once more.
 * @template T
 * @param {(db: Database) => Promise<T>} work
 * @returns {Promise<T>}
 */
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
  /** @param {string} key */
  get: (key) => withDB((db) => db.get("snapshots", key)),
  /**
   * @param {string} key
   * @param {any} value
   */
  put: (key, value) => withDB((db) => db.put("snapshots", value, key)),
};
