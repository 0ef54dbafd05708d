// The live stream (/api/live): subscribe, hear events, and on every reconnect resume from the
// last event id seen, so a phone that lost its signal in a lift gets exactly what it missed.
// The token goes in the first message, never in the URL: servers and proxies log URLs.
const LAST_ID_KEY = "wangge.live.lastId";
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
// 1012: the server process is restarting. Its clients come back at a random moment within
// these few seconds, not all at once to the processes left.
const RESTART_MIN_MS = 500;
const RESTART_SPREAD_MS = 2_500;

/** @typedef {"connecting" | "live" | "offline" | "unauthorized"} LiveState */

/**
 * A message from the server: "subscribed" (with `head`, the newest event id), "event" (with its
 * `id` and `subject`), "positions" (with `workers`, those that moved in the subscription's scope
 * and viewport since the last such message: at most one a second), or another type the screens
 * know.
 * @typedef {{ type: string, id?: number, head?: number | null, subject?: string, [field: string]: any }} LiveMessage
 */

/**
 * A map's viewport, [west, south, east, north] in WGS 84 degrees.
 * @typedef {[number, number, number, number]} Bbox
 */

/**
 * @typedef {object} LiveOptions
 * @property {string} token sent in the first message, never in the URL
 * @property {string[]} [scopes]
 * @property {Bbox | null} [bbox] positions only of the workers inside it (a screen's viewport)
 * @property {(message: LiveMessage) => void} onMessage
 * @property {(state: LiveState) => void} [onState]
 * @property {() => void} [onUnauthorized] the server closed with 4401: the token is bad or revoked
 */

export class LiveStream {
  /** @param {LiveOptions} options */
  constructor({ token, scopes = [], bbox = null, onMessage, onState, onUnauthorized }) {
    this.token = token;
    this.scopes = scopes;
    /** @type {Bbox | null} */
    this.bbox = bbox === null ? null : clamp(bbox);
    this.onMessage = onMessage;
    this.onState = onState ?? (() => {});
    this.onUnauthorized = onUnauthorized ?? (() => {});
    /** @type {WebSocket | null} */
    this.socket = null;
    this.retries = 0;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {() => void} */
    this.wake = () => {};
  }

  get lastId() {
    const stored = Number(localStorage.getItem(LAST_ID_KEY));
    return Number.isFinite(stored) && stored > 0 ? stored : null;
  }

  /** @param {number | null} id */
  set lastId(id) {
    localStorage.setItem(LAST_ID_KEY, String(id));
  }

  start() {
    this.stopped = false;
    this.connect();
    this.wake = () => {
      if (document.visibilityState === "visible" && !this.socket) this.connect();
    };
    document.addEventListener("visibilitychange", this.wake);
    addEventListener("online", this.wake);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.wake);
    removeEventListener("online", this.wake);
    this.socket?.close(1000);
    this.socket = null;
  }

  /**
   * @param {object} message
   * @returns {boolean} false when the socket is not open (the caller keeps the message)
   */
  send(message) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /**
   * Hear positions only of the workers inside `bbox` (null: the whole scope), from the server's
   * next batch on; kept for the subscriptions of later reconnects.
   * @param {Bbox | null} bbox
   */
  setViewport(bbox) {
    this.bbox = bbox === null ? null : clamp(bbox);
    this.send({ type: "viewport", bbox: this.bbox });
  }

  connect() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/live`);
    this.socket = socket;
    this.onState("connecting");
    socket.onopen = () => {
      this.retries = 0;
      // First, before anything else; the server closes with 4401 if it is bad or revoked.
      socket.send(JSON.stringify({ type: "auth", token: this.token }));
      // With no id yet, take the stream from now: lists were just loaded over HTTP.
      const subscribe = { type: "subscribe", scopes: this.scopes, after: this.lastId };
      socket.send(JSON.stringify(this.bbox ? { ...subscribe, bbox: this.bbox } : subscribe));
    };
    socket.onmessage = (frame) => {
      /** @type {LiveMessage} */
      let message;
      try {
        message = JSON.parse(frame.data);
      } catch {
        return;
      }
      if (message.type === "subscribed") {
        if (this.lastId === null && message.head) this.lastId = message.head;
        this.onState("live");
      }
      if (message.type === "event" && typeof message.id === "number") {
        if (this.lastId !== null && message.id <= this.lastId) return;
        this.lastId = message.id;
      }
      this.onMessage(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401) {
        this.onState("unauthorized");
        this.onUnauthorized();
        return;
      }
      if (this.stopped) return;
      this.onState("offline");
      // 4408: the server dropped us for reading too slowly; come straight back and resume.
      let delay;
      if (event.code === 4408) delay = 0;
      else if (event.code === 1012) delay = RESTART_MIN_MS + Math.random() * RESTART_SPREAD_MS;
      else delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.retries++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}

/**
 * A viewport the server takes: a zoomed-out map reports corners past the poles or around the
 * date line.
 * @param {Bbox} bbox
 * @returns {Bbox}
 */
function clamp([west, south, east, north]) {
  const lon = (/** @type {number} */ x) => Math.min(180, Math.max(-180, x));
  const lat = (/** @type {number} */ y) => Math.min(90, Math.max(-90, y));
  return [lon(west), lat(south), lon(east), lat(north)];
}
