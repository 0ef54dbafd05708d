import { i18n } from "../i18n/index.js";
import { enqueue } from "../offline/outbox.js";

// Sharing position while on duty: fixes go over the live socket when it is open; with no
// signal they are kept and uploaded as one batch once the socket is back (nothing is lost,
// and the server ignores a fix it already has).
const MIN_INTERVAL_MS = 5_000;
const BATCH_MAX = 500;

/**
 * @typedef {object} Fix
 * @property {"position"} type
 * @property {number} lon
 * @property {number} lat
 * @property {number} accuracy metres
 * @property {string} at ISO time of the fix
 */

export class PositionSharer {
  /** @param {{ send: (message: object) => boolean }} live the live store (or a LiveStream) */
  constructor(live) {
    this.live = live;
    /** @type {number | null} */
    this.watch = null;
    /** @type {Fix[]} */
    this.held = [];
    this.lastSent = 0;
    /** @type {(fix: Fix) => void} */
    this.onFix = () => {};
  }

  start() {
    this.live.send({ type: "duty", on: true });
    this.watch = navigator.geolocation.watchPosition(
      (p) => this.fix(p),
      () => {},
      { enableHighAccuracy: true, maximumAge: 5_000, timeout: 30_000 },
    );
  }

  async stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    await this.flush();
    this.live.send({ type: "duty", on: false });
  }

  /** @param {GeolocationPosition} p */
  fix(p) {
    const now = Date.now();
    if (now - this.lastSent < MIN_INTERVAL_MS) return;
    this.lastSent = now;
    /** @type {Fix} */
    const message = {
      type: "position",
      lon: p.coords.longitude,
      lat: p.coords.latitude,
      accuracy: p.coords.accuracy,
      at: new Date(p.timestamp || now).toISOString(),
    };
    this.onFix(message);
    if (this.live.send(message)) {
      if (this.held.length) this.flush();
    } else {
      this.held.push(message);
      if (this.held.length >= BATCH_MAX) this.flush();
    }
  }

  async flush() {
    if (!this.held.length) return;
    const positions = this.held.splice(0).map(({ lon, lat, accuracy, at }) => ({ lon, lat, accuracy, at }));
    await enqueue({
      kind: "positions",
      label: i18n.global.t("track.points", { n: positions.length }),
      request: { method: "POST", url: "/api/positions/batch", json: { positions } },
    });
  }
}
