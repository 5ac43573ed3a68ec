import { defineConfig, type Plugin } from "vitest/config";

// The built page's Content Security Policy: scripts and styles only from the app itself (style
// attributes allowed: the swatches set colours inline); API, uploads and images over https, or on
// loopback for the local cloud. frame-ancestors cannot be set here: CloudFront sends it as a header.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http://127.0.0.1:* http://localhost:*",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

function contentSecurityPolicy(): Plugin {
  return {
    name: "roomcraft-csp",
    apply: "build", // the dev server injects its own client and talks over a websocket
    transformIndexHtml: () => [
      { tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: CONTENT_SECURITY_POLICY }, injectTo: "head-prepend" },
    ],
  };
}

// Relative asset URLs: the same build works at /app/ behind CloudFront, at /app/ on the local
// cloud, or at the root of any static server. config.json is not part of the build: it is
// written beside index.html at deploy or serve time (see docs/webapp.md).
export default defineConfig({
  base: "./",
  plugins: [contentSecurityPolicy()],
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: true,
    assetsInlineLimit: 0,
  },
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
