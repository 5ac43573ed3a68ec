// Words and numbers shown to people. Pure functions.

import type { DesignStatus, OutputQuality } from "./types";

export const STATUS_LABELS: Record<DesignStatus, string> = {
  queued: "Waiting in the queue",
  preparing: "Preparing your photo",
  generating: "Designing the room",
  finalizing: "Saving the results",
  succeeded: "Ready",
  failed: "Failed",
  canceled: "Canceled",
};

/** "about 40 s left", "about 3 min left"; the ETA is an ISO time from the API. */
export function etaText(eta: string | null, now: number = Date.now()): string {
  if (!eta) return "Estimating time left…";
  const seconds = Math.round((Date.parse(eta) - now) / 1000);
  if (Number.isNaN(seconds)) return "Estimating time left…";
  if (seconds <= 1) return "Any moment now";
  if (seconds < 60) return `About ${seconds} s left`;
  const minutes = Math.round(seconds / 60);
  return `About ${minutes} min left`;
}

export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function percentText(fraction: number): string {
  return `${Math.round(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
}

export function dateText(iso: string | null | undefined, locale?: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** "living_room" -> "Living room" when the catalogue has no name for an id. */
export function humanize(id: string): string {
  const words = id.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Black or white text, whichever reads better on a #rrggbb background (WCAG luminance). */
export function textColorOn(hex: string): "#111111" | "#ffffff" {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) return "#111111";
  const value = parseInt(m[1], 16);
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance =
    0.2126 * channel((value >> 16) & 255) + 0.7152 * channel((value >> 8) & 255) + 0.0722 * channel(value & 255);
  const contrastWithBlack = (luminance + 0.05) / 0.05;
  const contrastWithWhite = 1.05 / (luminance + 0.05);
  return contrastWithBlack >= contrastWithWhite ? "#111111" : "#ffffff";
}

export interface StructureBadge {
  label: string;
  tone: "ok" | "warn";
  title: string;
}

/** The small badge that says whether an output kept the room's architecture; null when not checked. */
export function structureBadge(quality: OutputQuality | null | undefined): StructureBadge | null {
  if (!quality) return null;
  const score = quality.structure_score.toFixed(2);
  const tries = quality.attempts > 1 ? `, after ${quality.attempts} tries` : "";
  return quality.structure_ok
    ? { label: "Structure kept", tone: "ok", title: `Structure score ${score} (threshold ${quality.threshold.toFixed(2)})${tries}` }
    : {
        label: "Check structure",
        tone: "warn",
        title: `Structure score ${score}, under the threshold ${quality.threshold.toFixed(2)}${tries}: walls, windows or doors may have moved`,
      };
}
