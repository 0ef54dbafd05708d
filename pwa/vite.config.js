import { VantResolver } from "@vant/auto-import-resolver";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

const THEME = "#1c6dd0";

export default defineConfig({
  // The backend serves the built app under /app/ (and redirects / there).
  base: "/app/",
  plugins: [
    vue(),
    // Only the Vant components a template names are bundled, each with its own CSS.
    Components({ dts: false, resolvers: [VantResolver()] }),
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: "script-defer",
      includeAssets: ["icon.svg", "apple-touch-icon.png"],
      manifest: {
        name: "网格 Wangge",
        short_name: "网格",
        description: "乌海市网格化服务管理",
        lang: "zh-CN",
        display: "standalone",
        start_url: "/app/",
        scope: "/app/",
        theme_color: THEME,
        background_color: "#ffffff",
        icons: [
          { src: "icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        // injectRegister "script-defer" opts out of the plugin's autoUpdate defaults; a new
        // worker takes over at once, and the first visit's worker claims the open page.
        skipWaiting: true,
        clientsClaim: true,
        // Web Push: show the notice, and open its screen when tapped (public/push-sw.js).
        importScripts: ["push-sw.js"],
        // The lazily imported MapLibre chunk is precached too, so the map opens offline.
        globPatterns: ["**/*.{js,css,html}"],
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
        navigateFallback: "index.html",
        navigateFallbackAllowlist: [/^\/app\//],
        runtimeCaching: [
          {
            // Scope /app/ limits which pages the worker controls, not which requests it sees,
            // so the page's /api/ calls pass through it.
            urlPattern: ({ sameOrigin, url }) =>
              sameOrigin && /^\/api\/(collections|grids|config|categories)(\/|$)/.test(url.pathname),
            handler: "NetworkFirst",
            options: {
              cacheName: "wangge-api",
              // Bounds the wait for headers on a dead mobile link before falling back to the cache.
              networkTimeoutSeconds: 6,
              cacheableResponse: { statuses: [200] },
              expiration: { maxEntries: 300, maxAgeSeconds: 30 * 24 * 3600 },
            },
          },
        ],
      },
    }),
  ],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // MapLibre is one ~1 MB chunk, loaded on demand; everything else stays far smaller.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
    },
  },
});
