import { describe, expect, it } from "vitest";
import { bytesText, etaText, percentText, structureBadge, textColorOn } from "./format";

describe("etaText", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  it("says how long is left", () => {
    expect(etaText(null, now)).toBe("Estimating time left…");
    expect(etaText("2026-11-23T12:00:40Z", now)).toBe("About 40 s left");
    expect(etaText("2026-11-23T12:03:10Z", now)).toBe("About 3 min left");
    expect(etaText("2026-11-23T11:59:00Z", now)).toBe("Any moment now");
    expect(etaText("not a time", now)).toBe("Estimating time left…");
  });
});

describe("numbers", () => {
  it("formats sizes and percentages", () => {
    expect(bytesText(512)).toBe("512 B");
    expect(bytesText(284_133)).toBe("277 KB");
    expect(bytesText(5 * 1024 * 1024)).toBe("5.0 MB");
    expect(percentText(0.456)).toBe("46%");
    expect(percentText(1.2)).toBe("100%");
  });
});

describe("textColorOn", () => {
  it("picks the more readable of black and white", () => {
    expect(textColorOn("#f7f5f0")).toBe("#111111");
    expect(textColorOn("#1f2a44")).toBe("#ffffff");
    expect(textColorOn("nonsense")).toBe("#111111");
  });
});

describe("structureBadge", () => {
  const quality = { structure_score: 0.812, structure_ok: true, attempts: 1, threshold: 0.55, seed: 7 };
  it("says the structure was kept", () => {
    expect(structureBadge(quality)).toEqual({ label: "Structure kept", tone: "ok", title: "Structure score 0.81 (threshold 0.55)" });
  });
  it("warns when an output was kept under the threshold, and counts the tries", () => {
    const badge = structureBadge({ ...quality, structure_score: 0.31, structure_ok: false, attempts: 2 });
    expect(badge?.tone).toBe("warn");
    expect(badge?.label).toBe("Check structure");
    expect(badge?.title).toContain("0.31, under the threshold 0.55, after 2 tries");
  });
  it("shows nothing for outputs that were not checked", () => {
    expect(structureBadge(null)).toBeNull();
    expect(structureBadge(undefined)).toBeNull();
  });
});
