// Every failure, from the server or the network, becomes an ApiError carrying the API's
// {code, reason}, so views show one kind of message.
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the network failed
   * @param {string} code the API's error code ("network" when there was no answer)
   * @param {string} reason what a person is shown
   */
  constructor(status, code, reason) {
    super(reason);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

/**
 * What a person is told about a failure: the API's reason, else the error's message.
 * @param {unknown} err
 * @returns {string}
 */
export function errorText(err) {
  if (err instanceof ApiError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The HTTP status of an ApiError (0: no network), or null for any other failure.
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
 * @param {{ signal?: AbortSignal }} [options]
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
async function request(url, { signal, method, body: payload, headers: extra } = {}) {
  if (method === "GET" && "serviceWorker" in navigator && !navigator.serviceWorker.controller) {
    uncached.add(url);
  }
  let res;
  try {
    res = await fetch(url, { method, body: payload, headers: headers(extra), signal });
  } catch (err) {
    if (err instanceof Error && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "网络连接失败");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, body?.code ?? `http_${res.status}`, body?.reason ?? res.statusText);
  }
  if (body === null) throw new ApiError(res.status, "bad_body", "服务器返回的不是 JSON");
  return body;
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
