// Checks on a chosen photo before anything is uploaded, and the small copy kept for "before".

/** What this app can show as the "before" picture in every browser. The API also takes HEIC (iPhone)
 * and AVIF photos, but most browsers cannot draw HEIC, so the app asks for these three. */
export const ACCEPTED_TYPES: Readonly<Record<string, string>> = {
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/webp": "WebP",
};
const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
};
export const MAX_BYTES = 25 * 1024 * 1024;
export const MIN_EDGE = 256;
export const MAX_PIXELS = 89_000_000;

export type PhotoCheck = { ok: true; contentType: string } | { ok: false; message: string };

/** Type by the browser's MIME type, or by the extension when the browser gives none. */
export function contentTypeOf(file: { name: string; type: string }): string | null {
  if (file.type) return file.type in ACCEPTED_TYPES ? file.type : null;
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  return EXTENSION_TYPES[extension] ?? null;
}

export function checkFile(file: { name: string; type: string; size: number }, maxBytes = MAX_BYTES): PhotoCheck {
  const contentType = contentTypeOf(file);
  if (!contentType) {
    return { ok: false, message: `“${file.name}” is not a JPEG, PNG or WebP photo.` };
  }
  if (file.size === 0) return { ok: false, message: `“${file.name}” is empty.` };
  if (file.size > maxBytes) {
    const mb = (maxBytes / (1024 * 1024)).toFixed(0);
    return { ok: false, message: `“${file.name}” is ${(file.size / (1024 * 1024)).toFixed(1)} MB; the limit is ${mb} MB.` };
  }
  return { ok: true, contentType };
}

export function checkDimensions(width: number, height: number): string | null {
  if (Math.min(width, height) < MIN_EDGE) {
    return `The photo is ${width}×${height} px; its shorter side needs at least ${MIN_EDGE} px.`;
  }
  if (width * height > MAX_PIXELS) return `The photo is ${width}×${height} px, more than 89 megapixels.`;
  return null;
}

export interface Decoded {
  width: number;
  height: number;
  /** A JPEG data URL at most `longEdge` px long, kept locally as the "before" picture. */
  preview: string;
}

/** Decode in the browser (proves it is an image) and make a small preview copy. */
export async function decodePhoto(file: Blob, longEdge = 1280): Promise<Decoded> {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const scale = Math.min(1, longEdge / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return { width: bitmap.width, height: bitmap.height, preview: canvas.toDataURL("image/jpeg", 0.85) };
  } finally {
    bitmap.close();
  }
}
