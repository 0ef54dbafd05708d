// Assessment periods as the API writes them: a month "2026-03", a quarter "2026-Q1", a year
// "2026". Pure functions; "now" is the phone's local date, which in the city is Beijing time.

const MONTH = /^(\d{4})-(\d{2})$/;
const QUARTER = /^(\d{4})-Q([1-4])$/;
const YEAR = /^(\d{4})$/;

// {kind, index}: months, quarters or years counted from year 0, so stepping is arithmetic.
function parse(period) {
  let m;
  if ((m = MONTH.exec(period))) return { kind: "month", index: Number(m[1]) * 12 + Number(m[2]) - 1 };
  if ((m = QUARTER.exec(period))) return { kind: "quarter", index: Number(m[1]) * 4 + Number(m[2]) - 1 };
  if ((m = YEAR.exec(period))) return { kind: "year", index: Number(m[1]) };
  throw new Error(`not a period: ${period}`);
}

function label({ kind, index }) {
  if (kind === "month") return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  if (kind === "quarter") return `${Math.floor(index / 4)}-Q${(index % 4) + 1}`;
  return String(index);
}

export const kindOf = (period) => parse(period).kind;

export function currentPeriod(kind, now = new Date()) {
  const year = now.getFullYear();
  const month = now.getMonth();
  if (kind === "month") return label({ kind, index: year * 12 + month });
  if (kind === "quarter") return label({ kind, index: year * 4 + Math.floor(month / 3) });
  return String(year);
}

// The `count` periods that end with `period`, oldest first: the span of a trend chart.
export function periodsEndingAt(period, count) {
  const { kind, index } = parse(period);
  return Array.from({ length: count }, (_, i) => label({ kind, index: index - count + 1 + i }));
}

// What the period picker offers for a kind: the current one and those before it, newest first.
export function recentPeriods(kind, count, now = new Date()) {
  return periodsEndingAt(currentPeriod(kind, now), count).reverse();
}
