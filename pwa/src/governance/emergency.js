import { defineStore } from "pinia";
import { ref } from "vue";
import { getJSON, statusOf } from "../api/client.js";
import { snapshots } from "../offline/db.js";
import { useSession } from "../stores/session.js";

// The emergency modes (平急转换) that concern the signed-in person: around or inside their area
// and each of their grids, as GET /api/emergency/modes answers for each code.
//
// `mode.changed` is scoped to the area that was switched, so the live stream brings it only to
// those whose territory holds that area: a grid worker does not hear their district switch.
// Hence the modes are read again on every (re)connection, when the app comes back into view,
// and on a slow timer, besides on each mode.changed heard.
const SNAPSHOT = "emergency:modes";
export const RECHECK_MS = 3 * 60_000;

export function codesOf(me) {
  if (!me) return [];
  const grids = (me.posts ?? []).map((p) => p.grid_code);
  return [...new Set([...grids, me.area?.code].filter(Boolean))];
}

// The same mode reached through several codes is shown once; the widest area first.
export function merged(answers) {
  const byId = new Map();
  for (const answer of answers) for (const mode of answer.modes) byId.set(mode.id, mode);
  return [...byId.values()].sort(
    (a, b) => a.area_code.length - b.area_code.length || a.area_code.localeCompare(b.area_code),
  );
}

export const useEmergency = defineStore("emergency", () => {
  const modes = ref(/** @type {any[]} */ ([]));
  const offline = ref(false);
  let asking = 0;

  async function load() {
    const codes = codesOf(useSession().me);
    const ask = ++asking;
    if (!codes.length) {
      modes.value = [];
      return;
    }
    try {
      const answers = await Promise.all(codes.map((c) => getJSON(`/api/emergency/modes?area=${encodeURIComponent(c)}`)));
      if (ask !== asking) return; // an answer to an older question
      modes.value = merged(answers);
      offline.value = false;
      await snapshots.put(SNAPSHOT, JSON.parse(JSON.stringify(modes.value)));
    } catch (err) {
      if (ask !== asking || statusOf(err) !== 0) return;
      // Offline: the last modes known still hold; the banner says they may be stale.
      const saved = await snapshots.get(SNAPSHOT);
      if (saved) modes.value = saved;
      offline.value = true;
    }
  }

  // Signed out: nothing is shown, and the next person does not inherit this one's copy.
  function clear() {
    asking++;
    modes.value = [];
    offline.value = false;
    snapshots.put(SNAPSHOT, null).catch(() => {});
  }

  return { modes, offline, load, clear };
});
