// What each action asks for before it is sent; the rest of the body is {action, version}.
/** @type {Record<string, string[]>} */
export const NEEDS = {
  reject: ["reason"],
  dispatch: ["assignee"],
  handle: ["result", "photo"],
  self_handle: ["result", "photo"],
  rework: ["reason"],
  escalate: ["reason"],
  request_return: ["reason"],
  request_void: ["reason"],
  request_shelve: ["reason", "review_date"],
  approve: ["comment"],
  refuse: ["reason"],
  verify_on_site: ["result", "photo"],
  remind: ["comment"],
  supervise: ["reason", "due_hours"],
  rate: ["rating", "comment"],
  reopen: ["reason"],
  request_extension: ["extension_hours", "reason"],
  transfer: ["target_code", "reason"],
  accept_transfer: ["comment"],
  refuse_transfer: ["reason"],
  add_department: ["department", "reason"],
  merge: ["main_case", "reason"],
  pause: ["reason"],
  resume: ["reason"],
};

// Actions whose reason may be left out (the others require one).
export const OPTIONAL_REASON = new Set(["escalate", "add_department", "merge", "resume"]);

const NUMBERS = new Set(["rating", "assignee", "extension_hours", "due_hours", "main_case"]);

// The body of a transition from the form's values, only with the fields the action takes.
/**
 * @param {string} action
 * @param {Record<string, unknown>} values
 * @returns {Record<string, unknown>}
 */
export function transitionBody(action, values) {
  /** @type {Record<string, unknown>} */
  const body = { action };
  for (const field of NEEDS[action] ?? []) {
    if (field === "photo") continue; // uploaded separately, through the outbox
    const value = values[field];
    if (value === "" || value === null || value === undefined) continue;
    body[field] = NUMBERS.has(field) ? Number(value) : typeof value === "string" ? value.trim() : value;
  }
  return body;
}
