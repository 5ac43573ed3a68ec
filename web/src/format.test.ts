import { describe, expect, it } from "vitest";
import { bytesText, etaText, percentText, textColorOn } from "./format";

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
