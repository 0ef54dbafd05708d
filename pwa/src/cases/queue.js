import { i18n } from "../i18n/index.js";
import { enqueue } from "../offline/outbox.js";

// Writes about cases, queued in the outbox: each carries the client id that makes a retry safe.
// Labels are written in the language shown when the item is queued.
const { t } = i18n.global;

/** @typedef {import("../api/types.js").Case} Case */

/**
 * A new case and its photos: the photos wait for the case, and are sent to its server id.
 * @param {{ kind: string, description: string, client_id?: string, [field: string]: unknown }} body
 * @param {Blob[]} [photos]
 * @returns {Promise<string>} the case's client id (its outbox item's id)
 */
export async function queueCase(body, photos = []) {
  const clientId = body.client_id ?? crypto.randomUUID();
  const label = t(body.kind === "request" ? "queue.request" : "queue.incident", { text: body.description.slice(0, 24) });
  await enqueue({
    id: clientId,
    kind: "case",
    label,
    request: { method: "POST", url: "/api/cases/", json: { ...body, client_id: clientId } },
  });
  for (const [i, blob] of photos.entries()) {
    const photoId = crypto.randomUUID();
    await enqueue({
      id: photoId,
      kind: "photo",
      label: t("queue.photo", { label, n: i + 1 }),
      after: clientId,
      request: { method: "POST", url: "/api/cases/{after}/photos", form: { file: blob, client_id: photoId } },
    });
  }
  return clientId;
}

/**
 * A visitor's request and its photos: sent without a token; the photos go to the tracking code
 * the server answers with (codes.js keeps it on the phone).
 * @param {{ category: string, description: string, [field: string]: unknown }} body
 * @param {Blob[]} [photos]
 * @returns {Promise<string>} the request's client id (its outbox item's id)
 */
export async function queueAnonymousCase(body, photos = []) {
  const clientId = typeof body.client_id === "string" ? body.client_id : crypto.randomUUID();
  const label = t("queue.request", { text: body.description.slice(0, 24) });
  await enqueue({
    id: clientId,
    kind: "anonymous-case",
    label,
    request: {
      method: "POST",
      url: "/api/anonymous/cases/",
      json: { ...body, client_id: clientId },
      resultKey: "tracking_code",
    },
  });
  for (const [i, blob] of photos.entries()) {
    const photoId = crypto.randomUUID();
    await enqueue({
      id: photoId,
      kind: "photo",
      label: t("queue.photo", { label, n: i + 1 }),
      after: clientId,
      request: { method: "POST", url: "/api/anonymous/cases/{after}/photos", form: { file: blob, client_id: photoId } },
    });
  }
  return clientId;
}

/**
 * @param {number} caseId
 * @param {Blob} blob
 * @param {string} label
 */
export function queuePhoto(caseId, blob, label) {
  const photoId = crypto.randomUUID();
  return enqueue({
    id: photoId,
    kind: "photo",
    label,
    request: { method: "POST", url: `/api/cases/${caseId}/photos`, form: { file: blob, client_id: photoId } },
  });
}

// A transition names the version the person saw: if the case changed meanwhile, the server
// answers 409 and the outbox shows it as a conflict instead of acting on a stale screen.
/**
 * @param {Pick<Case, "id" | "version">} caseItem
 * @param {Record<string, unknown>} body
 * @param {string} label
 */
export function queueTransition(caseItem, body, label) {
  return enqueue({
    kind: "transition",
    label,
    meta: { caseId: caseItem.id },
    request: {
      method: "POST",
      url: `/api/cases/${caseItem.id}/transitions`,
      json: { ...body, version: caseItem.version },
    },
  });
}

// Where the person stands goes along: a case they cannot read is joined only from beside it.
/**
 * @param {number} caseId
 * @param {string} label
 * @param {{ lon: number, lat: number }} where
 */
export function queueSupport(caseId, label, where) {
  const request = { method: "POST", url: `/api/cases/${caseId}/support`, json: { lon: where.lon, lat: where.lat } };
  return enqueue({ kind: "support", label, request });
}
