// The 12345 hotline desk's API (/api/hotline, /api/geocode).
import { getJSON, postJSON } from "../api/client.js";

/**
 * @typedef {object} Place
 * @property {string} kind an area's level, "grid", "point" or "building"
 * @property {string} code
 * @property {string} name
 * @property {string} address
 * @property {number} lon
 * @property {number} lat
 */

/**
 * @typedef {object} Call
 * @property {number} case_id
 * @property {string} caller_phone
 * @property {string} caller_name
 * @property {string} taken_at
 * @property {string} category_name
 * @property {string} description
 * @property {string} address
 * @property {string} status
 * @property {string | null} closed_at
 * @property {number | null} rating
 * @property {string | null} callback_comment
 */

/**
 * Places whose name or address holds every part of ``q``, best first.
 * @param {string} q
 * @param {AbortSignal} [signal]
 * @returns {Promise<Place[]>}
 */
export const searchPlaces = (q, signal) =>
  getJSON(`/api/geocode?q=${encodeURIComponent(q)}&limit=8`, { signal });

/**
 * Enter a call: its case id and tracking code, and whether the caller was texted the code.
 * @param {Record<string, unknown>} call
 * @returns {Promise<{ case_id: number, tracking_code: string, status: string, sms_sent: boolean, sms_error: string | null }>}
 */
export const takeCall = (call) => postJSON("/api/hotline/calls", call);

/** @returns {Promise<Call[]>} closed calls awaiting a call back (回访) */
export const callbacks = () => getJSON("/api/hotline/callbacks");

/**
 * @param {number} caseId
 * @param {number} rating 1–5
 * @param {string} comment
 * @returns {Promise<Call>}
 */
export const callBack = (caseId, rating, comment) =>
  postJSON(`/api/hotline/callbacks/${caseId}`, { rating, ...(comment ? { comment } : {}) });

/**
 * A caller's earlier calls (repeat callers).
 * @param {string} phone
 * @returns {Promise<{ phone: string, calls: number, history: Call[] }>}
 */
export const callerHistory = (phone) => getJSON(`/api/hotline/callers/${encodeURIComponent(phone)}`);
