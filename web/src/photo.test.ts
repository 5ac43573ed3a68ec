import { describe, expect, it } from "vitest";
import { checkDimensions, checkFile, contentTypeOf, MAX_BYTES } from "./photo";

describe("checkFile", () => {
  it("accepts JPEG, PNG and WebP within the size limit", () => {
    expect(checkFile({ name: "room.jpg", type: "image/jpeg", size: 1000 })).toEqual({ ok: true, contentType: "image/jpeg" });
    expect(checkFile({ name: "room.webp", type: "image/webp", size: MAX_BYTES })).toMatchObject({ ok: true });
  });

  it("refuses other types, empty files and files over the limit", () => {
    expect(checkFile({ name: "room.heic", type: "image/heic", size: 10 })).toMatchObject({ ok: false });
    expect(checkFile({ name: "notes.txt", type: "text/plain", size: 10 })).toMatchObject({ ok: false, message: expect.stringContaining("not a JPEG") });
    expect(checkFile({ name: "room.jpg", type: "image/jpeg", size: 0 })).toMatchObject({ ok: false, message: expect.stringContaining("empty") });
    expect(checkFile({ name: "room.jpg", type: "image/jpeg", size: MAX_BYTES + 1 })).toMatchObject({ ok: false, message: expect.stringContaining("25 MB") });
  });

  it("falls back to the extension when the browser gives no type", () => {
    expect(contentTypeOf({ name: "ROOM.JPEG", type: "" })).toBe("image/jpeg");
    expect(contentTypeOf({ name: "room.png", type: "" })).toBe("image/png");
    expect(contentTypeOf({ name: "room", type: "" })).toBeNull();
  });
});

describe("checkDimensions", () => {
  it("refuses photos the pipeline would refuse", () => {
    expect(checkDimensions(1600, 1200)).toBeNull();
    expect(checkDimensions(300, 255)).toContain("256 px");
    expect(checkDimensions(30000, 30000)).toContain("89 megapixels");
  });
});
