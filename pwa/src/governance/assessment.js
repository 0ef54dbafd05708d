import { ApiError, getJSON } from "../api/client.js";
import { periodsEndingAt } from "./periods.js";

// The assessment API as the dashboard reads it. One answer holds every unit of a level, so a
// trend over six periods is six answers, kept here for as long as the app is open: switching
// units or coming back to the dashboard asks nothing twice. The running period is asked again
// each time, since its figures change as cases come in.
const cache = new Map();

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  return search.toString();
}

export function loadAssessment({ period, level, area }, { fresh = false } = {}) {
  const url = `/api/assessment/?${query({ period, level, area })}`;
  if (fresh || !cache.has(url)) {
    const answer = getJSON(url);
    cache.set(url, answer);
    answer.catch(() => cache.delete(url));
  }
  return cache.get(url);
}

// {periods, series: {indicatorKey: [value|null × periods]}} for one unit, oldest first; the
// last period is the one shown. A period that fails to load leaves gaps rather than no chart.
export async function loadTrend({ period, level, area, unit, count = 6 }) {
  const periods = periodsEndingAt(period, count);
  const answers = await Promise.all(
    periods.map((p) => loadAssessment({ period: p, level, area }).catch(() => null)),
  );
  const series = {};
  answers.forEach((answer, i) => {
    const figures = answer?.units.find((u) => u.code === unit)?.figures ?? {};
    for (const [key, value] of Object.entries(figures)) {
      series[key] ??= Array(periods.length).fill(null);
      series[key][i] = value;
    }
  });
  return { periods, series };
}

/**
 * One figure of the dashboard, as the drill-down sheet is opened on it.
 * @typedef {object} DrillTarget
 * @property {string} period
 * @property {string} level
 * @property {string} unit
 * @property {string} indicator
 * @property {string} [name]
 * @property {string} [formula]
 * @property {string} [unitName]
 */

/** @param {DrillTarget} target */
export const loadDrill = ({ period, level, unit, indicator }) =>
  getJSON(`/api/assessment/cases?${query({ period, level, unit, indicator })}`);

export const exportUrl = (format, { period, level, area }) =>
  format === "csv"
    ? `/api/assessment/export.csv?${query({ period, level, area })}`
    : `/api/assessment/export.xlsx?${query({ period, area })}`;

// Exports need the bearer token, which a plain link cannot carry: fetched as a blob, then
// handed to the browser as a download under the server's file name.
export async function download(url, token) {
  let res;
  try {
    res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError(0, "network", "网络连接失败");
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiError(res.status, body?.code ?? `http_${res.status}`, body?.reason ?? res.statusText);
  }
  const blob = await res.blob();
  const disposition = res.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? url.split("?")[0].split("/").pop();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return { name, size: blob.size };
}
