import { defineStore } from "pinia";
import { ref } from "vue";
import { LiveStream } from "../live/socket.js";
import { useSession } from "./session.js";

// One live connection per signed-in app; screens register what they want to hear.
export const useLive = defineStore("live", () => {
  /** @type {import("vue").Ref<import("../live/socket.js").LiveState>} */
  const state = ref("offline");
  /** @type {Set<(message: import("../live/socket.js").LiveMessage) => void>} */
  const handlers = new Set();
  /** @type {LiveStream | null} */
  let stream = null;

  function start() {
    const session = useSession();
    if (stream || !session.token) return;
    stream = new LiveStream({
      token: session.token,
      scopes: [],
      onState: (s) => (state.value = s),
      // A 4401 signs out only the token it was for. A new password's answer brings a new
      // token and revokes the old one, and the close that revocation causes may come after
      // that answer: the stream then signs in again with the new token, resuming where it was.
      onUnauthorized: () => {
        if (stream && session.token && session.token !== stream.token) {
          stream.token = session.token;
          stream.connect();
        } else {
          session.signOut();
        }
      },
      onMessage: (message) => {
        for (const handler of handlers) handler(message);
      },
    });
    stream.start();
  }

  function stop() {
    stream?.stop();
    stream = null;
    state.value = "offline";
  }

  // Returns the function that stops listening; call it when the screen goes away.
  /** @param {(message: import("../live/socket.js").LiveMessage) => void} handler */
  function listen(handler) {
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** @param {object} message */
  const send = (message) => stream?.send(message) ?? false;

  // A screen's map viewport: positions only of the workers inside it.
  /** @param {import("../live/socket.js").Bbox | null} bbox */
  const viewport = (bbox) => stream?.setViewport(bbox);

  return { state, start, stop, listen, send, viewport };
});
