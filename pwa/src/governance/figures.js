// How the assessment's figures read on a phone, and which level a person looks at first.

export const LEVELS = ["worker", "grid", "community", "street", "district"];

// One level below the area a person works for: a community ranks its grids, a district its
// streets, the city its districts.
/** @type {Record<string, string>} */
const BELOW = { city: "district", district: "street", street: "community", community: "grid" };

/** @param {string | undefined} areaLevel */
export function defaultLevel(areaLevel) {
  return BELOW[areaLevel ?? ""] ?? "grid";
}

// `t` is vue-i18n's translate; units of time and hours are words, and words have a language.
/**
 * @param {number | null | undefined} value
 * @param {string} unit
 * @param {(key: string, values?: Record<string, unknown>) => string} t
 */
export function formatFigure(value, unit, t) {
  if (value === null || value === undefined) return "—";
  switch (unit) {
    case "rate":
      return `${(value * 100).toFixed(1)}%`;
    case "seconds":
      return value < 3600
        ? t("dash.minutes", { n: Math.round(value / 60) })
        : t("dash.hoursOf", { n: (value / 3600).toFixed(1) });
    case "rating":
      return value.toFixed(2);
    case "hours":
      return t("dash.hoursOf", { n: Number(value.toFixed(1)) });
    default:
      return String(value);
  }
}

/** @param {number | null | undefined} score */
export function formatScore(score) {
  return score === null || score === undefined ? "—" : score.toFixed(1);
}

// "↑2", "↓1", "–", or "new" for a unit that had no rank in the previous period.
/** @param {{ rank: number | null, rank_change?: number | null }} unit */
export function rankChange(unit) {
  if (unit.rank_change === null || unit.rank_change === undefined) {
    return unit.rank === null ? { text: "", dir: "none" } : { text: "new", dir: "new" };
  }
  if (unit.rank_change > 0) return { text: `↑${unit.rank_change}`, dir: "up" };
  if (unit.rank_change < 0) return { text: `↓${-unit.rank_change}`, dir: "down" };
  return { text: "–", dir: "same" };
}

// Indicators that make up the score first (heaviest first), then the plain volumes.
/** @param {any[]} indicators the assessment's, each with its weight */
export function orderedIndicators(indicators) {
  return [...indicators].sort((a, b) => b.weight - a.weight);
}

// What kind of row a drill-down returned, read from its columns: each source has its own.
/** @param {Record<string, unknown>} row */
export function rowKind(row) {
  if ("accepted_at" in row) return "case";
  if ("broadcast" in row) return "task";
  if ("hours" in row) return "claim";
  if ("track_points" in row) return "patrol";
  return "other";
}
