import { getJSON } from "../api/client.js";
import { enqueue } from "../offline/outbox.js";

// Broadcasts (任务下发) as centres and admins see them: the list, one broadcast's completion by
// grid and building, and its items on the map coloured by status.

export const STATUS_COLOURS = { done: "#2b8a3e", open: "#f59f00" };

export const loadBroadcasts = () => getJSON("/api/tasks/?limit=100");

export const loadCompletion = (id) => getJSON(`/api/tasks/${id}/completion`);

export const loadItemFeatures = (id) => getJSON(`/api/tasks/${id}/items.geojson`);

// Sent through the outbox like every write: its client id makes a resend create nothing new.
export function queueBroadcast({ areaCode, target, title, description }) {
  const clientId = crypto.randomUUID();
  return enqueue({
    id: clientId,
    kind: "broadcast",
    label: `下发任务：${title}`,
    request: {
      method: "POST",
      url: "/api/tasks/",
      json: { client_id: clientId, area_code: areaCode, target, title, description },
    },
  });
}

export const share = (done, total) => (total ? Math.round((100 * done) / total) : 0);

const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });

// The items over the base style: building footprints (or grid shapes) filled by status.
export function addItemLayers(map) {
  map.addSource("task-items", empty());
  const colour = ["match", ["get", "status"], "done", STATUS_COLOURS.done, STATUS_COLOURS.open];
  map.addLayer({
    id: "task-items-fill",
    type: "fill",
    source: "task-items",
    paint: { "fill-color": colour, "fill-opacity": 0.8 },
  });
  map.addLayer({
    id: "task-items-line",
    type: "line",
    source: "task-items",
    paint: { "line-color": colour, "line-width": 1.5 },
  });
}
