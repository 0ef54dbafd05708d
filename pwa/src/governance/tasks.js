import { getJSON, statusOf } from "../api/client.js";
import { snapshots } from "../offline/db.js";
import { enqueue } from "../offline/outbox.js";

// Broadcast task items (任务) of my grids: read with an offline copy, marked done through the
// outbox so a stairwell with no signal loses nothing and a retry marks nothing twice.

const SNAPSHOT = "tasks:items";

// {items, savedAt, offline}: the server's list (open first), or the last synced copy offline.
export async function loadItems() {
  try {
    const items = await getJSON("/api/task-items/?limit=500");
    const saved = { items, savedAt: Date.now() };
    await snapshots.put(SNAPSHOT, saved);
    return { ...saved, offline: false };
  } catch (err) {
    const saved = await snapshots.get(SNAPSHOT);
    if (saved && statusOf(err) === 0) return { ...saved, offline: true };
    throw err;
  }
}

export function itemLabel(item) {
  return `任务：${item.title} · ${item.building_name ?? item.grid_code}`;
}

// The done mark names the photo's server id, which exists only once the photo is sent: the mark
// waits for it (`after`) and its body says "{after}" where the id goes. It is queued before the
// photo so that, whatever moment the app is closed at, the photo's id is kept on the mark.
export async function queueDone(item, { result, households, photo }) {
  const doneId = crypto.randomUUID();
  const photoId = photo ? crypto.randomUUID() : null;
  const label = itemLabel(item);
  await enqueue({
    id: doneId,
    kind: "task-done",
    label,
    after: photoId,
    meta: { itemId: item.id },
    request: {
      method: "POST",
      url: `/api/task-items/${item.id}/done`,
      json: {
        client_id: doneId,
        result,
        households: households === "" || households === null ? null : Number(households),
        photo_id: photoId ? "{after}" : null,
      },
    },
  });
  if (photo && photoId) {
    await enqueue({
      id: photoId,
      kind: "task-photo",
      label: `${label} · 照片`,
      meta: { itemId: item.id },
      request: {
        method: "POST",
        url: `/api/task-items/${item.id}/photos`,
        form: { file: photo, client_id: photoId },
      },
    });
  }
  return doneId;
}

// Open first, then by broadcast and building, as the server orders them; an item whose mark
// waits in the outbox stays in the open list, shown as pending.
export function splitItems(items) {
  const open = items.filter((i) => i.status !== "done");
  const done = items.filter((i) => i.status === "done");
  return { open, done };
}
