import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";
import { compression, defineAlgorithm } from "vite-plugin-compression2";

const API_ORIGIN = process.env.ZEPHYR_API_ORIGIN ?? "http://127.0.0.1:4000";

/**
 * The web pages, built into app/dist/web next to the compiled service, which serves them (transports/http/web-routes.ts).
 * Asset names carry a content hash so they can be cached forever; gzip and brotli copies are written at build time
 * so the service only picks one (vite-plugin-compression2, a maintained plugin, rather than our own zlib loop).
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // Inline nothing: the Content-Security-Policy allows scripts, styles and images from the origin only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // .vite/manifest.json: which chunks each page loads, read by the size-budget test (web-budgets.test.ts).
    manifest: true,
  },
  // `npm run dev`: this server with hot reload on :5173, the service (`npm run dev:api`, tsx watch) on :4000 behind
  // it, so the pages talk to the real API and socket exactly as in production, from one origin.
  server: {
    port: Number(process.env.ZEPHYR_WEB_PORT ?? 5173),
    strictPort: true,
    proxy: {
      "/api": API_ORIGIN,
      "/socket.io": { target: API_ORIGIN, ws: true },
    },
  },
  plugins: [
    // Preact's JSX, and hot reload that keeps component state for `npm run dev` (prefresh).
    preact({ prerender: { enabled: false } }),
    compression({
      algorithms: [defineAlgorithm("gzip", { level: 9 }), defineAlgorithm("brotliCompress")],
      include: /\.(html|js|css|svg|json)$/,
      threshold: 0,
    }),
  ],
});
