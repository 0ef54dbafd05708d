// Wangge's own style: a plain background under its own layers, with no basemap, tiles or
// glyphs from elsewhere, so the map draws with no internet. Hence no text layers yet.

export const BUILDINGS_MIN_ZOOM = 14;

export const POINT_COLOURS = {
  party_centre: "#d7263d",
  driver_home: "#1c6dd0",
  warm_station: "#f08c00",
  red_property: "#9c2f8f",
};

const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });

export const GRID_COLOURS = {
  community: "#d6e6fa",
  village: "#dcefd6",
  dedicated: "#fbe5c8",
};

export const SELECTED_COLOUR = "#f03e3e";
export const ME_COLOUR = "#0b7285"; // apart from the service points' blue

const GRID_FILL_BY_KIND = ["match", ["get", "kind"], ...Object.entries(GRID_COLOURS).flat(), "#e6e6e6"];

const POINT_COLOUR_BY_KIND = ["match", ["get", "kind"], ...Object.entries(POINT_COLOURS).flat(), "#666666"];

export const NO_SELECTION = ["==", ["get", "code"], ""];

export function selectedGrid(code) {
  return ["==", ["get", "code"], code];
}

export const style = {
  version: 8,
  sources: {
    communities: empty(),
    grids: empty(),
    buildings: empty(),
    points: empty(),
    me: empty(),
  },
  layers: [
    { id: "background", type: "background", paint: { "background-color": "#f4f2ec" } },
    {
      id: "grids-fill",
      type: "fill",
      source: "grids",
      paint: { "fill-color": GRID_FILL_BY_KIND, "fill-opacity": 0.7 },
    },
    {
      id: "buildings-fill",
      type: "fill",
      source: "buildings",
      minzoom: BUILDINGS_MIN_ZOOM,
      paint: { "fill-color": "#b9b2a6", "fill-outline-color": "#8f887c" },
    },
    {
      id: "grids-line",
      type: "line",
      source: "grids",
      paint: {
        "line-color": "#5b7fa8",
        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.5, 15, 1.5],
      },
    },
    {
      id: "communities-line",
      type: "line",
      source: "communities",
      layout: { "line-join": "round" },
      paint: {
        "line-color": "#24456e",
        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1.5, 15, 3],
      },
    },
    {
      id: "grids-selected",
      type: "line",
      source: "grids",
      filter: NO_SELECTION,
      layout: { "line-join": "round" },
      paint: { "line-color": SELECTED_COLOUR, "line-width": 3 },
    },
    {
      id: "points-circle",
      type: "circle",
      source: "points",
      paint: {
        "circle-color": POINT_COLOUR_BY_KIND,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 15, 8],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.5,
      },
    },
    {
      // Where locate-me found the phone.
      id: "me-circle",
      type: "circle",
      source: "me",
      paint: {
        "circle-color": ME_COLOUR,
        "circle-radius": 8,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 3,
      },
    },
  ],
};
