// The big screen's layers on top of the base style: grids coloured by their open and overdue
// cases, case markers, and workers on duty, on a dark ground (a wall is watched in a dim room).

// Each colour once: the layers paint with them and the legend names them.
export const COLOURS = {
  gridOverdue: "#e03131",
  gridOpen: "#f59f00",
  gridQuiet: "#1f3b5c",
  caseOverdue: "#ff6b6b",
  caseOpen: "#ffa94d",
  workerOn: "#51cf66",
  workerOff: "#adb5bd",
};

// The base style's ground and outlines, darkened.
const DARK = [
  ["background", "background-color", "#0b1526"],
  ["grids-line", "line-color", "#6c8fb8"],
  ["communities-line", "line-color", "#a5c8ff"],
];

const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });

export function addScreenLayers(map) {
  for (const [layer, property, value] of DARK) map.setPaintProperty(layer, property, value);
  // The grids' own fill (by kind) would wash out the load colours laid over it.
  map.setLayoutProperty("grids-fill", "visibility", "none");
  map.addSource("cases", empty());
  map.addSource("workers", empty());
  map.addLayer(
    {
      id: "grids-load",
      type: "fill",
      source: "grids",
      paint: {
        "fill-color": [
          "case",
          [">", ["coalesce", ["get", "overdue"], 0], 0],
          COLOURS.gridOverdue,
          [">", ["coalesce", ["get", "open"], 0], 0],
          COLOURS.gridOpen,
          COLOURS.gridQuiet,
        ],
        "fill-opacity": 0.6,
      },
    },
    "grids-line",
  );
  map.addLayer({
    id: "cases-circle",
    type: "circle",
    source: "cases",
    paint: {
      "circle-color": ["case", ["get", "overdue"], COLOURS.caseOverdue, COLOURS.caseOpen],
      "circle-radius": 7,
      "circle-stroke-color": "#0b1526",
      "circle-stroke-width": 1.5,
    },
  });
  map.addLayer({
    id: "workers-circle",
    type: "circle",
    source: "workers",
    paint: {
      "circle-color": ["case", ["get", "on_duty"], COLOURS.workerOn, COLOURS.workerOff],
      "circle-radius": 8,
      "circle-stroke-color": "#0b1526",
      "circle-stroke-width": 2,
    },
  });
}

export function caseFeatures(cases, overdue) {
  return {
    type: "FeatureCollection",
    features: cases.map((c) => ({
      type: "Feature",
      id: c.id,
      geometry: { type: "Point", coordinates: [c.lon, c.lat] },
      properties: { id: c.id, status: c.status, description: c.description, overdue: overdue(c) },
    })),
  };
}

export function workerFeatures(workers) {
  return {
    type: "FeatureCollection",
    features: [...workers.values()].map((w) => ({
      type: "Feature",
      id: w.person,
      geometry: { type: "Point", coordinates: [w.lon, w.lat] },
      properties: { person: w.person, name: w.name, on_duty: w.on_duty !== false },
    })),
  };
}

// Grids with the counts of their open and overdue cases as properties, for the fill colour.
export function gridsWithLoad(grids, cases, overdue) {
  const open = new Map();
  const late = new Map();
  for (const c of cases) {
    if (!c.grid_code) continue;
    open.set(c.grid_code, (open.get(c.grid_code) ?? 0) + 1);
    if (overdue(c)) late.set(c.grid_code, (late.get(c.grid_code) ?? 0) + 1);
  }
  return {
    ...grids,
    features: grids.features.map((f) => ({
      ...f,
      properties: { ...f.properties, open: open.get(f.properties.code) ?? 0, overdue: late.get(f.properties.code) ?? 0 },
    })),
  };
}
