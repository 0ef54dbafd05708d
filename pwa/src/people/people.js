// The people API (/api/people, grid posts) and what the screens need to know of roles.
import { getJSON, postJSON, sendJSON } from "../api/client.js";

// Bottom up, as the backend ranks them (backend/core/roles.py's ROLE_RANK): nobody gives a
// role above their own.
/** @type {Record<string, number>} */
export const ROLE_RANK = {
  resident: 0,
  grid_worker: 1,
  grid_police: 1,
  grid_leader: 2,
  community_staff: 3,
  department: 4,
  hotline_operator: 4,
  street_staff: 4,
  district_admin: 5,
  city_admin: 6,
};

/**
 * The staff roles someone of ``role`` may give, lowest first (residents sign up themselves).
 * @param {string | null} role
 * @returns {string[]}
 */
export function grantableRoles(role) {
  const mine = ROLE_RANK[role ?? ""] ?? -1;
  return Object.keys(ROLE_RANK).filter((r) => r !== "resident" && ROLE_RANK[r] <= mine);
}

/**
 * @typedef {object} Filters
 * @property {string} [q]
 * @property {string} [area]
 * @property {string} [role]
 * @property {string} [post]
 * @property {boolean} [active]
 * @property {number} [limit]
 * @property {number} [offset]
 */

/**
 * @param {Filters} filters
 * @returns {Promise<{ items: any[], total: number, limit: number, offset: number }>}
 */
export function findPeople(filters) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined && value !== "" && value !== null) query.set(key, String(value));
  }
  return getJSON(`/api/people?${query}`);
}

/** @param {number | string} id */
export const readPerson = (id) => getJSON(`/api/people/${id}`);

/** @param {{ name: string, phone: string, role: string, area: string, department?: string }} body */
export const createPerson = (body) => postJSON("/api/people", body);

/**
 * @param {number | string} id
 * @param {Record<string, string | null>} change
 */
export const updatePerson = (id, change) => sendJSON("PATCH", `/api/people/${id}`, change);

/**
 * @param {number | string} id
 * @param {boolean} active
 */
export const setActive = (id, active) =>
  postJSON(`/api/people/${id}/${active ? "reactivate" : "deactivate"}`, null);

/** @param {number | string} id */
export const resetPassword = (id) => postJSON(`/api/people/${id}/password-reset`, null);

/**
 * @param {string} grid
 * @param {string} post
 * @param {number} person
 * @returns {Promise<any>} the grid's page after
 */
export const assignPost = (grid, post, person) =>
  sendJSON("PUT", `/api/grids/${grid}/posts/${post}`, { person });

/**
 * @param {string} grid
 * @param {string} post
 * @param {number} person
 * @returns {Promise<any>} the grid's page after
 */
export const vacatePost = (grid, post, person) =>
  sendJSON("DELETE", `/api/grids/${grid}/posts/${post}?person=${person}`);
