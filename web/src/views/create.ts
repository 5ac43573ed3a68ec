// New design: the photo (drag and drop or file picker, checked, uploaded with progress), then the
// brief (room type, style with swatches, palette, variants, free text), then start.

import { ApiError, uploadToStorage } from "../api";
import type { View } from "../context";
import { announce, errorBox, h, replace } from "../dom";
import { bytesText, percentText, textColorOn } from "../format";
import { ACCEPTED_TYPES, checkDimensions, checkFile, decodePhoto } from "../photo";
import { designHref } from "../router";
import type { Catalogue, Style } from "../types";

const MAX_COLOURS = 8;
const VARIANT_CHOICES = [1, 2, 3, 4];
const DEFAULT_VARIANTS = 2;

interface UploadState {
  file: File;
  preview: string;
  controller: AbortController;
  done: Promise<string>;
  uploadId: string | null;
}

export const createView: View = (ctx, main) => {
  const page = new AbortController();
  let upload: UploadState | null = null;

  const heading = h("h1", { tabindex: -1 }, "Stage a room");
  const form = h("form", { class: "create", novalidate: true, "aria-describedby": "create-intro" });
  replace(
    main,
    heading,
    h(
      "p",
      { class: "lede", id: "create-intro" },
      "Upload a photo of a room, choose a style and palette, and Roomcraft restages it. Your photo goes straight to storage; nothing else is kept in this browser but a small copy for the before-and-after view.",
    ),
    form,
  );

  // --- the photo ---------------------------------------------------------------------------------
  const fileInput = h("input", {
    type: "file",
    id: "photo",
    name: "photo",
    class: "visually-hidden",
    accept: Object.keys(ACCEPTED_TYPES).join(","),
    "aria-describedby": "photo-help photo-error",
  });
  const dropzone = h(
    "label",
    { for: "photo", class: "dropzone", "data-testid": "dropzone" },
    h("span", { class: "dropzone-icon", "aria-hidden": "true" }, "⤒"),
    h("span", { class: "dropzone-title" }, h("strong", {}, "Drop a room photo here"), " or ", h("span", { class: "link-like" }, "choose a file")),
    h("span", { class: "muted small", id: "photo-help" }, "JPEG, PNG or WebP · up to 25 MB · at least 256 px on the shorter side"),
  );
  const photoError = h("p", { id: "photo-error", class: "field-error", role: "alert" });
  const photoStatus = h("div", { class: "photo-status", hidden: true });

  const photoSection = h(
    "section",
    { class: "card step step-photo", "aria-labelledby": "step-photo" },
    h("h2", { id: "step-photo" }, h("span", { class: "step-number", "aria-hidden": "true" }, "1"), "Your room"),
    fileInput,
    dropzone,
    photoStatus,
    photoError,
  );

  function showPhotoError(message: string): void {
    photoError.textContent = message;
    dropzone.classList.add("invalid");
  }

  function clearPhotoError(): void {
    photoError.textContent = "";
    dropzone.classList.remove("invalid");
  }

  function renderUploading(state: UploadState): { bar: HTMLProgressElement; text: HTMLElement } {
    const bar = h("progress", { max: 1, value: 0, id: "upload-progress", "aria-labelledby": "upload-label" });
    const text = h("span", { class: "muted small", id: "upload-text", "aria-live": "polite" }, "Starting the upload…");
    photoStatus.hidden = false;
    replace(
      photoStatus,
      h("img", { src: state.preview, alt: "The room photo you chose", class: "photo-preview" }),
      h(
        "div",
        { class: "photo-meta" },
        h("p", { class: "photo-name" }, state.file.name),
        h("p", { class: "muted small" }, bytesText(state.file.size)),
        h("label", { id: "upload-label", for: "upload-progress", class: "small" }, "Upload"),
        bar,
        text,
      ),
    );
    return { bar, text };
  }

  async function choose(file: File | undefined): Promise<void> {
    if (!file) return;
    clearPhotoError();
    const check = checkFile(file);
    if (!check.ok) return showPhotoError(check.message);
    let preview: string;
    try {
      const decoded = await decodePhoto(file);
      const problem = checkDimensions(decoded.width, decoded.height);
      if (problem) return showPhotoError(problem);
      preview = decoded.preview;
    } catch {
      return showPhotoError(`“${file.name}” could not be read as an image.`);
    }
    upload?.controller.abort();
    const controller = new AbortController();
    page.signal.addEventListener("abort", () => controller.abort(), { once: true });
    const state: UploadState = { file, preview, controller, uploadId: null, done: Promise.resolve("") };
    const { bar, text } = renderUploading(state);
    state.done = (async () => {
      const slot = await ctx.api.createUpload(check.contentType);
      if (file.size > slot.max_bytes) {
        throw new ApiError(413, "image_too_large", `The photo is larger than this deployment's limit of ${bytesText(slot.max_bytes)}.`);
      }
      await uploadToStorage(
        slot,
        file,
        (loaded, total) => {
          bar.value = total ? loaded / total : 0;
          text.textContent = `${percentText(bar.value)} · ${bytesText(loaded)} of ${bytesText(total)}`;
        },
        controller.signal,
      );
      return slot.upload_id;
    })();
    upload = state;
    state.done.then(
      (uploadId) => {
        state.uploadId = uploadId;
        bar.value = 1;
        text.textContent = "Uploaded ✓";
        photoStatus.dataset.uploaded = "true";
        announce("Photo uploaded.");
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        text.textContent = "Upload failed";
        showPhotoError(error instanceof Error ? error.message : "The upload failed.");
      },
    );
  }

  fileInput.addEventListener("change", () => {
    void choose(fileInput.files?.[0]);
  });
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    void choose((event as DragEvent).dataTransfer?.files?.[0]);
  });

  // --- the brief ---------------------------------------------------------------------------------
  const briefSection = h(
    "section",
    { class: "card step step-brief", "aria-labelledby": "step-brief" },
    h("h2", { id: "step-brief" }, h("span", { class: "step-number", "aria-hidden": "true" }, "2"), "Your brief"),
    h("p", { class: "muted" }, "Loading styles…"),
  );
  const submit = h("button", { type: "submit", class: "button primary large" }, "Stage my room");
  const formError = h("div", { class: "form-error", "aria-live": "assertive" });
  // After the brief in the page's order, so keyboard and screen-reader users meet it last.
  const submitRow = h(
    "div",
    { class: "submit-row" },
    submit,
    h("p", { class: "muted small" }, "You can follow the progress, and leave the page: the design carries on."),
    formError,
  );
  replace(form, h("div", { class: "create-grid" }, photoSection, briefSection, submitRow));

  let readBrief: (() => { room_type: string; style: string; palette?: string[]; variants: number; prompt?: string }) | null = null;

  ctx.catalogue().then(
    (catalogue) => {
      if (page.signal.aborted) return;
      readBrief = renderBrief(briefSection, catalogue);
    },
    (error: unknown) => {
      replace(
        briefSection,
        h("h2", { id: "step-brief" }, "Your brief"),
        errorBox("The style catalogue could not be loaded.", error instanceof Error ? error.message : null),
      );
    },
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.replaceChildren();
    if (!upload) {
      showPhotoError("Choose a room photo first.");
      fileInput.focus();
      return;
    }
    if (!readBrief) return;
    const brief = readBrief();
    if ((brief.palette?.length ?? 0) > MAX_COLOURS) {
      formError.replaceChildren(errorBox(`Choose at most ${MAX_COLOURS} palette colours.`));
      form.querySelector<HTMLInputElement>('input[name="palette"]:checked')?.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = upload.uploadId ? "Starting…" : "Finishing the upload…";
    try {
      const uploadId = await upload.done;
      submit.textContent = "Starting…";
      const design = await ctx.api.createDesign({ upload_id: uploadId, ...brief });
      ctx.before.put(design.id, upload.preview);
      location.hash = designHref(design.id);
    } catch (error) {
      submit.disabled = false;
      submit.textContent = "Stage my room";
      if (page.signal.aborted) return;
      const detail = error instanceof ApiError && error.requestId ? `Code ${error.code}, request ${error.requestId}` : null;
      formError.replaceChildren(errorBox(error instanceof Error ? error.message : "The design could not be started.", detail));
    }
  });

  return () => page.abort();
};

function renderBrief(section: HTMLElement, catalogue: Catalogue) {
  const roomSelect = h(
    "select",
    { id: "room-type", name: "room_type" },
    catalogue.room_types.map((room) => h("option", { value: room.id }, room.name)),
  );
  if (catalogue.room_types.some((r) => r.id === "living_room")) roomSelect.value = "living_room";

  const styleCards = catalogue.styles.map((style, i) =>
    h(
      "label",
      { class: "style-card", "data-style": style.id },
      h("input", { type: "radio", name: "style", value: style.id, checked: i === 0, class: "visually-hidden" }),
      h(
        "span",
        { class: "swatches", "aria-hidden": "true" },
        style.palette.map((colour) => h("span", { class: "swatch", style: `background:${colour}` })),
      ),
      h("span", { class: "style-name" }, style.name),
      h("span", { class: "style-description" }, style.description),
    ),
  );
  const styleFieldset = h(
    "fieldset",
    { class: "styles" },
    h("legend", {}, "Style"),
    h("div", { class: "style-grid" }, styleCards),
  );

  const paletteList = h("div", { class: "palette", role: "group", "aria-label": "Palette colours" });
  const paletteNote = h("p", { class: "muted small", id: "palette-note", "aria-live": "polite" });
  const colourPicker = h("input", { type: "color", id: "custom-colour", value: "#8a9a5b" });
  const addColour = h("button", { type: "button", class: "button secondary small" }, "Add colour");
  const paletteFieldset = h(
    "fieldset",
    { class: "palette-fieldset", "aria-describedby": "palette-note" },
    h("legend", {}, "Palette"),
    paletteList,
    h("div", { class: "inline" }, h("label", { for: "custom-colour" }, "Your own colour"), colourPicker, addColour),
    paletteNote,
  );

  function chip(colour: string, checked: boolean): HTMLElement {
    return h(
      "label",
      { class: "chip" },
      h("input", { type: "checkbox", name: "palette", value: colour, checked }),
      h("span", { class: "swatch", style: `background:${colour};color:${textColorOn(colour)}`, "aria-hidden": "true" }),
      h("span", { class: "chip-label" }, colour),
    );
  }

  function selectedColours(): string[] {
    return [...paletteList.querySelectorAll<HTMLInputElement>("input:checked")].map((input) => input.value);
  }

  function updatePaletteNote(): void {
    const count = selectedColours().length;
    paletteNote.textContent =
      count === 0
        ? "No colours chosen: the style decides."
        : count > MAX_COLOURS
          ? `Choose at most ${MAX_COLOURS} colours (${count} chosen).`
          : `${count} colour${count === 1 ? "" : "s"} will guide the design.`;
    paletteNote.classList.toggle("field-error", count > MAX_COLOURS);
  }

  function showPalette(style: Style | undefined): void {
    replace(paletteList, (style?.palette ?? []).map((colour) => chip(colour, true)));
    updatePaletteNote();
  }

  paletteList.addEventListener("change", updatePaletteNote);
  addColour.addEventListener("click", () => {
    const colour = colourPicker.value.toLowerCase();
    const existing = paletteList.querySelector<HTMLInputElement>(`input[value="${colour}"]`);
    if (existing) existing.checked = true;
    else paletteList.append(chip(colour, true));
    updatePaletteNote();
    announce(`Added ${colour} to the palette.`);
  });
  styleFieldset.addEventListener("change", () => {
    const chosen = styleFieldset.querySelector<HTMLInputElement>("input:checked")?.value;
    showPalette(catalogue.styles.find((s) => s.id === chosen));
  });
  showPalette(catalogue.styles[0]);

  const variantFieldset = h(
    "fieldset",
    { class: "variants" },
    h("legend", {}, "Variants"),
    h(
      "div",
      { class: "segmented" },
      VARIANT_CHOICES.map((n) =>
        h("label", {}, h("input", { type: "radio", name: "variants", value: n, checked: n === DEFAULT_VARIANTS }), h("span", {}, String(n))),
      ),
    ),
  );

  const prompt = h("textarea", { id: "prompt", name: "prompt", rows: 2, maxlength: 2000, placeholder: "e.g. a reading corner by the window" });

  replace(
    section,
    h("h2", { id: "step-brief" }, h("span", { class: "step-number", "aria-hidden": "true" }, "2"), "Your brief"),
    h("div", { class: "field" }, h("label", { for: "room-type" }, "Room type"), roomSelect),
    styleFieldset,
    paletteFieldset,
    variantFieldset,
    h("div", { class: "field" }, h("label", { for: "prompt" }, "Anything else ", h("span", { class: "muted" }, "(optional)")), prompt),
  );

  return () => {
    const palette = selectedColours();
    const variants = Number(variantFieldset.querySelector<HTMLInputElement>("input:checked")?.value ?? DEFAULT_VARIANTS);
    const text = prompt.value.trim();
    return {
      room_type: roomSelect.value,
      style: styleFieldset.querySelector<HTMLInputElement>("input:checked")?.value ?? catalogue.styles[0].id,
      ...(palette.length ? { palette } : {}),
      variants,
      ...(text ? { prompt: text } : {}),
    };
  };
}
