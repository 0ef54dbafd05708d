// The city admin's settings: the category tree (/api/categories) and the working calendar
// (/api/calendar). Pure helpers here are unit-tested (tests/admin.test.js).
import { getJSON, postJSON, sendJSON } from "../api/client.js";

export const STAGES = ["accept", "dispatch", "handle", "verify", "close"];
export const PRIORITIES = ["urgent", "high", "normal"];
export const POSTS = ["leader", "police", "fulltime", "parttime"];

/**
 * @typedef {{ hours: number, calendar: boolean }} Limit
 * @typedef {object} AdminCategory
 * @property {string} code
 * @property {string} name
 * @property {string | null} parent
 * @property {string | null} post
 * @property {string | null} department
 * @property {boolean} retired
 * @property {Record<string, Record<string, Limit>>} limits
 */

/** @returns {Promise<AdminCategory[]>} */
export const readCategories = () => getJSON("/api/categories");

/** @param {Record<string, any>} body */
export const addCategory = (body) => postJSON("/api/categories", body);

/**
 * @param {string} code
 * @param {Record<string, any>} change
 */
export const changeCategory = (code, change) => sendJSON("PATCH", `/api/categories/${code}`, change);

/** @param {string} code */
export const retireCategory = (code) => postJSON(`/api/categories/${code}/retire`, null);

/**
 * Groups in code order, each with its categories: 部件 (B…) first, then 事件 and the rest.
 * @param {AdminCategory[]} list
 * @returns {{ group: AdminCategory, items: AdminCategory[] }[]}
 */
export function asTree(list) {
  return list
    .filter((c) => !c.parent)
    .map((group) => ({ group, items: list.filter((c) => c.parent === group.code) }));
}

/**
 * A full table of limits to edit: every stage and priority, blank (0 hours) where unset.
 * @param {Record<string, Record<string, Limit>>} limits
 * @returns {Record<string, Record<string, Limit>>}
 */
export function limitTable(limits) {
  /** @type {Record<string, Record<string, Limit>>} */
  const table = {};
  for (const stage of STAGES) {
    table[stage] = {};
    for (const p of PRIORITIES) {
      const given = limits?.[stage]?.[p];
      table[stage][p] = { hours: given?.hours ?? 0, calendar: given?.calendar ?? false };
    }
  }
  return table;
}

/**
 * What to send: the limits with hours set (a blank stays as it was on the server).
 * @param {Record<string, Record<string, Limit>>} table
 */
export function limitsToSend(table) {
  /** @type {Record<string, Record<string, Limit>>} */
  const out = {};
  for (const [stage, row] of Object.entries(table)) {
    for (const [p, limit] of Object.entries(row)) {
      const hours = Number(limit.hours);
      if (hours > 0) (out[stage] ??= {})[p] = { hours, calendar: Boolean(limit.calendar) };
    }
  }
  return out;
}

/**
 * @typedef {object} Day
 * @property {string} date
 * @property {boolean} working
 * @property {string} why
 * @property {string} [holiday]
 * @property {string} [reason]
 * @property {boolean} [known]
 */

/**
 * The first and last day of a month, as the API's from and to.
 * @param {number} year
 * @param {number} month 1–12
 */
export function monthRange(year, month) {
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const mm = String(month).padStart(2, "0");
  return { from: `${year}-${mm}-01`, to: `${year}-${mm}-${String(last).padStart(2, "0")}` };
}

/**
 * A month's days in weeks from Monday, with nulls before the first and after the last.
 * @param {Day[]} days the month's days in order
 * @returns {(Day | null)[][]}
 */
export function weeks(days) {
  if (!days.length) return [];
  const first = new Date(`${days[0].date}T00:00:00Z`).getUTCDay(); // 0 Sunday
  /** @type {(Day | null)[]} */
  const cells = [...Array((first + 6) % 7).fill(null), ...days];
  while (cells.length % 7) cells.push(null);
  const out = [];
  for (let i = 0; i < cells.length; i += 7) out.push(cells.slice(i, i + 7));
  return out;
}

/**
 * @param {number} year
 * @param {number} month 1–12
 * @returns {Promise<{ hours: string, days: Day[], unknown_years: number[] }>}
 */
export function readMonth(year, month) {
  const { from, to } = monthRange(year, month);
  return getJSON(`/api/calendar?from=${from}&to=${to}`);
}

/**
 * @param {string} date
 * @param {boolean} working
 * @param {string} reason
 */
export const setOverride = (date, working, reason) =>
  sendJSON("PUT", `/api/calendar/overrides/${date}`, { working, reason });

/** @param {string} date */
export const removeOverride = (date) => sendJSON("DELETE", `/api/calendar/overrides/${date}`, undefined);
