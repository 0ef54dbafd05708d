import { labelTable } from "./i18n/index.js";

// Names for the API's codes, in the UI's language. The order of POSTS is the order 一格一长一警一专多兼
// is read in, plus the party branch built on the grid.
export const POSTS = ["leader", "police", "fulltime", "parttime", "party_secretary", "property_party_secretary"];

export const POST_LABEL = labelTable("post");

export const GRID_KIND_LABEL = labelTable("gridKind");

export const POINT_KIND_LABEL = labelTable("pointKind");

const AREA_LEVEL = labelTable("areaLevel");

// Area codes follow the statistical division code: within a district, street-level codes
// 001–099 are 街道 and 100–199 镇; within those, 001–199 are 社区 and 200–399 村.
/** @param {{ level: string, code: string }} area */
export function areaLevelLabel({ level, code }) {
  const part = (/** @type {number} */ from, /** @type {number} */ to) => Number(String(code).slice(from, to));
  switch (level) {
    case "street":
      return AREA_LEVEL[part(6, 9) >= 100 ? "town" : "street"];
    case "community":
      return AREA_LEVEL[part(9, 12) >= 200 ? "village" : "community"];
    default:
      return AREA_LEVEL[level] ?? level;
  }
}
