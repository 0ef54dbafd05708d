import { STATUS } from "../cases/labels.js";
import { formatFigure, rowKind } from "./figures.js";

// The rows behind a figure as a table: which columns each kind of row shows, in what order, and
// how each cell reads. Columns a row lacks are left out (a "cases" figure's rows carry due and
// closing times, an "events" figure's the times of each step); flags become the last column.

/** @type {Record<string, string[]>} */
const COLUMNS = {
  case: ["id", "grid_code", "status", "created_at", "accepted_at", "dispatched_at", "handled_at", "due_at", "closed_at", "response_s", "handling_s", "rating"],
  task: ["id", "broadcast", "grid_code", "building_id", "status", "done_at"],
  claim: ["id", "need", "home_community", "hours", "starts_at", "confirmed_at"],
  patrol: ["grid_code", "person", "date", "track_points"],
};
const TIMES = new Set(["created_at", "accepted_at", "dispatched_at", "handled_at", "due_at", "closed_at", "done_at", "starts_at", "confirmed_at"]);
const SECONDS = new Set(["response_s", "handling_s"]);

/**
 * The columns of a drill-down's rows, all of one kind.
 * @param {Record<string, any>[]} rows
 * @returns {{ kind: string, columns: string[] }}
 */
export function drillColumns(rows) {
  const kind = rows.length ? rowKind(rows[0]) : "other";
  const wanted = COLUMNS[kind] ?? (rows.length ? Object.keys(rows[0]) : []);
  return { kind, columns: wanted.filter((key) => rows.some((r) => key in r)) };
}

/**
 * The true flags of a case row (overdue, closed on time …): booleans, which no column shows.
 * @param {Record<string, any>} row
 */
export const flagsOf = (row) => Object.keys(row).filter((key) => row[key] === true);

/**
 * One cell as a person reads it.
 * @param {Record<string, any>} row
 * @param {string} key
 * @param {string} kind the row's kind (drillColumns)
 * @param {(key: string, values?: Record<string, unknown>) => string} t vue-i18n's translate
 * @param {string} locale
 */
export function cellText(row, key, kind, t, locale) {
  const value = row[key];
  if (value === null || value === undefined || value === "") return "—";
  if (TIMES.has(key)) return new Date(value).toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
  if (SECONDS.has(key)) return formatFigure(value, "seconds", t);
  if (key === "hours") return formatFigure(value, "hours", t);
  if (key === "status") return kind === "task" ? t(`tasks.status.${value}`) : (/** @type {Record<string, string>} */ (STATUS)[value] ?? value);
  if (key === "id" || key === "broadcast" || key === "need") return `#${value}`;
  return String(value);
}
