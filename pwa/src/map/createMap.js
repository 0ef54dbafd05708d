import { getJSON } from "../api/client.js";
import { style } from "./style.js";

// The server may name a raster basemap (such as 天地图); without one, or offline, the map draws
// Wangge's own layers on a plain background.
async function withBasemap(base) {
  let config;
  try {
    config = await getJSON("/api/config");
  } catch {
    return base;
  }
  if (!config.basemap_url) return base;
  const [background, ...rest] = base.layers;
  return {
    ...base,
    sources: {
      ...base.sources,
      basemap: { type: "raster", tiles: [config.basemap_url], tileSize: 256, maxzoom: 18 },
    },
    layers: [background, { id: "basemap", type: "raster", source: "basemap" }, ...rest],
  };
}

// Wuhai's three districts (their real outlines, geo/data), shown until the grids arrive.
/** @type {[[number, number], [number, number]]} */
const WUHAI = [
  [106.6, 39.03],
  [107.14, 39.92],
];

// MapLibre is about 1 MB, three times the rest of the app, so it loads only when a map is
// about to be drawn; resolves once the style is loaded and sources can take data.
export async function createMap(container) {
  const [{ default: maplibregl }, , mapStyle] = await Promise.all([
    import("maplibre-gl"),
    import("maplibre-gl/dist/maplibre-gl.css"),
    withBasemap(style),
  ]);
  const map = new maplibregl.Map({
    container,
    style: mapStyle,
    bounds: WUHAI,
    fitBoundsOptions: { padding: 16 },
    // Field staff read the map north-up; rotation and pitch only get in the way of a thumb.
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: { compact: true },
  });
  map.touchZoomRotate.disableRotation();
  window.__wanggeMap = map;
  await new Promise((resolve, reject) => {
    map.once("load", resolve);
    map.once("error", ({ error }) => reject(error));
  });
  return map;
}
