import { defineConfig } from "vitest/config";

// Unit tests of the app's own code (`npm run test:unit`), in Node: IndexedDB is fake-indexeddb,
// and fetch, WebSocket and the browser globals each test needs are stubbed by the test.
// The browser tests (tests/e2e, pytest + Playwright) cover the app as a person uses it.
export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.js"],
    environment: "node",
    setupFiles: ["tests/unit/setup.js"],
    unstubGlobals: true,
    restoreMocks: true,
  },
});
