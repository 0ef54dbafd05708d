import { i18n } from "../i18n/index.js";

// Every failure, from the server or the network, becomes an ApiError carrying the API's
// {code, reason}; errorText tells it in the app's language, so views show one kind of message.
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when there was no answer
   * @param {string} code the API's error code ("network", "timeout" when there was no answer)
   * @param {string} reason the server's own words, kept as the detail of a code the app does not know
   */
  constructor(status, code, reason) {
    super(reason);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

// A request that has had no answer in this long ends, instead of spinning forever.
export const TIMEOUT_MS = 15_000;

/**
 * A failure as a person reads it, in the app's language: the text of the API's code from the
 * i18n table (errors.codes); a code the table lacks is told by its HTTP status, with the
 * server's reason as the detail, except for a server fault, whose reason (a proxy's
 * "Bad Gateway", "internal server error") tells a person nothing.
 * @param {{ status: number, code: string, reason?: string }} failure
 * @returns {string}
 */
export function failureText({ status, code, reason }) {
  const { t, te } = i18n.global;
  if (code === "network") return t("errors.network");
  if (code === "timeout") return t("errors.timeout", { s: TIMEOUT_MS / 1000 });
  if (code === "bad_body") return t("errors.badBody");
  if (te(`errors.codes.${code}`, "zh-CN")) return t(`errors.codes.${code}`);
  const key = te(`errors.status.${status}`, "zh-CN") ? status : status >= 500 ? 500 : "other";
  const text = t(`errors.status.${key}`, { status });
  return status >= 500 || !reason ? text : t("errors.withDetail", { text, detail: reason });
}

/**
 * What a person is told about a failure (see failureText), else the error's message.
 * @param {unknown} err
 * @returns {string}
 */
export function errorText(err) {
  if (err instanceof ApiError) return failureText(err);
  return err instanceof Error ? err.message : String(err);
}

/**
 * The HTTP status of an ApiError (0: no answer), or null for any other failure.
 * @param {unknown} err
 * @returns {number | null}
 */
export const statusOf = (err) => (err instanceof ApiError ? err.status : null);

// Requests made before the service worker took control never reach its cache; they are
// replayed once it does, so the map can start offline after a single visit.
const uncached = new Set();

// Who is signed in: the session store registers its token here, so every call carries it.
/** @type {() => string | null} */
let tokenSource = () => null;
/** @param {() => string | null} getToken */
export function useToken(getToken) {
  tokenSource = getToken;
}

/**
 * @typedef {object} RequestOptions
 * @property {AbortSignal} [signal]
 * @property {number} [timeout] milliseconds without an answer before giving up (TIMEOUT_MS)
 * @property {string} [method]
 * @property {BodyInit | null} [body]
 * @property {Record<string, string>} [headers]
 */

/**
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
function headers(extra = {}) {
  const token = tokenSource();
  return { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
}

/**
 * @param {string} url
 * @param {{ signal?: AbortSignal, timeout?: number }} [options]
 * @returns {Promise<any>} the parsed body; throws ApiError
 */
export const getJSON = (url, options) => request(url, { ...options, method: "GET" });

/**
 * @param {string} url
 * @param {unknown} json
 * @param {{ signal?: AbortSignal }} [options]
 * @returns {Promise<any>} the parsed body; throws ApiError
 */
export const postJSON = (url, json, options) =>
  request(url, {
    ...options,
    method: "POST",
    body: JSON.stringify(json),
    headers: { "Content-Type": "application/json" },
  });

/**
 * A PUT, PATCH or DELETE, with a JSON body if one is given.
 * @param {"PUT" | "PATCH" | "DELETE"} method
 * @param {string} url
 * @param {unknown} [json]
 * @returns {Promise<any>} the parsed body; throws ApiError
 */
export const sendJSON = (method, url, json) =>
  json === undefined
    ? request(url, { method })
    : request(url, { method, body: JSON.stringify(json), headers: { "Content-Type": "application/json" } });

/**
 * @param {string} url
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
async function request(url, { signal, timeout = TIMEOUT_MS, method, body: payload, headers: extra } = {}) {
  if (method === "GET" && "serviceWorker" in navigator && !navigator.serviceWorker.controller) {
    uncached.add(url);
  }
  // One controller ends the request on the caller's abort or on the timeout, body included:
  // a server that sends its headers and then stalls must not hang the screen either.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const follow = () => controller.abort(signal?.reason);
  if (signal?.aborted) follow();
  signal?.addEventListener("abort", follow, { once: true });
  let res;
  let body;
  try {
    res = await fetch(url, { method, body: payload, headers: headers(extra), signal: controller.signal });
    body = await res.json().catch(() => null);
  } catch (err) {
    if (timedOut) throw new ApiError(0, "timeout", `no answer within ${timeout / 1000} s`);
    if (err instanceof Error && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "no connection");
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", follow);
  }
  if (timedOut) throw new ApiError(0, "timeout", `no answer within ${timeout / 1000} s`);
  if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
  if (!res.ok) {
    throw new ApiError(res.status, body?.code ?? `http_${res.status}`, body?.reason ?? res.statusText);
  }
  if (body === null) throw new ApiError(res.status, "bad_body", "the answer is not JSON");
  return body;
}

/**
 * A file the API serves only to a signed-in person (a case's photo), as a Blob: an <img> cannot
 * send the token, so the page shows it through an object URL.
 * @param {string} url
 * @param {{ signal?: AbortSignal, timeout?: number }} [options]
 * @returns {Promise<Blob>} throws ApiError
 */
export async function getBlob(url, { signal, timeout = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const follow = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", follow, { once: true });
  try {
    const res = await fetch(url, { headers: headers({ Accept: "image/*" }), signal: controller.signal });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new ApiError(res.status, body?.code ?? `http_${res.status}`, body?.reason ?? res.statusText);
    }
    return await res.blob();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (signal?.aborted) throw err;
    if (controller.signal.aborted) throw new ApiError(0, "timeout", `no answer within ${timeout / 1000} s`);
    throw new ApiError(0, "network", "no connection");
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", follow);
  }
}

// The API builds `next` links from the Host it saw, which behind a proxy may not be the
// page's origin; the API always lives on the page's origin, so only path and query are kept.
/** @param {string} href */
function sameOriginHref(href) {
  const url = new URL(href, location.href);
  return url.pathname + url.search;
}

// Follows OGC API – Features `next` links until the collection is complete.
/**
 * @param {string} url
 * @param {{ signal?: AbortSignal }} [options]
 * @returns {Promise<{ type: "FeatureCollection", features: any[] }>}
 */
export async function getAllFeatures(url, { signal } = {}) {
  /** @type {any[]} */
  const features = [];
  const seen = new Set();
  /** @type {string | null} */
  let next = url;
  while (next && !seen.has(next)) {
    seen.add(next);
    const page = await getJSON(next, { signal });
    features.push(...(page.features ?? []));
    /** @type {{ rel: string, href: string } | null | undefined} */
    const link = page.numberReturned === 0 ? null : page.links?.find((/** @type {{ rel: string }} */ l) => l.rel === "next");
    next = link ? sameOriginHref(link.href) : null;
  }
  return { type: "FeatureCollection", features };
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    for (const url of uncached) fetch(url, { headers: headers() }).catch(() => {});
    uncached.clear();
  });
}
