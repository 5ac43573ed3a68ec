import "./styles.css";

import { RoomcraftApi } from "./api";
import { BeforeImages } from "./before";
import { KeyStore, loadConfig } from "./config";
import type { AppContext, View } from "./context";
import { errorBox, h, replace } from "./dom";
import { parseRoute, type Route } from "./router";
import type { Catalogue } from "./types";
import { createView } from "./views/create";
import { designView } from "./views/design";
import { galleryView } from "./views/gallery";
import { settingsView } from "./views/settings";

const VIEWS: Record<Exclude<Route["name"], "not-found">, { view: View; title: string; nav: string | null }> = {
  create: { view: createView, title: "New design", nav: "#/" },
  design: { view: designView, title: "Design", nav: null },
  gallery: { view: galleryView, title: "Your designs", nav: "#/gallery" },
  settings: { view: settingsView, title: "Settings", nav: "#/settings" },
};

const notFound: View = (_ctx, main, params) => {
  replace(main, h("h1", { tabindex: -1 }, "Page not found"), h("p", {}, `Nothing lives at ${params.path}. `, h("a", { href: "#/" }, "Start a new design"), "."));
};

async function start(): Promise<void> {
  const main = document.getElementById("main") as HTMLElement;
  let ctx: AppContext;
  try {
    const config = await loadConfig();
    const keys = new KeyStore(config.apiKey ?? null);
    const api = new RoomcraftApi(config.apiUrl, () => keys.current());
    let catalogue: Promise<Catalogue> | null = null;
    ctx = {
      config,
      keys,
      api,
      before: new BeforeImages(),
      catalogue() {
        catalogue ??= api.catalogue().catch((error: unknown) => {
          catalogue = null; // try again next time
          throw error;
        });
        return catalogue;
      },
    };
  } catch (error) {
    replace(main, h("h1", {}, "Roomcraft could not start"), errorBox("This app's configuration could not be read.", error instanceof Error ? error.message : null));
    return;
  }

  let leave: (() => void) | void;
  let first = true;
  const render = () => {
    leave?.();
    const route = parseRoute(location.hash);
    const entry = route.name === "not-found" ? { view: notFound, title: "Not found", nav: null } : VIEWS[route.name];
    document.title = `${entry.title} · Roomcraft`;
    for (const link of document.querySelectorAll<HTMLAnchorElement>("nav.site-nav a")) {
      if (link.getAttribute("href") === entry.nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    leave = entry.view(ctx, main, route.params as Record<string, string>);
    // Move focus to the new page's heading, as a page load would; not on the first load.
    if (!first) main.querySelector<HTMLElement>("h1")?.focus();
    first = false;
  };
  window.addEventListener("hashchange", render);
  render();
}

void start();
