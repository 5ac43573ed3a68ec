// The tenant's designs, newest first, a page at a time (cursor pagination: `next_cursor`).

import { nameOf, type View } from "../context";
import { announce, errorBox, h, replace } from "../dom";
import { dateText, STATUS_LABELS } from "../format";
import { designHref } from "../router";
import type { Catalogue, Design } from "../types";

const PAGE_SIZE = 12;

export const galleryView: View = (ctx, main) => {
  const page = new AbortController();
  const grid = h("ul", { class: "gallery", "aria-label": "Designs, newest first" });
  const more = h("button", { type: "button", class: "button secondary", hidden: true }, "Load more");
  const status = h("p", { class: "muted", "aria-live": "polite" }, "Loading designs…");
  replace(
    main,
    h("div", { class: "title-row" }, h("h1", { tabindex: -1 }, "Your designs"), h("a", { href: "#/", class: "button primary" }, "New design")),
    status,
    grid,
    h("div", { class: "actions center" }, more),
  );

  let cursor: string | null = null;
  let catalogue: Catalogue | undefined;
  let shown = 0;

  async function load(): Promise<void> {
    more.disabled = true;
    try {
      catalogue ??= await ctx.catalogue().catch(() => undefined);
      const result = await ctx.api.designs(cursor, PAGE_SIZE);
      if (page.signal.aborted) return;
      const firstNew = grid.children.length;
      grid.append(...result.data.map((design) => card(design, catalogue)));
      shown += result.data.length;
      cursor = result.next_cursor;
      more.hidden = !cursor;
      status.textContent = shown === 0 ? "No designs yet: stage your first room." : `${shown} design${shown === 1 ? "" : "s"}${cursor ? " so far" : ""}.`;
      if (firstNew > 0) {
        grid.children[firstNew]?.querySelector("a")?.focus();
        announce(`${result.data.length} more designs loaded.`);
      }
    } catch (error) {
      if (page.signal.aborted) return;
      status.replaceChildren(errorBox("The designs could not be loaded.", error instanceof Error ? error.message : null));
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener("click", () => void load());
  void load();
  return () => page.abort();
};

function card(design: Design, catalogue: Catalogue | undefined): HTMLElement {
  const output = design.outputs[0];
  const style = nameOf(catalogue?.styles, design.brief.style);
  const room = nameOf(catalogue?.room_types, design.brief.room_type);
  const picture = output
    ? h("img", { src: output.thumbnail_url ?? output.url, alt: "", loading: "lazy", style: `background-color:${output.dominant_color}` })
    : h("span", { class: `placeholder placeholder-${design.status}`, "aria-hidden": "true" }, design.status === "failed" ? "!" : "…");
  return h(
    "li",
    { class: "gallery-item" },
    h(
      "a",
      { href: designHref(design.id), class: "gallery-link" },
      h("span", { class: "gallery-picture" }, picture),
      h("span", { class: "gallery-title" }, `${style} ${room.toLowerCase()}`),
      h(
        "span",
        { class: "gallery-meta" },
        h("span", { class: `pill pill-${design.status}` }, STATUS_LABELS[design.status]),
        h("span", { class: "muted small" }, dateText(design.created_at)),
      ),
    ),
  );
}
