import { OPEN, isOverdue } from "../cases/labels.js";

// What the big screen shows beside its map, worked out from its case list, its workers and the
// assessment's answers: pure functions, so the wall's figures are tested without a browser.

/** @typedef {import("../api/types.js").Case} Case */
/**
 * A worker as /api/positions/latest and the live stream's presence and position tell of them.
 * @typedef {{ person: number, name?: string, grid?: string, on_duty?: boolean, lon?: number | null, lat?: number | null }} Worker
 */

/**
 * The wall's four counters.
 * @param {Case[]} cases
 * @param {Map<number, Worker>} workers
 * @param {number} [now]
 */
export function counters(cases, workers, now = Date.now()) {
  const open = cases.filter((c) => OPEN.has(c.status));
  const today = new Date(now).toDateString();
  return {
    open: open.length,
    overdue: open.filter((c) => isOverdue(c, now)).length,
    today: cases.filter((c) => new Date(c.created_at).toDateString() === today).length,
    onDuty: onDuty(workers).length,
  };
}

/**
 * The latest reports, newest first.
 * @param {Case[]} cases
 * @param {number} count
 */
export function newest(cases, count) {
  return [...cases].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id).slice(0, count);
}

/**
 * Open cases past their due time, the longest overdue first.
 * @param {Case[]} cases
 * @param {number} count
 * @param {number} [now]
 */
export function overdue(cases, count, now = Date.now()) {
  return cases
    .filter((c) => isOverdue(c, now))
    .sort((a, b) => Date.parse(a.due_at ?? "") - Date.parse(b.due_at ?? ""))
    .slice(0, count);
}

/**
 * Workers on duty, by name. A position without a presence counts as on duty: only an on-duty
 * phone shares its position.
 * @param {Map<number, Worker>} workers
 */
export function onDuty(workers) {
  return [...workers.values()]
    .filter((w) => w.on_duty !== false)
    .sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "", "zh-CN"));
}

/**
 * How long ago, as a number and a unit the i18n table words: minutes under an hour, hours
 * under a day, then days.
 * @param {string} iso
 * @param {number} [now]
 * @returns {{ n: number, unit: "minutes" | "hours" | "days" }}
 */
export function ago(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  if (minutes < 60) return { n: minutes, unit: "minutes" };
  if (minutes < 24 * 60) return { n: Math.floor(minutes / 60), unit: "hours" };
  return { n: Math.floor(minutes / (24 * 60)), unit: "days" };
}

/**
 * One figure of the wall's own area over several periods, from the assessment's answers (one per
 * period, null where a period failed): the area's own unit where the answer ranks it, else the
 * sum of the units inside it (a city is not a level: its districts are summed).
 * @param {({ units: { code: string, figures: Record<string, number | null> }[] } | null)[]} answers
 * @param {string} key an indicator's key, a count such as "received"
 * @param {string | null} area the wall's area code
 * @returns {(number | null)[]}
 */
export function areaSeries(answers, key, area) {
  return answers.map((answer) => {
    if (!answer) return null;
    const own = answer.units.find((u) => u.code === area);
    const units = own ? [own] : answer.units.filter((u) => !area || u.code.startsWith(area));
    const known = units.map((u) => u.figures[key]).filter((v) => typeof v === "number");
    return known.length ? known.reduce((a, b) => a + b, 0) : null;
  });
}
