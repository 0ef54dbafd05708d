import { IDBFactory } from "fake-indexeddb";
import { vi } from "vitest";

/** An empty IndexedDB for this test: nothing is left over from another one. */
export function freshDB() {
  vi.stubGlobal("indexedDB", new IDBFactory());
}

/**
 * A JSON answer as fetch gives it.
 * @param {number} status
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 */
export function answer(status, body = {}, headers = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * @typedef {object} Sent
 * @property {string} url
 * @property {string} method
 * @property {Record<string, string>} headers
 * @property {any} json the parsed JSON body, if the body was JSON
 * @property {FormData | null} form the body, if it was a form
 */

/**
 * A stubbed global fetch that answers with `reply(sent, n)` (n: how many requests came before)
 * and keeps what was sent. `reply` may throw (or return a rejected promise) to fail as a
 * dropped connection does.
 * @param {(sent: Sent, n: number) => Response | Promise<Response>} reply
 */
export function stubFetch(reply) {
  /** @type {Sent[]} */
  const sent = [];
  const fetch = vi.fn(async (/** @type {string} */ url, /** @type {RequestInit} */ init = {}) => {
    const body = init.body;
    /** @type {Sent} */
    const request = {
      url,
      method: init.method ?? "GET",
      headers: /** @type {Record<string, string>} */ (init.headers ?? {}),
      json: typeof body === "string" ? JSON.parse(body) : undefined,
      form: body instanceof FormData ? body : null,
    };
    sent.push(request);
    return reply(request, sent.length - 1);
  });
  vi.stubGlobal("fetch", fetch);
  return { sent, fetch };
}

/** What fetch throws when there is no network. */
export const offline = () => {
  throw new TypeError("Failed to fetch");
};

/** A localStorage good enough for the code under test. */
export function stubLocalStorage() {
  /** @type {Map<string, string>} */
  const store = new Map();
  const storage = {
    getItem: (/** @type {string} */ key) => store.get(key) ?? null,
    setItem: (/** @type {string} */ key, /** @type {string} */ value) => void store.set(key, String(value)),
    removeItem: (/** @type {string} */ key) => void store.delete(key),
    clear: () => store.clear(),
  };
  vi.stubGlobal("localStorage", storage);
  return storage;
}

/**
 * One turn of Node's event loop: fake-indexeddb answers on setImmediate, which the tests'
 * fake timers leave real. (Node's own types are not loaded, so that the app is checked
 * against the browser's globals only.)
 * @returns {Promise<void>}
 */
export const nextTask = () => new Promise((resolve) => /** @type {any} */ (globalThis).setImmediate(resolve));
