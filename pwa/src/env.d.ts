// Globals the app sets or reads beyond the DOM's own.

interface Window {
  /** The main map, for the browser tests to query (set by map/createMap.js). */
  __wanggeMap?: import("maplibre-gl").Map;
}
