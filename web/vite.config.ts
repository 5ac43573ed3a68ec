import { defineConfig } from "vitest/config";

// Relative asset URLs: the same build works at /app/ behind CloudFront, at /app/ on the local
// cloud, or at the root of any static server. config.json is not part of the build: it is
// written beside index.html at deploy or serve time (see docs/webapp.md).
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: true,
    assetsInlineLimit: 0,
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
