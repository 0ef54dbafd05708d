// Every failure, from the server or the network, becomes an ApiError carrying the API's
// {code, reason}, so views show one kind of message.
export class ApiError extends Error {
  constructor(status, code, reason) {
    super(reason);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

// Requests made before the service worker took control never reach its cache; they are
// replayed once it does, so the map can start offline after a single visit.
const uncached = new Set();

// Who is signed in: the session store registers its token here, so every call carries it.
let tokenSource = () => null;
export function useToken(getToken) {
  tokenSource = getToken;
}

function headers(extra = {}) {
  const token = tokenSource();
  return { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
}

export const getJSON = (url, options) => request(url, { ...options, method: "GET" });

export const postJSON = (url, json, options) =>
  request(url, {
    ...options,
    method: "POST",
    body: JSON.stringify(json),
    headers: { "Content-Type": "application/json" },
  });

async function request(url, { signal, method, body: payload, headers: extra } = {}) {
  if (method === "GET" && "serviceWorker" in navigator && !navigator.serviceWorker.controller) {
    uncached.add(url);
  }
  let res;
  try {
    res = await fetch(url, { method, body: payload, headers: headers(extra), signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
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
function sameOriginHref(href) {
  const url = new URL(href, location.href);
  return url.pathname + url.search;
}

// Follows OGC API – Features `next` links until the collection is complete.
export async function getAllFeatures(url, { signal } = {}) {
  const features = [];
  const seen = new Set();
  let next = url;
  while (next && !seen.has(next)) {
    seen.add(next);
    const page = await getJSON(next, { signal });
    features.push(...(page.features ?? []));
    const link = page.numberReturned === 0 ? null : page.links?.find((l) => l.rel === "next");
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
