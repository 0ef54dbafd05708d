// The big screen's layers on top of the base style: grids coloured by their open and overdue
// cases, case markers, and workers on duty.

const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });

export function addScreenLayers(map) {
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
          "#f03e3e",
          [">", ["coalesce", ["get", "open"], 0], 0],
          "#f59f00",
          "#d6e6fa",
        ],
        "fill-opacity": 0.55,
      },
    },
    "grids-line",
  );
  map.addLayer({
    id: "cases-circle",
    type: "circle",
    source: "cases",
    paint: {
      "circle-color": ["case", ["get", "overdue"], "#c92a2a", "#e8590c"],
      "circle-radius": 6,
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 1.5,
    },
  });
  map.addLayer({
    id: "workers-circle",
    type: "circle",
    source: "workers",
    paint: {
      "circle-color": ["case", ["get", "on_duty"], "#2b8a3e", "#868e96"],
      "circle-radius": 7,
      "circle-stroke-color": "#ffffff",
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
