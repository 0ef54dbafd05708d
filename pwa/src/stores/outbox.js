import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { countWaiting, discard, drain, enqueue, isMine, onOutboxChange, retry, startOutbox } from "../offline/outbox.js";

// The outbox as the screens see it: what waits, and why each failed item failed.
export const useOutbox = defineStore("outbox", () => {
  /** @type {import("vue").Ref<import("../offline/outbox.js").OutboxItem[]>} */
  const items = ref([]);
  const online = ref(navigator.onLine);
  // What another person of the shift queued waits for them, unseen.
  onOutboxChange((list) => {
    items.value = list.filter(isMine);
  });
  addEventListener("online", () => (online.value = true));
  addEventListener("offline", () => (online.value = false));

  // A report with its photos counts once, as the person sent it.
  const waiting = computed(() => countWaiting(items.value));
  const failed = computed(() => items.value.filter((i) => i.state === "rejected" || i.state === "conflict"));

  return {
    items,
    online,
    waiting,
    failed,
    start: startOutbox,
    enqueue,
    discard,
    retry,
    sendNow: () => drain({ force: true }),
  };
});
