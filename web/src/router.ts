// Hash routes, so every page is a static file and a design's link can be shared:
//   #/                 new design
//   #/designs/{id}     one design: progress, then results
//   #/gallery          the tenant's designs
//   #/settings         API key and webhook endpoints

export type Route =
  | { name: "create"; params: Record<string, string> }
  | { name: "design"; params: { id: string } }
  | { name: "gallery"; params: Record<string, string> }
  | { name: "settings"; params: Record<string, string> }
  | { name: "not-found"; params: { path: string } };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "") || "/";
  if (path === "/" || path === "") return { name: "create", params: {} };
  const design = /^\/designs\/([A-Za-z0-9_-]{1,80})$/.exec(path);
  if (design) return { name: "design", params: { id: design[1] } };
  if (path === "/gallery") return { name: "gallery", params: {} };
  if (path === "/settings") return { name: "settings", params: {} };
  return { name: "not-found", params: { path } };
}

export function designHref(id: string): string {
  return `#/designs/${encodeURIComponent(id)}`;
}

/** The absolute shareable address of a design in this app. */
export function designUrl(id: string, location: { origin: string; pathname: string }): string {
  return `${location.origin}${location.pathname}${designHref(id)}`;
}
