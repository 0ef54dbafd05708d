import { labelTable } from "../i18n/index.js";

// The workflow's statuses and actions (backend/cases/states.py) by name, in the UI's language
// (the `labels` tables of i18n/zh.js and en.js).
export const STATUS = labelTable("status");

export const STATUS_COLOR = {
  submitted: "warning",
  accepted: "primary",
  dispatched: "primary",
  handling: "primary",
  handled: "success",
  verified: "success",
  closed: "default",
};

// Workflow actions, and the one-step actions of timelines logged before approvals.
export const ACTION = labelTable("action");

// Timeline entries that are not workflow actions (backend/cases/service.py and scheduler.py).
export const EVENT = labelTable("event");

export const LEVEL = labelTable("level");

export const KIND = labelTable("kind");

// Where a case came from (`source`): app, anonymous, hotline, patrol, task, open311.
export const SOURCE = labelTable("source");

export const OPEN = new Set(["submitted", "accepted", "dispatched", "handling", "handled", "verified"]);

/**
 * @param {{ status: string, due_at?: string | null }} c a case
 * @param {number} [now]
 */
export function isOverdue(c, now = Date.now()) {
  return OPEN.has(c.status) && c.due_at && Date.parse(c.due_at) < now;
}
