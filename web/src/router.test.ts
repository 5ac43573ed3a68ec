import { describe, expect, it } from "vitest";
import { designUrl, parseRoute } from "./router";

describe("parseRoute", () => {
  it.each([
    ["", "create"],
    ["#/", "create"],
    ["#/gallery", "gallery"],
    ["#/settings/", "settings"],
    ["#/designs/dsn_01JD3F8Y3W", "design"],
    ["#/designs/../../etc", "not-found"],
    ["#/nowhere", "not-found"],
  ])("%s is %s", (hash, name) => {
    expect(parseRoute(hash).name).toBe(name);
  });

  it("gives the design id and a shareable URL", () => {
    expect(parseRoute("#/designs/dsn_1").params).toEqual({ id: "dsn_1" });
    expect(designUrl("dsn_1", { origin: "https://d1.cloudfront.net", pathname: "/app/" })).toBe("https://d1.cloudfront.net/app/#/designs/dsn_1");
  });
});
