import { getAllFeatures, getJSON } from "../api/client.js";

const COLLECTIONS = "/api/collections";

export const loadCommunities = () =>
  getAllFeatures(`${COLLECTIONS}/areas/items?level=community&limit=1000`);

export const loadGrids = () => getAllFeatures(`${COLLECTIONS}/grids/items?limit=10000`);

export const loadPoints = () => getAllFeatures(`${COLLECTIONS}/service-points/items?limit=1000`);

// All ~6,500 buildings in one stable URL rather than per-view bbox requests: it is a few MB
// once, and a single URL is what the offline cache can hand back for any view.
export const loadBuildings = () => getAllFeatures(`${COLLECTIONS}/buildings/items?limit=10000`);

export const loadGrid = (code, options) => getJSON(`/api/grids/${encodeURIComponent(code)}`, options);

function extend(box, coords) {
  if (typeof coords[0] === "number") {
    box[0] = Math.min(box[0], coords[0]);
    box[1] = Math.min(box[1], coords[1]);
    box[2] = Math.max(box[2], coords[0]);
    box[3] = Math.max(box[3], coords[1]);
  } else {
    for (const c of coords) extend(box, c);
  }
}

// [[west, south], [east, north]] of a FeatureCollection, or null when it has no geometry.
/**
 * @param {{ features: { geometry?: { coordinates?: any } | null }[] }} collection
 * @returns {[[number, number], [number, number]] | null}
 */
export function bounds(collection) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of collection.features) if (f.geometry?.coordinates) extend(box, f.geometry.coordinates);
  return box[0] <= box[2] ? [[box[0], box[1]], [box[2], box[3]]] : null;
}
