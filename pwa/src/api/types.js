// The API's objects, as far as the app reads them (JSDoc types only: nothing runs here).
// The server owns these shapes; fields the app does not read are left to the index signature.

/**
 * A case (诉求 or 事件) as /api/cases/{id} and /api/case-list answer it.
 * `version` is what a transition names, so a stale screen cannot act.
 * @typedef {{
 *   id: number,
 *   kind: string,
 *   status: string,
 *   version: number,
 *   description?: string,
 *   due_at?: string | null,
 *   grid_code?: string,
 *   [field: string]: any,
 * }} Case
 */

/**
 * A category of the tree /api/categories answers: groups have no parent.
 * @typedef {object} Category
 * @property {string} code
 * @property {string} name
 * @property {string | null} [parent]
 * @property {boolean} [retired] no new case may use it
 */

export {};
