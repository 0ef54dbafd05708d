import { OPEN, isOverdue } from "../cases/labels.js";
import { caseFeatures, workerFeatures } from "./screenLayers.js";

// Staff's map over the base style: the open cases they may see, coloured open or overdue, and
// the workers on duty where they last were (read once when the map opens).

export const CASE_COLOURS = { open: "#e8590c", overdue: "#c92a2a" };
export const WORKER_COLOUR = "#2b8a3e";

const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });

/** @param {any} map a MapLibre map whose style is loaded */
export function addFieldLayers(map) {
  map.addSource("cases", empty());
  map.addSource("workers", empty());
  // Under the service points, so a point's dot stays on top for the tap.
  map.addLayer(
    {
      id: "cases-circle",
      type: "circle",
      source: "cases",
      paint: {
        "circle-color": ["case", ["get", "overdue"], CASE_COLOURS.overdue, CASE_COLOURS.open],
        "circle-radius": 5,
        // A dark ring tells a case from a service point of a like colour.
        "circle-stroke-color": "#212529",
        "circle-stroke-width": 2,
      },
    },
    "points-circle",
  );
  map.addLayer(
    {
      id: "workers-circle",
      type: "circle",
      source: "workers",
      paint: { "circle-color": WORKER_COLOUR, "circle-radius": 6, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 },
    },
    "points-circle",
  );
}

/**
 * @param {any} map
 * @param {import("../api/types.js").Case[]} cases
 * @param {any[]} workers the positions API's latest entries
 */
export function showField(map, cases, workers) {
  map.getSource("cases").setData(caseFeatures(cases.filter((c) => OPEN.has(c.status)), (c) => Boolean(isOverdue(c))));
  const onDuty = new Map(workers.filter((w) => w.on_duty !== false).map((w) => [w.person, w]));
  map.getSource("workers").setData(workerFeatures(onDuty));
}
