// A patrol's distance and time in the UI language's words: "1.2 公里 / 35 分钟", "1.2 km / 35 min".

/** @typedef {(key: string, values: Record<string, unknown>) => string} Translate */

/**
 * Metres under a kilometre, kilometres to one decimal above.
 * @param {number} metres
 * @param {Translate} t
 */
export function distanceText(metres, t) {
  if (metres < 1000) return t("track.m", { n: Math.round(metres) });
  return t("track.km", { n: (metres / 1000).toFixed(1) });
}

/**
 * Minutes under an hour, hours and minutes above.
 * @param {number} seconds
 * @param {Translate} t
 */
export function durationText(seconds, t) {
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("track.min", { n: minutes });
  return t("track.hourMin", { h: Math.floor(minutes / 60), n: minutes % 60 });
}

/**
 * The patrol log's walks as a GeoJSON feature for a line layer.
 * @param {[number, number][][]} walks
 */
export function trackFeature(walks) {
  return { type: "Feature", properties: {}, geometry: { type: "MultiLineString", coordinates: walks } };
}
