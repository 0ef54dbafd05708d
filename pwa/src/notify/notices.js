import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { getJSON, postJSON, sendJSON } from "../api/client.js";

// The last page read, kept so the list opens offline as it was at the last sync.
const KEPT = "wangge.notices";

/** @returns {{ items: any[], unread: number }} */
function kept() {
  try {
    return JSON.parse(localStorage.getItem(KEPT) || "") || { items: [], unread: 0 };
  } catch {
    return { items: [], unread: 0 };
  }
}

/**
 * base64url → bytes, as PushManager.subscribe takes the server's key.
 * @param {string} text
 */
export function keyBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export const useNotices = defineStore("notices", () => {
  const start = kept();
  const items = ref(start.items);
  const unread = ref(start.unread);
  const permission = ref(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  const pushable = computed(() => typeof Notification !== "undefined" && "serviceWorker" in navigator && "PushManager" in window);

  async function sync() {
    const page = await getJSON("/api/notices?limit=50");
    items.value = page.items;
    unread.value = page.unread;
    localStorage.setItem(KEPT, JSON.stringify({ items: page.items, unread: page.unread }));
  }

  async function readAll() {
    if (!items.value.length) return;
    const answer = await postJSON("/api/notices/read", { upto: items.value[0].id });
    unread.value = answer.unread;
    items.value = items.value.map((n) => ({ ...n, read: true }));
    localStorage.setItem(KEPT, JSON.stringify({ items: items.value, unread: unread.value }));
  }

  // Asked only when the person taps the button: a browser remembers a refusal for good.
  async function enablePush() {
    permission.value = await Notification.requestPermission();
    if (permission.value !== "granted") return false;
    const registration = await navigator.serviceWorker.ready;
    const { public_key: key } = await getJSON("/api/push/key");
    const subscription =
      (await registration.pushManager.getSubscription()) ||
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
    await postJSON("/api/push/subscriptions", subscription.toJSON());
    return true;
  }

  // Before the token goes: the next person on this phone gets neither the pushes nor the list
  // of the one who signed out.
  async function signOut() {
    items.value = [];
    unread.value = 0;
    localStorage.removeItem(KEPT);
    try {
      const registration = await navigator.serviceWorker?.getRegistration();
      const subscription = await registration?.pushManager?.getSubscription();
      if (subscription) {
        await sendJSON("DELETE", "/api/push/subscriptions", { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
    } catch {
      // Offline: the server keeps the device until it subscribes for someone else.
    }
  }

  /** @returns {Promise<{ off: string[], quiet_from: string | null, quiet_until: string | null, kinds: string[], urgent: string[] }>} */
  const preferences = () => getJSON("/api/notify/preferences");

  /** @param {{ off: string[], quiet_from: string | null, quiet_until: string | null }} chosen */
  const savePreferences = (chosen) => sendJSON("PUT", "/api/notify/preferences", chosen);

  return { items, unread, permission, pushable, sync, readAll, enablePush, signOut, preferences, savePreferences };
});
