// One design: live progress with an ETA while it runs, then the results (before/after slider,
// variant thumbnails, full-size download, shareable link), or what went wrong.

import { ApiError } from "../api";
import { createCompare, resultImage } from "../compare";
import { nameOf, type AppContext, type View } from "../context";
import { announce, errorBox, h, replace } from "../dom";
import { dateText, etaText, percentText, STATUS_LABELS, structureBadge, textColorOn } from "../format";
import { pollDesign } from "../poll";
import { designUrl } from "../router";
import { TERMINAL_STATUSES, type Catalogue, type Design, type Output } from "../types";

export const designView: View = (ctx, main, params) => {
  const id = params.id;
  const page = new AbortController();
  const heading = h("h1", { tabindex: -1 }, "Design");
  const pill = h("span", { class: "pill", "data-testid": "status" }, "Loading…");
  const body = h("div", { class: "design-body" }, h("p", { class: "muted" }, "Loading the design…"));
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/gallery" }, "← All designs")),
    h("div", { class: "title-row" }, heading, pill),
    body,
  );

  let catalogue: Catalogue | undefined;

  let progress: ReturnType<typeof progressPanel> | null = null;
  let lastStatus: string | null = null;

  const title = (design: Design) =>
    `${nameOf(catalogue?.styles, design.brief.style)} ${nameOf(catalogue?.room_types, design.brief.room_type).toLowerCase()}`;

  function update(design: Design): void {
    heading.textContent = title(design);
    document.title = `${heading.textContent} · Roomcraft`;
    pill.textContent = STATUS_LABELS[design.status];
    pill.className = `pill pill-${design.status}`;
    if (design.status !== lastStatus) {
      announce(`${STATUS_LABELS[design.status]}.`);
      lastStatus = design.status;
    }
    if (!TERMINAL_STATUSES.has(design.status)) {
      if (!progress) {
        progress = progressPanel(ctx, design.id, ctx.before.get(design.id) ?? design.source.image_url);
        replace(body, progress.element, briefDetails(design, catalogue));
      }
      progress.update(design);
      return;
    }
    progress = null;
    if (design.status === "succeeded") replace(body, results(ctx, design, catalogue));
    else if (design.status === "failed") {
      replace(
        body,
        errorBox(design.error?.message ?? "The design failed.", design.error ? `Code ${design.error.code}` : null),
        h("p", {}, h("a", { href: "#/", class: "button primary" }, "Try another photo")),
        briefDetails(design, catalogue),
      );
    } else {
      replace(body, h("div", { class: "notice" }, h("p", {}, "This design was canceled.")), h("p", {}, h("a", { href: "#/", class: "button primary" }, "Start a new design")), briefDetails(design, catalogue));
    }
  }

  // Names come from the catalogue; without it the ids are shown instead.
  ctx
    .catalogue()
    .then((c) => (catalogue = c), () => undefined)
    .then(() =>
      pollDesign((signal) => ctx.api.design(id, signal), update, {
        signal: page.signal,
        onRetry: (_error, attempt) => progress?.setNote(`Connection trouble; trying again (${attempt})…`),
      }),
    )
    .catch((error: unknown) => {
    if (page.signal.aborted) return;
    if (error instanceof ApiError && error.code === "design_not_found") {
      heading.textContent = "Design not found";
      pill.hidden = true;
      replace(body, errorBox("There is no design with this id for your account.", `Code ${error.code}`), h("p", {}, h("a", { href: "#/gallery" }, "See all designs")));
      return;
    }
    replace(body, errorBox("The design could not be loaded.", error instanceof Error ? error.message : null));
  });

  return () => page.abort();
};

function progressPanel(ctx: AppContext, designId: string, picture: string | null) {
  const label = h("p", { class: "progress-status", id: "design-progress-label" });
  const bar = h("progress", { max: 1, value: 0, "aria-labelledby": "design-progress-label", id: "design-progress" });
  const figures = h("p", { class: "progress-figures", "data-testid": "eta" });
  const note = h("p", { class: "muted small" });
  const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel design");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await ctx.api.cancelDesign(designId);
    } catch (error) {
      note.textContent = error instanceof ApiError && error.code === "design_not_cancelable" ? "Too late to cancel: the results are being saved." : "The design could not be canceled.";
    }
  });
  const element = h(
    "section",
    { class: `card progress-card${picture ? "" : " no-picture"}`, "aria-labelledby": "design-progress-label" },
    picture ? h("img", { src: picture, alt: "", class: "progress-picture" }) : null,
    h("div", {}, label, bar, figures, note, h("div", { class: "actions" }, cancel)),
  );
  return {
    element,
    setNote(text: string) {
      note.textContent = text;
    },
    update(design: Design) {
      label.textContent = STATUS_LABELS[design.status];
      bar.value = design.progress;
      bar.setAttribute("aria-valuetext", `${percentText(design.progress)}, ${etaText(design.eta)}`);
      figures.textContent = `${percentText(design.progress)} · ${etaText(design.eta)}`;
      note.textContent = "";
      cancel.hidden = design.status === "finalizing";
    },
  };
}

function results(ctx: AppContext, design: Design, catalogue: Catalogue | undefined): HTMLElement {
  const outputs = design.outputs;
  if (outputs.length === 0) return errorBox("The design succeeded but returned no images.");
  const before = ctx.before.get(design.id) ?? design.source.image_url;
  const altFor = (output: Output) =>
    `After: the room restaged in the ${nameOf(catalogue?.styles, design.brief.style)} style, variant ${output.index + 1} of ${outputs.length}`;

  let current = outputs[0];
  const compare = before ? createCompare(before, current, altFor) : null;
  let single = compare ? null : resultImage(current, altFor(current), "result-image");
  const stage = h("div", { class: "stage" }, compare ? compare.element : h("figure", { class: "single" }, single));

  const download = h("a", { class: "button primary", "data-testid": "download" }, "Download full size");
  const sizeNote = h("span", { class: "muted small" });
  const badge = h("span", { class: "badge", "data-testid": "structure-badge", hidden: true });
  const setDownload = (output: Output) => {
    download.href = output.url;
    download.setAttribute("download", `roomcraft-${design.id}-${output.index + 1}.jpg`);
    sizeNote.textContent = `JPEG, ${output.width}×${output.height}`;
    const shown = structureBadge(output.quality);
    badge.hidden = shown === null;
    badge.textContent = shown ? shown.label : "";
    badge.title = shown ? shown.title : "";
    badge.className = shown ? `badge badge-${shown.tone}` : "badge";
  };
  setDownload(current);

  const thumbs = outputs.map((output) => {
    const button = h(
      "button",
      { type: "button", class: "thumb", "aria-pressed": output === current ? "true" : "false", "aria-label": `Show variant ${output.index + 1}` },
      h("img", { src: output.thumbnail_url ?? output.url, alt: "", loading: "lazy", style: `background-color:${output.dominant_color}` }),
    );
    button.addEventListener("click", () => {
      current = output;
      for (const other of thumbs) other.setAttribute("aria-pressed", String(other === button));
      if (compare) compare.showOutput(output);
      else if (single) {
        const image = resultImage(output, altFor(output), "result-image");
        single.replaceWith(image);
        single = image;
      }
      setDownload(output);
      announce(`Showing variant ${output.index + 1}.`);
    });
    return button;
  });

  const shareUrl = designUrl(design.id, location);
  const shareInput = h("input", { type: "text", id: "share-url", readonly: true, value: shareUrl, class: "share-input" });
  const copyStatus = h("span", { class: "muted small", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "button secondary" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(shareUrl);
      copyStatus.textContent = "Link copied.";
    } catch {
      shareInput.select();
      copyStatus.textContent = "Press Ctrl+C (⌘C) to copy the selected link.";
    }
  });

  return h(
    "div",
    { class: "result-layout" },
    h(
      "div",
      { class: "result-main" },
      stage,
      before ? h("p", { class: "muted small hint" }, "Drag the slider, or focus it and use the arrow keys, to compare before and after.") : h("p", { class: "muted small hint" }, "The original photo is kept only in the browser that uploaded it, so there is no before-and-after view here."),
      outputs.some((o) => o.preview) ? h("p", { class: "notice notice-preview small" }, h("strong", {}, "Preview provider. "), "These images come from the offline preview provider, not a generative model: configure Replicate or SageMaker for real staging.") : null,
    ),
    h(
      "aside",
      { class: "result-side" },
      outputs.length > 1 ? h("section", { "aria-labelledby": "variants-heading" }, h("h2", { id: "variants-heading" }, "Variants"), h("div", { class: "thumbs" }, thumbs)) : null,
      h("section", { "aria-labelledby": "get-heading" }, h("h2", { id: "get-heading" }, "Keep it"), h("p", { class: "download-row" }, download, sizeNote, badge), h("div", { class: "field" }, h("label", { for: "share-url" }, "Shareable link"), h("div", { class: "inline" }, shareInput, copy), copyStatus)),
      briefDetails(design, catalogue),
    ),
  );
}

function briefDetails(design: Design, catalogue: Catalogue | undefined): HTMLElement {
  const { brief } = design;
  const rows: [string, Node | string][] = [
    ["Room", nameOf(catalogue?.room_types, brief.room_type)],
    ["Style", nameOf(catalogue?.styles, brief.style)],
    [
      "Palette",
      brief.palette.length
        ? h("span", { class: "mini-palette" }, brief.palette.map((c) => h("span", { class: "swatch", title: c, style: `background:${c};color:${textColorOn(c)}` }, h("span", { class: "visually-hidden" }, c))))
        : "from the style",
    ],
    ["Variants", String(brief.variants)],
    ["Seed", String(brief.seed)],
    ["Provider", design.provider],
    ["Started", dateText(design.created_at)],
  ];
  if (brief.prompt) rows.splice(3, 0, ["Brief", brief.prompt]);
  if (design.provider_seconds) rows.push(["Model time", `${design.provider_seconds.toFixed(1)} s`]);
  if (design.regenerations) rows.push(["Regenerated", `${design.regenerations} variant(s), for structure`]);
  return h(
    "section",
    { "aria-labelledby": "brief-heading", class: "brief-details" },
    h("h2", { id: "brief-heading" }, "Details"),
    h("dl", {}, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
  );
}
