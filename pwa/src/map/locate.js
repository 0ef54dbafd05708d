// Which grid a point lies in, from the grids already on the phone (the map's collection, which
// the service worker keeps): locate-me answers with no network, as the map itself draws.

/**
 * Whether [lon, lat] lies inside a ring (even–odd rule; a point on the edge may go either way).
 * @param {number[][]} ring
 * @param {number} lon
 * @param {number} lat
 */
function inRing(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * @param {number[][][]} polygon outer ring, then holes
 * @param {number} lon
 * @param {number} lat
 */
function inPolygon([outer, ...holes], lon, lat) {
  return inRing(outer, lon, lat) && !holes.some((hole) => inRing(hole, lon, lat));
}

/**
 * The first feature of `collection` whose Polygon or MultiPolygon contains the point, or null.
 * @param {{ features: { geometry?: { type: string, coordinates: any } | null, properties?: any }[] }} collection
 * @param {number} lon
 * @param {number} lat
 */
export function featureAt(collection, lon, lat) {
  for (const f of collection.features) {
    const g = f.geometry;
    if (!g) continue;
    const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    if (polygons.some((/** @type {number[][][]} */ p) => inPolygon(p, lon, lat))) return f;
  }
  return null;
}

/**
 * The phone's position once, as a promise.
 * @returns {Promise<GeolocationPosition>}
 */
export function currentPosition() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("no geolocation"));
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15_000, maximumAge: 30_000 });
  });
}
